"""The refined instruction (CRAB's "define circumstances"): the request made specific to its answer.

A refinement is kept only when it keeps the request's protected spans (code, tables, quoted text, the
paragraphs after the first), adds 3 to 30 words and keeps most of the original wording in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crabkit import text as _text
from crabkit.llm.base import ChatRequest

from .prompts import chat_request, load_json, render_prompt

__all__ = ["REFINE_SCHEMA", "Refined", "check_refinement", "parse_refined", "refine_request", "refined_from"]

REFINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"refined_instruction": {"type": "string"}},
    "required": ["refined_instruction"],
    "additionalProperties": False,
}
MIN_ADDED_WORDS, MAX_ADDED_WORDS = 3, 30
MIN_RETAINED = 0.6  # share of the original's words the refinement must keep, in order

_CODE = re.compile(r"(```|~~~)[^\n]*\n.*?\n\s*\1", re.DOTALL)
_TABLE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$", re.MULTILINE)
_QUOTED = re.compile(r"\"([^\"\n]{12,})\"|\u201c([^\u201d\n]{12,})\u201d|\u00ab([^\u00bb\n]{12,})\u00bb")


def _squash(s: str) -> str:
    return " ".join(s.split())


def _protected(original: str) -> list[tuple[str, str]]:
    """(what, text) spans a refinement must keep verbatim: code blocks, table rows, quoted text,
    and every paragraph after the first (where appended input lives)."""
    spans = [("code block", m.group(0)) for m in _CODE.finditer(original)]
    rest = _CODE.sub("", original)
    spans += [("table", m.group(0)) for m in _TABLE_ROW.finditer(rest)]
    spans += [("quoted text", next(g for g in m.groups() if g)) for m in _QUOTED.finditer(rest)]
    paragraphs = [p for p in re.split(r"\n\s*\n", _TABLE_ROW.sub("", rest).strip()) if p.strip()]
    spans += [("input", p) for p in paragraphs[1:]]
    return spans


def check_refinement(original: str, refined: str) -> str | None:
    """Why ``refined`` is not an acceptable refinement of ``original``, or None when it is.

    It must keep the protected spans (see :func:`_protected`), add between 3 and 30 words (the
    prompt asks for 10-20) and keep most of the original's wording in order.
    """
    from .dedup import rouge_l

    if not refined.strip():
        return "empty"
    flat = _squash(refined)
    for what, span in _protected(original):
        if _squash(span) not in flat:
            return f"dropped {what}"
    added = _text.count_words(refined) - _text.count_words(original)
    if added < MIN_ADDED_WORDS:
        return "too few words added"
    if added > MAX_ADDED_WORDS:
        return "too many words added"
    if rouge_l(original, refined).recall < MIN_RETAINED:
        return "rewrote the instruction"
    return None


@dataclass
class Refined:
    instruction: str | None  # None: fall back to the original
    reason: str | None = None  # why it was rejected
    repaired: bool = False


def parse_refined(original: str, answer: str) -> Refined:
    """Read a refine answer and validate the refinement against ``original``."""
    try:
        value, repaired = load_json(answer)
    except ValueError:
        return Refined(None, "unreadable answer")
    return refined_from(original, value, repaired)


def refined_from(original: str, value: Any, repaired: bool = False) -> Refined:
    """The refinement in a parsed answer (``{"refined_instruction": ...}``), validated."""
    if isinstance(value, dict):
        value = value.get("refined_instruction", value.get("instruction"))
    if not isinstance(value, str):
        return Refined(None, "no refined_instruction", repaired)
    value = value.strip()
    reason = check_refinement(original, value)
    return Refined(None if reason else value, reason, repaired)




def refine_request(instruction: str, response: str, cfg: Any, run_seed: int) -> ChatRequest:
    """The refine-only request (used when soft constraints are off or not combined)."""
    prompt = render_prompt("refine", instruction=instruction, response=response)
    return chat_request(prompt, REFINE_SCHEMA, cfg, run_seed, "refine")
