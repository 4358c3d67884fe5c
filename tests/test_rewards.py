"""constraint_reward: all of a row's constraints or nothing by default (the fraction satisfied on
request), and nothing for an answer that ignores the request by saying little."""

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
        prompts=["p"] * 3, completions=completions, instruction_id_list=[IDS] * 3, kwargs=[KWARGS] * 3,
        all_or_nothing=False,
    )
    assert rewards == pytest.approx([1.0, 0.0, 2 / 3])


def test_all_or_nothing_is_strict_prompt_level_and_the_default():
    completions = ["the river runs past the old mill every morning", "the river, as always, runs past the old mill"]
    rewards = constraint_reward(None, completions, instruction_id_list=[IDS] * 2, kwargs=[KWARGS] * 2)
    assert rewards == [1.0, 0.0]


def test_an_answer_far_shorter_than_the_reference_earns_nothing():
    ids, kwargs = ["punctuation:no_comma", "length_constraints:number_words"], [{}, {"num_words": 60, "relation": "less than"}]
    reference = "the river runs past the old mill every morning and the miller waves at the boats " * 2
    rewards = constraint_reward(None, ["no", reference], instruction_id_list=[ids] * 2, kwargs=[kwargs] * 2,
                                response=[reference] * 2)  # fmt: skip
    assert rewards == [0.0, 1.0]
    # Without a reference there is nothing to measure against: the bounds decide alone.
    assert constraint_reward(None, ["no"], instruction_id_list=[ids], kwargs=[kwargs]) == [1.0]


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


def test_saying_little_does_not_pay_on_generated_ground_truth(sample_path, tmp_path):
    """On the ground-truth rows of a real run, a one-word answer earns (almost) nothing by default,
    where partial credit without the guard pays it for every upper bound and ban it meets."""
    from crabkit.pipeline import GenerateConfig, generate

    generate(GenerateConfig(input=str(sample_path), seed=0, min_words=10), tmp_path / "run", progress=False)
    rows = [json.loads(x) for x in (tmp_path / "run" / "ifeval_ground_truth.jsonl").read_text().splitlines()]
    assert len(rows) >= 10
    columns = {
        "instruction_id_list": [r["instruction_id_list"] for r in rows],
        "kwargs": [r["kwargs"] for r in rows],
    }
    lazy = constraint_reward(None, ["no"] * len(rows), response=[r["response"] for r in rows], **columns)
    gamed = constraint_reward(None, ["no"] * len(rows), all_or_nothing=False, **columns)
    honest = constraint_reward(None, [r["response"] for r in rows], response=[r["response"] for r in rows], **columns)
    assert sum(lazy) / len(rows) <= 0.02
    assert sum(gamed) > sum(lazy)  # partial credit pays "no" for the bounds and bans it meets
    assert honest == [1.0] * len(rows)  # every row's own answer meets all its constraints
