"""Markdown layout of a response, and the format types that read it: numbered lists, headings, code, tables.

``layout(response)`` sorts every line into one kind and is shared (memoised) by the per-sentence and
per-paragraph length types in ``counts.py``:

* **code**: fenced blocks (```` ``` ```` or ``~~~``, CommonMark rules; an unclosed fence runs to the
  end, as a renderer shows it). Code is never sentences, paragraphs or words.
* **table**: a GFM table (a row with pipes, a delimiter row ``|---|:--:|``, its body rows) or any line
  that starts with ``|``. Table cells are not sentences.
* **heading**: ATX ``#`` headings. Each heading is one sentence unit of its own, never part of a paragraph.
* **list**: a bullet (``* - + •``) or numbered (``1.`` ``1)``) item plus the lines that continue it
  without a blank line. Each item's text is split into sentences; an item is not a paragraph.
* **label**: a line that is all bold (``**Pros:**``), which people write as a small heading: one
  sentence unit, not a paragraph, not counted as a heading.
* **rule**: ``---``, ``***``, ``___`` dividers (they end a paragraph, like a blank line).
* **text**: everything else. A *paragraph* is a maximal run of text lines, so paragraphs are split
  by blank lines and by any non-text line; its lines are joined with spaces before Punkt splits it.

Sentences are NLTK Punkt sentences (as IFEval counts them) that hold at least one ``\\w`` word, so
an emoji or a lone "..." is not a sentence.
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from crabkit import text
from crabkit._memo import per_text

from ._ifeval import get_int, get_str
from .base import ConstraintType, choose, fill
from .registry import register

__all__ = [
    "HEADING_RELATIONS",
    "CodeBlock",
    "HeadingCount",
    "Layout",
    "NumberedList",
    "Table",
    "layout",
]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(\S.*?)[ \t#]*$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[*+\-•]|(\d{1,9})[.)])[ \t]+(\S.*)$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_TABLE_DELIM = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_LABEL = re.compile(r"^[ \t]*(\*\*|__)(?=\S)(.+?)(?<=\S)\1[ \t]*:?[ \t]*$")
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_HAS_WORD = re.compile(r"\w")
_TRAILING_END = " \t.?!\"')]}*\u201d\u2019"

_CACHE_SIZE = 256


@dataclass(frozen=True)
class Layout:
    """What ``layout`` finds in a response (see the module docstring for the line kinds)."""

    #: Sentences of prose paragraphs, list items and headings, in order.
    sentences: tuple[str, ...]
    #: Prose paragraphs, each as its sentences.
    paragraphs: tuple[tuple[str, ...], ...]
    #: Text of the ATX headings.
    headings: tuple[str, ...]
    #: The numbers of numbered list items in order (``1. a / 2. b`` -> ``(1, 2)``).
    numbered: tuple[int, ...]
    #: Closed fenced code blocks.
    code_blocks: int
    #: GFM tables (a header row followed by a delimiter row).
    tables: int
    #: The response without its code (fenced blocks removed; tables kept).
    no_code: str
    #: Lines that are all bold (``**Pros:**``), read as small headings.
    labels: int = 0
    #: Sentences of each list item, in order.
    items: tuple[int, ...] = ()


def _cells(row: str) -> int:
    row = row.strip()
    row = row.removeprefix("|")
    row = row.removesuffix("|")
    return row.count("|") + 1


def _is_table_start(lines: list[str], i: int) -> bool:
    """Line ``i`` is a table header: it has a pipe and the next line is a matching delimiter row."""
    if i + 1 >= len(lines) or "|" not in lines[i]:
        return False
    delim = lines[i + 1]
    return "|" in delim and bool(_TABLE_DELIM.match(delim)) and _cells(delim) == _cells(lines[i])


def _plain_line(line: str) -> bool:
    """A line no marker pattern can match: it starts (after whitespace) with a letter and has no pipe.

    Fences, headings, rules, labels and list items all need a non-letter (`` ` ~ # - * _ + •`` or a
    digit) as the first character after their leading spaces, and tables need a ``|``; most lines
    of prose are this kind, and skip all the patterns.
    """
    return "|" not in line and line.lstrip()[:1].isalpha()


# What a line's first character after spaces and tabs must be for each marker pattern to match it
# (a necessary condition: lines failing it skip the pattern). List items may also start with a digit.
_FENCE_START, _HEADING_START, _RULE_START = "`~", "#", "-*_"
_LABEL_START, _LIST_START = "*_", "*+-\u2022"


def _kinds(lines: list[str]) -> tuple[list[str], list[re.Match[str] | None], int, int]:
    """The kind of each line, the match that decided it (headings, labels, list items; else None),
    the number of closed code blocks and of tables."""
    kinds = ["text"] * len(lines)
    matches: list[re.Match[str] | None] = [None] * len(lines)
    code_blocks = tables = 0
    fence: str | None = None
    in_table = False
    prev = "blank"
    for i, line in enumerate(lines):
        if fence is not None:
            kinds[i] = "code"
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
                code_blocks += 1
            prev = "code"
            continue
        if not in_table and _plain_line(line):
            kind = "cont" if prev in ("list", "cont") else "text"
            kinds[i] = prev = kind
            continue
        first = line.lstrip(" \t")[:1]
        m = _FENCE.match(line) if first in _FENCE_START and first else None
        if m:
            fence, kind = m.group(1), "code"
            in_table = False
        elif not line.strip():
            kind, in_table = "blank", False
        elif in_table and "|" in line:
            kind = "table"
        elif _is_table_start(lines, i):
            kind, in_table = "table", True
            tables += 1
        elif in_table or line.lstrip().startswith("|"):
            kind = "table" if "|" in line else "text"
            in_table = kind == "table"
        elif first == _HEADING_START and (m := _HEADING.match(line)):
            kind = "heading"
        elif first in _RULE_START and _RULE.match(line):
            kind = "rule"
        elif first in _LABEL_START and (m := _LABEL.match(line)):
            kind = "label"
        elif (first in _LIST_START or first.isdigit()) and (m := _LIST_ITEM.match(line)):
            kind = "list"
        elif prev in ("list", "cont"):
            kind = "cont"  # continues the list item above it (markdown's lazy continuation)
        else:
            kind = "text"
        kinds[i] = kind
        if kind in ("heading", "label", "list"):
            matches[i] = m
        prev = kind
    return kinds, matches, code_blocks, tables


@per_text(_CACHE_SIZE)
def _sentence_starts(response: str) -> tuple[int, ...]:
    """Where the whole response's Punkt sentences start (once per response, for all its blocks)."""
    return tuple(start for start, _ in text.sentence_spans(response))


def _split(response: str, pieces: list[tuple[str, int]]) -> list[str]:
    """The sentences of one block: its ``(text, offset in response)`` pieces joined with spaces, cut
    where a Punkt sentence of the whole response starts (the run the IFEval count makes, shared).

    Inside a block the whole response's break decisions are the block's own: Punkt decides from the
    word before a mark and the token after it, and a line break reads as a space. Only a block's
    edges differ, and a block always ends a sentence.
    """
    joined = (pieces[0][0] if len(pieces) == 1 else " ".join([piece for piece, _ in pieces])).strip()
    body = joined.rstrip(_TRAILING_END)
    if "." not in body and "?" not in body and "!" not in body:
        # Punkt only breaks after . ? !: a block with none before its end is one sentence, and
        # most headings and list items are such blocks.
        return [joined] if _has_word(joined) else []
    starts = _sentence_starts(response)
    found: list[str] = []
    current: list[str] = []
    for piece, origin in pieces:
        pos = 0
        for cut in starts[bisect.bisect_left(starts, origin) : bisect.bisect_left(starts, origin + len(piece))]:
            if cut - origin > pos or current:
                current.append(piece[pos : cut - origin])
                found.append(" ".join(current).strip())
                current = []
                pos = cut - origin
        current.append(piece[pos:])
    found.append(" ".join(current).strip())
    return [s for s in found if _has_word(s)]


def _has_word(s: str) -> bool:
    """Whether ``s`` holds a ``\\w`` character (an alphanumeric first character settles it)."""
    return s[:1].isalnum() or _HAS_WORD.search(s) is not None


@per_text(_CACHE_SIZE)
def layout(response: str) -> Layout:
    """The markdown layout of ``response`` (memoised: every type inferring on one response shares it)."""
    raw = response.split("\n")
    # Where each line starts in the response.
    offsets = list(itertools.accumulate([len(line) + 1 for line in raw[:-1]], initial=0))
    lines = raw
    if ">" in response:
        # Only a line holding ">" can start with a quote marker; offsets move past what is taken out.
        lines = [_QUOTE.sub("", line) if ">" in line else line for line in raw]
        offsets = [at + len(original) - len(line) for at, original, line in zip(offsets, raw, lines)]
    kinds, matches, code_blocks, tables = _kinds(lines)
    sentences: list[str] = []
    paragraphs: list[tuple[str, ...]] = []
    headings: list[str] = []
    numbered: list[int] = []
    items: list[int] = []
    labels = 0
    chunk: list[tuple[str, int]] = []
    chunk_kind = ""

    def flush() -> None:
        if chunk:
            found = _split(response, chunk)
            sentences.extend(found)
            if chunk_kind == "text" and found:
                paragraphs.append(tuple(found))
            elif chunk_kind == "list":
                items.append(len(found))
            chunk.clear()

    def stripped(line: str, offset: int) -> tuple[str, int]:
        return line.strip(), offset + len(line) - len(line.lstrip())

    for line, kind, m, offset in zip(lines, kinds, matches, offsets):
        if kind == "cont" or (kind == "text" and chunk_kind == "text"):
            chunk.append(stripped(line, offset))
            continue
        flush()
        chunk_kind = kind
        if kind == "heading":
            assert m is not None
            headings.append(m.group(2))
            sentences.extend(_split(response, [(m.group(2), offset + m.start(2))]))
        elif kind == "label":
            assert m is not None
            labels += 1
            sentences.extend(_split(response, [(m.group(2), offset + m.start(2))]))
        elif kind == "list":
            assert m is not None
            if m.group(1) is not None:
                numbered.append(int(m.group(1)))
            chunk.append((m.group(2), offset + m.start(2)))
        elif kind == "text":
            chunk.append(stripped(line, offset))
    flush()
    if lines is raw and "code" not in kinds:
        no_code = response  # nothing quoted, nothing fenced: the lines joined again
    else:
        no_code = "\n".join(line for line, kind in zip(lines, kinds) if kind != "code")
    return Layout(
        sentences=tuple(sentences),
        paragraphs=tuple(paragraphs),
        headings=tuple(headings),
        numbered=tuple(numbered),
        code_blocks=code_blocks,
        tables=tables,
        no_code=no_code,
        labels=labels,
        items=tuple(items),
    )


# --- format types ---------------------------------------------------------------------------------

#: Relations of ``heading_count``.
HEADING_RELATIONS = ("at least", "exactly")

# An exact count of incidental structure ("precisely 13 headings") is a fingerprint of one answer,
# not a request: exact counts are asked only up to these; more headings get "at least".
_MAX_LIST_ITEMS = 10
_MAX_EXACT_HEADINGS = 6
_MAX_HEADINGS = 20


@register
class NumberedList(ConstraintType):
    """Exactly ``num_items`` numbered list items (``1.`` or ``1)``, any depth, outside code)."""

    id = "detectable_format:numbered_list"
    phrasings = (
        "Present your answer as a numbered list of exactly {num_items:~item|items}.",
        "Make sure your response contains exactly {num_items:~numbered point|numbered points} (1., 2., ...).",
        "Your answer should include a numbered list with exactly {num_items:~item|items}.",
        "Organize the key points into a numbered list of {num_items:~entry|entries}.",
        "Use exactly {num_items:~numbered item|numbered items} in your reply.",
        "Structure the response around a list numbered 1 to {num_items}.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return len(layout(response).numbered) == get_int(self.id, params, "num_items")

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        numbers = layout(response).numbered
        # Only one plain list 1..N reads naturally as "a numbered list of N items"; nested or
        # restarted lists would make the count a riddle.
        if not 2 <= len(numbers) <= _MAX_LIST_ITEMS or numbers != tuple(range(1, len(numbers) + 1)):
            return None
        return {"num_items": len(numbers)}


@register
class HeadingCount(ConstraintType):
    """``relation`` ("at least" / "exactly") ``num_headings`` markdown ``#`` headings, outside code."""

    id = "detectable_format:heading_count"
    phrasings_by_relation: ClassVar[dict[str, tuple[str, ...]]] = {
        "at least": (
            "Use at least {num_headings:~markdown heading|markdown headings} (lines starting with #).",
            "Make sure your answer has {num_headings:~section heading|section headings} or more, written with #.",
            "Your response should be organized under at least {num_headings:~markdown heading|markdown headings}.",
            "Divide the answer into sections with at least {num_headings:~# heading|# headings}.",
            "Include a minimum of {num_headings:~markdown header|markdown headers}.",
        ),
        "exactly": (
            "Use exactly {num_headings:~markdown heading|markdown headings} (lines starting with #).",
            "Make sure your answer has exactly {num_headings:~section heading|section headings}, written with #.",
            "Organize your response under {num_headings:~markdown heading|markdown headings}, no more and no fewer.",
            "Divide the answer into sections with exactly {num_headings:~# heading|# headings}.",
            "Include {num_headings:~markdown header|markdown headers} in total.",
        ),
    }
    phrasings = phrasings_by_relation["at least"] + phrasings_by_relation["exactly"]

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        wanted = get_int(self.id, params, "num_headings")
        relation = _relation(self.id, params, HEADING_RELATIONS)
        found = len(layout(response).headings)
        return found >= wanted if relation == "at least" else found == wanted

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        found = len(layout(response).headings)
        if not 2 <= found <= _MAX_HEADINGS:
            return []
        out = []
        if found <= _MAX_EXACT_HEADINGS:
            out.append({"relation": "exactly", "num_headings": found})
        out.append({"relation": "at least", "num_headings": max(2, found - rng.randint(0, 2))})
        return out

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = self.candidates(response, rng, instruction)
        return rng.choice(found) if found else None

    def describe(self, params: Mapping[str, Any], rng: random.Random | None) -> str:
        relation = _relation(self.id, params, HEADING_RELATIONS)
        return fill(choose(rng, self.phrasings_by_relation[relation]), **params)


@register
class CodeBlock(ConstraintType):
    """The response holds a fenced code block (```` ``` ```` or ``~~~``, opened and closed)."""

    id = "detectable_format:code_block"
    phrasings = (
        "Include a fenced code block (``` ... ```) in your answer.",
        "Make sure the response contains at least one markdown code block.",
        "Put any code in a fenced code block using triple backticks.",
        "Your answer should contain a code snippet formatted as a markdown code block.",
        "Show the relevant code inside a ``` fenced block.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return layout(response).code_blocks > 0

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        return {} if layout(response).code_blocks > 0 else None


@register
class Table(ConstraintType):
    """The response holds a markdown (GFM) table: a header row, a ``|---|`` delimiter row, outside code."""

    id = "detectable_format:table"
    phrasings = (
        "Include a markdown table in your answer.",
        "Present the comparison as a table in markdown format.",
        "Make sure your response contains a table (markdown, with a header row).",
        "Your answer should organize the information in a markdown table.",
        "Use a table with column headers to lay out the details.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return layout(response).tables > 0

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        return {} if layout(response).tables > 0 else None


def _relation(type_id: str, params: Mapping[str, Any], allowed: tuple[str, ...]) -> str:
    relation = get_str(type_id, params, "relation")
    if relation not in allowed:
        raise ValueError(f"{type_id}: param 'relation' must be one of {allowed} (got {relation!r})")
    return relation
