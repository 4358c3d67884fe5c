"""The report renders in a real browser: headless Chromium screenshots it, and the plots show up.

Skips without Chromium (``scripts/install_chromium.sh`` installs it). The browser runs with every
background network feature off and an empty profile, on a ``file://`` URL.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from crabkit.eval.report import build_report
from crabkit.pipeline import GenerateConfig, generate

pytest.importorskip("matplotlib", reason="crab report needs the 'report' extra (matplotlib)")

ORANGE = (0xE0, 0x8A, 0x2C)  # the report's second plot colour; nothing but plots uses it
PURPLE = (0x6A, 0x3D, 0x9A)  # the example browser's user-turn labels; nothing else uses it
WIDTH, HEIGHT = 1200, 7000  # the example browser comes first, the plots below it


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    pytest.skip("chromium not installed; scripts/install_chromium.sh installs it")


def screenshot(page: Path, tmp_path: Path, name: str):
    import matplotlib.image as mpimg

    png = tmp_path / f"{name}.png"
    cmd = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / f'profile-{name}'}", f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}", page.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    assert png.exists(), f"chromium wrote no screenshot (rc {proc.returncode}): {proc.stderr[-500:]}"
    return mpimg.imread(str(png))[:, :, :3]  # floats in [0, 1], alpha dropped


def colour_pixels(pixels, colour) -> int:
    import numpy as np

    target = np.array(colour) / 255
    return int((np.abs(pixels - target).max(axis=2) < 0.06).sum())


def orange_pixels(pixels) -> int:
    return colour_pixels(pixels, ORANGE)


def test_report_renders_its_plots_in_chromium(tmp_path: Path, sample_path: Path):
    import numpy as np

    run = tmp_path / "run"
    generate(GenerateConfig(input=str(sample_path), min_words=10), run, progress=False)
    page = build_report(run)
    pixels = screenshot(page, tmp_path, "report")
    assert pixels.shape[:2] == (HEIGHT, WIDTH)

    non_white = (pixels < 0.9).any(axis=2)
    assert non_white.mean() > 0.03, "the page looks blank"
    assert pixels.std() > 0.1
    # The family bars and the composed-instruction histogram are drawn in this colour.
    assert orange_pixels(pixels) > 3000, "the plots did not render"

    # Control: the same page with its images removed has text but no plot colour.
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r"<img [^>]*>", "", page.read_text(encoding="utf-8")), encoding="utf-8")
    bare_pixels = screenshot(bare, tmp_path, "bare")
    assert orange_pixels(bare_pixels) < 50
    assert 0.005 < np.mean((bare_pixels < 0.9).any(axis=2)) < non_white.mean()


def test_report_shows_its_example_browser_in_chromium(tmp_path: Path, sample_path: Path):
    run = tmp_path / "run"
    generate(GenerateConfig(input=str(sample_path), min_words=10), run, progress=False)
    page = build_report(run)
    text = page.read_text(encoding="utf-8")
    assert '<section id="examples">' in text
    pixels = screenshot(page, tmp_path, "examples")
    # The open examples' user-turn labels (one per kind at least) are drawn in their colour.
    assert colour_pixels(pixels, PURPLE) > 1500, "the example browser did not render"
    # Control: without the example browser, nothing on the page has that colour.
    bare = tmp_path / "no-examples.html"
    bare.write_text(re.sub(r'<section id="examples">.*?</section>', "", text, flags=re.DOTALL), encoding="utf-8")
    assert colour_pixels(screenshot(bare, tmp_path, "no-examples"), PURPLE) < 50
