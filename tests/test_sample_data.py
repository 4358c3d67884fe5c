"""The bundled sample data that ``crab demo`` runs on: shipped, well formed, varied."""

from __future__ import annotations

import importlib.resources
import json
import os
from collections import Counter

import pytest

from crabkit.text import detect_language

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SAMPLE = importlib.resources.files("crabkit") / "data" / "sample_pairs.jsonl"


def _lines() -> list[str]:
    return SAMPLE.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def records() -> list[dict]:
    out = []
    for n, line in enumerate(_lines(), 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            pytest.fail(f"sample_pairs.jsonl line {n} is not valid JSON: {e}")
        assert isinstance(obj, dict), f"line {n} is not a JSON object"
        out.append(obj)
    return out


def _layout(rec: dict) -> str:
    keys = set(rec) - {"id"}
    if keys == {"messages"}:
        return "messages"
    if keys == {"instruction", "input", "output"}:
        return "alpaca"
    if keys == {"instruction", "response"}:
        return "pair"
    raise AssertionError(f"record {rec.get('id')!r} has an unknown layout: keys {sorted(rec)}")


def _pair(rec: dict) -> tuple[str, str]:
    layout = _layout(rec)
    if layout == "pair":
        return rec["instruction"], rec["response"]
    if layout == "alpaca":
        return rec["instruction"], rec["output"]
    turns = rec["messages"]
    assert all(set(t) == {"role", "content"} for t in turns), rec["id"]
    user = [t["content"] for t in turns if t["role"] == "user"]
    assistant = [t["content"] for t in turns if t["role"] == "assistant"]
    assert turns[-1]["role"] == "assistant", f"{rec['id']}: last turn must be the assistant's"
    return (user[-1] if user else ""), assistant[-1]


def test_sample_is_shipped_as_package_data():
    assert SAMPLE.is_file()
    assert SAMPLE.read_bytes()[:3] != b"\xef\xbb\xbf", "no UTF-8 BOM"


def test_every_line_is_one_json_object(records):
    assert len(records) == len([line for line in _lines() if line.strip()]) == len(_lines())


def test_has_at_least_48_records(records):
    assert len(records) >= 48


def test_ids_are_present_and_unique(records):
    ids = [r.get("id") for r in records]
    assert all(isinstance(i, str) and i.startswith("sample-") for i in ids)
    dupes = [i for i, c in Counter(ids).items() if c > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_every_record_has_non_empty_instruction_and_response(records):
    for rec in records:
        instruction, response = _pair(rec)
        assert instruction.strip(), f"{rec['id']}: empty instruction"
        assert response.strip(), f"{rec['id']}: empty response"


def test_all_three_layouts_are_mixed_in(records):
    counts = Counter(_layout(r) for r in records)
    assert counts["pair"] >= 40
    assert counts["alpaca"] >= 3
    assert counts["messages"] >= 3


def test_at_least_three_responses_are_not_english(records):
    langs = [detect_language(_pair(r)[1]) for r in records]
    others = [lang for lang in langs if lang not in ("en", None)]
    assert len(others) >= 3, f"non-English responses detected: {others}"
