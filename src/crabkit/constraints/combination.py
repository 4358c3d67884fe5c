"""IFEval ``combination:*`` types: two different responses, and repeating the prompt before answering."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from ._ifeval import get_str
from .base import ConstraintType
from .registry import register

__all__ = ["RepeatPrompt", "TwoResponses"]

SEPARATOR = "******"

_WORD = re.compile(r"\w+")


@register
class TwoResponses(ConstraintType):
    """Exactly two different non-blank answers separated by ``******``.

    Blank pieces are allowed only before the first or after the last separator.
    """

    id = ifeval_id = "combination:two_responses"
    phrasings = (
        "Give two different responses, separated by six asterisks: ******.",
        "Make sure you write two distinct answers, with a line of six asterisks (******) between them.",
        "Your reply should contain two different responses and nothing else, divided by ******.",
        "Provide exactly two alternative answers; separate them with the symbols ******.",
        "Do not give just one answer: write two different ones, split by ******.",
        "Keep the two responses apart with six asterisks (******), and make them genuinely different.",
    )

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

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if SEPARATOR not in response:
            return None
        return {} if self.check(response, {}) else None


@register
class RepeatPrompt(ConstraintType):
    """The response starts with ``prompt_to_repeat``, ignoring case and surrounding whitespace."""

    id = ifeval_id = "combination:repeat_prompt"
    # The request itself is the rest of the prompt: the wording points at it instead of quoting it.
    phrasings = (
        (
            "First repeat the request above word for word without change, then give your answer "
            "(do not say anything before repeating the request; the request to repeat does not "
            "include this sentence)."
        ),
        "Before you answer, copy the request above exactly as written (leave out this sentence), then respond.",
        "Start your reply by restating the request above verbatim, not including this sentence, and only then answer it.",
        "Begin with the request above repeated word for word (everything before this sentence), then give your answer.",
        "Repeat the request above exactly, without this last sentence, before writing anything else; then answer it.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        prompt = get_str(self.id, params, "prompt_to_repeat")
        return response.strip().lower().startswith(prompt.strip().lower())

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        prompt = instruction.strip()
        if not _WORD.search(prompt):
            return None
        params = {"prompt_to_repeat": prompt}
        if not self.check(response, params) or not _WORD.search(response.strip()[len(prompt) :]):
            return None  # a response that is only the prompt repeated answers nothing
        return params
