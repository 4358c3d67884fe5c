"""Reward functions for TRL's GRPOTrainer (and any other loop): crabkit's checkers as a verifiable reward.

TRL calls a reward function as ``f(prompts=..., completions=..., **columns)``, where every other
dataset column arrives as a keyword holding one value per completion. ``constraint_reward`` reads
either column convention crabkit writes:

* IFEval style (``ifeval_ground_truth.jsonl``): ``instruction_id_list`` (list of IFEval or IFBench
  ids) and ``kwargs`` (list of dicts, one per id; a JSON string of that list also works);
* crabkit style (``constraints.jsonl`` / pairs): ``constraints``, a list of ``{type, params}``
  dicts (or a JSON string of it).

By default the reward cannot be gamed by saying little: a completion earns 1.0 only when it
satisfies *every* constraint of its row (IFEval's strict prompt level; a one-word "no" passes the
upper bounds and bans of a row but rarely all of them), and 0.0 when it is far shorter than the
row's reference answer (``reference_words``: fewer than ``min_answer_share`` of its words), however
many bounds it meets. ``all_or_nothing=False`` gives the fraction satisfied instead.

So ``ifeval_ground_truth.jsonl`` trains as-is::

    from datasets import load_dataset
    from trl import GRPOTrainer
    from crabkit.train.rewards import constraint_reward

    ds = load_dataset("json", data_files="run/ifeval_ground_truth.jsonl", split="train")
    GRPOTrainer(model=..., reward_funcs=constraint_reward, train_dataset=ds).train()
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from crabkit.constraints import ConstraintType, get, get_by_benchmark_id

__all__ = [
    "MIN_ANSWER_SHARE", "Check", "checks_for_row", "completion_text", "constraint_reward", "pass_fraction",
]

#: A completion with fewer words than this share of the reference answer's ignores the request.
MIN_ANSWER_SHARE = 0.2

log = logging.getLogger(__name__)

#: One constraint to check: its registry type and its params.
Check = tuple[ConstraintType, dict[str, Any]]


def _maybe_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def checks_for_row(
    instruction_id_list: Sequence[str] | None = None,
    kwargs: Sequence[Mapping[str, Any] | None] | str | None = None,
    constraints: Sequence[Mapping[str, Any]] | str | None = None,
) -> list[Check]:
    """The checks one row asks for, from IFEval columns or crabkit ``constraints`` (soft ones skipped).

    Raises ``UnknownConstraintType`` for an id the registry lacks: a reward that silently scored an
    unknown constraint as failed (or passed) would train on noise.
    """
    out: list[Check] = []
    if instruction_id_list:
        kw_list = _maybe_json(kwargs) or [None] * len(instruction_id_list)
        if len(kw_list) != len(instruction_id_list):
            raise ValueError(
                f"{len(instruction_id_list)} instruction ids but {len(kw_list)} kwargs entries; they must pair up"
            )
        for instruction_id, kw in zip(instruction_id_list, kw_list):
            ctype = get_by_benchmark_id(instruction_id)  # IFEval's ids and IFBench's
            out.append((ctype, ctype.from_kwargs(kw or {})))
    for c in _maybe_json(constraints) or ():
        if str(c.get("type", "")).startswith("soft:"):
            continue  # soft constraints need a judge, not a checker
        ctype = get(c["type"])
        params = dict(c.get("params") or {})
        out.append((ctype, ctype.from_kwargs(params) if ctype.ifeval_id else params))
    return out


def completion_text(completion: str | Sequence[Mapping[str, Any]]) -> str:
    """The text of a completion: a string, or the assistant turns of a conversational completion."""
    if isinstance(completion, str):
        return completion
    parts = [m.get("content") or "" for m in completion if m.get("role", "assistant") == "assistant"]
    return "".join(p if isinstance(p, str) else "" for p in parts)


def pass_fraction(text: str, checks: Sequence[Check], all_or_nothing: bool = False) -> float | None:
    """The fraction of ``checks`` that ``text`` passes (1.0/0.0 with ``all_or_nothing``); None if none."""
    if not checks:
        return None
    passed = 0
    for ctype, params in checks:
        try:
            passed += bool(ctype.check(text, params))
        except Exception:  # a checker that raises is a failed check, never a pass
            log.exception("checker %s raised on params %r", ctype.id, params)
    if all_or_nothing:
        return float(passed == len(checks))
    return passed / len(checks)


def _column(values: Sequence[Any] | None, i: int) -> Any:
    return values[i] if values is not None else None


def constraint_reward(
    prompts: Sequence[Any] | None,
    completions: Sequence[str | Sequence[Mapping[str, Any]]],
    instruction_id_list: Sequence[Sequence[str]] | None = None,
    kwargs: Sequence[Any] | None = None,
    constraints: Sequence[Any] | None = None,
    all_or_nothing: bool = True,
    reference_words: Sequence[int | None] | None = None,
    response: Sequence[str | None] | None = None,
    min_answer_share: float = MIN_ANSWER_SHARE,
    **_: Any,
) -> list[float | None]:
    """Per completion, 1.0 when it satisfies every constraint of its row, else 0.0 (or, with
    ``all_or_nothing=False``, the fraction it satisfies); 0.0 when it is much shorter than the
    row's reference answer.

    Args:
        prompts: unused (the constraints come from the columns); part of TRL's calling contract.
        completions: strings, or conversational completions (lists of ``{role, content}``).
        instruction_id_list: per completion, IFEval instruction ids.
        kwargs: per completion, the IFEval kwargs list matching ``instruction_id_list``.
        constraints: per completion, crabkit constraints (``{type, params, ...}``); used with or
            instead of the IFEval columns.
        all_or_nothing: 1.0 only when every constraint passes, else 0.0 (IFEval's strict prompt level;
            the default). False: the fraction that passes.
        reference_words: per completion, the word count of the row's reference answer; or
        response: per completion, the reference answer itself (``ifeval_ground_truth.jsonl`` rows
            carry it). A completion with fewer than ``min_answer_share`` of its words scores 0.0:
            an answer that ignores the request must not earn the bounds and bans it meets by
            saying nothing. Without either, no length guard applies.
        **_: other dataset columns and TRL extras (``trainer_state``, ``completion_ids``...), ignored.

    Returns:
        One float in [0, 1] per completion; None for a row with no verifiable constraint (TRL
        treats None as "this function does not score this row").

    >>> constraint_reward(None, ["all lowercase here"], instruction_id_list=[["change_case:english_lowercase"]],
    ...                   kwargs=[[{}]])
    [1.0]
    """
    from crabkit.text import count_words

    rewards: list[float | None] = []
    for i, completion in enumerate(completions):
        try:
            checks = checks_for_row(_column(instruction_id_list, i), _column(kwargs, i), _column(constraints, i))
        except ValueError as exc:  # bad kwargs: say which row
            raise ValueError(f"completion {i}: {exc}") from None
        text = completion_text(completion)
        reward = pass_fraction(text, checks, all_or_nothing)
        reference = _column(reference_words, i)
        if reference is not None and reference < 0:
            reference = None  # a dataset column's "no reference answer"
        if reference is None and isinstance(_column(response, i), str):
            reference = count_words(_column(response, i))
        if reward and reference and count_words(text) < min_answer_share * reference:
            reward = 0.0
        rewards.append(reward)
    return rewards
