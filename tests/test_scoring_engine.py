"""The engine IFEval and IFBench share: what a Benchmark changes, and the one per-instruction verdict."""

from __future__ import annotations

import pytest

from crabkit.constraints import UnknownConstraintType
from crabkit.eval.scoring import IFBENCH, IFEVAL, EvalDataError, EvalPrompt, score
from crabkit.eval.verdict import instruction_verdict, resolve_ifeval

NUMBERS = EvalPrompt("n", "Give two numbers.", ["count:numbers"], [{"N": 2}])
COMMA = EvalPrompt("c", "No commas.", ["punctuation:no_comma"], [{}])


def test_ifeval_does_not_resolve_ifbench_ids():
    with pytest.raises(EvalDataError, match="prompt key 'n': unknown instruction id 'count:numbers'"):
        score([NUMBERS], {"Give two numbers.": "1 and 2"}, bench=IFEVAL)


def test_ifbench_resolves_its_own_ids_and_ifevals():
    result = score([NUMBERS, COMMA], {"Give two numbers.": "1 and 2", "No commas.": "a, b"}, bench=IFBENCH)
    assert [r.strict for r in result.results] == [[True], [False]]


def test_only_ifbench_matches_a_prompt_after_strip():
    responses = [{"prompt": "No commas. ", "response": "fine"}]
    assert score([COMMA], responses, bench=IFEVAL).missing == [COMMA]
    matched = score([COMMA], responses, bench=IFBENCH)
    assert matched.missing == [] and matched.results[0].strict == [True]
    assert matched.n_unmatched_responses == 0


def test_only_ifbench_has_an_unsupported_block():
    assert "unsupported" not in score([COMMA], {"No commas.": "ok"}, bench=IFEVAL).summary()
    s = score([COMMA], {"No commas.": "ok"}, bench=IFBENCH).summary()
    assert s["unsupported"]["n_prompts"] == 0 and s["all_prompts"]["prompt_strict"] == 1.0


def test_the_verdict_checks_kwargs_without_a_response():
    assert instruction_verdict("count:numbers", {"N": 2}, "p", None) == (False, False)
    with pytest.raises(ValueError, match="num_words"):
        instruction_verdict("length_constraints:number_words", {"relation": "at least"}, "p", None,
                            resolve=resolve_ifeval)  # fmt: skip
    with pytest.raises(UnknownConstraintType):
        instruction_verdict("count:numbers", {"N": 2}, "p", "1 2", resolve=resolve_ifeval)


def test_the_verdict_is_loose_when_a_variant_passes():
    assert instruction_verdict("punctuation:no_comma", {}, "p", "Sure, here:\nno commas here",
                               resolve=resolve_ifeval) == (False, True)  # fmt: skip
