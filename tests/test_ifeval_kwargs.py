"""The one IFEval kwargs policy: what the reference can score is accepted, the rest is a clear error.

The same policy holds in `crab ifeval score` / `crab eval ifeval` (``score``), `crab verify` and
the rewards; each case below is one the reference would score with a random value, or not at all.
"""

from __future__ import annotations

import json

import pytest

from crabkit.constraints.ifeval_kwargs import IFEvalKwargsError, normalize_kwargs
from crabkit.eval.ifeval import IFEvalDataError, IFEvalPrompt, score, score_prompt
from crabkit.train.rewards import constraint_reward
from crabkit.verify import verify_file

NEGATIVE = [
    ("length_constraints:number_words", {"num_words": -1, "relation": "at least"}, "num_words"),
    ("length_constraints:number_sentences", {"num_sentences": -2, "relation": "less than"}, "num_sentences"),
    ("detectable_format:number_bullet_lists", {"num_bullets": -1}, "num_bullets"),
    ("detectable_format:number_highlighted_sections", {"num_highlights": -3}, "num_highlights"),
    ("detectable_format:multiple_sections", {"section_spliter": "SECTION", "num_sections": -1}, "num_sections"),
    ("length_constraints:number_paragraphs", {"num_paragraphs": -1}, "num_paragraphs"),
    ("length_constraints:nth_paragraph_first_word",
     {"num_paragraphs": -1, "nth_paragraph": 1, "first_word": "a"}, "num_paragraphs"),
    ("detectable_content:number_placeholders", {"num_placeholders": -1}, "num_placeholders"),
    ("keywords:frequency", {"keyword": "crab", "frequency": -1, "relation": "at least"}, "frequency"),
    ("keywords:letter_frequency", {"letter": "a", "let_frequency": -5, "let_relation": "at least"}, "let_frequency"),
]  # fmt: skip


@pytest.mark.parametrize(("iid", "kwargs", "field"), NEGATIVE, ids=[f for _, _, f in NEGATIVE])
def test_negative_thresholds_are_an_error_naming_the_field(iid, kwargs, field):
    with pytest.raises(IFEvalKwargsError, match=f"{iid}: field '{field}' must be 0 or more") as caught:
        normalize_kwargs(iid, kwargs)
    assert (caught.value.ifeval_id, caught.value.field) == (iid, field)


def test_a_negative_capital_frequency_is_compared_as_given_like_the_reference():
    params = normalize_kwargs("change_case:capital_word_frequency", {"capital_frequency": -1, "capital_relation": "at least"})
    prompt = IFEvalPrompt(1, "p", ["change_case:capital_word_frequency"], [params])
    assert score_prompt(prompt, "no capitals").strict == [True]


@pytest.mark.parametrize("nth", [0, -1, 4])
def test_nth_paragraph_outside_1_to_num_paragraphs_is_an_error(nth):
    with pytest.raises(IFEvalKwargsError, match=r"field 'nth_paragraph' must be between 1 and num_paragraphs \(3\)"):
        normalize_kwargs("length_constraints:nth_paragraph_first_word",
                         {"num_paragraphs": 3, "nth_paragraph": nth, "first_word": "crab"})  # fmt: skip


def test_nth_paragraph_as_a_float_is_an_error_since_the_reference_cannot_index_with_it():
    with pytest.raises(IFEvalKwargsError, match="field 'nth_paragraph' must be an integer, not a float"):
        normalize_kwargs("length_constraints:nth_paragraph_first_word",
                         {"num_paragraphs": 3, "nth_paragraph": 2.0, "first_word": "crab"})  # fmt: skip


def test_an_empty_prompt_to_repeat_is_an_error_not_a_pass():
    with pytest.raises(IFEvalKwargsError, match="field 'prompt_to_repeat' must not be empty"):
        normalize_kwargs("combination:repeat_prompt", {"prompt_to_repeat": ""})


@pytest.mark.parametrize("code", ["zh-cn", "xx", "EN", ""])
def test_language_codes_outside_the_references_set_are_an_error(code):
    with pytest.raises(IFEvalKwargsError, match=f"field 'language' must be one of the reference's language codes.*got {code!r}"):
        normalize_kwargs("language:response_language", {"language": code})


