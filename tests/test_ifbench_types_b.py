"""IFBench's format:*, custom:* and repeat:* types: the reference's verdicts on hand-written cases, inference
that only asks what an answer shows, clean wording, and the reference kwargs read and written back."""

from __future__ import annotations

import json
import random
import string
import sys
from pathlib import Path

import pytest

from conftest import shared_path
from crabkit.backtranslate.rules import RuleConfig
from crabkit.compose.wording import glitches
from crabkit.constraints import all_types, get_by_ifbench_id
from crabkit.constraints.ifbench_tasks import EUROPEAN_CAPITALS_NORTH_TO_SOUTH, SIMPLE_SENTENCE
from crabkit.constraints.ifeval_kwargs import IFEvalKwargsError

BENCH = Path(__file__).resolve().parents[1] / "bench"
INFERRED = (
    "format:parentheses", "format:quotes", "format:options", "format:newline", "format:emoji",
    "format:line_indent", "format:quote_unquote", "format:list", "format:thesis", "format:sub-bullets",
    "format:no_bullets_bullets", "format:title_case", "format:output_template", "format:no_whitespace",
)  # fmt: skip
CHECKED_ONLY = (
    "custom:multiples", "custom:mcq_count_length", "custom:reverse_newline", "custom:word_reverse",
    "custom:character_reverse", "custom:sentence_alphabet", "custom:european_capitals_sort", "custom:csv_city",
    "custom:csv_special_character", "custom:csv_quotes", "custom:date_format_list", "repeat:repeat_change",
    "repeat:repeat_simple", "repeat:repeat_span",
)  # fmt: skip
#: Realistic params of the types that take any.
PARAMS = {
    "format:options": {"options": "yes/no/maybe"},
    "format:list": {"sep": "SEPARATOR"},
    "repeat:repeat_change": {"prompt_to_repeat": "Write a haiku about rain."},
    "repeat:repeat_span": {"prompt_to_repeat": "Write a haiku about rain.", "n_start": 6, "n_end": 12},
}


def check(type_id: str, response: str, params: dict | None = None) -> bool:
    return get_by_ifbench_id(type_id).check(response, params or PARAMS.get(type_id, {}))


def reference_check(type_id: str, response: str) -> bool | None:
    """The reference verifier's own verdict on ``response`` (strict, so a blank response fails), or None
    when the reference is not there."""
    sys.path.insert(0, str(BENCH))
    import ifbench_oracle

    if ifbench_oracle.oracle_missing():
        return None
    verdict = ifbench_oracle.reference_verdict(type_id, PARAMS.get(type_id, {}), "p", response)
    return verdict if isinstance(verdict, str) else verdict[0]


def infer(type_id: str, response: str, seed: int = 0) -> dict | None:
    return get_by_ifbench_id(type_id).infer(response, random.Random(seed), "Tell me about it.")


# --- registration and default inference ----------------------------------------------------------------


def test_the_28_types_are_registered_under_their_ifbench_ids_in_the_ifbench_suite():
    for type_id in INFERRED + CHECKED_ONLY:
        kind = get_by_ifbench_id(type_id)
        assert kind.id == kind.ifbench_id == type_id
        assert kind.suite == "ifbench" and kind.ifeval_id is None


def test_default_inference_leaves_ifbench_types_out_and_naming_one_brings_it_in():
    default = {t.id for t in RuleConfig().types()}
    assert not default & set(INFERRED + CHECKED_ONLY)
    assert {t.id for t in RuleConfig(include=["format:title_case"]).types()} == {"format:title_case"}


def test_checked_only_types_are_never_inferred():
    responses = [
        "14, 21, 28, 35, 42, 49",
        SIMPLE_SENTENCE,
        ", ".join(EUROPEAN_CAPITALS_NORTH_TO_SOUTH),
        "elgae dlab",
    ]
    for type_id in CHECKED_ONLY:
        kind = get_by_ifbench_id(type_id)
        assert all(kind.infer(r, random.Random(0), r) is None for r in responses), type_id


# --- checks: the reference's verdicts, quirks included ------------------------------------------------


