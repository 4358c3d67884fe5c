"""IFEval scoring, strict and loose, exactly as the reference ``evaluation_lib`` scores it.

Inputs are the reference formats: prompts (``key``, ``prompt``, ``instruction_id_list``, ``kwargs``)
and responses (``prompt``, ``response``; ``key`` too when matching by key). An instruction is
followed *strictly* when the non-blank response passes its check, and *loosely* when any of eight
variants passes: the response, without its first line, without its last line, without both, and
each of these with every ``*`` removed. A prompt without a response fails every instruction and is
listed in ``missing`` (the reference raises ``KeyError``); ``skip_missing=True`` leaves such prompts
out of the scores instead.

Example::

    from crabkit.eval.ifeval import read_prompts, read_responses, score
    result = score(read_prompts("input_data.jsonl"), read_responses("responses.jsonl"))
    result.summary()["prompt_strict"]

This is the IFEval face of the engine IFEval and IFBench share (``crabkit.eval.scoring``, with the
one per-instruction verdict in ``crabkit.eval.verdict``). Checks are the registered IFEval
constraint types (``crabkit.constraints``), so their documented deviations (literal keywords,
literal letter symbol, seeded langdetect) apply here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .scoring import IFEVAL, MatchBy, PromptResult, read_prompts, read_responses
from .scoring import EvalDataError as IFEvalDataError
from .scoring import EvalPrompt as IFEvalPrompt
from .scoring import EvalResult as IFEvalResult
from .scoring import score as _score
from .scoring import score_prompt as _score_prompt
from .verdict import loose_variants

__all__ = [
    "IFEvalDataError",
    "IFEvalPrompt",
    "IFEvalResult",
    "MatchBy",
    "PromptResult",
    "clear_caches",
    "loose_variants",
    "read_prompts",
    "read_responses",
    "score",
    "score_prompt",
]


def score_prompt(prompt: IFEvalPrompt, response: str | None) -> PromptResult:
    """Strict and loose verdicts of ``response`` for every instruction of ``prompt``; ``None`` (no
    response) fails them all. The kwargs are checked either way."""
    return _score_prompt(prompt, response, IFEVAL)


def score(
    prompts: Iterable[IFEvalPrompt | Mapping[str, Any]],
    responses: Mapping[Any, str] | Sequence[str] | Sequence[Mapping[str, Any]],
    match_by: MatchBy = "prompt",
    skip_missing: bool = False,
) -> IFEvalResult:
    """``crabkit.eval.scoring.score`` with the IFEval benchmark (the forms of ``responses`` and the
    handling of missing ones are described there)."""
    return _score(prompts, responses, match_by, skip_missing, IFEVAL)


def clear_caches() -> None:
    """Forget memoised text analyses (sentences, tokens, languages); for cold-start timing."""
    from crabkit.constraints._ifeval import clear_caches as clear

    clear()
