"""Response edits: each one makes its target constraint true (inferred and checked on the edited
text), keeps what the answer says, and declines answers it does not fit."""

from __future__ import annotations

import json
import random
import re

import pytest

from crabkit.backtranslate.edits import EDITS, EditConfig, EditContext
from crabkit.backtranslate.rules import backtranslate_rules
from crabkit.constraints import get
from crabkit.records import Seed

LETTER = (
    "Dear Ms. Alvarez,\n\nThank you for the interview last week. I enjoyed learning about the team and "
    "the plans for the new clinic, and I would be glad to help build it.\n\nBest regards,\nJordan Lee"
)
ANSWER = (
    "Watering house plants well is mostly about checking the soil before you pour. Push a finger into "
    "the soil and water only when the top inch feels dry.\n\n"
    "Most plants prefer a deep soak followed by a dry spell over a little water every day. Let the "
    "water run out of the drainage holes and empty the saucer afterwards.\n\n"
    "Let me know if you want tips for a particular plant!"
)
HEADED = (
    "# Watering Guide\n\nSome intro words about plants and water and care.\n\n## Check the soil\n"
    "Push a finger into the soil before you water.\n\n## Water deeply\nSoak the pot until water drains out."
)
LISTED = "Here are three tips:\n\n- Check the soil first\n- Water deeply\n- Empty the saucer\n\nHappy growing!"
YES = "Yes, you can freeze cooked rice. Cool it quickly, portion it into bags and use it within a month."

# (edit, instruction, response, siblings): a seed each edit fits.
FITS = {
    "postscript": ("How do I water house plants?", ANSWER, ()),
    "quotation": ("How do I water house plants?", ANSWER, ()),
    "lowercase": ("How do I water house plants?", ANSWER, ()),
    "uppercase": ("How do I water house plants?", ANSWER, ()),
    "title": ("How do I water house plants?", HEADED, ()),
    "star_paragraphs": ("How do I water house plants?", ANSWER, ()),
    "sections": ("How do I water house plants?", HEADED, ()),
    "json": ("Give me tips for watering plants.", LISTED, ()),
    "no_comma": ("Can I freeze rice?", ("Yes. Cool cooked rice quickly, portion it into freezer bags and keep "
                 "it for up to a month before you reheat it until it is steaming hot."), ()),
    "placeholders": ("Write a thank-you note after an interview.", LETTER, ()),
    "yes_no": ("Can I freeze cooked rice?", YES, ()),
    "two_responses": ("Can I freeze cooked rice?", YES, ("No, cooked rice is best eaten fresh the same day.",)),
    "repeat_prompt": ("Can I freeze cooked rice?", YES, ()),
}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def test_every_edit_has_a_fitting_case():
    assert set(FITS) == set(EDITS)


@pytest.mark.parametrize("edit_id", sorted(EDITS))
def test_an_edit_makes_its_target_true_and_keeps_the_answer(edit_id):
    edit = EDITS[edit_id]
    instruction, response, siblings = FITS[edit_id]
    edited = edit.apply(EditContext(instruction, response, siblings), random.Random(0))
    assert edited is not None, edit_id
    if edit_id == "repeat_prompt":  # applied at composition (tested with the composer)
        assert edited == response
        return
    assert edited != response
    # The edited text satisfies the target, found by back-translation like any constraint.
    bt = backtranslate_rules(Seed(instruction=instruction, response=response), 0, response=edited)
    found = [c for c in bt.constraints if c.type == edit.target]
    assert found and get(edit.target).check(edited, found[0].params), (edit_id, edited)
    assert bt.verify_failures == []
    # What the answer says is still there: its words in order (JSON, placeholders aside).
    original = _words(response)
    if edit_id == "json":
        doc = json.loads(edited.strip("`").removeprefix("json"))
        kept = _words(" ".join(v if isinstance(v, str) else " ".join(v) for v in doc.values()))
    else:
        kept = _words(edited)
    if edit_id == "placeholders":
        assert "[Your Name]" in edited and "[Recipient's Name]" in edited
        original = [w for w in original if w not in ("ms", "alvarez", "jordan", "lee")]
    missing = [w for w in original if w not in kept]
    assert not missing, (edit_id, missing[:5])


def test_json_edit_keeps_list_items_as_items():
    edited = EDITS["json"].apply(EditContext("Tips?", LISTED), random.Random(1))
    doc = json.loads(edited.removeprefix("```json").removesuffix("```"))
    assert doc["items"] == ["Check the soil first", "Water deeply", "Empty the saucer"]
    assert doc["introduction"] == "Here are three tips:" and doc["conclusion"] == "Happy growing!"


def test_sections_relabel_headings_in_order():
    edited = EDITS["sections"].apply(EditContext("x", HEADED), random.Random(0))
    labels = re.findall(r"## (SECTION|Section|PART) (\d+): ([^\n]+)", edited)
    assert [n for _, n, _ in labels] == ["1", "2"]
    assert [t for *_, t in labels] == ["Check the soil", "Water deeply"]
    assert edited.startswith("# Watering Guide\n")  # the title above the sections stays a title


def test_postscript_moves_only_the_closing_follow_up():
    edited = EDITS["postscript"].apply(EditContext("q", ANSWER), random.Random(0))
    assert edited.endswith("P.S. Let me know if you want tips for a particular plant!")
    assert edited.count("Let me know") == 1


def test_edits_decline_answers_they_do_not_fit():
    code = "Use this:\n\n```python\nprint('hi, there')\n```\n\nThat prints a greeting for you."
    ctx = EditContext("How do I print?", code)
    for edit_id in ("quotation", "lowercase", "uppercase", "no_comma", "star_paragraphs", "sections"):
        assert EDITS[edit_id].apply(ctx, random.Random(0)) is None, edit_id
    assert EDITS["yes_no"].apply(EditContext("Tell me about rice.", YES), random.Random(0)) is None
    assert EDITS["two_responses"].apply(EditContext("q", YES, ()), random.Random(0)) is None
    assert EDITS["placeholders"].apply(EditContext("q", ANSWER), random.Random(0)) is None
    assert EDITS["postscript"].apply(EditContext("q", YES), random.Random(0)) is None


def test_title_from_the_request_for_a_piece_of_writing():
    poem = "Leaves drift down\nslowly in the cold\nand the garden sleeps."
    edited = EDITS["title"].apply(EditContext("Write a short poem about the autumn leaves.", poem), random.Random(0))
    assert edited == "<<Autumn Leaves>>\n\n" + poem
    assert EDITS["title"].apply(EditContext("Explain photosynthesis.", poem), random.Random(0)) is None


def test_edit_config_checks_its_values():
    with pytest.raises(ValueError, match="rate"):
        EditConfig(rate=1.5)
    with pytest.raises(ValueError, match="unknown edit 'shouting'"):
        EditConfig(weights={"shouting": 1.0})