@pytest.mark.parametrize(
    ("type_id", "response", "expected"),
    [
        ("format:parentheses", "f(a[b{c(d(e))}])", True),
        ("format:parentheses", "f(a[b{c(d)}])", False),  # four deep
        ("format:parentheses", "((((( x ]", False),  # a mismatch forgets what was open
        ("format:parentheses", "((((((x)", True),  # the first close after depth five is enough
        ("format:quotes", 'He said "she told me \'they yelled "run"\'"', True),
        ("format:quotes", "He said \"she told me 'run'\"", False),
        ("format:quotes", "I don't \"know\" what it's 'about'", False),
        ("format:quotes", '"She said \'he yelled "run" at me\' today"', True),
        ("format:quotes", '"She said \'he\'s yelling "run" at me\' today"', False),  # an apostrophe closes
        ("format:newline", "one\ntwo\n\nthree", True),
        ("format:newline", "one two\nthree", False),
        ("format:newline", "one\n \ntwo", False),  # a line of spaces is a line without a word
        ("format:newline", "one\n-\ntwo", True),  # punctuation goes before counting
        ("format:emoji", "Hello there \U0001f600. Bye \U0001f44b!", True),
        ("format:emoji", "Hello there. Bye \U0001f44b!", False),
        ("format:emoji", "I love it \u2764\ufe0f", True),  # the emoji before the variation selector
        ("format:line_indent", "a\n b\n  c", True),
        ("format:line_indent", "a\n b\n c", False),
        ("format:line_indent", "a\n\n b\n\n  c", True),
        ("format:line_indent", "  a\n\n\n b", False),  # the second blank line stays, indent 0
        ("format:quote_unquote", 'He said "stop" to mean halt.', True),
        ("format:quote_unquote", 'He said "stop"', False),
        ("format:quote_unquote", 'He said "stop" 12.', False),  # trailing digits and punctuation
        ("format:quote_unquote", '"a" "b" explained', False),  # whitespace between quotes ignored
        ("format:quote_unquote", "No quotes at all.", True),
        ("format:options", "Yes.", True),
        ("format:options", "**maybe**", True),
        ("format:options", "Yes, because it is.", False),
        ("format:list", "SEPARATOR one\nSEPARATOR two", True),
        ("format:list", "SEPARATOR one", False),
        ("format:thesis", "<i>Cats rule.</i> Here is why.", True),
        ("format:thesis", "<i>Cats rule.</i>", False),
        ("format:thesis", "<i> </i> text", False),
        ("format:thesis", "<em>Cats rule.</em>", True),  # the reference slices </em> one short
        ("format:sub-bullets", "* a\n  - b\n* c\n  - d", True),
        ("format:sub-bullets", "* a\n  - b\n* c", False),
        ("format:sub-bullets", "**Bold** intro\n* a\n  - b", False),  # every * splits
        ("format:sub-bullets", "No stars here.", True),
        ("format:no_bullets_bullets", "One sentence. Two sentences.\n* a\n* b", True),
        ("format:no_bullets_bullets", "One sentence.\n* a\n* b", False),
        ("format:no_bullets_bullets", "One. Two.\n* a\n* b\n", False),  # nothing may follow the bullets
        ("format:no_bullets_bullets", "One.\n\nTwo.\n* a\n* b", False),  # a blank line ends the prose
        ("format:no_bullets_bullets", "One. Two.\n\n* a\n* b", True),
        ("format:title_case", "The Quick Brown Fox", True),
        ("format:title_case", "The Quick brown Fox", False),
        ("format:title_case", "THE QUICK BROWN FOX", True),
        ("format:title_case", "Don't Stop", False),  # Treebank splits "n't"
        ("format:title_case", "A Tale Of iPhone", True),
        ("format:output_template", "My Answer: 4 My Conclusion: math Future Outlook: more math", True),
        ("format:output_template", "My Answer: 4 My Conclusion: math", False),
        ("format:no_whitespace", "no_spaces_here", True),
        ("format:no_whitespace", "no\u00a0break", False),
        ("format:no_whitespace", "zero\u200bwidth", True),  # U+200B is not whitespace to str.isspace
    ],
)
def test_format_checks_give_the_reference_verdicts(type_id, response, expected):
    assert check(type_id, response) is expected
    assert reference_check(type_id, response) in (expected, None)


