"""IFBench's counting, ratio, word and sentence types: checks on hand-written answers (the reference's
quirks included), inference that holds and reads well, and the kwargs policy."""

from __future__ import annotations

import json
import random
from importlib.resources import files

import pytest

from conftest import EveryChoice
from crabkit.backtranslate.rules import RuleConfig, backtranslate_rules
from crabkit.compose.wording import glitches
from crabkit.constraints import UnknownConstraintType, get_by_ifbench_id
from crabkit.constraints.ifbench_unsupported import UNSUPPORTED
from crabkit.constraints.ifeval_kwargs import IFEvalKwargsError
from crabkit.eval.verdict import instruction_verdict
from crabkit.records import Seed

IDS_A = [
    "count:word_count_range",
    "count:unique_word_count",
    "ratio:stop_words",
    "ratio:sentence_type",
    "ratio:sentence_balance",
    "count:conjunctions",
    "count:person_names",
    "ratio:overlap",
    "count:numbers",
    "words:alphabet",
    "words:vowel",
    "words:consonants",
    "sentence:alliteration_increment",
    "words:palindrome",
    "count:punctuation",
    "words:prime_lengths",
    "ratio:sentence_words",
    "count:words_japanese",
    "words:repeats",
    "sentence:keyword",
    "count:pronouns",
    "words:odd_even_syllables",
    "words:last_first",
    "words:paragraph_last_first",
    "sentence:increment",
    "words:no_consecutive",
    "count:keywords_multiple",
    "words:keywords_specific_position",
    "words:words_position",
]
INFERRED = {
    "count:word_count_range", "count:unique_word_count", "ratio:stop_words", "ratio:sentence_type",
    "ratio:sentence_balance", "count:conjunctions", "count:numbers", "words:repeats", "sentence:keyword",
    "count:pronouns",
}  # fmt: skip
# Params for every type with params, "N" where a count goes (wording is tried for 0, 1, 2 and 7).
PARAMS = {
    "count:word_count_range": {"min_words": "N", "max_words": 200},
    "count:unique_word_count": {"N": "N"},
    "ratio:stop_words": {"percentage": "N"},
    "count:conjunctions": {"small_n": "N"},
    "count:person_names": {"N": "N"},
    "ratio:overlap": {"reference_text": "Tides rise twice a day.", "percentage": "N"},
    "count:numbers": {"N": "N"},
    "count:words_japanese": {"N": "N+1"},
    "words:repeats": {"small_n": "N"},
    "sentence:keyword": {"word": "tide", "N": "N+1"},
    "count:pronouns": {"N": "N"},
    "sentence:increment": {"small_n": "N"},
    "count:keywords_multiple": {f"keyword{i}": w for i, w in enumerate(["door", "bread", "blue", "lamp", "river"], 1)},
    "words:keywords_specific_position": {"keyword": "tide", "n": "N+1", "m": "N+1"},
    "words:words_position": {"keyword": "tide"},
}  # fmt: skip


def t(type_id: str):
    return get_by_ifbench_id(type_id)


def holds(type_id: str, response: str, **params) -> bool:
    return t(type_id).check(response, t(type_id).from_kwargs(params))


