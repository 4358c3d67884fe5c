"""Reverse examples: instruction + response -> the constraints the response satisfies.

The target is canonical, so a model learns one answer per input: the response's most informative
constraints (the ones other answers fail most; ties in registry order), at most ``most`` of them,
never two that conflict, listed in registry order with their exact params in each type's first
(canonical) phrasing. Only the output format (JSON, bullets...) varies, and the prompt names it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from crabkit.records import Constraint

from .templates import REVERSE_FORMATS, REVERSE_PROMPTS, format_list

__all__ = ["canonical_constraints", "reverse_prompt", "reverse_target"]


def reverse_prompt(instruction: str, response: str, fmt: str, rng: random.Random) -> str:
    template = rng.choice(REVERSE_PROMPTS)
    return template.format(instruction=instruction.strip(), response=response, format_hint=REVERSE_FORMATS[fmt])


def canonical_constraints(
    pool: Sequence[Constraint], most: int = 6, first: Sequence[Constraint] = ()
) -> list[Constraint]:
    """The reverse target's constraints: ``first`` (an edit's), then the most informative of
    ``pool`` without conflicts, up to ``most``, in registry order, each in its canonical wording."""
    from crabkit.backtranslate.contrast import informativeness
    from crabkit.constraints import get
    from crabkit.constraints.conflicts import conflicts

    def rank(c: Constraint) -> tuple[float, str]:
        s = informativeness(c)
        return (-(0.5 if s is None else s), c.type)

    chosen = list(first)
    for c in sorted((c for c in pool if c not in chosen), key=rank):
        if len(chosen) >= most:
            break
        if not any(conflicts(x.type, c.type, x.params, c.params) for x in chosen):
            chosen.append(c)
    out = []
    for c in sorted(chosen, key=lambda c: (c.source != "rule", c.type)):
        text = get(c.type).describe(c.params, None) if c.source == "rule" else c.text
        out.append(Constraint(c.type, dict(c.params), text, c.verified, c.source, c.ifeval_id, c.ifeval_kwargs))
    return out


def reverse_target(constraints: Sequence[Constraint], fmt: str, refined_instruction: str | None = None) -> str:
    """The constraints in ``fmt`` (json / bullets / numbered / headed), optionally after the refined instruction."""
    texts = [c.text for c in constraints]
    if fmt == "json":
        body = json.dumps(texts, ensure_ascii=False, indent=2)
    elif fmt == "bullets":
        body = format_list(texts, "dash")
    elif fmt == "numbered":
        body = format_list(texts, "numbered")
    elif fmt == "headed":
        body = "## Constraints\n" + format_list(texts, "dash")
    else:
        raise ValueError(f"unknown reverse format {fmt!r}; choose from {', '.join(REVERSE_FORMATS)}")
    if refined_instruction and fmt != "json":
        return f"Refined instruction: {refined_instruction}\n\n{body}"
    if refined_instruction:
        return json.dumps(
            {"refined_instruction": refined_instruction, "constraints": texts}, ensure_ascii=False, indent=2
        )
    return body
