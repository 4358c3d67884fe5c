"""`crab eval constraints`: held-out seeds of a crabkit run, composed prompts, registry checks, pass rates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crabkit.cli import main
from crabkit.constraints.conflicts import conflicts
from crabkit.eval.constraints_eval import (
    ConstraintsEvalError,
    build_items,
    evaluate_constraints,
    heldout_seeds,
    is_heldout,
    wilson_interval,
)
from crabkit.llm import ScriptedBackend
from crabkit.llm.scripted import last_user_message
from crabkit.pipeline import GenerateConfig, generate


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, sample_path: Path) -> Path:
    out = tmp_path_factory.mktemp("run")
    generate(GenerateConfig(input=str(sample_path), min_words=10), out, progress=False)
    return out


def seed_rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "constraints.jsonl").read_text().splitlines()]


def original_response(run_dir: Path) -> ScriptedBackend:
    """Answers each composed prompt with the seed's own response, which meets every constraint."""
    rows = seed_rows(run_dir)

    def answer(request):
        prompt = last_user_message(request)
        matches = [r["response"] for r in rows if r["instruction"].strip() in prompt]
        return matches[0] if matches else KeyError(prompt[:40])

    return ScriptedBackend(answer)


# --- split -----------------------------------------------------------------------------------------

def test_heldout_split_is_a_fixed_hash_share(run_dir: Path):
    ids = [r["id"] for r in seed_rows(run_dir)]
    picked = {r["id"] for r in heldout_seeds(run_dir, fraction=0.5)}
    assert picked == {i for i in ids if is_heldout(i, 0.5)}
    assert 15 <= len(picked) <= 45  # about half of 60
    assert {r["id"] for r in heldout_seeds(run_dir, fraction=0.1)} <= picked


def test_n_takes_a_prefix_of_one_fixed_order(run_dir: Path):
    ten = [r["id"] for r in heldout_seeds(run_dir, n=10)]
    twenty = [r["id"] for r in heldout_seeds(run_dir, n=20)]
    assert ten == twenty[:10] and len(set(twenty)) == 20


def test_other_salt_gives_another_split(run_dir: Path):
    assert heldout_seeds(run_dir, n=10) != heldout_seeds(run_dir, n=10, salt=1)


# --- prompts ---------------------------------------------------------------------------------------

def test_items_ask_for_own_constraints_worded_in_the_prompt(run_dir: Path):
    rows = heldout_seeds(run_dir, n=15)
    items = build_items(rows, seed=0)
    for row, item in zip(rows, items):
        assert item.prompt.startswith(row["instruction"].strip()) or row["instruction"].strip() in item.prompt
        assert item.constraints, row["id"]
        own = {json.dumps(c["params"], sort_keys=True) + c["type"] for c in row["constraints"]}
        for c in item.constraints:
            assert json.dumps(c.params, sort_keys=True) + c.type in own
            assert c.text in item.prompt
        for i, a in enumerate(item.constraints):
            for b in item.constraints[i + 1:]:
                assert not conflicts(a.type, b.type, a.params, b.params)


def test_items_are_reproducible_and_depend_on_the_seed(run_dir: Path):
    rows = heldout_seeds(run_dir, n=15)
    assert [i.prompt for i in build_items(rows, 0)] == [i.prompt for i in build_items(rows, 0)]
    assert [i.prompt for i in build_items(rows, 0)] != [i.prompt for i in build_items(rows, 1)]


# --- pass rates ------------------------------------------------------------------------------------

def test_original_responses_pass_everything(run_dir: Path):
    s = evaluate_constraints(original_response(run_dir), run_dir, 20, 0)
    assert s["prompt_level"]["rate"] == 1.0 and s["constraint_level"]["rate"] == 1.0
    assert s["prompt_level"]["n"] == 20 and s["constraint_level"]["n"] > 20
    assert s["constraint_level"]["ci95"] == [1.0, 1.0]
    assert all(row["rate"] == 1.0 for row in s["by_type"].values())
    assert s["generation_errors"] == 0


def test_empty_responses_pass_nothing(run_dir: Path):
    s = evaluate_constraints(ScriptedBackend(lambda r: ""), run_dir, 20, 0)
    assert s["prompt_level"]["rate"] == 0.0 and s["constraint_level"]["rate"] == 0.0
    assert all(row["passed"] == 0 for row in s["by_family"].values())


def test_partial_answers_give_rates_between_with_intervals(run_dir: Path):
    rows = seed_rows(run_dir)
    chosen = {r["id"] for r in heldout_seeds(run_dir, n=20)[::2]}

    def answer(request):
        prompt = last_user_message(request)
        row = next(r for r in rows if r["instruction"].strip() in prompt)
        return row["response"] if row["id"] in chosen else "no"

    s = evaluate_constraints(ScriptedBackend(answer), run_dir, 20, 0)
    assert 0.45 <= s["prompt_level"]["rate"] <= 0.55  # the 10 originals pass; "no" may meet a few constraints
    lo, hi = s["prompt_level"]["ci95"]
    assert lo < s["prompt_level"]["rate"] < hi
    fam_n = sum(v["n"] for v in s["by_family"].values())
    assert fam_n == s["constraint_level"]["n"] == sum(v["n"] for v in s["by_type"].values())


def test_files_are_written_and_a_rerun_sends_nothing(run_dir: Path, tmp_path: Path):
    out = tmp_path / "eval"
    first = evaluate_constraints(original_response(run_dir), run_dir, 8, 0, out_dir=out)
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(results) == 8 and all(r["all_passed"] for r in results)
    assert json.loads((out / "summary.json").read_text())["benchmark"] == "crab-constraints"
    silent = ScriptedBackend(lambda r: "")
    again = evaluate_constraints(silent, run_dir, 8, 0, out_dir=out)
    assert silent.calls == 0 and again["prompt_level"] == first["prompt_level"]


def test_wilson_interval_known_value():
    lo, hi = wilson_interval(8, 10)
    assert (round(lo, 3), round(hi, 3)) == (0.49, 0.943)
    assert wilson_interval(0, 0) == [0.0, 0.0]


def test_not_a_run_dir_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ConstraintsEvalError, match="no constraints.jsonl"):
        evaluate_constraints(ScriptedBackend(lambda r: ""), tmp_path, 5, 0)


def test_malformed_row_names_the_line(tmp_path: Path):
    (tmp_path / "constraints.jsonl").write_text('{"id": "a", "instruction": "x"}\n', encoding="utf-8")
    with pytest.raises(ConstraintsEvalError, match=":1: field 'constraints'"):
        heldout_seeds(tmp_path, n=1)


# --- command line ----------------------------------------------------------------------------------

def test_cli_writes_eval_dir_inside_the_run(run_dir: Path, tmp_path: Path, capsys):
    script = tmp_path / "script.json"
    script.write_text("{}", encoding="utf-8")  # every prompt gets the default answer ""
    out = tmp_path / "eval"
    rc = main(["eval", "constraints", str(run_dir), "--backend", "scripted", "--script", str(script),
               "--n", "5", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0 and "prompt (all met)" in printed and "per family" in printed
    assert json.loads((out / "summary.json").read_text())["split"]["heldout_seeds"] == 5


def test_cli_on_a_missing_run_fails_cleanly(tmp_path: Path, capsys):
    rc = main(["eval", "constraints", str(tmp_path / "none"), "--backend", "scripted", "--no-cache"])
    assert rc == 2 and "constraints.jsonl" in capsys.readouterr().err
