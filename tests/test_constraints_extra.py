"""The non-IFEval verifiable types (counts, marks, structure) and the human-number helpers."""

from __future__ import annotations

import json
import random
import re

import pytest

from conftest import shared_path
from crabkit.constraints import get
from crabkit.constraints.numbers import around_nice, nice_steps, round_down_nice, round_up_nice

EXTRA_IDS = (
    "length_constraints:word_range",
    "length_constraints:word_around",
    "length_constraints:max_words_per_sentence",
    "length_constraints:max_sentences_per_paragraph",
    "length_constraints:min_sentences_per_paragraph",
    "length_constraints:max_word_length",
    "length_constraints:number_characters",
    "keywords:include",
    "punctuation:no_mark",
    "startend:start_phrase",
    "detectable_format:numbered_list",
    "detectable_format:heading_count",
    "detectable_format:code_block",
    "detectable_format:table",
)

PROSE = (
    "Photosynthesis turns light into chemical energy. Plants capture sunlight with chlorophyll in "
    "their leaves. The energy splits water and releases oxygen as a by-product.\n\n"
    "The Calvin cycle then fixes carbon dioxide into sugars. Those sugars feed the plant and, "
    "through food chains, almost every animal on Earth. Without photosynthesis the oxygen in the "
    "air would slowly disappear.\n\n"
    "Scientists study photosynthesis to build better solar cells. Artificial leaves copy the same "
    "chemistry with metal catalysts. Some designs already split water with sunlight alone."
)

MARKDOWN = """# Brewing Better Espresso

Bitter espresso usually means over-extraction. The water pulls too much from the grounds.

## What to change

1. Grind coarser so water flows faster.
2. Lower the water temperature to about 92 C.
3. Shorten the shot to 25 seconds.

## Example settings

| Setting | Value |
|---|---|
| Dose | 18 g |
| Yield | 36 g |

```python
# not a heading: code comment
ratio = 36 / 18
```

Taste each change on its own. Keep notes so you learn what your espresso machine likes.
"""

HAND_WRITTEN = (
    PROSE,
    MARKDOWN,
    "Sure! Here is a short answer.",
    "",
    "   \n\n  ",
    (
        "**Short answer:** yes, you can freeze bread for three months without losing much flavour at all. "
        "Wrap the loaf tightly, slice it first, and toast the slices straight from the freezer."
    ),
    "Café owners in Zürich say the crème brûlée sells out by noon; the naïve tourists are surprised. " * 4,
    (
        "- one item only\n- another item\n- yet another item with more words than the others here "
        "so that it is long enough to count as a real answer to something somebody asked once before"
    ),
)


MARK_NAMES = {",": "comma", ":": "colon", "?": "question mark", "!": "exclamation mark"}


def _words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


# --- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 9, 12, 23, 37, 49, 88, 150, 199, 249, 263, 289, 480, 999, 1234, 7777])
def test_nice_bounds_stay_on_the_honest_side(n):
    for seed in range(12):
        rng = random.Random(seed)
        down, up = round_down_nice(n, rng), round_up_nice(n, rng)
        assert 0 < down <= n <= up
        fine, _ = nice_steps(n)
        assert down % fine == 0 or down == n
        assert up % fine == 0
    target = around_nice(n)
    assert abs(n - target) <= 0.05 * target


def test_nice_numbers_look_round():
    assert around_nice(289) == 300
    assert around_nice(271) == 275
    assert around_nice(33) == 33  # no round number is close enough
    assert {round_down_nice(263, random.Random(s)) for s in range(20)} == {250, 200}
    assert {round_up_nice(263, random.Random(s)) for s in range(20)} == {275, 300}


def test_coarse_rounding_never_strays_far():
    # 190 words is not "at least 100 words": the loose step is only taken when it stays close.
    assert {round_down_nice(190, random.Random(s)) for s in range(30)} == {150, 190}


# --- word counts ----------------------------------------------------------------------------------


def test_word_range_bounds_are_inclusive():
    t = get("length_constraints:word_range")
    text = _words(100)
    assert t.check(text, {"min_words": 100})
    assert t.check(text, {"max_words": 100})
    assert t.check(text, {"min_words": 50, "max_words": 100})
    assert not t.check(text, {"min_words": 101})
    assert not t.check(text, {"max_words": 99})
    assert not t.check(text, {"min_words": 10, "max_words": 20})


