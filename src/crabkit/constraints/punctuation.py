"""IFEval ``punctuation:no_comma``: no ASCII comma anywhere in the response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import ConstraintType
from .registry import register

__all__ = ["NoComma"]


@register
class NoComma(ConstraintType):
    """The response holds no ``,`` (other comma-like characters such as ``，`` are allowed, as in IFEval)."""

    id = ifeval_id = "punctuation:no_comma"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return "," not in response
