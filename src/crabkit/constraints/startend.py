"""IFEval ``startend:*`` types: a fixed closing phrase, and the whole response in double quotes."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from crabkit import text

from ._ifeval import get_str
from .base import ConstraintType
from .registry import register

__all__ = ["EndChecker", "Quotation"]

# A closing phrase is a sentence or two a person would dictate, never a list item or table row.
_MAX_END_WORDS = 12
_MIN_END_WORDS = 2
_STRUCTURED_LINE = re.compile(r"^\s*(?:[|#>`~]|[-*+•]\s|\d+[.)]\s)")
_MARKUP = re.compile(r"[*`|#\[\]<>_]")
_SENTENCE_GAP = re.compile(r"[.!?\u2026][\"')\]\u201d\u2019]*\s+")
_MIN_QUOTED_WORDS = 3


@register
class EndChecker(ConstraintType):
    """The response ends with ``end_phrase``, ignoring case, surrounding whitespace and outer ``"``."""

    id = ifeval_id = "startend:end_checker"
    phrasings = (
        'Finish your response with this exact phrase: "{end_phrase}". No other words should follow it.',
        'Make sure your answer ends with the words "{end_phrase}".',
        'Your reply should close with "{end_phrase}", with nothing after it.',
        'Do not write anything after the closing phrase "{end_phrase}"; end the response with it.',
        'End the response with the exact sentence "{end_phrase}".',
        'Keep "{end_phrase}" as the very last words of your answer.',
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        phrase = get_str(self.id, params, "end_phrase").strip().lower()
        return response.strip().strip('"').lower().endswith(phrase)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        body = response.strip().strip('"')
        if not body or body[-1].isspace():
            return None
        line = body.rsplit("\n", 1)[-1]
        if _STRUCTURED_LINE.match(line):
            return None
        # Try the last sentence, then the last two, ... while the phrase stays short.
        starts = [m.end() for m in _SENTENCE_GAP.finditer(line)]
        for start in [*reversed(starts), 0]:
            phrase = line[start:].strip()
            n = text.count_words(phrase)
            if n > _MAX_END_WORDS:
                return None
            if n >= _MIN_END_WORDS:
                break
        else:
            return None
        if _MARKUP.search(phrase) or not any(c.isalpha() for c in phrase) or phrase.count('"') % 2:
            return None  # markup, no words, or a quote whose opening was cut off
        params = {"end_phrase": phrase}
        return params if self.check(response, params) else None


@register
class Quotation(ConstraintType):
    """The stripped response starts and ends with ``"`` (and is longer than one character)."""

    id = ifeval_id = "startend:quotation"
    phrasings = (
        "Wrap your entire response with double quotation marks.",
        'Make sure the whole answer is enclosed in double quotes ("...").',
        "Your response should begin and end with a double quotation mark.",
        "Do not leave your reply unquoted: put the entire thing inside double quotes.",
        "Keep the complete answer between a pair of double quotation marks.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        value = response.strip()
        return len(value) > 1 and value[0] == '"' and value[-1] == '"'

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if not self.check(response, {}):
            return None
        inner = response.strip()[1:-1]
        # '"Yes," he said. "No."' starts and ends with a quote without being one quotation.
        if '"' in inner or text.count_words(inner) < _MIN_QUOTED_WORDS:
            return None
        return {}