def _pairs() -> list[str]:
    raw = (files("crabkit") / "data" / "sample_pairs.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in raw.splitlines() if line.strip()]
    return [r.get("response") or r.get("output") or r["messages"][-1]["content"] for r in rows]


PERSONAL = (
    "I think you should call her today. She told me that they would wait for us, and it means a lot to them. "
    "We can meet at my place; you know where it is. Everyone says that this is something we all need, but "
    "nobody has asked what she wants. I will ask her myself, or you can. Either way, it is ours to fix, so "
    "let us do it before they leave, yet not before we talk. Nor should you worry: each of us has a part."
)
DENSE = (
    "Photosynthesis converts light energy into chemical energy. Chlorophyll absorbs red and blue light. "
    "Stomata regulate carbon dioxide uptake, water loss, oxygen release. Calvin cycle enzymes fix carbon. "
    "Glucose synthesis follows; plants store surplus starch. Rubisco catalyses carboxylation, oxygenation. "
    "Thylakoid membranes host electron transport chains, ATP synthase complexes, photosystems."
)


# --- the registry and the suite switch ------------------------------------------------------------------


def test_the_29_supported_ids_are_registered_under_their_ifbench_ids_and_start_verb_is_listed():
    for type_id in IDS_A:
        ctype = get_by_ifbench_id(type_id)
        assert ctype.id == ctype.ifbench_id == type_id and ctype.suite == "ifbench"
    assert "words:start_verb" in UNSUPPORTED and "tagger" in UNSUPPORTED["words:start_verb"]
    with pytest.raises(UnknownConstraintType):
        get_by_ifbench_id("words:start_verb")
    with pytest.raises(UnknownConstraintType, match="not supported.*tagger"):
        instruction_verdict("words:start_verb", {}, "p", "Run fast.")


def test_ifbench_types_are_inferred_only_when_named():
    default = {c.id for c in RuleConfig().types()}
    assert default.isdisjoint(IDS_A)
    assert {c.id for c in RuleConfig(include=["count:numbers", "sentence:keyword"]).types()} == {
        "count:numbers",
        "sentence:keyword",
    }
    seed = Seed(instruction="Tell me about a friend.", response=PERSONAL)
    assert not {c.type for c in backtranslate_rules(seed, 0, RuleConfig().types()).constraints} & set(IDS_A)


# --- checks on hand-written answers ---------------------------------------------------------------------


def test_counts_follow_the_reference_tokenisation():
    assert holds("count:word_count_range", "one two, three-four", min_words=4, max_words=4)
    assert not holds("count:word_count_range", "one two three", min_words=4, max_words=9)
    # str.split words, lower-cased, ASCII punctuation stripped: "Cat," and "cat" are one word; "—" stays.
    assert holds("count:unique_word_count", "Cat, cat dog \u2014", N=3)
    assert not holds("count:unique_word_count", "Cat, cat dog", N=3)
    # Digits once punctuation is deleted: 3.5, 1,000 and 2-3 are one number each.
    assert holds("count:numbers", "It costs 3.5 or 1,000, roughly 2-3.", N=3)
    assert not holds("count:numbers", "It costs 3.5 or 1,000, roughly 2-3.", N=4)
    # Distinct raw tokens: "And" and "and," are two, though both are "and".
    assert holds("count:conjunctions", "And so and, we wait.", small_n=3)
    assert not holds("count:conjunctions", "and so and we wait", small_n=3)
    # Names from the reference's list, case-sensitive whole words.
    assert holds("count:person_names", "Emma met Liam's friend.", N=2)
    assert not holds("count:person_names", "emma met Emmanuel and LIAM.", N=1)
    assert holds("count:pronouns", "She/her and I said it.", N=4)
    assert not holds("count:pronouns", "The cat sat.", N=1)


def test_ratios_follow_the_reference():
    assert holds("ratio:stop_words", "The cat and the dog.", percentage=60)  # 3 of 5
    assert not holds("ratio:stop_words", "The cat and the dog.", percentage=59.9)
    assert not holds("ratio:stop_words", "... !!!", percentage=100)  # no words at all fails
    assert holds("ratio:sentence_type", "It rains. It pours. Why? Stop.  Go. What now?")
    assert not holds("ratio:sentence_type", 'He said "hi." She left. Why?')  # '."' ends no declarative
    assert holds("ratio:sentence_balance", "Yes. No? Wow!")
    assert not holds("ratio:sentence_balance", "Yes. No? Wow! Again.")
    assert holds("ratio:overlap", "abcd", reference_text="abcz", percentage=50)  # 1 of 2 trigrams
    assert not holds("ratio:overlap", "abcd", reference_text="abcz", percentage=53)
    assert not holds("ratio:overlap", "ab", reference_text="ab", percentage=100)  # no trigram fails
    assert holds("ratio:sentence_words", "Cats nap. Dogs run. Owls fly.")
    assert not holds("ratio:sentence_words", "Cats nap. Dogs run. Owls flew.")


def test_word_games_follow_the_reference():
    assert holds("words:alphabet", "Yak, zebra: ant bee!")
    assert not holds("words:alphabet", "Yak zebra bee")
    assert not holds("words:alphabet", "1 apple")
    assert holds("words:vowel", "Bad cat sat on a mat.")  # a, o
    assert not holds("words:vowel", "Bad cat\nsat.")  # two lines
    assert not holds("words:vowel", "Audio is nice")  # a, u, i, o, e
    assert holds("words:consonants", "Strong crisp myths")
    assert not holds("words:consonants", "Strong idea")
    assert holds("sentence:alliteration_increment", "A cat. Big bold bears. Silly snakes sing softly.")
    assert not holds("sentence:alliteration_increment", "Big bold bears. Silly snakes.")
    assert holds("words:palindrome", "Level, radar civic rotor kayak refer madam racecar stats tenet!")
    assert not holds("words:palindrome", "level radar civic rotor kayak refer madam racecar stats noon")
    assert holds("count:punctuation", "Wait, what?! Yes; no: maybe. Really? Wow!")
    assert not holds("count:punctuation", "Wait, what?! Yes; no: maybe.")  # the ?! is the only ? and !
    assert holds("words:prime_lengths", "We are not it's")  # "it's" is "its": 3
    assert not holds("words:prime_lengths", "We were here")
    assert holds("count:words_japanese", "one 日本 two 42 three ねこ", N=2)  # a number is let through
    assert not holds("count:words_japanese", "one 日本 two three", N=2)


def test_sentence_and_position_types_follow_the_reference():
    assert holds("words:repeats", "A cat, a CAT. A dog.", small_n=3)
    assert not holds("words:repeats", "A cat, a CAT. A dog.", small_n=2)
    assert holds("sentence:keyword", "First one. The Tide turns.", word="tide", N=2)
    assert not holds("sentence:keyword", "First one. Tidewater turns.", word="tide", N=2)
    assert not holds("sentence:keyword", "Only one tide.", word="tide", N=2)
    assert holds("words:last_first", "I like tea. Tea is hot! Hot days.")
    assert not holds("words:last_first", "I like tea. Coffee is hot.")
    assert holds("words:paragraph_last_first", "Rain falls on the rain.\n\n**Sun rises, sun**")
    assert not holds("words:paragraph_last_first", "Rain falls on the rain.\n\n**Sun** rises, sun")  # "sun**"
    assert not holds("words:paragraph_last_first", "Rain falls.\nSun sun")
    assert holds("sentence:increment", "Go now. Go there now. Go over there now.", small_n=1)
    assert not holds("sentence:increment", "Go now. Go there now.", small_n=2)
    assert holds("words:no_consecutive", "Big red cat - dances")
    assert not holds("words:no_consecutive", "Big red - ripe apple")  # "-" is deleted: red, ripe
    kwargs = {"keyword1": "one", "keyword2": "two", "keyword3": "six", "keyword4": "ten", "keyword5": "owl"}
    words = ["one"] + ["two"] * 2 + ["six"] * 3 + ["ten"] * 5 + ["Owl"] * 7
    assert holds("count:keywords_multiple", " ".join(words), **kwargs)
    assert not holds("count:keywords_multiple", " ".join([*words, "bowl"]), **kwargs)  # substring count
    assert holds("words:keywords_specific_position", "Hi. I don't like tea.", keyword="like", n=2, m=4)
    assert holds("words:words_position", "The tide was tide a.", keyword="Tide")  # the final "." is no word
    assert holds("words:words_position", "The tide was tide a", keyword="tide")
    assert not holds("words:words_position", "The tide was a tide.", keyword="tide")


def test_odd_even_syllables_use_syllapy():
    import syllapy

    assert syllapy.count("cat") % 2 == 1 and syllapy.count("garden") % 2 == 0
    assert holds("words:odd_even_syllables", "Cat garden, dog!")
    assert not holds("words:odd_even_syllables", "cat dog garden")


def test_a_blank_response_fails_strict_and_loose_and_loose_drops_a_first_line():
    assert instruction_verdict("words:vowel", {}, "p", "  \n") == (False, False)
    assert instruction_verdict("words:vowel", {}, "p", "Sure! Here it is:\nBad cat sat.") == (False, True)
    assert instruction_verdict("count:numbers", {"N": 2.0, "keyword": None}, "p", "In 1999, 40 came.") == (
        True,
        True,
    )


# --- the kwargs policy ----------------------------------------------------------------------------------


def test_kwargs_round_trip_and_take_the_hugging_face_layout():
    for type_id in IDS_A:
        ctype = t(type_id)
        params = ctype.from_kwargs(_params(type_id, 3))
        assert ctype.from_kwargs(ctype.to_kwargs(params)) == params
    hf = {"N": 5.0, "small_n": None, "keyword": None, "prompt": "ignored"}
    assert t("count:numbers").from_kwargs(hf) == {"N": 5}
    assert t("ratio:stop_words").from_kwargs({"percentage": 27.5}) == {"percentage": 27.5}


@pytest.mark.parametrize(
    ("type_id", "kwargs", "field"),
    [
        ("count:numbers", {}, "N"),
        ("count:numbers", {"N": -1}, "N"),
        ("count:numbers", {"N": 2.5}, "N"),
        ("count:words_japanese", {"N": 0}, "N"),
        ("sentence:keyword", {"word": "", "N": 2}, "word"),
        ("words:keywords_specific_position", {"keyword": "x", "n": 2.0, "m": 1}, "n"),
        ("words:keywords_specific_position", {"keyword": "x", "n": 2, "m": 0}, "m"),
        ("count:keywords_multiple", {"keyword1": " ", "keyword2": "b", "keyword3": "c", "keyword4": "d",
                                     "keyword5": "e"}, "keyword1"),
        ("ratio:overlap", {"percentage": 40}, "reference_text"),
        ("words:words_position", {"keyword": 7}, "keyword"),
    ],
)  # fmt: skip
def test_kwargs_the_reference_would_randomise_or_crash_on_are_refused_by_name(type_id, kwargs, field):
    with pytest.raises(IFEvalKwargsError, match=f"{type_id}: field '{field}'"):
        t(type_id).from_kwargs(kwargs)


# --- inference and wording ------------------------------------------------------------------------------


def _params(type_id: str, n: int) -> dict:
    values = PARAMS.get(type_id, {})
    return {k: (n if v == "N" else n + 1 if v == "N+1" else v) for k, v in values.items()}


def test_every_inferred_constraint_holds_on_varied_answers():
    responses = [*_pairs(), PERSONAL, DENSE, "Short.", "", "Why? Because. Really? Yes. Sure? No."]
    seen = set()
    for type_id in IDS_A:
        ctype = t(type_id)
        for index, response in enumerate(responses):
            for found in ctype.candidates(response, random.Random(index), "Tell me more."):
                assert ctype.check(response, found), (type_id, found, response[:80])
                seen.add(type_id)
    assert seen <= INFERRED
    assert seen >= INFERRED - {"ratio:sentence_type", "ratio:sentence_balance"}, sorted(seen)


def test_inference_asks_for_nothing_trivial_or_fingerprinted():
    rng = random.Random(0)
    assert t("count:conjunctions").infer("Tea and cake, or pie.", rng) is None  # two conjunctions
    assert t("count:pronouns").infer(DENSE, rng) is None
    assert t("ratio:stop_words").infer(PERSONAL, rng) is None  # ordinary prose
    assert t("words:repeats").infer("word " * 50, rng) is None
    assert t("count:numbers").infer("Steps:\n1. Mix\n2. Bake", rng) is None  # list markers are no numbers
    for type_id in ("count:word_count_range", "count:unique_word_count", "count:pronouns"):
        for seed in range(20):
            found = t(type_id).infer(PERSONAL * 3, random.Random(seed))
            assert found and all(v % 5 == 0 for v in found.values()), (type_id, found)  # round bounds
    assert t("words:repeats").infer(DENSE, rng)["small_n"] in (2, 3)  # no word is used more than twice
    found = t("sentence:keyword").infer(DENSE, random.Random(3), "Explain photosynthesis.")
    assert found and found["word"] != "photosynthesis" and found["N"] <= 5


@pytest.mark.parametrize("type_id", IDS_A)
def test_every_phrasing_reads_well(type_id):
    ctype = t(type_id)
    semantic = ("impossible lower bound", "impossible upper bound")  # "at least 0" is never inferred
    texts = set()
    for n in (0, 1, 2, 7):
        for k in range(8):
            text = ctype.describe(ctype.from_kwargs(_params(type_id, n)), EveryChoice(k))
            found = [g for g in glitches(text) if g not in semantic]
            assert not found and "{" not in text and "}" not in text, (found, text)
            assert text[0].isupper() and text.rstrip()[-1] in ".)" or type_id == "ratio:overlap", text
            texts.add(text)
    if type_id in INFERRED:
        assert len({ctype.describe(ctype.from_kwargs(_params(type_id, 4)), EveryChoice(k)) for k in range(8)}) >= 3
    assert ctype.describe(ctype.from_kwargs(_params(type_id, 2)), None) == ctype.describe(
        ctype.from_kwargs(_params(type_id, 2)), None
    )
