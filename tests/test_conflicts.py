"""The conflicts table: which constraint types may never share one instruction."""

from __future__ import annotations

from itertools import combinations

import pytest

from crabkit.constraints import conflicts as table
from crabkit.constraints import get, ids
from crabkit.constraints.conflicts import compatible, conflicts
from crabkit.records import Constraint

#: One realistic params dict per type (IFEval kwargs for the IFEval types).
SAMPLE_PARAMS: dict[str, dict] = {
    "change_case:capital_word_frequency": {"capital_relation": "at least", "capital_frequency": 3},
    "combination:repeat_prompt": {"prompt_to_repeat": "Write a poem, please."},
    "detectable_content:number_placeholders": {"num_placeholders": 2},
    "detectable_content:postscript": {"postscript_marker": "P.S."},
    "detectable_format:heading_count": {"relation": "at least", "num_headings": 3},
    "detectable_format:multiple_sections": {"section_spliter": "Section", "num_sections": 3},
    "detectable_format:number_bullet_lists": {"num_bullets": 4},
    "detectable_format:number_highlighted_sections": {"num_highlights": 2},
    "detectable_format:numbered_list": {"num_items": 5},
    "keywords:existence": {"keywords": ["river", "stone"]},
    "keywords:forbidden_words": {"forbidden_words": ["very"]},
    "keywords:frequency": {"keyword": "light", "frequency": 3, "relation": "at least"},
    "keywords:include": {"keywords": ["solar cells", "oxygen"]},
    "keywords:letter_frequency": {"letter": "z", "let_frequency": 2, "let_relation": "less than"},
    "language:response_language": {"language": "fr"},
    "length_constraints:max_sentences_per_paragraph": {"max_sentences": 4},
    "length_constraints:max_word_length": {"max_chars": 15},
    "length_constraints:max_words_per_sentence": {"max_words": 25},
    "length_constraints:min_sentences_per_paragraph": {"min_sentences": 2},
    "length_constraints:nth_paragraph_first_word": {
        "num_paragraphs": 3,
        "nth_paragraph": 2,
        "first_word": "so",
    },
    "length_constraints:number_characters": {"relation": "at most", "num_chars": 1500},
    "length_constraints:number_paragraphs": {"num_paragraphs": 3},
    "length_constraints:number_sentences": {"relation": "less than", "num_sentences": 10},
    "length_constraints:number_words": {"relation": "at least", "num_words": 300},
    "length_constraints:word_around": {"num_words": 300},
    "length_constraints:word_range": {"min_words": 250, "max_words": 350},
    "punctuation:no_mark": {"mark": "!"},
    "startend:end_checker": {"end_phrase": "Is there anything else I can help with?"},
    "startend:start_phrase": {"phrase": "Great question"},
}
# IFBench's counting, ratio, word and sentence types (ifbench_counts, ifbench_words).
SAMPLE_PARAMS.update(
    {
        "count:conjunctions": {"small_n": 4},
        "count:keywords_multiple": {
            f"keyword{i}": w for i, w in enumerate(["door", "bread", "blue", "lamp", "river"], 1)
        },
        "count:numbers": {"N": 3},
        "count:person_names": {"N": 2},
        "count:pronouns": {"N": 20},
        "count:unique_word_count": {"N": 100},
        "count:word_count_range": {"min_words": 150, "max_words": 200},
        "count:words_japanese": {"N": 5},
        "ratio:overlap": {"reference_text": "The tide comes in twice a day.", "percentage": 40},
        "ratio:stop_words": {"percentage": 35},
        "sentence:increment": {"small_n": 2},
        "sentence:keyword": {"word": "tide", "N": 2},
        "words:keywords_specific_position": {"keyword": "tide", "n": 2, "m": 3},
        "words:repeats": {"small_n": 3},
        "words:words_position": {"keyword": "tide"},
    }
)
PARAMLESS_IFBENCH = {
    "count:punctuation", "ratio:sentence_balance", "ratio:sentence_type", "ratio:sentence_words",
    "sentence:alliteration_increment", "words:alphabet", "words:consonants", "words:last_first",
    "words:no_consecutive", "words:odd_even_syllables", "words:palindrome", "words:paragraph_last_first",
    "words:prime_lengths", "words:vowel",
}  # fmt: skip


def test_conflicts_are_symmetric_for_every_pair_of_types():
    all_ids = ids() + ["soft:style"]
    for a in all_ids:
        for b in all_ids:
            pa, pb = SAMPLE_PARAMS.get(a, {}), SAMPLE_PARAMS.get(b, {})
            assert conflicts(a, b) == conflicts(b, a), (a, b)
            assert conflicts(a, b, pa, pb) == conflicts(b, a, pb, pa), (a, b)