def test_word_range_needs_a_bound():
    with pytest.raises(ValueError, match="min_words"):
        get("length_constraints:word_range").check("a b c", {})


def test_word_around_holds_within_ten_percent():
    t = get("length_constraints:word_around")
    assert t.check(_words(90), {"num_words": 100})
    assert t.check(_words(110), {"num_words": 100})
    assert not t.check(_words(89), {"num_words": 100})
    assert not t.check(_words(111), {"num_words": 100})


def test_short_responses_get_no_length_constraints():
    rng = random.Random(0)
    for type_id in ("length_constraints:word_range", "length_constraints:word_around"):
        assert get(type_id).infer("Yes, absolutely.", rng) is None


# --- sentences and paragraphs ---------------------------------------------------------------------


def test_max_words_per_sentence_reads_every_sentence():
    t = get("length_constraints:max_words_per_sentence")
    assert t.check(PROSE, {"max_words": 16})
    assert not t.check(PROSE, {"max_words": 12})


def test_code_and_tables_are_not_sentences():
    t = get("length_constraints:max_words_per_sentence")
    long_code = (
        "Run this.\n\n```\n" + _words(50) + "\n```\n\n| a | b |\n|---|---|\n| " + _words(40) + " | x |"
    )
    assert t.check(long_code, {"max_words": 5})
    assert not t.check(long_code.replace("```", ""), {"max_words": 5})


def test_a_heading_is_not_glued_to_the_next_sentence():
    t = get("length_constraints:max_words_per_sentence")
    text = "## Step one of the process\nFirst mix the flour and the water together."
    assert t.check(text, {"max_words": 8})


def test_paragraphs_split_on_blank_lines():
    most = get("length_constraints:max_sentences_per_paragraph")
    least = get("length_constraints:min_sentences_per_paragraph")
    assert most.check(PROSE, {"max_sentences": 3})
    assert not most.check(PROSE, {"max_sentences": 2})
    assert least.check(PROSE, {"min_sentences": 3})
    assert not least.check(PROSE, {"min_sentences": 4})
    joined = PROSE.replace("\n\n", "\n")  # single newlines do not end a paragraph
    assert not most.check(joined, {"max_sentences": 3})


def test_lists_headings_and_labels_are_not_paragraphs():
    least = get("length_constraints:min_sentences_per_paragraph")
    text = (
        "# Title\n\n**Pros:**\n- cheap\n- fast\n\nThis is one paragraph. It has two sentences.\n\n"
        "Another paragraph here. With two sentences too."
    )
    assert least.check(text, {"min_sentences": 2})
    assert not least.check(text + "\n\nLonely line.", {"min_sentences": 2})


def test_per_unit_limits_hold_vacuously_but_are_never_inferred_then():
    rng = random.Random(0)
    for type_id in (
        "length_constraints:max_words_per_sentence",
        "length_constraints:max_sentences_per_paragraph",
        "length_constraints:min_sentences_per_paragraph",
    ):
        t = get(type_id)
        key = next(iter(t.infer(PROSE, random.Random(1))))
        assert t.check("", {key: 3})
        assert t.infer("", rng) is None


# --- word length and characters -------------------------------------------------------------------


def test_max_word_length_ignores_code_and_urls():
    t = get("length_constraints:max_word_length")
    text = "See https://example.com/averyveryverylongpath and run `extraordinarily_long_name()` now."
    assert t.check(text, {"max_chars": 4})
    assert not t.check(text + " Photosynthesis.", {"max_chars": 12})
    assert t.check("Photosynthesis", {"max_chars": 14})


def test_number_characters_counts_without_surrounding_whitespace():
    t = get("length_constraints:number_characters")
    text = "\n  " + "x" * 200 + "  \n"
    assert t.check(text, {"relation": "at most", "num_chars": 200})
    assert t.check(text, {"relation": "at least", "num_chars": 200})
    assert not t.check(text, {"relation": "at most", "num_chars": 199})
    assert not t.check(text, {"relation": "at least", "num_chars": 201})
    with pytest.raises(ValueError, match="relation"):
        t.check(text, {"relation": "less than", "num_chars": 5})


