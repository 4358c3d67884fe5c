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


def test_score_writes_summary_and_results_and_prints_a_table(tmp_path, capsys):
    assert _run(tmp_path) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_prompts"] == 2 and summary["n_instructions"] == 3
    assert summary["prompt_strict"] == 0.0 and summary["prompt_loose"] == 0.5
    assert summary["missing_keys"] == [3]
    lines = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["key"], r["strict"], r["loose"]) for r in records] == [
        (1, [False], [False]),
        (2, [False, True], [True, True]),
    ]
    captured = capsys.readouterr()
    assert "startend:quotation" in captured.out and "per family" in captured.out
    assert "key 3" in captured.err


def test_match_by_key_ignores_prompt_text(tmp_path):
    renamed = [{**r, "prompt": f"old wording {r['key']}"} for r in RESPONSES]
    assert _run(tmp_path, "--match-by", "key", responses=renamed) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_prompts"] == 2 and summary["missing_keys"] == [3]
    assert _run(tmp_path, responses=renamed) == 0  # by prompt text, nothing matches
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_prompts"] == 0 and summary["missing_keys"] == [1, 2, 3]


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
    assert err.startswith("error: cannot read") and "absent.jsonl" in err
