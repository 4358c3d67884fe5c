"""`crab eval ifbench` and `crab ifbench score` as a user runs them, on small files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from crabkit.cli import main

SRC = Path(__file__).resolve().parents[1] / "src"

PROMPTS = [
    {"key": "0", "prompt": "Give two numbers.", "instruction_id_list": ["count:numbers"], "kwargs": [{"N": 2}]},
    {"key": "1", "prompt": "Give three numbers.", "instruction_id_list": ["count:numbers"],
     "kwargs": [{"N": 3, "keyword": None}]},  # the Hub layout's nulls are dropped
    {"key": "2", "prompt": "Start with a verb.", "instruction_id_list": ["words:start_verb"], "kwargs": [{}]},
    {"key": "3", "prompt": "Nobody answers this.", "instruction_id_list": ["count:numbers"], "kwargs": [{"N": 1}]},
]
RESPONSES = [
    {"prompt": "Give two numbers.", "response": "In 1999, 40 came."},
    # A trailing space on the prompt still matches, as in the reference.
    {"prompt": "Give three numbers. ", "response": "Just 7."},
    {"prompt": "Start with a verb.", "response": "Run fast."},
]


def _write(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _files(tmp_path: Path, responses=RESPONSES) -> tuple[str, str]:
    return str(_write(tmp_path / "prompts.jsonl", PROMPTS)), str(_write(tmp_path / "responses.jsonl", responses))


def _eval(tmp_path: Path, *extra: str, out: str = "out", responses=RESPONSES) -> int:
    prompts, given = _files(tmp_path, responses)
    return main(["eval", "ifbench", "--prompts", prompts, "--responses", given, "--out", str(tmp_path / out), *extra])


def _summary(tmp_path: Path, out: str = "out") -> dict:
    return json.loads((tmp_path / out / "summary.json").read_text(encoding="utf-8"))


def _results(tmp_path: Path, out: str = "out") -> list[dict]:
    return [json.loads(line) for line in (tmp_path / out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


def test_scoring_a_responses_file_writes_the_run_directory_and_prints_the_metrics(tmp_path, capsys):
    assert _eval(tmp_path) == 0
    s = _summary(tmp_path)
    assert s["benchmark"] == "IFBench"
    # Headline: keys 0, 1, 3 (key 2 holds an unsupported type); 0 passes, 1 fails, 3 has no response.
    assert (s["n_prompts"], s["prompt_strict"]) == (3, 1 / 3)
    assert s["by_instruction"]["count:numbers"]["n"] == 3
    assert set(s["ci95"]) == {"prompt_strict", "instruction_strict", "prompt_loose", "instruction_loose", "aggregate"}
    assert s["unsupported"]["keys"] == ["2"] and "words:start_verb" in s["unsupported"]["types"]
    assert (s["all_prompts"]["n_prompts"], s["all_prompts"]["prompt_strict"]) == (4, 0.25)
    assert s["missing_keys"] == ["3"] and s["missing_scored_as"] == "failures"
    rows = _results(tmp_path)
    assert [r["key"] for r in rows] == ["0", "1", "2", "3"]
    assert rows[2]["unsupported"] == ["words:start_verb"] and rows[3]["no_response"] is True
    kept = (tmp_path / "out" / "responses.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["key"] for line in kept] == ["0", "1", "2"]
    captured = capsys.readouterr()
    assert "IFBench: 3 prompts" in captured.out and "per type" in captured.out
    assert "all 4 prompts, unsupported instructions counted as failed" in captured.out
    assert "not checked: words:start_verb" in captured.out
    assert "1 of 4 prompts have no response, counted as failures: key 3" in captured.err


def test_skip_missing_leaves_unanswered_prompts_out(tmp_path, capsys):
    assert _eval(tmp_path, "--skip-missing") == 0
    s = _summary(tmp_path)
    assert (s["n_prompts"], s["prompt_strict"], s["missing_scored_as"]) == (2, 0.5, "skipped")
    assert [r["key"] for r in _results(tmp_path)] == ["0", "1", "2"]
    assert "left out of the scores (--skip-missing)" in capsys.readouterr().err


def test_the_alias_writes_the_same_files(tmp_path):
    assert _eval(tmp_path, out="eval") == 0
    prompts, given = _files(tmp_path)
    assert main(["ifbench", "score", "--input-data", prompts, "--responses", given,
                 "--output", str(tmp_path / "alias")]) == 0  # fmt: skip
    for name in ("responses.jsonl", "results.jsonl", "summary.json"):
        assert (tmp_path / "eval" / name).read_bytes() == (tmp_path / "alias" / name).read_bytes()


def test_a_wrong_prompts_path_is_a_clear_error(tmp_path, capsys):
    _, given = _files(tmp_path)
    code = main(["eval", "ifbench", "--prompts", str(tmp_path / "nope.jsonl"), "--responses", given,
                 "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("crab eval ifbench:") and "nope.jsonl: no such file" in err and "allenai/IFBench_test" in err
    assert "Traceback" not in err


def test_a_wrong_responses_path_is_a_clear_error_from_the_alias(tmp_path, capsys):
    prompts, _ = _files(tmp_path)
    code = main(["ifbench", "score", "--input-data", prompts, "--responses", str(tmp_path / "missing.jsonl"),
                 "--output", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("crab ifbench score:") and "cannot read" in err and "missing.jsonl" in err


def test_an_unknown_instruction_id_names_the_prompt(tmp_path, capsys):
    bad = [*PROMPTS, {"key": "9", "prompt": "?", "instruction_id_list": ["words:nonsense"], "kwargs": [{}]}]
    _write(tmp_path / "bad.jsonl", bad)
    _, given = _files(tmp_path)
    code = main(["eval", "ifbench", "--prompts", str(tmp_path / "bad.jsonl"), "--responses", given,
                 "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "prompt key '9': unknown instruction id 'words:nonsense'" in err


def test_without_backend_or_responses_it_says_what_to_give(tmp_path, capsys):
    prompts, _ = _files(tmp_path)
    assert main(["eval", "ifbench", "--prompts", prompts, "--out", str(tmp_path / "out")]) == 2
    assert "give --backend" in capsys.readouterr().err


def test_generation_through_a_backend_scores_its_answers(tmp_path):
    prompts, _ = _files(tmp_path)
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"Give two numbers.": "1 and 2.", "Give three numbers.": "4, 5 and 6."}))
    assert main(["eval", "ifbench", "--prompts", prompts, "--backend", "scripted", "--script", str(script),
                 "--out", str(tmp_path / "gen")]) == 0  # fmt: skip
    s = _summary(tmp_path, "gen")
    assert s["generation"]["backend"]["model"] == "scripted" and s["generation_errors"] == 0
    strict = {r["key"]: r["strict"] for r in _results(tmp_path, "gen")}
    assert strict["0"] == [True] and strict["1"] == [True] and strict["3"] == [False]


def test_the_installed_command_runs_as_a_subprocess(tmp_path):
    prompts, given = _files(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(SRC), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "crabkit.cli", "ifbench", "score", "--input-data", prompts, "--responses", given,
         "--output", str(tmp_path / "sub")],
        check=False, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "IFBench: 3 prompts" in done.stdout
    assert _summary(tmp_path, "sub")["prompt_strict"] == 1 / 3


def test_the_default_prompts_are_the_hub_copy_with_nulls_dropped(tmp_path, monkeypatch, capsys):
    import types

    asked = []
    hub_rows = [{**p, "kwargs": [{**kw, "N": kw.get("N"), "keyword": None} for kw in p["kwargs"]]} for p in PROMPTS]

    def load_dataset(name, split):
        asked.append((name, split))
        return hub_rows

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    _, given = _files(tmp_path)
    assert main(["eval", "ifbench", "--responses", given, "--out", str(tmp_path / "hub")]) == 0
    assert asked == [("allenai/IFBench_test", "train")]
    s = _summary(tmp_path, "hub")
    assert s["prompts"] == "allenai/IFBench_test" and s["prompt_strict"] == 1 / 3
