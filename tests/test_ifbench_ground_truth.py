"""IFBench-typed constraints reach ifeval_ground_truth.jsonl under their IFBench ids: crabkit's reward,
`crab verify` and `crab ifbench score` read those rows, and open-instruct's form leaves out what its
IFEval verifier cannot check (counted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crabkit.cli import main
from crabkit.constraints import UnknownConstraintType, get_by_benchmark_id
from crabkit.constraints import is_ifeval_id as _is_ifeval
from crabkit.train.rewards import constraint_reward


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def ifbench_run(tmp_path_factory, sample_path) -> Path:
    out = tmp_path_factory.mktemp("ifbench-gt") / "run"
    assert main(["generate", str(sample_path), "--out", str(out), "--types", "ifbench", "--min-words", "10",
                 "--no-progress"]) == 0  # fmt: skip
    return out


def test_benchmark_ids_resolve_from_either_suite_and_unsupported_ones_say_why():
    assert get_by_benchmark_id("detectable_format:title").ifeval_id == "detectable_format:title"
    assert get_by_benchmark_id("count:word_count_range").ifbench_id == "count:word_count_range"
    with pytest.raises(UnknownConstraintType, match="not supported: .*tagger"):
        get_by_benchmark_id("words:start_verb")
    with pytest.raises(UnknownConstraintType, match="no constraint type for IFEval or IFBench id 'count:nope'"):
        get_by_benchmark_id("count:nope")


def test_ifbench_types_get_ground_truth_rows_that_the_reward_and_verify_check(ifbench_run, capsys):
    rows = _rows(ifbench_run / "ifeval_ground_truth.jsonl")
    forward = [r for r in _rows(ifbench_run / "train.jsonl") if r["kind"] == "forward"]
    assert rows, "--types ifbench wrote no ground-truth rows"
    ids = [i for r in rows for i in r["instruction_id_list"]]
    assert not any(_is_ifeval(i) for i in ids)  # only IFBench's types were inferred
    # strict mode: a row per forward prompt, listing every constraint it asks
    assert len(rows) == len(forward)
    by_seed = {r["seed_id"]: r for r in forward}
    for row in rows:
        asked = by_seed[row["seed_id"]]["constraints"]
        assert row["instruction_id_list"] == [c["type"] for c in asked]
        assert row["kwargs"] == [c["params"] for c in asked]
    responses = [r["response"] for r in rows]
    columns = {"instruction_id_list": [r["instruction_id_list"] for r in rows], "kwargs": [r["kwargs"] for r in rows]}
    assert constraint_reward(None, responses, **columns) == [1.0] * len(rows)
    # The same rows asked of another row's answer: the reward is not a constant.
    shifted = responses[1:] + responses[:1]
    assert sum(constraint_reward(None, shifted, **columns)) < len(rows)
    assert main(["verify", str(ifbench_run / "ifeval_ground_truth.jsonl")]) == 0
    assert '"violations": 0' in capsys.readouterr().out


def test_crab_ifbench_score_reads_the_ground_truth_rows(ifbench_run, tmp_path):
    truth = ifbench_run / "ifeval_ground_truth.jsonl"
    rows = _rows(truth)
    answers = tmp_path / "answers.jsonl"
    # The first half answered with their own responses, the rest with an empty answer.
    half = len(rows) // 2
    answers.write_text("".join(json.dumps({"prompt": r["prompt"], "response": r["response"] if i < half else ""}) + "\n"
                               for i, r in enumerate(rows)), encoding="utf-8")  # fmt: skip
    out = tmp_path / "score"
    assert main(["ifbench", "score", "--input-data", str(truth), "--responses", str(answers), "--output", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["prompt_strict"] == pytest.approx(half / len(rows))


def test_open_instruct_form_keeps_ifeval_ids_and_counts_the_rows_it_leaves_out(tmp_path, sample_path, capsys):
    run = tmp_path / "all"
    assert main(["generate", str(sample_path), "--out", str(run), "--types", "all", "--min-words", "10",
                 "--ground-truth", "every", "--no-progress"]) == 0  # fmt: skip
    truth = _rows(run / "ifeval_ground_truth.jsonl")
    ifbench_only = [r for r in truth if not any(_is_ifeval(i) for i in r["instruction_id_list"])]
    mixed = [r for r in truth if any(_is_ifeval(i) for i in r["instruction_id_list"])
             and not all(_is_ifeval(i) for i in r["instruction_id_list"])]  # fmt: skip
    assert ifbench_only and mixed, "the sample should give rows of both kinds"
    capsys.readouterr()
    out = tmp_path / "oi"
    assert main(["export", str(run), "--out", str(out), "--format", "jsonl", "--rlvr-form", "open-instruct",
                 "--no-save-to-disk"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert f"rlvr: {len(ifbench_only)} ground-truth rows left out" in printed
    exported = _rows(out / "data" / "rlvr.jsonl")
    assert len(exported) == len(truth) - len(ifbench_only)
    for row in exported:
        (label,) = json.loads(row["ground_truth"])
        assert label["instruction_id"] and all(_is_ifeval(i) for i in label["instruction_id"])
    # The grpo form keeps every row and every id (crabkit's reward checks IFBench's too).
    out2 = tmp_path / "grpo"
    assert main(["export", str(run), "--out", str(out2), "--format", "jsonl", "--no-save-to-disk"]) == 0
    assert "left out" not in capsys.readouterr().out
    grpo = _rows(out2 / "data" / "rlvr.jsonl")
    assert [r["instruction_id_list"] for r in grpo] == [r["instruction_id_list"] for r in truth]
