"""What `crab generate` prints at the end: where the seeds went, why records were rejected, how long
it took, and what to run next."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tiny_model import run_cli


def test_summary_accounts_for_seeds_rejects_time_and_next_steps(tmp_path: Path, sample_path: Path, capsys):
    out = tmp_path / "run"
    assert run_cli(["generate", str(sample_path), "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    stats = json.loads((out / "stats.json").read_text())
    own = sum(v for k, v in stats["examples"].items() if k != "mix")
    assert stats["demonstrations"] > 0 and own + stats["demonstrations"] + stats["no_constraints"] == stats["seeds"]
    assert f"{own} seeds became examples of their own and {stats['demonstrations']} were used as in-context" in text
    assert stats["rejects"], "the sample has answers under --min-words 20"
    top, n = max(stats["rejects"].items(), key=lambda kv: kv[1])
    assert re.search(rf"rejected by reason: .*{re.escape(top)} {n}", text)
    assert re.search(rf"run directory: {re.escape(str(out))}  \(\d+\.\d s\)", text)
    assert f"next: crab report {out}" in text and f"crab export {out}" in text
    # A finished run, asked again, says so and prints no time of its own.
    assert run_cli(["generate", str(sample_path), "--out", str(out), "--no-progress"]) == 0
    again = capsys.readouterr().out
    assert "already complete" in again and not re.search(r"run directory: .*\(\d", again)