# --- keywords -------------------------------------------------------------------------------------


def test_keywords_match_whole_words_ignoring_case():
    t = get("keywords:include")
    text = "The Category of a CAT is feline; solar\ncells work."
    assert t.check(text, {"keywords": ["cat", "solar cells"]})
    assert not t.check(text, {"keywords": ["cat", "ego"]})  # "ego" only inside "Category"
    assert not t.check(text, {"keywords": ["dog"]})


@pytest.mark.parametrize(
    ("keyword", "present", "absent"),
    [
        ("C++", "I write C++ daily.", "I write C daily."),
        ("(beta)", "Version 2 (beta) ships soon.", "Version 2 beta ships soon."),
        ("a*b", "Compute a*b first.", "Compute aab first."),
        ("a.c", "The file a.c compiles.", "The file abc compiles."),
        ("crème brûlée", "We ordered CRÈME BRÛLÉE twice.", "We ordered creme brulee twice."),
        ("[x]", "Tick [x] when done.", "Tick x when done."),
    ],
)
def test_keywords_are_literal_never_regex(keyword, present, absent):
    t = get("keywords:include")
    assert t.check(present, {"keywords": [keyword]})
    assert not t.check(absent, {"keywords": [keyword]})


def test_keywords_need_a_list():
    with pytest.raises(ValueError, match="keywords"):
        get("keywords:include").check("text", {"keywords": "solar"})


def test_inferred_keywords_are_content_words_about_the_topic():
    params = get("keywords:include").infer(PROSE, random.Random(3), "How does photosynthesis work?")
    assert params is not None
    assert 1 <= len(params["keywords"]) <= 3
    stop = {"the", "and", "with", "into", "their", "some", "same"}
    for kw in params["keywords"]:
        assert not re.search(r"\d", kw)
        assert kw.lower() not in stop
    candidates = get("keywords:include").infer(PROSE, random.Random(0), "How does photosynthesis work?")
    assert candidates is not None


def test_inferred_keywords_never_ask_for_one_word_twice():
    text = (
        "Turn off the circuit breaker first. Breakers sit in the panel; each circuit breaker is labelled. "
        "Test the outlets after the breakers are off, and label the outlets you tested. "
    ) * 2
    t = get("keywords:include")
    for seed in range(30):
        params = t.infer(text, random.Random(seed), "Which circuit breaker controls my outlets?")
        assert params is not None
        stems = [w[:5] for k in params["keywords"] for w in k.lower().split()]
        assert len(stems) == len(set(stems)), params


def test_keyword_candidates_prefer_the_instruction_topic():
    from crabkit.constraints.marks import keyword_candidates

    plain = keyword_candidates(PROSE)
    ranked = keyword_candidates(PROSE, "What does chlorophyll capture?")
    # Used once, "capture sunlight" is only worth asking for when the instruction is about capturing.
    assert "capture sunlight" not in plain
    assert ranked[0] == "capture sunlight"
    assert set(plain) <= set(ranked)


HISTORY = (
    "Charles Babbage designed the Analytical Engine. Charles Babbage never finished it, but Ada Lovelace "
    "wrote programs for the engine. Lovelace saw that the engine could handle symbols as well as numbers. "
    "Historians still study how the two of them worked together on the engine design."
)


def test_keyword_candidates_keep_names_whole_and_written_as_names():
    from crabkit.constraints.marks import keyword_candidates

    found = keyword_candidates(HISTORY)
    # Every "Babbage" is in "Charles Babbage": the word alone is no keyword of its own.
    assert "Charles Babbage" in found and "Babbage" not in found and "babbage" not in found
    assert "Lovelace" in found  # a name used mid-sentence keeps its capital
    assert "engine" in found  # lower-case because the response writes it so
    assert "Ada Lovelace" not in found  # used once, and nothing in the (empty) instruction asks for it
    assert keyword_candidates(HISTORY, limit=2) == found[:2]


