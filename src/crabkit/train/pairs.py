"""Preference pairs whose labels come from the checkers, not from a judge.

``verifier_pairs``: where one instruction has several responses, back-translate the constraints one
response satisfies, check the others against them, and pair it (chosen) with a response that breaks
at least one of them (rejected). The prompt is the instruction plus a conflict-free sample of the
chosen response's constraints that always includes one the rejected response breaks, so every pair
is correct by construction: chosen passes every listed constraint, rejected fails at least one.

``policy_pairs``: sample the policy several times per prompt and pair its best completion with its
worst by constraint pass rate (on-policy pairs, as in iterative DPO).
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crabkit.backtranslate.rules import RuleConfig, backtranslate_rules, verify_constraint
from crabkit.compose.forward import ForwardConfig, forward_prompt, sample_constraints, sample_k, with_suites
from crabkit.records import Constraint, Seed, content_id

from .rewards import checks_for_row, pass_fraction

__all__ = ["Generate", "PairsConfig", "backend_sampler", "policy_pairs", "verifier_pairs"]

log = logging.getLogger(__name__)

#: ``generate(messages, n)`` -> ``n`` sampled completions (strings) for one conversation.
Generate = Callable[[list[dict[str, str]], int], Sequence[str]]


@dataclass
class PairsConfig:
    """How verifier pairs are drawn. ``rejected_per_chosen``: pairs per chosen response at most;
    ``rules``: which types are inferred (``rules.suites``, as ``crab generate --types``)."""

    seed: int = 0
    rejected_per_chosen: int = 1
    rules: RuleConfig = field(default_factory=RuleConfig)
    forward: ForwardConfig = field(default_factory=ForwardConfig)


def _group_key(seed: Seed) -> tuple:
    return (tuple((m.role, m.content) for m in seed.history), " ".join(seed.instruction.split()))


def _prompt(seed: Seed, text: str) -> str | list[dict[str, str]]:
    """A string prompt, or a conversation when the seed has earlier turns."""
    if not seed.history:
        return text
    return [*({"role": m.role, "content": m.content} for m in seed.history), {"role": "user", "content": text}]


def _pick_constraints(
    pool: list[Constraint], must: Constraint, cfg: ForwardConfig, rng: random.Random
) -> list[Constraint]:
    """``must`` plus a conflict-free weighted sample of the rest of ``pool``, in random order."""
    from crabkit.constraints.conflicts import conflicts

    k = max(1, sample_k(len(pool), cfg, rng))
    rest = [c for c in pool if c is not must and not conflicts(must.type, c.type, must.params, c.params)]
    chosen = [must, *sample_constraints(rest, k - 1, rng, cfg.weights)]
    rng.shuffle(chosen)
    return chosen


def _pairs_for_group(group: list[Seed], cfg: PairsConfig, types: list) -> Iterator[dict[str, Any]]:
    for chosen in group:
        # One rng per chosen response: its pairs do not depend on input order or on the other groups.
        rng = random.Random(f"{cfg.seed}:pairs:{chosen.id}")
        pool = backtranslate_rules(chosen, cfg.seed, types).constraints
        if not pool:
            continue
        broken = {}
        for other in group:
            if other is chosen or other.response == chosen.response:
                continue
            fails = [c for c in pool if not verify_constraint(other.response, c)]
            if fails:
                broken[other.id] = (other, fails)
        picks = rng.sample(sorted(broken), min(cfg.rejected_per_chosen, len(broken)))
        for other_id in picks:
            rejected, fails = broken[other_id]
            must = sample_constraints(fails, 1, rng, cfg.forward.weights)  # by type weight, as compose does
            if not must:
                continue  # every constraint telling them apart has weight 0
            listed = _pick_constraints(pool, must[0], cfg.forward, rng)
            text = forward_prompt(chosen.instruction, listed, rng)
            n_pass = sum(verify_constraint(rejected.response, c) for c in listed)
            yield {
                "id": content_id(text, chosen.response, rejected.response),
                "prompt": _prompt(chosen, text),
                "chosen": chosen.response,
                "rejected": rejected.response,
                "constraints": [c.to_json() for c in listed],
                "chosen_score": 1.0,
                "rejected_score": n_pass / len(listed),
                "chosen_id": chosen.id,
                "rejected_id": rejected.id,
                "source": "verifier",
            }


def verifier_pairs(seeds: Iterable[Seed], cfg: PairsConfig | None = None) -> Iterator[dict[str, Any]]:
    """DPO pairs from instructions that have several responses (see the module docstring).

    Seeds are grouped by instruction (and earlier turns), so the whole input is held in memory.
    Each chosen response draws with its own rng, so its pairs do not depend on input order.
    """
    cfg = cfg or PairsConfig()
    # A lighter suite's types are asked less often, as in compose.
    cfg = dataclasses.replace(cfg, forward=with_suites(cfg.forward, cfg.rules.suite_multipliers()))
    groups: dict[tuple, list[Seed]] = {}
    for s in seeds:
        groups.setdefault(_group_key(s), []).append(s)
    types = cfg.rules.types()
    for group in groups.values():
        if len(group) > 1:
            yield from _pairs_for_group(group, cfg, types)


def _messages(prompt: str | Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [dict(m) for m in prompt]


def policy_pairs(
    rows: Iterable[Mapping[str, Any]],
    generate: Generate,
    n: int = 4,
    *,
    min_margin: float = 1e-9,
) -> Iterator[dict[str, Any]]:
    """On-policy pairs: per row, ``n`` samples from ``generate``, best vs worst by constraint pass rate.

    ``rows`` carry ``prompt`` (string or messages) and the constraints as IFEval columns
    (``instruction_id_list``, ``kwargs``) or crabkit ``constraints`` -- ``ifeval_ground_truth.jsonl``
    rows work as they are. A row yields a pair only when best beats worst by more than ``min_margin``.
    """
    if n < 2:
        raise ValueError(f"policy_pairs needs n >= 2 samples per prompt, got {n}")
    for row in rows:
        checks = checks_for_row(row.get("instruction_id_list"), row.get("kwargs"), row.get("constraints"))
        if not checks:
            continue
        samples = [str(s) for s in generate(_messages(row["prompt"]), n)]
        scored = [(pass_fraction(s, checks), i, s) for i, s in enumerate(samples)]
        best = max(scored, key=lambda t: (t[0], -t[1]))
        worst = min(scored, key=lambda t: (t[0], t[1]))
        if best[0] - worst[0] <= min_margin:
            continue
        yield {
            "id": content_id(str(row["prompt"]), best[2], worst[2]),
            "prompt": row["prompt"],
            "chosen": best[2],
            "rejected": worst[2],
            **{k: row[k] for k in ("instruction_id_list", "kwargs", "constraints") if k in row},
            "chosen_score": best[0],
            "rejected_score": worst[0],
            "source": "policy",
        }


def backend_sampler(backend: Any, *, temperature: float = 0.8, max_tokens: int = 512, seed: int = 0) -> Generate:
    """A ``Generate`` over a ``crabkit.llm`` backend: sample ``i`` uses seed ``seed + i`` (reproducible)."""
    from crabkit.llm import ChatRequest

    def generate(messages: list[dict[str, str]], n: int) -> list[str]:
        requests = [
            ChatRequest(messages=messages, temperature=temperature, max_tokens=max_tokens, seed=seed + i)
            for i in range(n)
        ]
        return [r.text or "" for r in backend.generate(requests)]

    return generate
