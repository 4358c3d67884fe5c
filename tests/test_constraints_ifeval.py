"""The 25 IFEval instruction types: reference semantics, documented deviations, odd input."""

from __future__ import annotations

import pytest

from crabkit.constraints import get, get_by_ifeval_id, ids

IFEVAL_IDS = {
    "change_case:capital_word_frequency",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "combination:repeat_prompt",
    "combination:two_responses",
    "detectable_content:number_placeholders",
    "detectable_content:postscript",
    "detectable_format:constrained_response",
    "detectable_format:json_format",
    "detectable_format:multiple_sections",
    "detectable_format:number_bullet_lists",
    "detectable_format:number_highlighted_sections",
    "detectable_format:title",
    "keywords:existence",
    "keywords:forbidden_words",
    "keywords:frequency",
    "keywords:letter_frequency",
    "language:response_language",
    "length_constraints:nth_paragraph_first_word",
    "length_constraints:number_paragraphs",
    "length_constraints:number_sentences",
    "length_constraints:number_words",
    "punctuation:no_comma",
    "startend:end_checker",
    "startend:quotation",
}

# (type id, params, response, expected): at least one pass and one fail per type.
CASES = [
    # keywords:existence - case-insensitive substrings, literal (never regex)
    ("keywords:existence", {"keywords": ["apple", "pie"]}, "An APPLE Pie.", True),
    ("keywords:existence", {"keywords": ["apple", "pie"]}, "An apple tart.", False),
    ("keywords:existence", {"keywords": ["C++"]}, "I write c++ daily.", True),
    ("keywords:existence", {"keywords": ["C++"]}, "I write C daily.", False),
    ("keywords:existence", {"keywords": ["(beta)"]}, "Release (BETA) today", True),
    ("keywords:existence", {"keywords": ["(beta)"]}, "Release beta today", False),
    ("keywords:existence", {"keywords": ["a*b"]}, "see a*b here", True),
    ("keywords:existence", {"keywords": ["a*b"]}, "see aab or b here", False),
    ("keywords:existence", {"keywords": ["café"]}, "Un CAFÉ noir", True),
    # keywords:frequency - non-overlapping, case-insensitive, substrings count (as the reference)
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": "at least"}, "Cat, cat.", True),
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": "at least"}, "one cat", False),
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": "at least"}, "cat category", True),
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": "less than"}, "one cat", True),
    ("keywords:frequency", {"keyword": " c++ ", "frequency": 2, "relation": "at least"}, "C++ and c++", True),
    ("keywords:frequency", {"keyword": "c++", "frequency": 1, "relation": "less than"}, "c and cc", True),
    # keywords:forbidden_words - whole words, case-insensitive
    ("keywords:forbidden_words", {"forbidden_words": ["bad"]}, "A badge is fine.", True),
    ("keywords:forbidden_words", {"forbidden_words": ["bad"]}, "This is BAD.", False),
    ("keywords:forbidden_words", {"forbidden_words": ["c++", "x"]}, "I code in C++.", False),
    ("keywords:forbidden_words", {"forbidden_words": ["c++"]}, "I code in c, not cpp.", True),
    ("keywords:forbidden_words", {"forbidden_words": ["*star*"]}, "a *star* is born", False),
    # keywords:letter_frequency - lower-cased counts; a non-letter symbol is counted literally
    (
        "keywords:letter_frequency",
        {"letter": "a", "let_frequency": 4, "let_relation": "at least"},
        "A banana",
        True,
    ),
    (
        "keywords:letter_frequency",
        {"letter": "A", "let_frequency": 5, "let_relation": "at least"},
        "A banana",
        False,
    ),
    (
        "keywords:letter_frequency",
        {"letter": "a", "let_frequency": 2, "let_relation": "less than"},
        "hello",
        True,
    ),
    (
        "keywords:letter_frequency",
        {"letter": "#", "let_frequency": 3, "let_relation": "at least"},
        "# a\n## b",
        True,
    ),
    (
        "keywords:letter_frequency",
        {"letter": "#", "let_frequency": 4, "let_relation": "at least"},
        "# a\n## b",
        False,
    ),
    (
        "keywords:letter_frequency",
        {"letter": "é", "let_frequency": 2, "let_relation": "at least"},
        "Été",
        True,
    ),
    # language:response_language - seeded langdetect; featureless text counts as followed
    (
        "language:response_language",
        {"language": "en"},
        "This is an English sentence about the weather.",
        True,
    ),
    (
        "language:response_language",
        {"language": "en"},
        "ceci est une phrase en français sur le temps.",
        False,
    ),
    ("language:response_language", {"language": "fr"}, "ceci est une phrase en français sur le temps.", True),
    ("language:response_language", {"language": "zh-cn"}, "这是一个关于今天天气的中文句子。", True),
    ("language:response_language", {"language": "de"}, "12345 !!! 678", True),
    # length_constraints:number_sentences - Punkt sentences ("Dr." does not end one)
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"}, "Hi. Go.", True),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"}, "A. B! C?", False),
    (
        "length_constraints:number_sentences",
        {"num_sentences": 2, "relation": "at least"},
        "Dr. Smith went home. He slept.",
        True,
    ),
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": "at least"},
        "Dr. Smith went home. He slept.",
        False,
    ),
    # length_constraints:number_paragraphs - *** dividers; blank outer pieces ignored, inner fail
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "One.\n***\nTwo.", True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "A *** B *** C", False),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "***\nOne.\n***\nTwo.\n***", True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "One.\n***\n***\nTwo.", False),
    # length_constraints:number_words - \w+ runs
    ("length_constraints:number_words", {"num_words": 4, "relation": "at least"}, "Hello, world! It's", True),
    (
        "length_constraints:number_words",
        {"num_words": 4, "relation": "less than"},
        "Hello, world! It's",
        False,
    ),
    ("length_constraints:number_words", {"num_words": 3, "relation": "less than"}, "naïve café", True),
    # length_constraints:nth_paragraph_first_word - blank-line paragraphs, first word cleaned
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "Then"},
        'First part.\n\n"Then, more."',
        True,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        "First.\n\nThen.\n\nExtra.",
        False,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        "First.\n\nNow then.",
        False,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 1, "nth_paragraph": 2, "first_word": "then"},
        "Only one.",
        False,
    ),
    # detectable_content:number_placeholders - [..] on one line
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[name] at [address]", True),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[name] at [multi\nline]", False),
    # detectable_content:postscript
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi.\n\nP.S. Bye.", True),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi.\n\np. s. bye", True),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi.\n\nPS bye", False),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Hi.\nP.P.S. more", True),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Hi.\nP.S. more", False),
    ("detectable_content:postscript", {"postscript_marker": "NB(1)"}, "Hi.\nnb(1) note", True),
    ("detectable_content:postscript", {"postscript_marker": "NB(1)"}, "Hi.\nNB1 note", False),
    # detectable_format:number_bullet_lists - exact count of * and - lines
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* a\n* b", True),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* a\n- b\n- c", False),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "**Bold** intro\n* a\n  * b", True),
    # detectable_format:constrained_response
    ("detectable_format:constrained_response", {}, "  My answer is yes.  ", True),
    ("detectable_format:constrained_response", {}, "My answer is Yes", False),
    # detectable_format:number_highlighted_sections - *x* spans, each **x** counted too
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and *two*", True),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "**bold** and *x*", True),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "* * and *one*", False),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 1}, "*across\nlines*", False),
    # detectable_format:multiple_sections - case-sensitive splitter + number; splitter literal
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "SECTION", "num_sections": 2},
        "SECTION 1\nA\nSECTION 2\nB",
        True,
    ),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "SECTION", "num_sections": 2},
        "Section 1\nA\nSection 2\nB",
        False,
    ),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "Part*", "num_sections": 2},
        "Part* 1 x Part* 2 y",
        True,
    ),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "Part*", "num_sections": 2},
        "Par 1 x Parttt 2 y",
        False,
    ),
    # detectable_format:json_format - optional markdown fence
    ("detectable_format:json_format", {}, '```json\n{"a": [1, 2]}\n```', True),
    ("detectable_format:json_format", {}, '  {"a": 1}  ', True),
    ("detectable_format:json_format", {}, '{"a": 1} and more', False),
    ("detectable_format:json_format", {}, "[" * 100_000, False),
    # detectable_format:title
    ("detectable_format:title", {}, "<<My Title>>\nBody", True),
    ("detectable_format:title", {}, "<< >>\nBody", False),
    ("detectable_format:title", {}, "<<broken\ntitle>>", False),
    # combination:two_responses
    ("combination:two_responses", {}, "First answer.\n******\nSecond answer.", True),
    ("combination:two_responses", {}, "Same.\n******\nSame.", False),
    ("combination:two_responses", {}, "A ****** B ****** C", False),
    ("combination:two_responses", {}, "A ****** ****** B", False),
    # combination:repeat_prompt
    ("combination:repeat_prompt", {"prompt_to_repeat": "Say hi."}, "  say HI. Hi there!", True),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Say hi."}, "Hi there! Say hi.", False),
    # startend:end_checker
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, 'Done. any other questions?"\n', True),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, "Any other questions? Thanks.", False),
    # startend:quotation
    ("startend:quotation", {}, ' "wrapped" ', True),
    ("startend:quotation", {}, '"', False),
    ("startend:quotation", {}, "not wrapped", False),
    # change_case:capital_word_frequency - word_tokenize tokens with str.isupper()
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "at least"},
        "The USA and NASA agree.",
        True,
    ),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "at least"},
        "The USA agrees.",
        False,
    ),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "less than"},
        "I went home.",
        True,
    ),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "at least"},
        "DON'T stop",
        True,
    ),
    # change_case:english_capital
    ("change_case:english_capital", {}, "HELLO WORLD, THIS IS AN ENGLISH SENTENCE ABOUT THE WEATHER.", True),
    ("change_case:english_capital", {}, "Hello world, this is an English sentence about the weather.", False),
    ("change_case:english_capital", {}, "ПРИВЕТ, ЭТО ПРЕДЛОЖЕНИЕ НА РУССКОМ ЯЗЫКЕ О ПОГОДЕ СЕГОДНЯ.", False),
    # change_case:english_lowercase
    ("change_case:english_lowercase", {}, "this is an english sentence about the weather today.", True),
    ("change_case:english_lowercase", {}, "This is an english sentence about the weather today.", False),
    ("change_case:english_lowercase", {}, "ceci est une phrase en français sur le temps qu'il fait.", False),
    # punctuation:no_comma - ASCII comma only
    ("punctuation:no_comma", {}, "No commas here.", True),
    ("punctuation:no_comma", {}, "One, two.", False),
    ("punctuation:no_comma", {}, "全角，逗号", True),
]