def test_keyword_candidates_never_join_words_across_marks_or_digits():
    from crabkit.constraints.marks import keyword_candidates

    text = "We compared wind and solar, panels included, across 12 panels and 3 farms. " * 4
    found = keyword_candidates(text)
    assert "solar" in found and "panels" in found  # "panels" stands alone too ("12 panels")
    assert "solar panels" not in found  # only ever "solar, panels"
    assert not any(ch.isdigit() for k in found for ch in k)


# --- punctuation ----------------------------------------------------------------------------------


def test_no_mark_bans_the_mark_and_its_full_width_form():
    t = get("punctuation:no_mark")
    assert t.check("Hello there. All good.", {"mark": "!"})
    assert not t.check("Hello there!", {"mark": "!"})
    assert not t.check("你好！", {"mark": "!"})
    assert not t.check("¿Qué tal", {"mark": "?"})
    assert not t.check("a, b", {"mark": ","})
    assert t.check("a; b", {"mark": ":"})
    with pytest.raises(ValueError, match="mark"):
        t.check("x", {"mark": ";"})


def test_no_mark_infers_only_absent_marks():
    t = get("punctuation:no_mark")
    seen = {t.infer(PROSE, random.Random(s))["mark"] for s in range(30)}
    assert seen == {":", "?", "!"}  # PROSE has commas


# --- start phrase ---------------------------------------------------------------------------------


def test_start_phrase_ignores_case_markup_and_spacing():
    t = get("startend:start_phrase")
    assert t.check("  **Great question!** Here is why.", {"phrase": "great question! here"})
    assert t.check("# The  Answer\nis 42", {"phrase": "The answer is"})
    assert t.check("It\u2019s simple.", {"phrase": "It's simple"})
    assert not t.check("Theory says so.", {"phrase": "The"})  # must end at a word boundary
    assert not t.check("Well, the answer is no.", {"phrase": "The answer"})
    assert not t.check("", {"phrase": "Hello"})


def test_start_phrase_is_taken_from_the_opening_words():
    t = get("startend:start_phrase")
    params = t.infer(PROSE, random.Random(0))
    assert params is not None
    assert PROSE.lower().startswith(params["phrase"].lower())
    assert 2 <= len(params["phrase"].split()) <= 8
    assert t.infer("1. first\n2. second " + _words(30), random.Random(0)) is None  # a list, not a phrase


# --- structure ------------------------------------------------------------------------------------


def test_numbered_list_counts_items_outside_code():
    t = get("detectable_format:numbered_list")
    assert t.check(MARKDOWN, {"num_items": 3})
    assert not t.check(MARKDOWN, {"num_items": 4})
    assert t.check("1) a\n2) b", {"num_items": 2})
    assert t.check("```\n1. not an item\n```", {"num_items": 0})
    assert t.infer(MARKDOWN, random.Random(0)) == {"num_items": 3}
    assert t.infer("1. a\n1. b\n" + _words(30), random.Random(0)) is None  # not a plain 1..N list


def test_heading_count_ignores_code_comments_and_hashtags():
    t = get("detectable_format:heading_count")
    assert t.check(MARKDOWN, {"relation": "exactly", "num_headings": 3})
    assert t.check(MARKDOWN, {"relation": "at least", "num_headings": 2})
    assert not t.check(MARKDOWN, {"relation": "at least", "num_headings": 4})
    assert not t.check("#hashtag\n#another", {"relation": "at least", "num_headings": 1})
    with pytest.raises(ValueError, match="relation"):
        t.check(MARKDOWN, {"relation": "at most", "num_headings": 3})


def test_code_block_must_be_fenced_and_closed():
    t = get("detectable_format:code_block")
    assert t.check(MARKDOWN, {})
    assert t.check("~~~\nx = 1\n~~~", {})
    assert not t.check("```\nx = 1\n", {})  # cut off before the closing fence
    assert not t.check("Use `x = 1` inline.", {})
    assert t.infer(PROSE, random.Random(0)) is None


