from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    p = SHARED.joinpath("data", *parts)
    if not p.exists():
        pytest.skip(f"shared test data not present: {p} (see ../shared/data/README.md)")
    return p


@pytest.fixture(scope="session")
def sample_path() -> Path:
    from importlib.resources import files

    return Path(str(files("crabkit") / "data" / "sample_pairs.jsonl"))


@pytest.fixture(scope="session")
def ground_truth_run(tmp_path_factory, sample_path) -> Path:
    """A `crab generate` run on the sample with a ground-truth row for every seed (the export tests')."""
    from crabkit.pipeline import GenerateConfig, generate

    out = tmp_path_factory.mktemp("ground-truth-run")
    cfg = GenerateConfig(input=str(sample_path), min_words=10)
    cfg.compose.ground_truth = "every"
    generate(cfg, out, progress=False)
    return out


def write_pairs(run: Path, out: Path, *form: str) -> Path:
    """`crab pairs` on 12 of ``run``'s instructions, each with its own and the next record's response."""
    import json

    from tiny_model import run_cli

    rows = [json.loads(line) for line in (run / "constraints.jsonl").read_text(encoding="utf-8").splitlines()]
    seeds = out.parent / f"{out.stem}-seeds.jsonl"
    seeds.write_text("".join(
        json.dumps({"instruction": row["instruction"], "response": response}) + "\n"
        for i, row in enumerate(rows[:12]) for response in (row["response"], rows[(i + 1) % len(rows)]["response"])
    ))  # fmt: skip
    assert run_cli(["pairs", str(seeds), "--out", str(out), *form]) == 0
    return out


class EveryChoice(random.Random):
    """A stand-in rng whose ``choice`` takes the ``k``-th option: walks every template in turn."""

    def __init__(self, k: int) -> None:
        super().__init__(k)
        self.k = k

    def choice(self, seq):  # type: ignore[override]
        return seq[self.k % len(seq)]
