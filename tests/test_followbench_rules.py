"""FollowBench rule scoring on real FollowBench items with hand-written responses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crabkit.eval.followbench import FollowBenchItem, load_followbench
from crabkit.eval.followbench_rules import (
    RuleDataError,
    matches_example_template,
    rule_checks,
    uses_rules,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "followbench"


@pytest.fixture(scope="module")
def items() -> dict[tuple[str, int, int], FollowBenchItem]:
    if not DATA.is_dir():
        pytest.skip(f"shared FollowBench data not present at {DATA} (see ../shared/data/README.md)")
    return {it.key: it for it in load_followbench(DATA)}


def checks(item: FollowBenchItem, response: str) -> list[bool]:
    return rule_checks(item.category, item.source, item.example_id, item.level, item.target, response)


def passes(item: FollowBenchItem, response: str) -> bool:
    return all(checks(item, response))


# --- routing ---------------------------------------------------------------------------------------

def test_routing_matches_followbench_source_lists():
    assert uses_rules("content", "E2E", 14)
    assert uses_rules("situation", "gsm_8k", 8)
    assert uses_rules("mixed", "xsum", 12)
    assert uses_rules("format", "helpful_base", 22) and uses_rules("format", "koala", 30)
    assert not uses_rules("format", "helpful_base", 21)
    assert not uses_rules("style", "quora", 1)
    # the example category is template-matched whatever its source (it has xsum and samsum too)
    assert uses_rules("example", "aeslc", 1)


def test_rule_items_counted_per_category(items):
    rule = [it for it in items.values() if it.level > 0 and it.method == "rule"]
    counts = {c: sum(it.category == c for it in rule) for c in ("content", "situation", "format", "mixed", "example")}
    assert counts == {"content": 60, "situation": 40, "format": 10, "mixed": 40, "example": 200}
    assert not any(it.method == "rule" for it in items.values() if it.category == "style")


# --- answer checks (one verdict for every constraint) ----------------------------------------------

def test_e2e_needs_the_exact_attribute_string(items):
    it = items[("content", 14, 1)]
    assert it.source == "E2E"
    assert checks(it, "name[The Phoenix], eatType[pub]") == [True]
    assert not passes(it, "name[The Phoenix], eatType[pub].")
    assert not passes(it, "Here it is: name[The Phoenix], eatType[pub]")


def test_e2e_verdict_is_repeated_over_all_constraints(items):
    it = items[("content", 14, 3)]
    assert checks(it, it.target) == [True, True, True]
    assert checks(it, "name[The Phoenix]") == [False, False, False]


def test_wikievents_every_output_line_must_be_an_allowed_event(items):
    it = items[("content", 19, 1)]
    allowed = it.target.split("\n")
    assert passes(it, allowed[0])
    assert passes(it, "\n".join(allowed[:2]))
    assert not passes(it, allowed[0] + "\nsomeone died at home")
    assert not passes(it, allowed[0] + "\n")  # the empty last line is not an event


def test_conll2003_response_must_be_one_listed_entity(items):
    it = items[("content", 21, 1)]
    assert passes(it, "Germany")
    assert not passes(it, "Germany.")
    assert not passes(it, "London")


def test_conll2003_bad_target_is_a_clear_error():
    with pytest.raises(RuleDataError, match="CONLL2003"):
        rule_checks("content", "CONLL2003", 21, 1, "not a list [", "Germany")


def test_text_editing_is_exact(items):
    it = items[("mixed", 3, 1)]
    assert passes(it, "apples love eating I")
    assert not passes(it, "Apples love eating I")


def test_bbh_logical_takes_the_last_option_letter(items):
    it = items[("situation", 1, 1)]
    assert it.target == "(A)"
    assert passes(it, "The quail is leftmost, then the blue jay. So the answer is (A).")
    assert not passes(it, "At first (A) looked right, but the answer is (C).")
    assert not passes(it, "The answer is A.")


def test_bbh_time_takes_the_last_date(items):
    it = items[("situation", 6, 1)]
    assert passes(it, "Christmas Eve is 12/24/1937, so five days later is 12/29/1937.")
    assert not passes(it, "12/29/1937? No: 12/30/1937.")
    assert not passes(it, "December 29, 1937")


def test_self_made_space_needs_the_target_substring(items):
    it = items[("situation", 7, 1)]
    assert passes(it, "He is now on the 20th floor.")
    assert not passes(it, "He is now on floor 20.")


def test_gsm8k_takes_the_last_dollar_amount(items):
    it = items[("situation", 8, 1)]
    assert it.target == "$14"
    assert passes(it, "50 + 20 = 70 minutes at $12 an hour, so she earned $14.")
    assert not passes(it, "She earned $14 per hour? No, in total $12.")
    assert not passes(it, "She earned 14 dollars.")


# --- per-constraint checks -------------------------------------------------------------------------

CNN_OK = "Radcliffe Potter turns eighteen today. The actor gains a fortune. His films have earned millions."


def test_cnn_dailymail_all_five_constraints(items):
    assert checks(items[("mixed", 11, 5)], CNN_OK) == [True] * 5


def test_cnn_dailymail_each_constraint_fails_on_its_own(items):
    it = items[("mixed", 11, 5)]
    assert checks(it, "Potter turns eighteen. The actor gains a fortune.")[0] is False
    long_first = "Potter " + "very " * 15 + "rich. The actor gains a fortune. His films have earned millions."
    assert checks(it, long_first) == [True, False, True, True, True]
    assert checks(it, CNN_OK.replace("Radcliffe Potter", "Radcliffe")) == [True, True, False, True, True]
    assert checks(it, CNN_OK.replace("The actor", "The lavish actor")) == [True, True, True, False, True]
    assert checks(it, CNN_OK.replace("films have earned", "films earned")) == [True, True, True, True, False]


def test_cnn_dailymail_lower_levels_ignore_later_constraints(items):
    lavish = CNN_OK.replace("The actor", "The lavish actor")
    assert passes(items[("mixed", 11, 3)], lavish)
    assert not passes(items[("mixed", 11, 4)], lavish)


def test_xsum_constraints(items):
    it = items[("mixed", 12, 5)]
    ok = "Officials are running a flood operation across the region."
    assert checks(it, ok) == [True] * 5
    assert checks(it, "Floods hit the region. Officials respond.")[0] is False
    assert checks(it, ok.replace("the region", "Newton Stewart")) == [True, True, False, True, True]
    assert checks(it, "Officials ran a flood operation across the region.") == [True, True, True, False, True]
    assert checks(it, ok.replace("operation", "effort")) == [True, True, True, True, False]
    # upstream counts words by single spaces: 20 space-separated pieces are too many
    assert checks(items[("mixed", 12, 2)], " ".join(["word"] * 20) + ".") == [True, False]


def test_samsum_constraints(items):
    it = items[("mixed", 13, 5)]
    ok = "Kim has stuff to do today."
    assert checks(it, ok) == [True] * 5
    assert checks(it, "Kim has things to do today.") == [True, True, False, True, True]
    assert checks(it, "Kim will Procrastinate on stuff today.") == [True, True, True, False, True]
    assert checks(it, "Kim has stuff to do, today.") == [True, True, True, True, False]


def test_gigaword_constraints(items):
    it = items[("mixed", 14, 5)]
    ok = "two killed in bomb attack in southern philippines"
    assert checks(it, ok) == [True] * 5
    assert checks(it, ok + " monday")[0] is False
    assert checks(it, "two killed in bomb attack in southern philippines.") == [True, False, True, True, True]
    assert checks(it, "Two killed in bomb attack in southern philippines") == [True, True, False, True, True]
    assert checks(it, "two killed in bus bombing in southern philippines") == [True, True, True, False, True]
    assert checks(it, "two killed by bomb attack on southern philippines") == [True, True, True, True, False]


def test_arxiv_constraints(items):
    it = items[("mixed", 15, 5)]
    ok = "We edit factual associations by changing mid-layer activations in language models."
    assert checks(it, ok) == [True] * 5
    assert checks(it, "The paper " + ok[3:])[2] is False
    assert checks(it, ok.replace("activations", "weights")) == [True, True, True, False, True]
    assert checks(it, ok.replace("language", "transformer")) == [True, True, True, True, False]


LONG = "caring for a wooden table well means wiping it with a soft dry cloth every week and never leaving wet cups on it"


def test_format22_paragraph_counts(items):
    three = f"{LONG}.\n\n{LONG}.\n\n{LONG}."
    assert checks(items[("format", 22, 3)], three) == [True, True, True]
    assert not passes(items[("format", 22, 1)], f"{LONG}.\n\n{LONG}.")
    # three sentences in one paragraph break the second constraint
    assert checks(items[("format", 22, 2)], f"A. B. C.\n\n{LONG}.\n\n{LONG}.") == [True, False]


def test_format22_number_markers_count_as_short_sentences(items):
    # Upstream splits sentences on '.', so a '1.' marker is a one-word sentence: levels 4-5 cannot
    # pass together with the 20-words-per-sentence check. Kept for comparable scores.
    numbered = f"1. {LONG}.\n\n2. {LONG}.\n\n3. {LONG}."
    assert checks(items[("format", 22, 4)], numbered) == [True, True, False, True]


def test_format22_level5_expects_a_fourth_paragraph(items):
    it = items[("format", 22, 5)]
    three = f"1. {LONG}.\n\n2. {LONG}.\n\n3. {LONG}. Those are suggestions"
    four = f"1. {LONG}.\n\n2. {LONG}.\n\n3. {LONG}.\n\nThose are suggestions"
    assert checks(it, three)[0] is False
    assert checks(it, four)[0] is True and checks(it, four)[4] is True


KOALA = (
    "**1. Growth:** Innovation drives growth across every sector of our national economy today.\n"
    "**2. Jobs:** New industries create many skilled jobs for workers across the nation.\n"
    "**3. Exports:** Australian ideas reach global markets and lift our export earnings each year.\n"
    "**4. Health:** Medical research improves care and lengthens lives for all Australians now.\n"
    "**5. Climate:** Clean technology cuts emissions while creating strong new regional industries here."
)


def test_format30_in_upstream_order(items):
    it = items[("format", 30, 3)]
    assert checks(it, KOALA) == [True, True, True]
    # upstream's second check is the five '**N. keyword:' points, whatever the level-2 instruction says
    assert checks(items[("format", 30, 2)], KOALA.replace("**5. Climate:**", "Climate.")) == [True, False]
    assert checks(items[("format", 30, 1)], "No markers here.") == [False]


def test_format30_sentence_length_and_ly_words(items):
    it = items[("format", 30, 5)]
    per_line = KOALA.replace("\n", " ")
    assert checks(it, per_line)[3] is False  # the whole text is one 'sentence' without '. ' breaks
    assert checks(it, KOALA)[4] is True
    assert checks(it, KOALA.replace("Clean", "Clean-ly"))[4] is False


# --- example category ------------------------------------------------------------------------------

def test_example_template_match(items):
    it = items[("example", 3, 1)]
    assert it.target.endswith("Answer: {answer}")
    assert passes(it, "Answer: Samantha took out a loan")
    assert not passes(it, "The answer: Samantha took out a loan")
    assert not passes(it, "Answer: Samantha took out a loan\n")  # '.*' stops at a newline
    assert not passes(it, "Sure! Answer: Samantha")


def test_example_template_with_doubled_braces(items):
    it = items[("example", 1, 1)]
    assert passes(it, "{'AI assistant': 'Legal Anywhere.com'}")
    assert not passes(it, "{{'AI assistant': 'Legal Anywhere.com'}}")
    assert not passes(it, "'AI assistant': 'Legal Anywhere.com'")


def test_example_template_with_header_line(items):
    it = items[("example", 13, 2)]
    assert passes(it, "#Bot#\nEpisodes")
    assert not passes(it, "#Bot# Episodes")


def test_example_gold_answers_pass_except_multiline_ones(items):
    ex = [it for it in items.values() if it.category == "example"]
    failing = sorted({it.example_id for it in ex if not matches_example_template(it.answer, it.target)})
    assert len(ex) == 200
    # billsum answers span lines, which upstream's '.*' cannot match
    assert failing == [4]


def test_level_zero_is_not_checkable():
    with pytest.raises(RuleDataError, match="level 0"):
        rule_checks("content", "E2E", 14, 0, "x", "x")
