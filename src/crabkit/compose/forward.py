"""Forward examples: instruction + k sampled constraints -> response, with in-context demonstrations."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from crabkit.records import Constraint

from .templates import join_forward

__all__ = ["ForwardConfig", "forward_prompt", "sample_constraints", "sample_k"]


@dataclass
class ForwardConfig:
    """How many constraints a forward example gets, and how they are drawn.

    As in the CRAB paper, ``p_many`` of the examples get ``many`` constraints (6-8) and the rest a
    uniform 1..all; ``weights`` overrides per-type sampling weights (type id or family -> weight).
    """

    p_many: float = 0.7
    many: tuple[int, int] = (6, 8)
    demo_rate: float = 0.5
    demos: tuple[int, int] = (1, 3)
    weights: dict[str, float] = field(default_factory=dict)


def sample_k(pool_size: int, cfg: ForwardConfig, rng: random.Random) -> int:
    """Number of constraints to ask for, at most ``pool_size``."""
    if pool_size <= 0:
        return 0
    k = rng.randint(*cfg.many) if rng.random() < cfg.p_many else rng.randint(1, pool_size)
    return min(k, pool_size)


def _weight(c: Constraint, weights: Mapping[str, float]) -> float:
    if c.type in weights:
        return weights[c.type]
    if c.family in weights:
        return weights[c.family]
    if c.source == "rule":
        from crabkit.constraints import get

        return get(c.type).weight
    return 1.0


def sample_constraints(
    pool: Sequence[Constraint], k: int, rng: random.Random, weights: Mapping[str, float] | None = None
) -> list[Constraint]:
    """Up to ``k`` constraints drawn without replacement by weight, never two that conflict."""
    from crabkit.constraints.conflicts import conflicts

    weights = weights or {}
    chosen: list[Constraint] = []
    candidates = [c for c in pool if _weight(c, weights) > 0]
    while candidates and len(chosen) < k:
        pick = rng.choices(candidates, weights=[_weight(c, weights) for c in candidates])[0]
        chosen.append(pick)
        candidates = [
            c
            for c in candidates
            if c is not pick and not conflicts(pick.type, c.type, pick.params, c.params)
        ]
    rng.shuffle(chosen)
    return chosen


def forward_prompt(instruction: str, constraints: Sequence[Constraint], rng: random.Random) -> str:
    return join_forward(instruction, [c.text for c in constraints], rng)