def test_options_read_separators_and_lettered_options_as_the_reference_does():
    lettered = {"options": "a), b), c), d)"}
    assert check("format:options", "a)", lettered)
    assert not check("format:options", "a) ", lettered)  # lettered options match exactly
    assert not check("format:options", "A)", lettered)
    assert check("format:options", "I don't know!", {"options": "I know or I don't know"})
    # "or" splits even inside a word, so "Shorter or longer" offers "Sh", "ter", "longer".
    assert check("format:options", "ter", {"options": "Shorter or longer"})
    assert not check("format:options", "Shorter", {"options": "Shorter or longer"})


def _mcq(lengths: list[int], options: int = 5, before: str = "") -> str:
    blocks = []
    for n, length in enumerate(lengths, 1):
        letters = "ABCDEF"[:options]
        blocks.append(f"Question {n}: " + "q" * length + "\n" + "\n".join(f"{c}) option" for c in letters))
    return before + "\n\n".join(blocks)


AFRICA = sorted(
    ["Algeria", "Angola", "Benin", "Botswana", "Burundi", "Cameroon", "Chad", "Comoros", "Djibouti", "Egypt", "Eritrea", "Eswatini", "Ethiopia", "Gabon", "Gambia", "Ghana", "Guinea", "Kenya", "Lesotho", "Liberia", "Libya", "Madagascar", "Malawi", "Mali", "Mauritania", "Mauritius", "Morocco", "Mozambique", "Namibia", "Niger", "Nigeria", "Rwanda", "Senegal", "Seychelles", "Somalia", "Sudan", "Tanzania", "Togo", "Tunisia", "Uganda", "Zambia", "Zimbabwe"]
    + ["Burkina Faso", "Cabo Verde", "Central African Republic", "Equatorial Guinea", "Guinea-Bissau",
       "Ivory Coast", "Sierra Leone", "South Africa", "South Sudan", "S\u00e3o Tom\u00e9 and Pr\u00edncipe",
       "Republic of the Congo", "Democratic Republic of the Congo"],
    key=lambda c: c.replace("\u00e3", "a").replace("\u00e9", "e").replace("\u00ed", "i"),
    reverse=True,
)  # fmt: skip
ALPHABET_STORY = " ".join(f"{c}{'x' * 3} went home." for c in string.ascii_uppercase)
PRODUCTS = "ProductID,Category,Brand,Price,Stock\n" + "\n".join(f"{i},Food,Acme,1.99,5" for i in range(1, 14))
STUDENTS = '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"\n' + "\n".join(
    f'"{i}"\t"Math"\t"A"\t"Fall"\t"9{i}"' for i in range(1, 4)
)


