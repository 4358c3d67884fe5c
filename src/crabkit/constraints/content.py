"""IFEval ``detectable_content:*`` types: ``[placeholder]`` count and a postscript marker.

Deviation: a postscript marker other than IFEval's ``P.S.`` / ``P.P.S`` is matched literally
(``re.escape``), where the reference would read it as a regular expression.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Mapping
from typing import Any

from ._ifeval import get_int, get_str
from .base import ConstraintType
from .numbers import round_down_nice
from .registry import register

__all__ = ["NumberPlaceholders", "Postscript"]

_PLACEHOLDER = re.compile(r"\[.*?\]")
# The reference's two built-in markers tolerate a space after each dot.
_BUILTIN_MARKERS = {
    "P.P.S": re.compile(r"\s*p\.\s?p\.\s?s.*$", re.MULTILINE),
    "P.S.": re.compile(r"\s*p\.\s?s\..*$", re.MULTILINE),
}
# What a reader calls a placeholder: a short bracketed name outside code ("[Your Name]"), not a
# markdown link ``[text](url)`` / ``[text][ref]``, a citation ``[1]``, a check box ``[x]`` or a list
# literal in code.
_REAL_PLACEHOLDER = re.compile(r"\[(?=[^\]\n]*[^\W\d_]{2})[^\W\d_][\w '\u2019/&.-]{0,40}\](?![(\[:])")
# "At least N" holds for any N up to the count; past this nobody asks for more.
_MOST_ASKED = 20
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.DOTALL)
# A postscript starts its own line (after optional emphasis), as a letter's P.S. does.
_POSTSCRIPT_LINE = re.compile(r"^[ \t>*_]*(p\.\s?p\.\s?s|p\.\s?s\.)", re.MULTILINE | re.IGNORECASE)


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
    phrasings = (
        "Include at least {num_placeholders:~placeholder|placeholders} in square brackets, such as [name].",
        (
            "Make sure your response contains {num_placeholders:~placeholder|placeholders} or more, "
            "written like [address]."
        ),
        (
            "Your answer should leave at least {num_placeholders:~fill-in-the-blank spot|fill-in-the-blank spots} in square "
            "brackets, e.g. [date]."
        ),
        "Use at least {num_placeholders:~bracketed placeholder|bracketed placeholders} (for example [company name]).",
        "Leave some details open: at least {num_placeholders:~placeholder|placeholders} like [your name].",
        (
            "Keep at least {num_placeholders:~placeholder|placeholders} in square brackets for the "
            "reader to complete."
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        expected = get_int(self.id, params, "num_placeholders")
        return len(_PLACEHOLDER.findall(response)) >= expected

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "[" not in response:
            return None
        prose = _CODE.sub(" ", response) if "`" in response else response
        # Each real placeholder ends at its own "]" where one of the reference's matches ends too,
        # so a bound on them holds for the reference's count.
        found = len(_REAL_PLACEHOLDER.findall(prose))
        if not found:
            return None
        return {"num_placeholders": max(round_down_nice(min(found, _MOST_ASKED), rng), 1)}


@register
class Postscript(ConstraintType):
    """The response contains ``postscript_marker`` (case-insensitive), e.g. a ``P.S.`` line.

    As in the reference, the marker may appear anywhere, not only at the start of a line.
    """

    id = ifeval_id = "detectable_content:postscript"
    phrasings = (
        "At the end of your response, add a postscript starting with {postscript_marker}",
        "Make sure to finish with a postscript that begins with {postscript_marker}",
        "Your answer should end with a short note introduced by {postscript_marker}",
        "Add a {postscript_marker} note after the main body of your reply.",
        "Remember to add a postscript at the very end, starting with {postscript_marker}",
        "Close the response with an afterthought marked {postscript_marker}",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        marker = get_str(self.id, params, "postscript_marker").strip()
        return _marker_pattern(marker).search(response.lower()) is not None

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        markers = {m.group(1).lower().replace(" ", "")[:5] for m in _POSTSCRIPT_LINE.finditer(response)}
        if not markers:
            return None
        params = {"postscript_marker": "P.P.S" if "p.p.s" in markers else "P.S."}
        return params if self.check(response, params) else None
