"""IFEval ``detectable_format:*`` types: bullets, highlights, sections, JSON, title, fixed answers.

Deviations: a ``section_spliter`` is matched literally (``re.escape``), where the reference reads it as
a regular expression; JSON nested more than ``MAX_JSON_DEPTH`` (500) arrays or objects deep fails
``json_format``, and shallower JSON is judged the same from any call stack (the reference's verdict
on deep JSON depends on how deep its caller's stack is, and past ~990 levels it crashes).
"""

from __future__ import annotations

import functools
import json
import random
import re
import threading
from collections.abc import Mapping
from typing import Any

from crabkit import text
from crabkit._memo import per_text

from ._ifeval import get_int, get_str
from .base import ConstraintType
from .numbers import round_down_nice
from .registry import register

__all__ = [
    "MAX_JSON_DEPTH",
    "ConstrainedResponse",
    "JsonFormat",
    "MultipleSections",
    "NumberBulletLists",
    "NumberHighlightedSections",
    "Title",
    "json_depth",
]

#: The reference's fixed answer options for ``constrained_response``.
CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")

_HIGHLIGHT = re.compile(r"\*[^\n\*]*\*")
_DOUBLE_HIGHLIGHT = re.compile(r"\*\*[^\n\*]*\*\*")
_TITLE = re.compile(r"<<[^\n]+>>")
_JSON_FENCES = ("```json", "```Json", "```JSON", "```")
#: JSON nested deeper than this (arrays and objects) fails ``json_format``, a verdict that needs no
#: parser; anything shallower parses within Python's default recursion limit from a fresh thread.
MAX_JSON_DEPTH = 500
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')

# A bullet as a reader sees one: a star or dash, a space, then text. The reference also counts
# "---" rules and "*emphasis*" lines, so a count is only inferred where both agree.
_REAL_BULLET = re.compile(r"^[ \t]*[*\-][ \t]+\S", re.MULTILINE)
_MAX_BULLETS = 10  # "exactly 23 bullet points" is a fingerprint of one answer, not a request
# Section markers that start a line (after optional markdown), with the splitters IFEval uses.
_SECTION_LINE = re.compile(r"^[ \t#*_>]*(SECTION|Section|PART|Part)[ \t]?\d+", re.MULTILINE)
_MAX_SECTIONS = 12
# "At least N highlights" holds for any N up to the count; past this nobody asks for more.
_MOST_HIGHLIGHTS = 10


@functools.lru_cache(maxsize=256)
def _section_pattern(splitter: str) -> re.Pattern[str]:
    return re.compile(r"\s?" + re.escape(splitter) + r"\s?\d+\s?")


