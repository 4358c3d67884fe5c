"""Turn a block of back-translated records into training examples.

Composition works on blocks (chunks) of records so that demonstrations can be drawn from
neighbouring records while memory stays flat. Each block has its own rng derived from the run seed
and the block index, so a resumed run composes every block exactly as an uninterrupted one would.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crabkit.backtranslate.rules import Backtranslated

from .forward import ForwardConfig, forward_prompt, sample_constraints, sample_k
from .reverse import reverse_prompt, reverse_target
from .templates import REVERSE_FORMATS

__all__ = ["ComposeConfig", "Composed", "compose_block"]


@dataclass
class ComposeConfig:
    reverse_ratio: float = 0.3
    reverse_formats: tuple[str, ...] = tuple(REVERSE_FORMATS)
    #: Share of forward examples drawn only from IFEval-typed constraints, so that enough rows
    #: land in ifeval_ground_truth.jsonl for scoring and RL with verifiable rewards.
    ifeval_only_rate: float = 0.25
    forward: ForwardConfig = field(default_factory=ForwardConfig)


@dataclass
class Composed:
    """What one block produced: training examples and IFEval-style ground-truth rows."""

    examples: list[dict[str, Any]] = field(default_factory=list)
    ground_truth: list[dict[str, Any]] = field(default_factory=list)
    k_hist: dict[int, int] = field(default_factory=dict)
    skipped_no_constraints: int = 0


def _ifeval_row(item: Backtranslated, prompt: str, chosen: Sequence) -> dict[str, Any] | None:
    if not chosen or any(c.ifeval_id is None for c in chosen):
        return None
    return {
        "key": int(item.seed.id[:12], 16),
        "seed_id": item.seed.id,
        "prompt": prompt,
        "instruction_id_list": [c.ifeval_id for c in chosen],
        "kwargs": [c.ifeval_kwargs for c in chosen],
        "response": item.seed.response,
    }


def _history(item: Backtranslated) -> list[dict[str, str]]:
    msgs = []
    if item.seed.meta.get("system"):
        msgs.append({"role": "system", "content": str(item.seed.meta["system"])})
    msgs.extend({"role": m.role, "content": m.content} for m in item.seed.history)
    return msgs


def compose_block(
    items: Sequence[Backtranslated], block_index: int, run_seed: int, cfg: ComposeConfig
) -> Composed:
    """Compose forward and reverse examples for one block; demonstration records are used once."""
    rng = random.Random(f"{run_seed}:compose:{block_index}")
    out = Composed()
    queue = deque(it for it in items if it.constraints)
    out.skipped_no_constraints = len(items) - len(queue)
    fcfg = cfg.forward
    while queue:
        item = queue.popleft()
        instruction = item.refined_instruction or item.seed.instruction
        if rng.random() < cfg.reverse_ratio:
            fmt = rng.choice(cfg.reverse_formats)
            k = sample_k(len(item.constraints), fcfg, rng)
            chosen = sample_constraints(item.constraints, k, rng, fcfg.weights)
            user = reverse_prompt(item.seed.instruction, item.seed.response, fmt, rng)
            target = reverse_target(chosen, fmt, item.refined_instruction)
            out.examples.append(
                {
                    "id": f"{item.seed.id}-rev",
                    "kind": "reverse",
                    "seed_id": item.seed.id,
                    "constraint_types": [c.type for c in chosen],
                    "messages": [*_history(item), {"role": "user", "content": user},
                                 {"role": "assistant", "content": target}],
                }
            )
            continue
        pool = item.constraints
        if rng.random() < cfg.ifeval_only_rate:
            pool = [c for c in pool if c.ifeval_id] or pool
        k = sample_k(len(pool), fcfg, rng)
        chosen = sample_constraints(pool, k, rng, fcfg.weights)
        out.k_hist[len(chosen)] = out.k_hist.get(len(chosen), 0) + 1
        messages = _history(item)
        n_demos = rng.randint(*fcfg.demos) if rng.random() < fcfg.demo_rate else 0
        demo_ids = []
        for _ in range(min(n_demos, len(queue))):
            demo = queue.pop()  # taken from the far end: a demonstration is never also a main example
            k_demo = rng.randint(1, max(1, min(len(demo.constraints), len(chosen) - 1)))
            demo_chosen = sample_constraints(demo.constraints, k_demo, rng, fcfg.weights)
            demo_instr = demo.refined_instruction or demo.seed.instruction
            messages.append({"role": "user", "content": forward_prompt(demo_instr, demo_chosen, rng)})
            messages.append({"role": "assistant", "content": demo.seed.response})
            demo_ids.append(demo.seed.id)
        prompt = forward_prompt(instruction, chosen, rng)
        messages.append({"role": "user", "content": prompt})
        messages.append({"role": "assistant", "content": item.seed.response})
        out.examples.append(
            {
                "id": f"{item.seed.id}-fwd",
                "kind": "forward",
                "seed_id": item.seed.id,
                "demo_seed_ids": demo_ids,
                "constraint_types": [c.type for c in chosen],
                "messages": messages,
            }
        )
        row = _ifeval_row(item, prompt, chosen)
        if row:
            out.ground_truth.append(row)
    return out
