"""IFEval ``combination:*`` types: two different responses, and repeating the prompt before answering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._ifeval import get_str
from .base import ConstraintType
from .registry import register

__all__ = ["RepeatPrompt", "TwoResponses"]

SEPARATOR = "******"


@register
class TwoResponses(ConstraintType):
    """Exactly two different non-blank answers separated by ``******``.

    Blank pieces are allowed only before the first or after the last separator.
    """

    id = ifeval_id = "combination:two_responses"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        pieces = response.split(SEPARATOR)
        last = len(pieces) - 1
        answers = []
        for index, piece in enumerate(pieces):
            if piece.strip():
                answers.append(piece)
            elif index not in (0, last):
                return False
        return len(answers) == 2 and answers[0].strip() != answers[1].strip()


@register
class RepeatPrompt(ConstraintType):
    """The response starts with ``prompt_to_repeat``, ignoring case and surrounding whitespace."""

    id = ifeval_id = "combination:repeat_prompt"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        prompt = get_str(self.id, params, "prompt_to_repeat")
        return response.strip().lower().startswith(prompt.strip().lower())
