"""``--ground-truth every``: a ground-truth row for (nearly) every seed, each one true of its answer,
and train.jsonl byte-identical to the default mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import shared_path
from crabkit.constraints import get, get_by_ifeval_id
from crabkit.pipeline import GenerateConfig, generate


def _run(input_path: Path, out: Path, mode: str) -> dict:
    cfg = GenerateConfig(input=str(input_path), min_words=10)
    cfg.compose.ground_truth = mode
    return generate(cfg, out, progress=False).stats


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_mode_gives_more_rows_and_leaves_train_unchanged(tmp_path: Path, sample_path: Path):
    strict = _run(sample_path, tmp_path / "strict", "strict")
    every = _run(sample_path, tmp_path / "every", "every")
    assert (tmp_path / "every" / "train.jsonl").read_bytes() == (tmp_path / "strict" / "train.jsonl").read_bytes()
    assert every["ground_truth_rows"] > strict["ground_truth_rows"]
    assert every["ground_truth_rows"] >= 0.6 * every["seeds"]
    rows = _rows(tmp_path / "every" / "ifeval_ground_truth.jsonl")
    assert len({r["seed_id"] for r in rows}) == len(rows), "one row per seed at most"
    assert len({r["key"] for r in rows}) == len(rows)


def test_every_row_holds_on_its_answer(tmp_path: Path, sample_path: Path):
    _run(sample_path, tmp_path / "every", "every")
    rows = _rows(tmp_path / "every" / "ifeval_ground_truth.jsonl")
    checked = 0
    for row in rows:
        assert row["instruction_id_list"], row["seed_id"]
        for ifeval_id, kwargs in zip(row["instruction_id_list"], row["kwargs"], strict=True):
            ctype = get_by_ifeval_id(ifeval_id)
            assert ctype.check(row["response"], ctype.from_kwargs(kwargs or {})), (row["seed_id"], ifeval_id)
            checked += 1
        for c in row["other_constraints"]:
            assert get(c["type"]).check(row["response"], c["params"]), (row["seed_id"], c["type"])
            assert get(c["type"]).ifeval_id is None
    assert checked > len(rows)


def test_unknown_ground_truth_mode_is_refused():
    from crabkit.compose.plan import ComposeConfig

    with pytest.raises(ValueError, match="compose.ground_truth must be one of strict, every"):
        ComposeConfig(ground_truth="all")


def test_every_mode_yields_a_row_for_most_shared_seeds(tmp_path: Path):
    pairs = shared_path("seed_pairs", "pairs_flat.jsonl")
    cfg = GenerateConfig(input=str(pairs))
    cfg.compose.ground_truth = "every"
    stats = generate(cfg, tmp_path / "run", progress=False).stats
    share = stats["ground_truth_rows"] / stats["seeds"]
    assert share >= 0.6, f"{stats['ground_truth_rows']} of {stats['seeds']} seeds ({share:.0%})"


def test_crab_verify_checks_the_other_constraints_of_every_row(tmp_path: Path, sample_path: Path):
    from crabkit.verify import verify_file

    _run(sample_path, tmp_path / "every", "every")
    path = tmp_path / "every" / "ifeval_ground_truth.jsonl"
    rows = _rows(path)
    report = verify_file(path)
    assert report.violations == []
    assert report.checked == sum(len(r["instruction_id_list"]) + len(r["other_constraints"]) for r in rows)
    assert any(r["other_constraints"] for r in rows)
    # A crabkit-only constraint that does not hold on a row's answer is caught (its IFEval ones still hold).
    found = next(
        (c, r) for donor in rows for c in donor["other_constraints"] for r in rows
        if not get(c["type"]).check(r["response"], c["params"])
    )  # fmt: skip
    bad, row = found
    path.write_text(json.dumps({**row, "other_constraints": [bad]}) + "\n")
    [violation] = verify_file(path).violations
    assert bad["type"] in violation
