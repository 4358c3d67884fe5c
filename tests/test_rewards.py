"""constraint_reward: the fraction of a row's constraints each completion satisfies."""

from __future__ import annotations

import json

import pytest

from crabkit.constraints import UnknownConstraintType
from crabkit.train.rewards import checks_for_row, completion_text, constraint_reward

IDS = ["change_case:english_lowercase", "punctuation:no_comma", "length_constraints:number_words"]
KWARGS = [{}, {}, {"num_words": 5, "relation": "at least"}]


def test_ifeval_columns_give_fraction_satisfied():
    completions = [
        "the river runs past the old mill every morning",  # lowercase, no comma, 9 words: 3/3
        "One, two",  # capital, comma, 2 words: 0/3
        "the river, as always, runs past the old mill",  # a comma: 2/3
    ]
    rewards = constraint_reward(
        prompts=["p"] * 3, completions=completions, instruction_id_list=[IDS] * 3, kwargs=[KWARGS] * 3
    )
    assert rewards == pytest.approx([1.0, 0.0, 2 / 3])


def test_all_or_nothing_is_strict_prompt_level():
    rewards = constraint_reward(
        None, ["the river runs past the old mill every morning", "the river, as always, runs past the old mill"],
        instruction_id_list=[IDS] * 2, kwargs=[KWARGS] * 2, all_or_nothing=True,
    )
    assert rewards == [1.0, 0.0]


def test_conversational_completions_are_read():
    completion = [{"role": "assistant", "content": "Hello, World"}]
    assert completion_text(completion) == "Hello, World"
    rewards = constraint_reward(None, [completion], instruction_id_list=[IDS[:2]], kwargs=[[{}, {}]])
    assert rewards == [0.0]


def test_crabkit_constraint_column_and_json_strings():
    constraints = [
        {"type": "punctuation:no_comma", "params": {}, "text": "No commas.", "verified": True},
        {"type": "soft:style", "params": {}, "text": "Be warm.", "verified": True},  # judged elsewhere: skipped
    ]
    rewards = constraint_reward(
        None, ["no commas here", "a, b"], constraints=[constraints, json.dumps(constraints)]
    )
    assert rewards == [1.0, 0.0]


def test_kwargs_as_json_text_and_none_values_dropped():
    kwargs = json.dumps([{"num_words": 5, "relation": "at least", "keywords": None}])
    rewards = constraint_reward(
        None, ["a b c d e f"], instruction_id_list=[["length_constraints:number_words"]], kwargs=[kwargs]
    )
    assert rewards == [1.0]


def test_row_without_constraints_is_unscored():
    assert constraint_reward(None, ["anything"], instruction_id_list=[[]], kwargs=[[]]) == [None]


def test_trl_extras_are_ignored():
    rewards = constraint_reward(
        prompts=["p"], completions=["the weather is lovely today and we will walk to the river"], completion_ids=[[1, 2]], trainer_state=object(),
        instruction_id_list=[["change_case:english_lowercase"]], kwargs=[[{}]], key=[7],
    )
    assert rewards == [1.0]


def test_unknown_id_is_an_error_not_a_silent_score():
    with pytest.raises(UnknownConstraintType, match="no_such_thing"):
        constraint_reward(None, ["x"], instruction_id_list=[["made_up:no_such_thing"]], kwargs=[[{}]])


def test_mismatched_kwargs_length_is_an_error():
    with pytest.raises(ValueError, match="pair up"):
        checks_for_row(IDS, [{}])