def test_all_25_ifeval_types_are_registered_under_their_reference_ids():
    assert IFEVAL_IDS <= set(ids())
    for type_id in IFEVAL_IDS:
        ctype = get_by_ifeval_id(type_id)
        assert ctype.id == ctype.ifeval_id == type_id


def test_every_type_has_a_passing_and_a_failing_case():
    outcomes = {(t, expected) for t, _, _, expected in CASES}
    for type_id in IFEVAL_IDS:
        assert (type_id, True) in outcomes and (type_id, False) in outcomes, type_id


@pytest.mark.parametrize(("type_id", "params", "response", "expected"), CASES)
def test_check_matches_reference_semantics(type_id, params, response, expected):
    assert get(type_id).check(response, params) is expected


# Params valid for each type, for the odd-input tests.
VALID_PARAMS = {t: p for t, p, _, _ in reversed(CASES)}

ODD_RESPONSES = [
    "",
    " \n\t ",
    "***",
    "******",
    "\n\n\n",
    "```json\n```",
    "# Heading\n\n* **bold** item\n- [link](http://x.y)\n\n| a | b |\n|---|---|",
    "日本語のテキストです。句読点。",
    "emoji 🦀🦀 and zero\u200bwidth and combining e\u0301",
    "\x00\x01 control \ud800 lone surrogate",
    "(((( [[[[ **** ++++ ???? \\\\",
    "A" * 5000,
]


