"""IFEval scoring: strict/loose as the reference, matching, summaries, errors, parity with the oracle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crabkit.eval.ifeval import (
    IFEvalDataError,
    IFEvalPrompt,
    loose_variants,
    read_prompts,
    read_responses,
    score,
    score_prompt,
)

SHARED_IFEVAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ifeval"
GPT4_RESPONSES = "input_response_data_gpt4_20231107_145030.jsonl"
ORACLE = "reference_eval_gpt4_20231107_145030.jsonl"


def _prompt(key, ids, kwargs, text="Write something."):
    return IFEvalPrompt(key, text, ids, kwargs)


def _shared(name: str) -> Path:
    path = SHARED_IFEVAL / name
    if not path.is_file():
        pytest.skip(f"IFEval shared data not present: {path} (see ../shared/data/README.md)")
    return path


def _write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# --- strict and loose ------------------------------------------------------------------------------


def test_loose_variants_are_the_reference_eight_without_repeats_or_blanks():
    response = "Sure!\n**Body** text\nBye"
    variants = loose_variants(response)
    expected = {
        response,
        "**Body** text\nBye",
        "Sure!\n**Body** text",
        "**Body** text",
        "Sure!\nBody text\nBye",
        "Body text\nBye",
        "Sure!\nBody text",
        "Body text",
    }
    assert variants[0] == response
    assert set(variants) == expected and len(variants) == 8
    assert loose_variants("one line") == ["one line"]
    assert loose_variants("   \n  ") == []


def test_loose_passes_when_dropping_an_intro_line_satisfies_the_check():
    prompt = _prompt(1, ["startend:quotation"], [{}])
    result = score_prompt(prompt, 'Here you go:\n"wrapped answer"')
    assert result.strict == [False] and result.loose == [True]


def test_loose_passes_when_removing_asterisks_satisfies_the_check():
    prompt = _prompt(1, ["startend:end_checker"], [{"end_phrase": "Any other questions?"}])
    result = score_prompt(prompt, "That is all. *Any other questions?*")
    assert result.strict == [False] and result.loose == [True]


def test_blank_response_fails_strict_and_loose_even_when_the_check_would_pass():
    prompt = _prompt(
        1, ["punctuation:no_comma", "keywords:forbidden_words"], [{}, {"forbidden_words": ["x"]}]
    )
    for response in ("", "  \n\t"):
        result = score_prompt(prompt, response)
        assert result.strict == [False, False] and result.loose == [False, False]


def test_strict_failure_with_no_passing_variant_stays_failed_loose():
    prompt = _prompt(1, ["punctuation:no_comma"], [{}])
    result = score_prompt(prompt, "a, b\nc, d\ne, f")
    assert result.strict == [False] and result.loose == [False]


# --- matching and summary --------------------------------------------------------------------------


PROMPTS = [
    _prompt(10, ["punctuation:no_comma", "keywords:existence"], [{}, {"keywords": ["crab"]}], "P10"),
    _prompt(11, ["length_constraints:number_words"], [{"num_words": 3, "relation": "at least"}], "P11"),
    _prompt(12, ["startend:quotation"], [{}], "P12"),
]


def test_score_accepts_records_mappings_and_positional_lists():
    responses = {"P10": "A crab walks", "P11": "one two", "P12": 'Sure:\n"yes"'}
    by_records = score(PROMPTS, [{"prompt": k, "response": v} for k, v in responses.items()])
    by_mapping = score(PROMPTS, responses)
    by_position = score(PROMPTS, list(responses.values()))
    by_key = score(PROMPTS, {10: "A crab walks", "11": "one two", 12: 'Sure:\n"yes"'}, match_by="key")
    for result in (by_records, by_mapping, by_position, by_key):
        assert [(r.key, r.strict, r.loose) for r in result.results] == [
            (10, [True, True], [True, True]),
            (11, [False], [False]),
            (12, [False], [True]),
        ]


def test_summary_reports_prompt_and_instruction_accuracy_per_id_and_family():
    result = score(PROMPTS, {"P10": "A crab walks", "P11": "one two", "P12": 'Sure:\n"yes"'})
    s = result.summary()
    assert (s["n_prompts"], s["n_instructions"]) == (3, 4)
    assert s["prompt_strict"] == pytest.approx(1 / 3) and s["prompt_loose"] == pytest.approx(2 / 3)
    assert s["instruction_strict"] == pytest.approx(2 / 4) and s["instruction_loose"] == pytest.approx(3 / 4)
    assert s["by_instruction"]["startend:quotation"] == {
        "n": 1,
        "strict": 0.0,
        "loose": 1.0,
        "n_strict": 0,
        "n_loose": 1,
    }
    assert s["by_family"]["keywords"]["n"] == 1 and s["by_family"]["punctuation"]["strict"] == 1.0
    assert s["n_missing"] == 0 and s["missing_keys"] == []


def test_prompt_without_response_fails_every_instruction_and_is_listed_missing():
    result = score(PROMPTS, {"P10": "A crab walks", "other prompt": "stray"})
    assert [p.key for p in result.missing] == [11, 12]
    assert [(r.key, r.has_response) for r in result.results] == [(10, True), (11, False), (12, False)]
    assert not any(any(r.strict) or any(r.loose) for r in result.results[1:])
    s = result.summary()
    assert s["missing_keys"] == [11, 12] and s["n_unmatched_responses"] == 1 and s["n_prompts"] == 3
    assert s["prompt_strict"] == 1 / 3
    assert result.missing_note() == "2 of 3 prompts have no response, counted as failures: key 11, 12"


def test_skip_missing_scores_only_the_answered_prompts():
    result = score(PROMPTS, {"P10": "A crab walks"}, skip_missing=True)
    assert [r.key for r in result.results] == [10] and [p.key for p in result.missing] == [11, 12]
    s = result.summary()
    assert (s["n_prompts"], s["prompt_strict"], s["missing_scored_as"]) == (1, 1.0, "skipped")
    assert result.missing_note().startswith("2 of 3 prompts have no response, left out of the scores")


def test_no_responses_at_all_fails_every_prompt():
    result = score(PROMPTS, [])
    assert [p.key for p in result.missing] == [10, 11, 12] and len(result.results) == 3
    assert result.summary()["prompt_strict"] == 0.0 and result.summary()["n_prompts"] == 3
    assert score(PROMPTS, [], skip_missing=True).results == []


def test_result_records_have_the_documented_fields():
    result = score(PROMPTS[:1], ["A crab walks"])
    assert result.results[0].to_dict() == {
        "key": 10,
        "prompt": "P10",
        "instruction_id_list": ["punctuation:no_comma", "keywords:existence"],
        "strict": [True, True],
        "loose": [True, True],
    }


# --- bad input -------------------------------------------------------------------------------------


def test_unknown_instruction_and_bad_kwargs_name_the_prompt_key():
    with pytest.raises(IFEvalDataError, match=r"key 5.*unknown instruction id 'nope:x'"):
        score([_prompt(5, ["nope:x"], [{}])], ["text"])
    with pytest.raises(IFEvalDataError, match=r"key 6.*relation"):
        score([_prompt(6, ["length_constraints:number_words"], [{"num_words": 3}])], ["some text"])


def test_reading_names_the_file_and_line_of_bad_records(tmp_path):
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"prompt": "a", "response": "b"}\n\n{oops\n', encoding="utf-8")
    with pytest.raises(IFEvalDataError, match=r"bad\.jsonl:3: not valid JSON"):
        read_responses(bad_json)
    no_response = _write_jsonl(tmp_path / "r.jsonl", [{"prompt": "a", "response": "b"}, {"prompt": "c"}])
    with pytest.raises(IFEvalDataError, match=r"r\.jsonl:2: missing field 'response'"):
        read_responses(no_response)
    not_text = _write_jsonl(tmp_path / "n.jsonl", [{"prompt": "a", "response": None}])
    with pytest.raises(IFEvalDataError, match=r":1: field 'response' must be a string"):
        read_responses(not_text)
    mismatched = _write_jsonl(
        tmp_path / "p.jsonl",
        [{"key": 1, "prompt": "p", "instruction_id_list": ["a:b", "c:d"], "kwargs": [{}]}],
    )
    with pytest.raises(IFEvalDataError, match=r"p\.jsonl:1: 2 instruction ids but 1 kwargs"):
        read_prompts(mismatched)
    with pytest.raises(IFEvalDataError, match="cannot read"):
        read_prompts(tmp_path / "absent.jsonl")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"prompt": "caf\xe9", "response": "x"}\n')
    with pytest.raises(IFEvalDataError, match="not UTF-8"):
        read_responses(tmp_path / "latin1.jsonl")


def test_matching_by_key_requires_keys_on_responses(tmp_path):
    path = _write_jsonl(tmp_path / "r.jsonl", [{"prompt": "P10", "response": "x"}])
    with pytest.raises(IFEvalDataError, match=r":1: missing field 'key'"):
        score(PROMPTS, read_responses(path), match_by="key")


# --- parity with the reference -----------------------------------------------------------------------


def _official_inputs():
    prompts = read_prompts(_shared("input_data.jsonl"))
    responses = read_responses(_shared(GPT4_RESPONSES))
    oracle = {}
    for line in _shared(ORACLE).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        oracle[record["key"]] = record
    return prompts, responses, oracle


def test_official_gpt4_file_reports_prompt_2785_missing_by_its_old_wording():
    prompts, responses, _ = _official_inputs()
    result = score(prompts, responses, skip_missing=True)
    assert [p.key for p in result.missing] == [2785]
    assert result.n_unmatched_responses == 1 and len(result.results) == 540
    assert len(score(prompts, responses).results) == 541  # counted as a failure by default


def test_parity_with_reference_on_official_gpt4_responses():
    prompts, responses, oracle = _official_inputs()
    current = {p.key: p.prompt for p in prompts}
    rekeyed = [
        {**r, "prompt": current[2785]} if r["prompt"].startswith("What is inside Shinto shrines?") else r
        for r in responses
    ]
    result = score(prompts, rekeyed)
    assert not result.missing and len(result.results) == 541
    strict_agree = sum(r.strict == oracle[r.key]["strict"] for r in result.results)
    loose_agree = sum(r.loose == oracle[r.key]["loose"] for r in result.results)
    assert (strict_agree, loose_agree) == (541, 541)
    s = result.summary()
    rounded = [
        round(s[k], 4) for k in ("prompt_strict", "instruction_strict", "prompt_loose", "instruction_loose")
    ]
    assert rounded == [0.7708, 0.8369, 0.7967, 0.8561]
    assert (s["n_prompts"], s["n_instructions"]) == (541, 834)


# --- no network --------------------------------------------------------------------------------------

_NO_NETWORK = """
import socket

def _refuse(*args, **kwargs):
    raise AssertionError("network access attempted")

# socket.socket stays a class (ssl subclasses it); every way out through it refuses.
for name in ("connect", "connect_ex", "sendto", "sendmsg"):
    setattr(socket.socket, name, _refuse)
socket.create_connection = _refuse
socket.getaddrinfo = _refuse

import crabkit
from crabkit.eval.ifeval import IFEvalPrompt, score

prompts = [
    IFEvalPrompt(1, "p1", ["language:response_language", "change_case:english_lowercase"],
                 [{"language": "en"}, {}]),
    IFEvalPrompt(2, "p2", ["length_constraints:number_sentences", "change_case:capital_word_frequency"],
                 [{"num_sentences": 2, "relation": "at least"},
                  {"capital_frequency": 1, "capital_relation": "at least"}]),
]
result = score(prompts, ["this is a short english answer about the sea.", "The USA won. Then it rained."])
assert [r.strict for r in result.results] == [[True, True], [True, True]], result.results
print("ok")
"""


def test_importing_and_scoring_never_touches_the_network(tmp_path):
    # A fresh process with an empty cache dir, so the cold paths (model builds) run too.
    env = {**os.environ, "CRABKIT_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _NO_NETWORK], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