def test_every_id_in_the_table_is_a_registered_type():
    named = set(table._ONLY_WITH) | set(table._TEXT_PARAMS)
    for allowed in table._ONLY_WITH.values():
        named |= allowed
    for group in table._GROUPS:
        named |= group
    assert named - set(ids()) == set()


def test_the_same_type_twice_conflicts_but_soft_constraints_do_not():
    assert conflicts("keywords:include", "keywords:include")
    assert not conflicts("soft:style", "soft:style")
    assert not conflicts("soft:style", "detectable_format:json_format")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("change_case:english_lowercase", "change_case:english_capital"),
        ("detectable_format:json_format", "detectable_format:number_bullet_lists"),
        ("detectable_format:json_format", "detectable_format:numbered_list"),
        ("detectable_format:json_format", "startend:start_phrase"),
        ("detectable_format:json_format", "punctuation:no_comma"),
        ("detectable_format:constrained_response", "keywords:include"),
        ("combination:two_responses", "startend:start_phrase"),
        ("combination:two_responses", "startend:end_checker"),
        ("combination:repeat_prompt", "startend:start_phrase"),
        ("combination:repeat_prompt", "length_constraints:word_range"),
        ("length_constraints:word_range", "length_constraints:number_words"),
        ("length_constraints:word_around", "length_constraints:number_words"),
        ("length_constraints:word_range", "length_constraints:word_around"),
        ("length_constraints:number_characters", "length_constraints:word_range"),
        ("startend:start_phrase", "startend:quotation"),
        ("startend:start_phrase", "detectable_format:title"),
        ("startend:end_checker", "detectable_content:postscript"),
        ("length_constraints:number_paragraphs", "length_constraints:nth_paragraph_first_word"),
        ("keywords:existence", "keywords:include"),
    ],
)
def test_contradictory_or_redundant_types_conflict(a, b):
    assert conflicts(a, b)
    assert not compatible([a, b])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("detectable_format:json_format", "keywords:include"),
        ("detectable_format:json_format", "language:response_language"),
        ("combination:two_responses", "keywords:include"),
        ("startend:start_phrase", "startend:end_checker"),
        ("length_constraints:word_range", "length_constraints:max_words_per_sentence"),
        ("detectable_format:numbered_list", "detectable_format:number_bullet_lists"),
        ("detectable_format:heading_count", "detectable_format:table"),
        ("punctuation:no_comma", "keywords:include"),
        ("change_case:english_lowercase", "startend:start_phrase"),  # the phrase check ignores case
    ],
)
def test_independent_types_combine(a, b):
    assert not conflicts(a, b, SAMPLE_PARAMS.get(a), SAMPLE_PARAMS.get(b))


def test_no_comma_and_no_mark_conflict_only_for_the_comma():
    assert conflicts("punctuation:no_comma", "punctuation:no_mark", {}, {"mark": ","})
    assert conflicts("punctuation:no_mark", "punctuation:no_comma", {"mark": ","}, {})
    assert not conflicts("punctuation:no_comma", "punctuation:no_mark", {}, {"mark": "?"})


def test_a_banned_mark_cannot_be_in_required_text():
    end = {"end_phrase": "Is there anything else I can help with?"}
    assert conflicts("punctuation:no_mark", "startend:end_checker", {"mark": "?"}, end)
    assert not conflicts("punctuation:no_mark", "startend:end_checker", {"mark": "!"}, end)
    assert conflicts("punctuation:no_comma", "keywords:include", {}, {"keywords": ["Paris, France"]})
    assert conflicts("startend:start_phrase", "punctuation:no_mark", {"phrase": "Sure! Here"}, {"mark": "!"})


def test_forbidden_words_cannot_be_required():
    forbidden = {"forbidden_words": ["solar"]}
    assert conflicts("keywords:forbidden_words", "keywords:include", forbidden, {"keywords": ["solar cells"]})
    assert not conflicts(
        "keywords:forbidden_words", "keywords:include", forbidden, {"keywords": ["lunar cycle"]}
    )


def test_a_forbidden_word_never_shares_a_stem_with_a_required_one():
    # "Avoid 'plants'" beside "mention 'plant'" is a trap, not a request.
    assert conflicts("keywords:forbidden_words", "keywords:existence", {"forbidden_words": ["plants"]},
                     {"keywords": ["plant"]})  # fmt: skip
    assert conflicts("keywords:forbidden_words", "keywords:frequency", {"forbidden_words": ["solar"]},
                     {"keyword": "solarium", "frequency": 2, "relation": "at least"})  # fmt: skip
    assert not conflicts("keywords:forbidden_words", "keywords:existence", {"forbidden_words": ["plan"]},
                         {"keywords": ["planet"]})  # fmt: skip  (too short to be a stem)


