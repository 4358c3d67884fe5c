"""Every phrasing of every type reads as a person would write it, for the numbers 0, 1 and 2 and for
one, two and three keywords: nouns agree with their numbers, no double negatives, no stray braces."""

from __future__ import annotations

import pytest

from conftest import EveryChoice
from crabkit.compose.wording import glitches
from crabkit.constraints import all_types, get

# Params of every type, with "N" where a count goes and lists where several words can.
PARAMS: dict[str, dict] = {
    "change_case:capital_word_frequency": {"capital_relation": "at least", "capital_frequency": "N"},
    "change_case:english_capital": {},
    "change_case:english_lowercase": {},
    "combination:repeat_prompt": {"prompt_to_repeat": "Write a haiku about rain."},
    "combination:two_responses": {},
    "detectable_content:number_placeholders": {"num_placeholders": "N"},
    "detectable_content:postscript": {"postscript_marker": "P.S."},
    "detectable_format:code_block": {},
    "detectable_format:constrained_response": {},
    "detectable_format:heading_count": {"relation": "exactly", "num_headings": "N"},
    "detectable_format:json_format": {},
    "detectable_format:multiple_sections": {"section_spliter": "SECTION", "num_sections": "N"},
    "detectable_format:number_bullet_lists": {"num_bullets": "N"},
    "detectable_format:number_highlighted_sections": {"num_highlights": "N"},
    "detectable_format:numbered_list": {"num_items": "N"},
    "detectable_format:table": {},
    "detectable_format:title": {},
    "keywords:existence": {"keywords": "WORDS"},
    "keywords:forbidden_words": {"forbidden_words": "WORDS"},
    "keywords:frequency": {"relation": "at least", "keyword": "river", "frequency": "N"},
    "keywords:include": {"keywords": "WORDS"},
    "keywords:letter_frequency": {"let_relation": "at least", "letter": "q", "let_frequency": "N"},
    "language:response_language": {"language": "fr"},
    "length_constraints:max_sentences_per_paragraph": {"max_sentences": "N"},
    "length_constraints:max_word_length": {"max_chars": "N"},
    "length_constraints:max_words_per_sentence": {"max_words": "N"},
    "length_constraints:min_sentences_per_paragraph": {"min_sentences": "N"},
    "length_constraints:nth_paragraph_first_word": {"num_paragraphs": "N", "nth_paragraph": 1, "first_word": "rain"},
    "length_constraints:number_characters": {"relation": "at most", "num_chars": "N"},
    "length_constraints:number_paragraphs": {"num_paragraphs": "N"},
    "length_constraints:number_sentences": {"relation": "at least", "num_sentences": "N"},
    "length_constraints:number_words": {"relation": "at least", "num_words": "N"},
    "length_constraints:word_around": {"num_words": "N"},
    "length_constraints:word_range": {"min_words": "N", "max_words": "N"},
    "punctuation:no_comma": {},
    "punctuation:no_mark": {"mark": "?"},
    "startend:end_checker": {"end_phrase": "That is all for today."},
    "startend:quotation": {},
    "startend:start_phrase": {"phrase": "Rain falls softly"},
}
# Relations and modes each type words differently.
VARIANTS: dict[str, list[dict]] = {
    "change_case:capital_word_frequency": [{"capital_relation": "less than"}],
    "detectable_format:heading_count": [{"relation": "at least"}],
    "keywords:frequency": [{"relation": "less than"}],
    "keywords:letter_frequency": [{"let_relation": "less than"}],
    "length_constraints:number_characters": [{"relation": "at least"}],
    "length_constraints:number_sentences": [{"relation": "less than"}],
    "length_constraints:number_words": [{"relation": "less than"}],
    "length_constraints:word_range": [{"min_words": None}, {"max_words": None}],
}
WORD_LISTS = (["river"], ["river", "delta"], ["river", "delta", "flood plain"])


def _params_for(type_id: str, n: int, words: list[str]) -> list[dict]:
    out = []
    for change in [{}, *VARIANTS.get(type_id, [])]:
        params = {**PARAMS[type_id], **change}
        params = {k: v for k, v in params.items() if v is not None}
        params = {k: (n if v == "N" else list(words) if v == "WORDS" else v) for k, v in params.items()}
        if type_id.endswith("nth_paragraph_first_word"):
            params["num_paragraphs"] = max(n, 1)
        out.append(params)
    return out


def test_every_registered_type_is_worded_here():
    # IFBench's types (suite "ifbench") are worded in their own tests (tests/test_ifbench_types_*.py).
    assert set(PARAMS) == {t.id for t in all_types() if t.suite != "ifbench"}


@pytest.mark.parametrize("type_id", sorted(PARAMS))
def test_every_phrasing_reads_well_for_0_1_2_and_lists_of_1_2_3(type_id):
    t = get(type_id)
    semantic = ("impossible lower bound", "impossible upper bound")  # "at least 0" is never inferred
    bad = []
    for n in (0, 1, 2, 7):
        for words in WORD_LISTS:
            for params in _params_for(type_id, n, words):
                for k in range(12):
                    text = t.describe(params, EveryChoice(k))
                    found = [g for g in glitches(text) if g not in semantic]
                    if found or "{" in text or "}" in text:
                        bad.append((found, text))
                    if "WORDS" not in PARAMS[type_id].values():
                        continue
                    if len(words) == 1:
                        assert "words 'river'" not in text and "keywords 'river'" not in text, text
                    else:
                        assert " word 'river'" not in text, text
    assert bad == []


def test_the_glitch_patterns_catch_what_they_name():
    assert glitches("Write at least 1 words.") == ["plural after 1"]
    assert glitches("Use exactly 3 bullet point.") == ["singular after a number other than 1"]
    assert glitches("Use exactly 3 bullet points.") == []
    assert glitches("Do not use the letter 'z' fewer than 2 times.") == ["double negative"]
    assert glitches("Don't stop before you have written 50 sentences.") == ["double negative"]
    assert glitches("Answer in fewer than 1 word.") == ["impossible upper bound"]
    assert glitches("Keep 'under' and 'less' out of your reply.") == []  # quoted words are the user's
    assert glitches("Keep the the answer short.") == ["repeated word"]


def test_canonical_wording_is_the_first_phrasing():
    t = get("length_constraints:number_words")
    params = {"relation": "less than", "num_words": 100}
    assert t.describe(params, None) == "Answer in fewer than 100 words."
    assert all(t.describe(params, None) == t.describe(params, None) for _ in range(3))