@register
class NumberBulletLists(ConstraintType):
    """Exactly ``num_bullets`` markdown bullet lines (``* item`` or ``- item``)."""

    id = ifeval_id = "detectable_format:number_bullet_lists"
    phrasings = (
        (
            "Your answer must contain exactly {num_bullets:~bullet point|bullet points}, using markdown "
            "bullets such as * item."
        ),
        "Make sure the response has {num_bullets:~bullet point|bullet points}, no more and no fewer.",
        "Format the key points as a markdown list of exactly {num_bullets:~bullet|bullets} (* or -).",
        "Use exactly {num_bullets:~bullet point|bullet points} in your reply.",
        "Keep the list to exactly {num_bullets:~markdown bullet|markdown bullets}.",
        "Present your answer as exactly {num_bullets:~bullet point|bullet points}, each like * This is a point.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        expected = get_int(self.id, params, "num_bullets")
        return _bullet_count(response) == expected

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "*" not in response and "-" not in response:
            return None
        found = len(_REAL_BULLET.findall(response))
        if not 1 <= found <= _MAX_BULLETS or found != _bullet_count(response):
            return None
        return {"num_bullets": found}


@per_text()
def _bullet_count(response: str) -> int:
    """The reference's bullet count (memoised: infer and the verify that follows it both ask)."""
    return len(text.bullets(response))


@register
class ConstrainedResponse(ConstraintType):
    """The response contains one of "My answer is yes./no./maybe."."""

    id = ifeval_id = "detectable_format:constrained_response"
    phrasings = (
        (
            'Answer with one of the following options: "My answer is yes.", "My answer is no.", '
            '"My answer is maybe."'
        ),
        (
            'Make sure your response includes exactly one of these phrases: "My answer is yes.", '
            '"My answer is no." or "My answer is maybe."'
        ),
        (
            'Your reply should state your verdict as "My answer is yes.", "My answer is no." or '
            '"My answer is maybe."'
        ),
        'Do not answer freely; pick one of "My answer is yes.", "My answer is no.", "My answer is maybe."',
        (
            'Keep your verdict to one of the fixed phrases "My answer is yes.", "My answer is no.", '
            'or "My answer is maybe."'
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        value = response.strip()
        return any(option in value for option in CONSTRAINED_OPTIONS)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        return {} if "My answer is " in response and self.check(response, {}) else None


@per_text()
def _highlight_count(response: str) -> int:
    """Non-blank ``*highlighted*`` spans plus non-blank ``**bold**`` spans, as the reference counts
    (memoised: infer and the verify that follows it both ask)."""
    found = sum(1 for h in _HIGHLIGHT.findall(response) if h.strip("*").strip())
    found += sum(
        1 for h in _DOUBLE_HIGHLIGHT.findall(response) if h.removeprefix("**").removesuffix("**").strip()
    )
    return found


@register
class NumberHighlightedSections(ConstraintType):
    """At least ``num_highlights`` non-blank ``*highlighted*`` spans; each ``**bold**`` span also counts."""

    id = ifeval_id = "detectable_format:number_highlighted_sections"
    phrasings = (
        (
            "Highlight at least {num_highlights:~section|sections} of your answer with markdown, "
            "i.e. *highlighted section*."
        ),
        (
            "Make sure at least {num_highlights:~part|parts} of your response {verb} highlighted in "
            "markdown, like *this part*."
        ),
        (
            "Your answer should mark {num_highlights:~key phrase|key phrases} or more with markdown "
            "highlighting (*like this*)."
        ),
        "Highlight {num_highlights:~section|sections} or more with markdown, such as *important point*.",
        "Emphasise at least {num_highlights:~passage|passages} with markdown asterisks, e.g. *key idea*.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        expected = get_int(self.id, params, "num_highlights")
        return _highlight_count(response) >= expected

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {**params, "verb": "is" if params.get("num_highlights") == 1 else "are"}

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "*" not in response:
            return None
        found = _highlight_count(response)
        if not found:
            return None
        return {"num_highlights": max(round_down_nice(min(found, _MOST_HIGHLIGHTS), rng), 1)}


@register
class MultipleSections(ConstraintType):
    """At least ``num_sections`` sections, each opened by ``section_spliter`` and a number (``SECTION 2``)."""

    id = ifeval_id = "detectable_format:multiple_sections"
    phrasings = (
        (
            "Your response must have {num_sections:~section|sections}. Mark the beginning of each section "
            "with {section_spliter} X, such as: {section_spliter} 1"
        ),
        (
            "Divide your answer into {num_sections:~section|sections}, each starting with '{section_spliter}' "
            "and its number ({section_spliter} 1, {section_spliter} 2, ...)."
        ),
        (
            "Make sure the response is split into {num_sections:~part|parts} labelled {section_spliter} 1 "
            "to {section_spliter} {num_sections}."
        ),
        (
            "Organise the reply as {num_sections:~numbered section|numbered sections}; open each one with "
            "{section_spliter} followed by its number."
        ),
        (
            "Split the answer into {num_sections:~section|sections} headed {section_spliter} 1, "
            "{section_spliter} 2 and so on."
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        splitter = get_str(self.id, params, "section_spliter").strip()
        expected = get_int(self.id, params, "num_sections")
        return len(_section_pattern(splitter).split(response)) - 1 >= expected

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        counts: dict[str, int] = {}
        for m in _SECTION_LINE.finditer(response):
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        usable = [(n, s) for s, n in counts.items() if 2 <= n <= _MAX_SECTIONS]
        if not usable:
            return None
        n, splitter = max(usable)
        params = {"section_spliter": splitter, "num_sections": n}
        return params if self.check(response, params) else None


def _json_body(response: str) -> str:
    """The text the reference parses: stripped, with a markdown code fence taken off."""
    value = response.strip()
    for fence in _JSON_FENCES:
        value = value.removeprefix(fence)
    return value.removesuffix("```").strip()


def json_depth(response: str) -> int:
    """How deeply arrays and objects nest in the JSON body of ``response`` (fence removed); brackets
    inside complete strings do not count."""
    return _depth(_json_body(response))


def _depth(body: str) -> int:
    depth = most = 0
    for match in _JSON_TOKEN.finditer(body):
        mark = match.group()
        if mark in "[{":
            depth += 1
            most = max(most, depth)
        elif mark in "]}":
            depth -= 1
    return most


def _loads(body: str) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _parses(body: str) -> bool:
    """``json.loads(body)`` succeeds, judged the same at any call depth: nesting past ``MAX_JSON_DEPTH``
    fails, and a parse that runs out of stack because the caller's is deep is redone in a fresh thread."""
    if body.count("[") + body.count("{") > MAX_JSON_DEPTH and _depth(body) > MAX_JSON_DEPTH:
        return False
    try:
        return _loads(body)
    except RecursionError:
        pass
    verdict: list[bool] = []

    def parse() -> None:
        try:
            verdict.append(_loads(body))
        except RecursionError:  # only with a recursion limit set far below Python's default
            verdict.append(False)

    worker = threading.Thread(target=parse, name="crabkit-json-check")
    worker.start()
    worker.join()
    return verdict[0]


@register
class JsonFormat(ConstraintType):
    """The whole response parses as JSON, optionally inside a markdown code fence."""

    id = ifeval_id = "detectable_format:json_format"
    phrasings = (
        "Wrap your entire output in JSON format. You can use markdown ticks such as ```.",
        "Make sure the whole response is valid JSON (a markdown code fence around it is fine).",
        "Your answer should be a single JSON object or array and nothing else.",
        "Do not write any text outside the JSON: the complete reply must parse as JSON.",
        "Format the entire response as JSON.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return _parses(_json_body(response))

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        body = _json_body(response)
        if not body or body[0] not in "{[":
            return None  # a bare string or number parses too, but nobody asks for JSON to get one
        if not _parses(body):
            return None
        return {} if json.loads(body) else None


@register
class Title(ConstraintType):
    """A non-blank title in double angular brackets on one line, such as ``<<poem of joy>>``."""

    id = ifeval_id = "detectable_format:title"
    phrasings = (
        "Your answer must contain a title, wrapped in double angular brackets, such as <<poem of joy>>.",
        "Make sure to give your response a title in double angular brackets, e.g. <<my title>>.",
        "Include a title written between << and >>.",
        "Do not forget a title: put it in double angular brackets like <<title>>.",
        "Start with a title enclosed in double angle brackets, for example <<a short title>>.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return any(t.lstrip("<").rstrip(">").strip() for t in _TITLE.findall(response))

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        return {} if "<<" in response and self.check(response, {}) else None