@pytest.mark.parametrize("type_id", sorted(IFEVAL_IDS))
def test_check_never_raises_on_odd_responses(type_id):
    ctype = get(type_id)
    for response in ODD_RESPONSES:
        assert isinstance(ctype.check(response, VALID_PARAMS[type_id]), bool)


def test_empty_response_fails_content_checks():
    assert not get("keywords:existence").check("", {"keywords": ["x"]})
    assert not get("length_constraints:number_words").check("", {"num_words": 1, "relation": "at least"})
    assert not get("detectable_format:json_format").check("", {})


@pytest.mark.parametrize(
    ("type_id", "params", "named"),
    [
        ("length_constraints:number_words", {"num_words": 10}, "relation"),
        ("length_constraints:number_words", {"num_words": "10", "relation": "at least"}, "num_words"),
        ("keywords:frequency", {"keyword": "x", "frequency": 1, "relation": "at most"}, "relation"),
        ("keywords:existence", {"keywords": "apple"}, "keywords"),
        (
            "keywords:letter_frequency",
            {"letter": "", "let_frequency": 1, "let_relation": "at least"},
            "letter",
        ),
        (
            "length_constraints:nth_paragraph_first_word",
            {"num_paragraphs": 1, "nth_paragraph": 0, "first_word": "a"},
            "nth_paragraph",
        ),
        ("startend:end_checker", {}, "end_phrase"),
    ],
)
def test_bad_params_raise_value_error_naming_the_param(type_id, params, named):
    with pytest.raises(ValueError, match=named) as info:
        get(type_id).check("Some response text.", params)
    assert type_id in str(info.value)


def test_from_kwargs_drops_reference_none_values():
    ctype = get("length_constraints:number_words")
    params = ctype.from_kwargs({"num_words": 3, "relation": "at least", "keywords": None, "letter": None})
    assert params == {"num_words": 3, "relation": "at least"}
    assert ctype.check("one two three", params)
