"""IFEval ``detectable_format:*`` types: bullets, highlights, sections, JSON, title, fixed answers.

Deviations: a ``section_spliter`` is matched literally (``re.escape``), where the reference reads it as
a regular expression; JSON nested too deeply for Python's parser fails instead of crashing.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from crabkit import text

from ._ifeval import get_int, get_str
from .base import ConstraintType
from .registry import register

__all__ = [
    "ConstrainedResponse",
    "JsonFormat",
    "MultipleSections",
    "NumberBulletLists",
    "NumberHighlightedSections",
    "Title",
]

#: The reference's fixed answer options for ``constrained_response``.
CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")

_HIGHLIGHT = re.compile(r"\*[^\n\*]*\*")
_DOUBLE_HIGHLIGHT = re.compile(r"\*\*[^\n\*]*\*\*")
_TITLE = re.compile(r"<<[^\n]+>>")
_JSON_FENCES = ("```json", "```Json", "```JSON", "```")


@functools.lru_cache(maxsize=256)
def _section_pattern(splitter: str) -> re.Pattern[str]:
    return re.compile(r"\s?" + re.escape(splitter) + r"\s?\d+\s?")


@register
class NumberBulletLists(ConstraintType):
    """Exactly ``num_bullets`` markdown bullet lines (``* item`` or ``- item``)."""

    id = ifeval_id = "detectable_format:number_bullet_lists"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        expected = get_int(self.id, params, "num_bullets")
        return len(text.bullets(response)) == expected


@register
class ConstrainedResponse(ConstraintType):
    """The response contains one of "My answer is yes./no./maybe."."""

    id = ifeval_id = "detectable_format:constrained_response"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        value = response.strip()
        return any(option in value for option in CONSTRAINED_OPTIONS)


@register
class NumberHighlightedSections(ConstraintType):
    """At least ``num_highlights`` non-blank ``*highlighted*`` spans; each ``**bold**`` span also counts."""

    id = ifeval_id = "detectable_format:number_highlighted_sections"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        expected = get_int(self.id, params, "num_highlights")
        found = sum(1 for h in _HIGHLIGHT.findall(response) if h.strip("*").strip())
        found += sum(
            1 for h in _DOUBLE_HIGHLIGHT.findall(response) if h.removeprefix("**").removesuffix("**").strip()
        )
        return found >= expected


@register
class MultipleSections(ConstraintType):
    """At least ``num_sections`` sections, each opened by ``section_spliter`` and a number (``SECTION 2``)."""

    id = ifeval_id = "detectable_format:multiple_sections"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        splitter = get_str(self.id, params, "section_spliter").strip()
        expected = get_int(self.id, params, "num_sections")
        return len(_section_pattern(splitter).split(response)) - 1 >= expected


@register
class JsonFormat(ConstraintType):
    """The whole response parses as JSON, optionally inside a markdown code fence."""

    id = ifeval_id = "detectable_format:json_format"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        value = response.strip()
        for fence in _JSON_FENCES:
            value = value.removeprefix(fence)
        value = value.removesuffix("```").strip()
        try:
            json.loads(value)
        except (ValueError, RecursionError):
            return False
        return True


@register
class Title(ConstraintType):
    """A non-blank title in double angular brackets on one line, such as ``<<poem of joy>>``."""

    id = ifeval_id = "detectable_format:title"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return any(t.lstrip("<").rstrip(">").strip() for t in _TITLE.findall(response))
