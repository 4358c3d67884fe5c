"""IFEval ``punctuation:no_comma``: no ASCII comma anywhere in the response."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from ._ifeval import word_count
from .base import ConstraintType
from .registry import register

__all__ = ["NoComma"]

# A short answer without a comma shows no choice; one of this many words does.
_MIN_WORDS = 15


@register
class NoComma(ConstraintType):
    """The response holds no ``,`` (other comma-like characters such as ``，`` are allowed, as in IFEval)."""

    id = ifeval_id = "punctuation:no_comma"
    phrasings = (
        "In your entire response, refrain from the use of any commas.",
        "Make sure your answer contains no commas at all.",
        "Your response should not include a single comma.",
        "Do not use any commas in your reply.",
        "Keep your writing free of commas from start to finish.",
        "Write the answer without using the comma character.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return "," not in response

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "," in response or word_count(response) < _MIN_WORDS:
            return None
        return {}