def test_integral_floats_and_booleans_are_accepted_where_the_reference_compares_numbers():
    assert normalize_kwargs("length_constraints:number_words", {"num_words": 5.0, "relation": "at least"}) == {
        "num_words": 5, "relation": "at least"}  # fmt: skip
    assert normalize_kwargs("detectable_format:number_bullet_lists", {"num_bullets": True}) == {"num_bullets": 1}
    prompt = IFEvalPrompt(1, "p", ["length_constraints:number_words"], [{"num_words": 3.0, "relation": "at least"}])
    assert score_prompt(prompt, "one two three").strict == [True]
    with pytest.raises(IFEvalKwargsError, match="field 'num_words' must be a whole number"):
        normalize_kwargs("length_constraints:number_words", {"num_words": 5.5, "relation": "at least"})


def test_nulls_and_other_keys_are_ignored_as_in_the_hugging_face_layout():
    hf = {"num_words": 10, "relation": "less than", "keywords": None, "language": None, "num_bullets": None}
    assert normalize_kwargs("length_constraints:number_words", hf) == {"num_words": 10, "relation": "less than"}
    assert normalize_kwargs("punctuation:no_comma", {"num_words": None, "anything": 3}) == {}


@pytest.mark.parametrize(
    ("iid", "kwargs", "field"),
    [
        ("length_constraints:number_words", {"relation": "at least"}, "num_words"),
        ("length_constraints:number_words", {"num_words": 3, "relation": "about"}, "relation"),
        ("keywords:existence", {"keywords": []}, "keywords"),
        ("keywords:existence", {"keywords": "crab"}, "keywords"),
        ("keywords:frequency", {"keyword": "", "frequency": 2, "relation": "at least"}, "keyword"),
        ("keywords:letter_frequency", {"letter": "ab", "let_frequency": 2, "let_relation": "at least"}, "letter"),
        ("startend:end_checker", {"end_phrase": None}, "end_phrase"),
        ("detectable_content:postscript", {"postscript_marker": 3}, "postscript_marker"),
    ],
)
def test_missing_or_unscorable_values_are_an_error_naming_the_field(iid, kwargs, field):
    with pytest.raises(IFEvalKwargsError, match=f"field '{field}'"):
        normalize_kwargs(iid, kwargs)


def test_a_blank_response_still_has_its_kwargs_checked():
    prompt = IFEvalPrompt(7, "p", ["length_constraints:number_words"], [{"num_words": -1, "relation": "at least"}])
    with pytest.raises(IFEvalDataError, match="prompt key 7: length_constraints:number_words: field 'num_words'"):
        score_prompt(prompt, "   ")
    with pytest.raises(IFEvalDataError, match="prompt key 7"):
        score([prompt], [], skip_missing=True)


def test_crab_verify_applies_the_same_policy(tmp_path):
    rows = [
        {"response": "a b c", "instruction_id_list": ["length_constraints:number_words"],
         "kwargs": [{"num_words": -1, "relation": "at least"}]},
        {"response": "a b c", "constraints": [{"type": "length_constraints:number_words",
                                               "params": {"num_words": 3.0, "relation": "at least"}}]},
    ]  # fmt: skip
    path = tmp_path / "gt.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    report = verify_file(path)
    assert report.checked == 2 and len(report.violations) == 1
    assert "field 'num_words' must be 0 or more" in report.violations[0] and ":1:" in report.violations[0]


def test_rewards_apply_the_same_policy():
    ids = [["language:response_language"]]
    with pytest.raises(ValueError, match="completion 0: language:response_language: field 'language'"):
        constraint_reward(None, ["hello there"], instruction_id_list=ids, kwargs=[[{"language": "EN"}]])
    ok = constraint_reward(None, ["one two three"], instruction_id_list=[["length_constraints:number_words"]],
                           kwargs=[[{"num_words": True, "relation": "at least", "keywords": None}]])  # fmt: skip
    assert ok == [1.0]
