"""`crab ifeval score` end to end on small files."""

from __future__ import annotations

import json
from pathlib import Path

from crabkit.cli import main

PROMPTS = [
    {
        "key": 1,
        "prompt": "Answer without commas.",
        "instruction_id_list": ["punctuation:no_comma"],
        "kwargs": [{}],
    },
    {
        "key": 2,
        "prompt": "Wrap it in quotes and say crab.",
        "instruction_id_list": ["startend:quotation", "keywords:existence"],
        "kwargs": [{}, {"keywords": ["crab"]}],
    },
    {
        "key": 3,
        "prompt": "Nobody answers this.",
        "instruction_id_list": ["punctuation:no_comma"],
        "kwargs": [{}],
    },
]
RESPONSES = [
    {"key": 1, "prompt": "Answer without commas.", "response": "Yes, surely"},
    {"key": 2, "prompt": "Wrap it in quotes and say crab.", "response": 'Here:\n"a crab"'},
]


def _write(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _run(tmp_path: Path, *extra: str, responses=RESPONSES) -> int:
    return main(
        [
            "ifeval",
            "score",
            "--input-data",
            str(_write(tmp_path / "prompts.jsonl", PROMPTS)),
            "--responses",
            str(_write(tmp_path / "responses.jsonl", responses)),
            "--output",
            str(tmp_path / "out"),
            *extra,
        ]
    )


def _summary(tmp_path: Path, out: str = "out") -> dict:
    return json.loads((tmp_path / out / "summary.json").read_text(encoding="utf-8"))


def test_score_writes_summary_and_results_and_prints_a_table(tmp_path, capsys):
    assert _run(tmp_path) == 0
    summary = _summary(tmp_path)
    assert summary["n_prompts"] == 3 and summary["n_instructions"] == 4
    assert summary["prompt_strict"] == 0.0 and summary["prompt_loose"] == 1 / 3
    assert summary["missing_keys"] == [3] and summary["missing_scored_as"] == "failures"
    lines = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["key"], r["strict"], r["loose"], r.get("no_response", False)) for r in records] == [
        (1, [False], [False], False),
        (2, [False, True], [True, True], False),
        (3, [False], [False], True),
    ]
    captured = capsys.readouterr()
    assert "startend" in captured.out and "per family" in captured.out
    assert "1 of 3 prompts have no response, counted as failures: key 3" in captured.err


def test_prompts_without_a_response_count_as_failures_over_all_prompts(tmp_path, capsys):
    prompts = [
        {"key": k, "prompt": f"P{k}", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}
        for k in range(10)
    ]
    answered = [{"key": k, "prompt": f"P{k}", "response": "no commas here"} for k in range(7)]
    code = main(["ifeval", "score", "--input-data", str(_write(tmp_path / "p.jsonl", prompts)),
                 "--responses", str(_write(tmp_path / "r.jsonl", answered)), "--output", str(tmp_path / "out")])
    assert code == 0
    summary = _summary(tmp_path)
    assert (summary["n_prompts"], summary["prompt_strict"], summary["instruction_loose"]) == (10, 0.7, 0.7)
    assert "3 of 10 prompts have no response, counted as failures" in capsys.readouterr().err
    assert _run_skip(tmp_path, prompts, answered) == 0
    summary = _summary(tmp_path, "skip")
    assert (summary["n_prompts"], summary["prompt_strict"], summary["missing_scored_as"]) == (7, 1.0, "skipped")
    assert summary["missing_keys"] == [7, 8, 9]
    assert "3 of 10 prompts have no response, left out of the scores" in capsys.readouterr().err


def _run_skip(tmp_path: Path, prompts, answered) -> int:
    return main(["eval", "ifeval", "--prompts", str(_write(tmp_path / "p.jsonl", prompts)), "--responses",
                 str(_write(tmp_path / "r.jsonl", answered)), "--out", str(tmp_path / "skip"), "--skip-missing"])


def test_alias_and_eval_ifeval_write_the_same_files(tmp_path):
    assert _run(tmp_path, "--match-by", "prompt") == 0
    code = main(["eval", "ifeval", "--prompts", str(tmp_path / "prompts.jsonl"), "--responses",
                 str(tmp_path / "responses.jsonl"), "--out", str(tmp_path / "eval"), "--match-by", "prompt"])
    assert code == 0
    for name in ("responses.jsonl", "results.jsonl", "summary.json"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "eval" / name).read_bytes(), name


def test_alias_help_names_the_scorer_it_stands_for(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["ifeval", "score", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "alias of `crab eval ifeval" in out and "--skip-missing" in out and "--input-data" in out


def test_match_by_key_ignores_prompt_text(tmp_path):
    renamed = [{**r, "prompt": f"old wording {r['key']}"} for r in RESPONSES]
    assert _run(tmp_path, "--match-by", "key", responses=renamed) == 0
    summary = _summary(tmp_path)
    assert summary["n_prompts"] == 3 and summary["missing_keys"] == [3]
    assert _run(tmp_path, "--match-by", "prompt", responses=renamed) == 0  # by prompt text, nothing matches
    summary = _summary(tmp_path)
    assert summary["n_prompts"] == 3 and summary["missing_keys"] == [1, 2, 3] and summary["prompt_loose"] == 0.0


def test_bad_kwargs_are_an_error_naming_prompt_instruction_and_field(tmp_path, capsys):
    bad = [{**PROMPTS[0], "instruction_id_list": ["length_constraints:number_words"],
            "kwargs": [{"num_words": -1, "relation": "at least"}]}]
    code = main(["ifeval", "score", "--input-data", str(_write(tmp_path / "p.jsonl", bad)),
                 "--responses", str(_write(tmp_path / "r.jsonl", RESPONSES)), "--output", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "prompt key 1: length_constraints:number_words: field 'num_words' must be 0 or more" in err
    assert "Traceback" not in err


def test_bad_line_is_named_and_exits_nonzero(tmp_path, capsys):
    bad = tmp_path / "responses.jsonl"
    prompts = _write(tmp_path / "prompts.jsonl", PROMPTS)
    bad.write_text(json.dumps(RESPONSES[0]) + "\n{not json\n", encoding="utf-8")
    code = main(
        ["ifeval", "score", "--input-data", str(prompts), "--responses", str(bad), "--output", str(tmp_path)]
    )
    assert code == 2
    assert "responses.jsonl:2: not valid JSON" in capsys.readouterr().err


def test_unreadable_file_is_a_clear_error(tmp_path, capsys):
    code = main(
        [
            "ifeval",
            "score",
            "--input-data",
            str(tmp_path / "absent.jsonl"),
            "--responses",
            str(tmp_path / "x"),
            "--output",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("crab ifeval score: ") and "absent.jsonl: no such file" in err