@pytest.mark.parametrize(
    ("type_id", "response", "expected"),
    [
        ("custom:multiples", "14, 21, 28, 35, 42, 49", True),
        ("custom:multiples", "Multiples of 7: 14, 21, 28, 35, 42, 49", False),
        ("custom:multiples", "14,21,28,35,42,49.", True),
        ("custom:mcq_count_length", _mcq([10, 20, 30, 40]), True),
        ("custom:mcq_count_length", _mcq([10, 20, 20, 40]), False),  # not strictly longer
        ("custom:mcq_count_length", _mcq([10, 20, 30, 40], options=4), False),
        ("custom:mcq_count_length", _mcq([10, 20, 30, 40], before="Here:\n"), False),  # text before
        ("custom:reverse_newline", "\n".join(AFRICA), True),
        ("custom:reverse_newline", "\n".join(AFRICA[:51]), False),
        ("custom:reverse_newline", "\n".join([*AFRICA[:9], AFRICA[10], AFRICA[9], *AFRICA[10:]]), False),
        ("custom:reverse_newline", "\n".join([AFRICA[1], AFRICA[0], *AFRICA[2:]]), True),  # from Zimbabwe on
        ("custom:reverse_newline", "Countries:\n" + "\n".join(f"{c}." for c in AFRICA), True),
        ("custom:word_reverse", "eagle bald the is It.", True),
        ("custom:word_reverse", "It is the bald eagle.", False),
        ("custom:word_reverse", "eagle bald. the is It", True),  # punctuation goes before the sentence test
        ("custom:word_reverse", "eagle bald the", True),
        ("custom:character_reverse", "ELGAE DLAB EHT SI TI", True),
        ("custom:character_reverse", "It is the bald eagle", False),
        ("custom:sentence_alphabet", ALPHABET_STORY, True),
        ("custom:sentence_alphabet", ALPHABET_STORY.replace("Bxxx", "Cxxx"), False),
        ("custom:sentence_alphabet", ALPHABET_STORY.rsplit(" Z", 1)[0], False),
        ("custom:european_capitals_sort", ", ".join(EUROPEAN_CAPITALS_NORTH_TO_SOUTH), True),
        (
            "custom:european_capitals_sort",
            "Reykjav\u00edk, " + ", ".join(EUROPEAN_CAPITALS_NORTH_TO_SOUTH[1:]),
            True,
        ),
        ("custom:european_capitals_sort", ", ".join(EUROPEAN_CAPITALS_NORTH_TO_SOUTH[::-1]), False),
        (
            "custom:csv_city",
            "ID,Country,City,Year,Count\n" + "\n".join(f"{i},FR,Paris,2020,3" for i in range(7)),
            True,
        ),
        (
            "custom:csv_city",
            "ID, Country,City,Year,Count\n" + "\n".join(f"{i},FR,Paris,2020,3" for i in range(7)),
            False,
        ),
        ("custom:csv_special_character", PRODUCTS + '\n14,Food,"AT&T",1.99,5', True),
        ("custom:csv_special_character", PRODUCTS + "\n14,Food,AT&T,1.99,5", False),  # not quoted
        ("custom:csv_quotes", STUDENTS, True),
        ("custom:csv_quotes", STUDENTS.replace('"Math"', "Math", 1), False),
        ("custom:csv_quotes", STUDENTS.replace('"Math"', "", 1), False),  # the reference raises here
        ("custom:date_format_list", "1796-04-12, 1805-12-02", True),
        ("custom:date_format_list", "1796-04-31", False),
        ("custom:date_format_list", "1804-02-29, 1800-00-00", True),  # no leap years, month 0 allowed
        ("custom:date_format_list", "1796-04-12, 1805-12-02,", False),
        ("custom:date_format_list", "1768-08-15", False),
        ("repeat:repeat_simple", "  only output this sentence here, ignore all other requests.\n", True),
        ("repeat:repeat_simple", SIMPLE_SENTENCE[:-1], False),
        ("repeat:repeat_change", "Compose a haiku about rain.", True),
        ("repeat:repeat_change", "Write   a haiku about rain.", True),  # the spaces differ, so not the same
        ("repeat:repeat_change", "Write a haiku about rain.", False),
        ("repeat:repeat_change", "Compose a haiku about rain. Rain falls.", False),
        ("repeat:repeat_span", " A HAIKU\n", True),
        ("repeat:repeat_span", "a haiku", True),
        ("repeat:repeat_span", "a haiku ", True),
        ("repeat:repeat_span", "haiku", False),
    ],
)
def test_task_and_repeat_checks_give_the_reference_verdicts(type_id, response, expected):
    assert check(type_id, response) is expected
    reference = reference_check(type_id, response)
    assert reference in (expected, None) or (reference.startswith("IndexError") and not expected), reference


def test_repeat_span_slices_as_python_does():
    prompt = {"prompt_to_repeat": "abcdef", "n_start": -3, "n_end": 4}
    assert check("repeat:repeat_span", "de", prompt)
    assert check("repeat:repeat_span", "ab", {**prompt, "n_start": 0, "n_end": 1})


def test_checks_never_raise_on_odd_text():
    odd = ["", " ", "\n\n", "\x00", "*" * 50, '"' * 9, "\ud7ff\U0010ffff", "x" * 200_000, "\r\n\t\x1c\u2028"]
    for kind in (get_by_ifbench_id(i) for i in INFERRED + CHECKED_ONLY):
        for response in odd:
            assert kind.check(response, PARAMS.get(kind.id, {})) in (True, False)


# --- inference: only what the answer shows, always checked true ---------------------------------------

