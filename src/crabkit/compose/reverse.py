"""Reverse examples: instruction + response -> the constraints the response satisfies."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from crabkit.records import Constraint

from .templates import REVERSE_FORMATS, REVERSE_PROMPTS, format_list

__all__ = ["reverse_prompt", "reverse_target"]


def reverse_prompt(instruction: str, response: str, fmt: str, rng: random.Random) -> str:
    template = rng.choice(REVERSE_PROMPTS)
    return template.format(instruction=instruction.strip(), response=response, format_hint=REVERSE_FORMATS[fmt])


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