def test_long_required_words_break_a_word_length_limit():
    limit = {"max_chars": 10}
    assert conflicts(
        "length_constraints:max_word_length", "keywords:include", limit, {"keywords": ["photosynthesis"]}
    )
    assert not conflicts(
        "length_constraints:max_word_length", "keywords:include", limit, {"keywords": ["leaf"]}
    )


def test_paragraph_sentence_bounds_must_overlap():
    lo, hi = (
        "length_constraints:min_sentences_per_paragraph",
        "length_constraints:max_sentences_per_paragraph",
    )
    assert conflicts(lo, hi, {"min_sentences": 4}, {"max_sentences": 3})
    assert not conflicts(lo, hi, {"min_sentences": 3}, {"max_sentences": 3})


def test_case_rules_clash_with_capital_counts_and_other_languages():
    freq = "change_case:capital_word_frequency"
    assert conflicts(
        "change_case:english_lowercase", freq, {}, {"capital_relation": "at least", "capital_frequency": 2}
    )
    # True ("fewer than 2 capital words" of an all-lowercase answer) but a riddle, not a request.
    assert conflicts(
        "change_case:english_lowercase", freq, {}, {"capital_relation": "less than", "capital_frequency": 2}
    )
    assert conflicts(
        "change_case:english_capital", freq, {}, {"capital_relation": "less than", "capital_frequency": 5}
    )
    assert conflicts(
        "change_case:english_capital", freq, {}, {"capital_relation": "at least", "capital_frequency": 300}
    )
    assert conflicts("change_case:english_lowercase", "language:response_language", {}, {"language": "de"})
    assert not conflicts(
        "change_case:english_lowercase", "language:response_language", {}, {"language": "en"}
    )


def test_a_keyword_in_the_first_sentence_is_not_asked_beside_an_opening_that_holds_it():
    opening = {"phrase": "Alright, let's tackle this sequence."}
    assert conflicts("sentence:keyword", "startend:start_phrase", {"N": 1, "word": "alright"}, opening)
    assert conflicts("startend:start_phrase", "sentence:keyword", opening, {"N": 1, "word": "Tackle"})
    assert not conflicts("sentence:keyword", "startend:start_phrase", {"N": 2, "word": "alright"}, opening)
    assert not conflicts("sentence:keyword", "startend:start_phrase", {"N": 1, "word": "sequences"}, opening)


def test_start_phrase_must_agree_with_a_first_paragraph_first_word():
    nth = "length_constraints:nth_paragraph_first_word"
    first = {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "great"}
    assert not conflicts("startend:start_phrase", nth, {"phrase": "Great question"}, first)
    assert conflicts("startend:start_phrase", nth, {"phrase": "Sure thing"}, first)
    assert not conflicts(
        "startend:start_phrase", nth, {"phrase": "Sure thing"}, {**first, "nth_paragraph": 2}
    )


def test_compatible_takes_records_dicts_pairs_and_ids():
    good = [
        Constraint(type="keywords:include", params={"keywords": ["oxygen"]}, text="", verified=True),
        {"type": "length_constraints:word_range", "params": {"max_words": 300}},
        ("punctuation:no_mark", {"mark": "?"}),
        "detectable_format:table",
    ]
    assert compatible(good)
    assert compatible([])
    assert not compatible([*good, ("punctuation:no_mark", {"mark": "!"})])  # no_mark twice
    assert not compatible([*good, "length_constraints:word_around"])


def test_sample_params_cover_every_type_with_params():
    # Guards the symmetry test above: a new type with params should get sample params here.
    missing = [
        i
        for i in ids()
        if get(i).suite != "ifbench"  # IFBench's types are in no conflict rule yet (their own tests)
        and i not in SAMPLE_PARAMS
        and i
        not in {
            "change_case:english_capital",
            "change_case:english_lowercase",
            "combination:two_responses",
            "detectable_format:code_block",
            "detectable_format:constrained_response",
            "detectable_format:json_format",
            "detectable_format:table",
            "detectable_format:title",
            "punctuation:no_comma",
            "startend:quotation",
        }
        | PARAMLESS_IFBENCH
    ]
    assert missing == []


def test_conflicting_pairs_are_a_minority():
    # A sanity bound on the table: most pairs of types must stay combinable.
    all_ids = ids()
    pairs = list(combinations(all_ids, 2))
    clashing = sum(conflicts(a, b, SAMPLE_PARAMS.get(a), SAMPLE_PARAMS.get(b)) for a, b in pairs)
    assert clashing < len(pairs) / 2
