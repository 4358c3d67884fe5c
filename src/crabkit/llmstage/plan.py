"""The dry run's estimate: requests, prompt and completion tokens per step, and a cost.

The first request of every seed is built exactly as the run would build it (the same rules, edits and
prompts), so its prompt tokens are counted, not guessed; requests the run's cache already answers are
left out (and a seed whose first requests are all cached counts as done). What follows depends on the model's answers (how many soft constraints it writes, how many
the judge rewrites), so the judge and re-judge requests are estimated from :class:`Expected`: the
judge prompt is rendered for each seed with that many constraints of typical length. Tokens are
characters / 4, the usual rule of thumb for English text with a BPE tokenizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from crabkit.backtranslate.rules import Backtranslated
from crabkit.llm.base import ChatRequest

from .config import LLMConfig
from .judge import judge_request
from .runner import first_requests

__all__ = ["Expected", "StagePlan", "plan_stage"]


@dataclass(frozen=True)
class Expected:
    """What a model's answers are assumed to hold (per seed), for the steps after the first."""

    soft_per_seed: float = 6.0  # CRAB's sample (Llama-3-70B) has 9.5; ours asks for one per type at most
    constraint_chars: int = 70  # one soft constraint, as written
    refined_added_chars: int = 100  # the words a refinement adds
    verdict_tokens: int = 28  # one verdict with its reason
    rewrite_share: float = 0.15  # judged constraints the judge rewrites (each judged again)
    json_tokens: int = 12  # braces, keys and quotes around an answer


def _tokens(chars: int) -> int:
    return math.ceil(chars / 4)


@dataclass
class StagePlan:
    """Per step: requests, prompt and completion tokens (exact where the request is known)."""

    records: int = 0
    cached: int = 0

    expected: Expected | None = None

    def __post_init__(self) -> None:
        self.steps: dict[str, dict[str, float]] = {}

    def add(self, step: str, requests: float, prompt_tokens: float, completion_tokens: float) -> None:
        s = self.steps.setdefault(step, {"requests": 0.0, "prompt_tokens": 0.0, "completion_tokens": 0.0})
        s["requests"] += requests
        s["prompt_tokens"] += prompt_tokens
        s["completion_tokens"] += completion_tokens

    def to_json(self, price_in: float | None = None, price_out: float | None = None) -> dict[str, Any]:
        steps = {k: {n: round(v) for n, v in s.items()} for k, s in sorted(self.steps.items())}
        total = {n: sum(s[n] for s in steps.values()) for n in ("requests", "prompt_tokens", "completion_tokens")}
        out: dict[str, Any] = {"records": self.records, "cached": self.cached, "steps": steps, **total}
        e = self.expected or Expected()
        out["assumed"] = {"soft_per_seed": e.soft_per_seed, "rewrite_share": e.rewrite_share}
        out["requests_per_seed"] = round(total["requests"] / self.records, 2) if self.records else 0.0
        if price_in is not None or price_out is not None:
            cost = total["prompt_tokens"] / 1e6 * (price_in or 0) + total["completion_tokens"] / 1e6 * (price_out or 0)
            out["cost"] = round(cost, 4)
            out["price_per_million"] = {"in": price_in or 0, "out": price_out or 0}
        return out


def plan_stage(
    items: Iterable[Backtranslated], cfg: LLMConfig, run_seed: int,
    cached: Callable[[ChatRequest], bool] | None = None, expected: Expected | None = None,
) -> StagePlan:  # fmt: skip
    """The estimate for ``items`` (every seed of the run, back-translated by rules); ``cached``
    tells whether the run's cache already answers a request."""
    e = expected or Expected()
    plan = StagePlan(expected=e)
    k = e.soft_per_seed
    for item in items:
        plan.records += 1
        first = first_requests(item, cfg, run_seed)
        known = [cached is not None and cached(r) for r in first]
        plan.cached += sum(known)
        if first and all(known):
            continue  # this seed was through the stage before: its later requests are cached too
        for request, is_cached in zip(first, known):
            if is_cached:
                continue
            completion = e.json_tokens
            if request.label in ("refine", "refine_soft"):
                completion += _tokens(len(item.seed.instruction) + e.refined_added_chars)
            if request.label in ("soft", "refine_soft"):
                completion += math.ceil(k * (_tokens(e.constraint_chars) + 8))
            plan.add(request.label, 1, _tokens(request.prompt_chars()), completion)
        if not (cfg.soft and cfg.judge) or k <= 0:
            continue
        # One judge request per seed, rendered with typical constraints (the texts are unknown).
        n = max(1, round(k))
        probe = judge_request(item.seed.instruction, item.response, ["x" * e.constraint_chars] * n, cfg, run_seed)
        plan.add("judge", 1, _tokens(probe.prompt_chars()), e.json_tokens + k * e.verdict_tokens)
        # A seed is judged again when the judge rewrote at least one of its constraints.
        p_again = 1 - (1 - e.rewrite_share) ** k
        rewritten = max(1.0, k * e.rewrite_share / p_again) if p_again > 0 else 0.0
        again = judge_request(item.seed.instruction, item.response, ["x" * e.constraint_chars] * max(1, round(rewritten)),
                              cfg, run_seed, "rejudge")  # fmt: skip
        plan.add("rejudge", p_again, p_again * _tokens(again.prompt_chars()),
                 p_again * (e.json_tokens + rewritten * e.verdict_tokens))  # fmt: skip
    return plan
