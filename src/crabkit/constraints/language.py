"""IFEval ``language:response_language``: the whole response is in one given language.

Detection is langdetect, as in the reference, but seeded (see ``crabkit.text.detect_language``) so
the verdict is the same on every run; the reference leaves langdetect unseeded. Text in which
langdetect finds no features at all counts as followed, as in the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._ifeval import get_str, language
from .base import ConstraintType
from .registry import register

__all__ = ["ResponseLanguage"]


@register
class ResponseLanguage(ConstraintType):
    """langdetect names ``language`` (an ISO 639-1 code such as ``en``, ``fr``, ``zh-cn``)."""

    id = ifeval_id = "language:response_language"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        expected = get_str(self.id, params, "language")
        found = language(response)
        return found is None or found == expected