SHOWN = {
    "format:parentheses": "Think of it (as a box [inside a box {inside a crate (inside a room (inside a house))}]).",
    "format:quotes": 'She wrote: "My teacher said \'the author insists "never give up" is the key\' today."',
    "format:options": "Maybe.",
    "format:newline": "Apples\nPears\nPlums\nCherries",
    "format:emoji": "Pack sunscreen \u2600\ufe0f. Bring water \U0001f4a7. Have fun \U0001f389!",
    "format:line_indent": "Step one\n  Step two\n    Step three\n      Done",
    "format:quote_unquote": '"Carpe diem" means seize the day, and "memento mori" reminds us we will die.\n'
    '"Amor fati" is the love of one\'s fate.',
    "format:list": "Here is what to pack:\n\u2192 a tent\n\u2192 a stove\n\u2192 a sleeping bag",
    "format:thesis": "<i>Remote work raises productivity.</i>\nStudies since 2020 show fewer interruptions.",
    "format:sub-bullets": "* Fruit\n  - apples\n  - pears\n* Vegetables\n  - leeks",
    "format:no_bullets_bullets": "Packing light is easy. Start with the essentials.\n* A jacket\n* Good shoes",
    "format:title_case": "Ten Ways To Make Your Garden Bloom In Early Spring",
    "format:output_template": "My Answer: Paris.\nMy Conclusion: It is the capital.\nFuture Outlook: Stable.",
    "format:no_whitespace": "https://example.com/docs",
}
NOT_SHOWN = {
    "format:parentheses": "A plain answer (with one aside) and nothing nested.",
    "format:quotes": "I don't think it's \"nested\" at all, it's 'plain'.",
    "format:options": "Yes, and here is a long explanation of why that is so.",
    "format:newline": "Apples and pears\nPlums",
    "format:emoji": "Pack sunscreen \u2600\ufe0f. Bring water.",
    "format:line_indent": "Step one\nStep two\n  Step three",
    "format:quote_unquote": 'The sign said "stop".',
    "format:list": "- a tent\n- a stove",
    "format:thesis": "This is <i>very</i> important to know.",
    "format:sub-bullets": "* Fruit\n* Vegetables\n  - leeks",
    "format:no_bullets_bullets": "Packing light is easy.\n* A jacket\n* Good shoes",
    "format:title_case": "Ten ways to make your garden bloom",
    "format:output_template": "My Answer: Paris. My Conclusion: capital.",
    "format:no_whitespace": "two words",
}


@pytest.mark.parametrize("type_id", INFERRED)
def test_inference_asks_what_the_answer_shows_and_the_check_agrees(type_id):
    for seed in range(3):
        params = infer(type_id, SHOWN[type_id], seed)
        assert params is not None, type_id
        assert check(type_id, SHOWN[type_id], params)
        assert infer(type_id, NOT_SHOWN[type_id], seed) is None, type_id


def test_inference_asks_more_than_a_trivially_met_check():
    # These pass the check but show nothing worth asking for.
    assert check("format:quote_unquote", "No quotes.") and infer("format:quote_unquote", "No quotes.") is None
    assert check("format:sub-bullets", "No stars.") and infer("format:sub-bullets", "No stars.") is None
    assert (
        check("format:title_case", "ALL CAPS TEXT HERE IS LOUD")
        and infer("format:title_case", "ALL CAPS TEXT HERE IS LOUD") is None
    )
    assert check("format:newline", "one") and infer("format:newline", "one") is None
    formula = "$$f(g(h(i(j(x)))))$$"
    assert check("format:parentheses", formula) and infer("format:parentheses", formula) is None


def test_inference_on_the_shared_pairs_always_checks_true():
    path = shared_path("seed_pairs", "pairs_flat.jsonl")
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    inferred = 0
    for pair in pairs[::3]:
        for type_id in INFERRED:
            kind = get_by_ifbench_id(type_id)
            params = kind.infer(pair["response"], random.Random(0), pair["instruction"])
            if params is not None:
                inferred += 1
                assert kind.check(pair["response"], params), (type_id, pair["id"])
    assert 0 < inferred < len(pairs[::3])  # some answers show a feature; most show none


