"""Mix examples: general chat pairs as they are (the paper mixes its data with ShareGPT), kept in
the same message layout as forward and reverse examples, system message and earlier turns included."""

from __future__ import annotations

from typing import Any

from crabkit.records import Seed

__all__ = ["history_messages", "mix_example"]


def history_messages(seed: Seed) -> list[dict[str, str]]:
    """The seed's system message (``meta["system"]``) and earlier turns, as chat messages."""
    msgs = []
    if seed.meta.get("system"):
        msgs.append({"role": "system", "content": str(seed.meta["system"])})
    msgs.extend({"role": m.role, "content": m.content} for m in seed.history)
    return msgs


def mix_example(seed: Seed) -> dict[str, Any]:
    """One ``train.jsonl`` row for a plain pair: its conversation, no constraints."""
    messages = [
        *history_messages(seed),
        {"role": "user", "content": seed.instruction},
        {"role": "assistant", "content": seed.response},
    ]
    return {
        "id": f"{seed.id}-mix",
        "kind": "mix",
        "seed_id": seed.id,
        "constraint_types": [],
        "constraints": [],
        "messages": messages,
    }
