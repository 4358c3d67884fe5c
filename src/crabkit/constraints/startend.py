"""IFEval ``startend:*`` types: a fixed closing phrase, and the whole response in double quotes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._ifeval import get_str
from .base import ConstraintType
from .registry import register

__all__ = ["EndChecker", "Quotation"]


@register
class EndChecker(ConstraintType):
    """The response ends with ``end_phrase``, ignoring case, surrounding whitespace and outer ``"``."""

    id = ifeval_id = "startend:end_checker"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        phrase = get_str(self.id, params, "end_phrase").strip().lower()
        return response.strip().strip('"').lower().endswith(phrase)


@register
class Quotation(ConstraintType):
    """The stripped response starts and ends with ``"`` (and is longer than one character)."""

    id = ifeval_id = "startend:quotation"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        value = response.strip()
        return len(value) > 1 and value[0] == '"' and value[-1] == '"'
