"""IFEval ``detectable_content:*`` types: ``[placeholder]`` count and a postscript marker.

Deviation: a postscript marker other than IFEval's ``P.S.`` / ``P.P.S`` is matched literally
(``re.escape``), where the reference would read it as a regular expression.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from ._ifeval import get_int, get_str
from .base import ConstraintType
from .registry import register

__all__ = ["NumberPlaceholders", "Postscript"]

_PLACEHOLDER = re.compile(r"\[.*?\]")
# The reference's two built-in markers tolerate a space after each dot.
_BUILTIN_MARKERS = {
    "P.P.S": re.compile(r"\s*p\.\s?p\.\s?s.*$", re.MULTILINE),
    "P.S.": re.compile(r"\s*p\.\s?s\..*$", re.MULTILINE),
}


@functools.lru_cache(maxsize=256)
def _marker_pattern(marker: str) -> re.Pattern[str]:
    builtin = _BUILTIN_MARKERS.get(marker)
    if builtin is not None:
        return builtin
    return re.compile(r"\s*" + re.escape(marker.lower()) + r".*$", re.MULTILINE)


@register
class NumberPlaceholders(ConstraintType):
    """At least ``num_placeholders`` square-bracket placeholders such as ``[address]`` (one line each)."""

    id = ifeval_id = "detectable_content:number_placeholders"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        expected = get_int(self.id, params, "num_placeholders")
        return len(_PLACEHOLDER.findall(response)) >= expected


@register
class Postscript(ConstraintType):
    """The response contains ``postscript_marker`` (case-insensitive), e.g. a ``P.S.`` line.

    As in the reference, the marker may appear anywhere, not only at the start of a line.
    """

    id = ifeval_id = "detectable_content:postscript"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        marker = get_str(self.id, params, "postscript_marker").strip()
        return _marker_pattern(marker).search(response.lower()) is not None