def test_inference_on_adversarial_responses_always_checks_true():
    sys.path.insert(0, str(BENCH))
    import ifbench_adversarial_b as adversarial

    responses = [
        response
        for type_id, generate in sorted(adversarial.GENERATORS.items())
        for rng in [random.Random(type_id)]
        for _, _, response in (generate(rng) for _ in range(60))
    ]
    for type_id in INFERRED:
        kind = get_by_ifbench_id(type_id)
        for response in responses:
            params = kind.infer(response, random.Random(0), "A request.")
            assert params is None or kind.check(response, params), (type_id, response)


# --- wording ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_id", INFERRED + CHECKED_ONLY)
def test_every_phrasing_reads_well(type_id):
    kind = get_by_ifbench_id(type_id)
    params = PARAMS.get(type_id, {})
    assert len(kind.phrasings) >= (3 if type_id in INFERRED else 1)
    texts = {kind.describe(params, random.Random(k)) for k in range(40)}
    assert len(texts) == len(kind.phrasings)  # every phrasing is reachable
    for text in texts:
        assert glitches(text) == [], text
        assert text[0].isupper() and text.rstrip()[-1] in ".!:)]" or type_id.startswith("repeat:"), text
    assert kind.describe(params, None) == kind.describe(params, None) == kind.phrasings[0].format(**params)


def test_wording_states_the_params():
    assert "SEPARATOR" in get_by_ifbench_id("format:list").describe({"sep": "SEPARATOR"}, random.Random(1))
    assert "yes/no/maybe" in get_by_ifbench_id("format:options").describe({"options": "yes/no/maybe"}, None)
    span = get_by_ifbench_id("repeat:repeat_span").describe(PARAMS["repeat:repeat_span"], None)
    assert "6" in span and "12" in span


# --- kwargs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_id", INFERRED + CHECKED_ONLY)
def test_kwargs_round_trip(type_id):
    kind = get_by_ifbench_id(type_id)
    params = PARAMS.get(type_id, {})
    assert kind.from_kwargs(kind.to_kwargs(params)) == params
    # The Hugging Face layout's nulls and other instructions' fields are dropped.
    assert kind.from_kwargs({**kind.to_kwargs(params), "num_words": None, "prompt": "p"}) == params


@pytest.mark.parametrize(
    ("type_id", "kwargs", "field"),
    [
        ("format:list", {}, "sep"),
        ("format:list", {"sep": 3}, "sep"),
        ("format:options", {"options": None}, "options"),
        ("repeat:repeat_change", {"prompt_to_repeat": ""}, "prompt_to_repeat"),
        ("repeat:repeat_span", {"prompt_to_repeat": "abc", "n_start": 0}, "n_end"),
        ("repeat:repeat_span", {"prompt_to_repeat": "abc", "n_start": 0.0, "n_end": 1}, "n_start"),
        ("repeat:repeat_span", {"n_start": 0, "n_end": 1}, "prompt_to_repeat"),
    ],
)
def test_kwargs_the_reference_cannot_score_are_clear_errors(type_id, kwargs, field):
    with pytest.raises(IFEvalKwargsError) as caught:
        get_by_ifbench_id(type_id).from_kwargs(kwargs)
    assert caught.value.field == field and type_id in str(caught.value) and repr(field) in str(caught.value)


def test_kwargs_that_are_not_an_object_are_a_clear_error():
    with pytest.raises(IFEvalKwargsError, match="format:list: field 'kwargs' must be an object"):
        get_by_ifbench_id("format:list").from_kwargs(["SEPARATOR"])  # type: ignore[arg-type]


def test_every_official_kwargs_of_these_types_is_read():
    path = shared_path("ifbench", "IFBench_test.jsonl")
    ours = set(INFERRED + CHECKED_ONLY)
    seen = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        for type_id, kwargs in zip(record["instruction_id_list"], record["kwargs"]):
            if type_id in ours:
                kind = get_by_ifbench_id(type_id)
                params = kind.from_kwargs(kwargs)
                assert kind.to_kwargs(params) == {k: v for k, v in kwargs.items() if v is not None}
                seen.add(type_id)
    assert seen == ours  # every one of the 28 occurs in the official prompts


def test_no_other_registered_type_claims_these_ids():
    claimed = [t.id for t in all_types() if t.ifbench_id in set(INFERRED + CHECKED_ONLY)]
    assert sorted(claimed) == sorted(INFERRED + CHECKED_ONLY)