def test_table_needs_a_delimiter_row_outside_code():
    t = get("detectable_format:table")
    assert t.check(MARKDOWN, {})
    assert t.check("| a | b |\n|:--|--:|\n| 1 | 2 |", {})
    assert not t.check("| a | b |\n| 1 | 2 |", {})
    assert not t.check("```\n| a | b |\n|---|---|\n```", {})
    assert not t.check("a | b\n---|---|---", {})  # column counts differ
    assert t.infer(PROSE, random.Random(0)) is None


# --- every type -----------------------------------------------------------------------------------


@pytest.mark.parametrize("type_id", EXTRA_IDS)
def test_empty_and_tiny_responses_infer_nothing(type_id):
    t = get(type_id)
    for response in ("", "   ", "Yes.", "OK, sure thing!"):
        assert t.infer(response, random.Random(0)) is None


@pytest.mark.parametrize("type_id", EXTRA_IDS)
def test_inferred_params_hold_on_hand_written_responses(type_id):
    t = get(type_id)
    for response in HAND_WRITTEN:
        for seed in range(5):
            params = t.infer(response, random.Random(seed), "How does it work?")
            if params is not None:
                assert t.check(response, params), (type_id, params, response[:60])


@pytest.mark.parametrize("type_id", EXTRA_IDS)
def test_inference_and_wording_are_deterministic(type_id):
    t = get(type_id)
    response = MARKDOWN if type_id.startswith("detectable_format") else PROSE
    first = t.infer(response, random.Random(11), "Explain it")
    assert first is not None
    assert t.infer(response, random.Random(11), "Explain it") == first
    assert t.describe(first, random.Random(5)) == t.describe(first, random.Random(5))


@pytest.mark.parametrize("type_id", EXTRA_IDS)
def test_every_type_has_five_distinct_phrasings_per_mode(type_id):
    t = get(type_id)
    modes = getattr(t, "phrasings_by_mode", None) or getattr(t, "phrasings_by_relation", None)
    for templates in modes.values() if modes else [t.phrasings]:
        assert len(set(templates)) >= 5


def _describable_params(type_id: str) -> list[dict]:
    """Params covering every wording mode of a type."""
    fixed = {
        "length_constraints:word_range": [
            {"min_words": 250},
            {"max_words": 300},
            {"min_words": 200, "max_words": 350},
        ],
        "length_constraints:number_characters": [
            {"relation": "at most", "num_chars": 1200},
            {"relation": "at least", "num_chars": 800},
        ],
        "detectable_format:heading_count": [
            {"relation": "at least", "num_headings": 4},
            {"relation": "exactly", "num_headings": 7},
        ],
    }
    if type_id in fixed:
        return fixed[type_id]
    response = MARKDOWN if type_id.startswith("detectable_format") else PROSE
    return [get(type_id).infer(response, random.Random(2), "photosynthesis")]


@pytest.mark.parametrize("type_id", EXTRA_IDS)
def test_descriptions_vary_and_state_the_values(type_id):
    t = get(type_id)
    for params in _describable_params(type_id):
        texts = {t.describe(params, random.Random(seed)) for seed in range(200)}
        assert len(texts) >= 5, (type_id, params)
        for value in params.values():
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, (int, str)) and v not in ("at most", "at least", "exactly"):
                    names = (str(v), MARK_NAMES.get(v, str(v)))
                    assert all(any(n in text for n in names) for text in texts), (type_id, v)
        assert all("{" not in text for text in texts if type_id != "startend:start_phrase")


# --- the shared seed pairs ------------------------------------------------------------------------


def _pairs() -> list[dict]:
    path = shared_path("seed_pairs", "pairs_flat.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_inferred_params_hold_on_every_seed_pair():
    pairs = _pairs()
    emitted = dict.fromkeys(EXTRA_IDS, 0)
    broken = []
    for i, pair in enumerate(pairs):
        for type_id in EXTRA_IDS:
            # YAKE is the one slow step (~5 ms a record); every sixth pair still covers 312 responses.
            if type_id == "keywords:include" and i % 6:
                continue
            t = get(type_id)
            params = t.infer(pair["response"], random.Random(i), pair["instruction"])
            if params is not None:
                emitted[type_id] += 1
                if not t.check(pair["response"], params):
                    broken.append((type_id, pair["id"], params))
    assert broken == []
    assert all(emitted.values()), emitted
