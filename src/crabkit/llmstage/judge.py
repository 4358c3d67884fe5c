"""The judge: one request per seed, a verdict for each of its soft constraints.

A verdict is ``satisfied``; ``not_satisfied`` with a ``modified_constraint`` the response would
satisfy; or ``not_a_restriction``. The stage accepts satisfied constraints, judges modified ones once
more (again one request per seed) before accepting them (the paper's code took them unchecked), and
drops the rest. The paper's pipeline asks once per constraint, sending the response every time;
one request per seed sends it once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from crabkit import text as _text
from crabkit.llm.base import ChatRequest

from .prompts import chat_request, load_json, render_prompt

__all__ = [
    "JUDGE_SCHEMA", "VERDICTS", "Verdict", "judge_request", "numbered", "parse_verdict", "parse_verdicts",
    "verdict_from",
]  # fmt: skip

VERDICTS = ("satisfied", "not_satisfied", "not_a_restriction")

_ONE_VERDICT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "n": {"type": "integer"},
        "reason": {"type": "string"},
        "verdict": {"type": "string", "enum": list(VERDICTS)},
        "modified_constraint": {"type": "string"},
    },
    "required": ["n", "reason", "verdict", "modified_constraint"],
    "additionalProperties": False,
}
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"verdicts": {"type": "array", "items": _ONE_VERDICT}},
    "required": ["verdicts"],
    "additionalProperties": False,
}


# -- verdicts ----------------------------------------------------------------------------------

_VERDICT_WORDS = {
    "satisfied": "satisfied", "yes": "satisfied", "true": "satisfied", "followed": "satisfied",
    "met": "satisfied", "pass": "satisfied", "passed": "satisfied",
    "not_satisfied": "not_satisfied", "unsatisfied": "not_satisfied", "no": "not_satisfied",
    "false": "not_satisfied", "violated": "not_satisfied", "not_met": "not_satisfied",
    "not_followed": "not_satisfied", "fail": "not_satisfied", "failed": "not_satisfied",
    "modified": "not_satisfied",
    "not_a_restriction": "not_a_restriction", "not_a_real_restriction": "not_a_restriction",
    "not_restriction": "not_a_restriction", "not_a_constraint": "not_a_restriction",
    "no_restriction": "not_a_restriction", "not_restrictive": "not_a_restriction",
    "invalid": "not_a_restriction", "vague": "not_a_restriction",
}


class JudgeAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    verdict: str = Field(validation_alias=AliasChoices("verdict", "judgement", "judgment", "result", "answer"))
    modified_constraint: str | None = Field(
        default=None, validation_alias=AliasChoices("modified_constraint", "modified", "revised_constraint")
    )


@dataclass
class Verdict:
    """A parsed judge answer. ``verdict`` None: the answer could not be read (``error`` says why)."""

    verdict: str | None
    modified: str | None = None
    repaired: bool = False
    error: str | None = None

    @property
    def label(self) -> str:
        """For counting: the verdict, ``modified`` for a rewrite, ``invalid`` for an unreadable answer."""
        if self.verdict is None:
            return "invalid"
        if self.verdict == "not_satisfied" and self.modified:
            return "modified"
        return self.verdict


def parse_verdict(answer: str) -> Verdict:
    """Read one verdict (repairing JSON where needed); verdict synonyms are normalised."""
    try:
        value, repaired = load_json(answer)
    except ValueError as exc:
        return Verdict(None, error=str(exc))
    return verdict_from(value, repaired)


def verdict_from(value: Any, repaired: bool = False) -> Verdict:
    """One verdict from a parsed JSON object."""
    try:
        parsed = JudgeAnswer.model_validate(value)
    except ValidationError as exc:
        return Verdict(None, repaired=repaired, error=f"bad judge answer: {exc.errors()[0]['msg']}")
    word = re.sub(r"[^a-z]+", "_", parsed.verdict.lower()).strip("_")
    verdict = _VERDICT_WORDS.get(word)
    if verdict is None:
        return Verdict(None, repaired=repaired, error=f"unknown verdict {parsed.verdict[:40]!r}")
    modified = (parsed.modified_constraint or "").strip() or None
    if verdict == "not_satisfied" and modified and _text.count_words(modified) < 3:
        modified = None
    return Verdict(verdict, modified if verdict == "not_satisfied" else None, repaired)


def numbered(constraints: list[str]) -> str:
    """The constraints as the judge prompt lists them: ``1. ...`` one per line."""
    return "\n".join(f"{n}. {c}" for n, c in enumerate(constraints, 1))


def parse_verdicts(answer: str, n: int) -> tuple[list[Verdict], bool]:
    """``n`` verdicts (in the constraints' order) from a judge answer, and whether its JSON was
    repaired. A verdict that is missing or unreadable comes back with ``verdict=None`` and the
    reason; entries are matched by their number ``n`` when given, else by position."""
    try:
        value, repaired = load_json(answer)
    except ValueError as exc:
        return [Verdict(None, error=str(exc)) for _ in range(n)], False
    items = value.get("verdicts") if isinstance(value, dict) else value
    if isinstance(value, dict) and items is None and n == 1:
        items = [value]  # a lone verdict object for a lone constraint
    if not isinstance(items, list):
        return [Verdict(None, repaired=repaired, error="no verdicts list") for _ in range(n)], repaired
    out: list[Verdict | None] = [None] * n
    for position, item in enumerate(items):
        index = position
        if isinstance(item, dict) and isinstance(item.get("n"), int) and not isinstance(item.get("n"), bool):
            index = item["n"] - 1
        if 0 <= index < n and out[index] is None:
            out[index] = verdict_from(item, repaired)
    missing = Verdict(None, repaired=repaired, error="no verdict for this constraint")
    return [v if v is not None else missing for v in out], repaired


def judge_request(
    instruction: str, response: str, constraints: list[str], cfg: Any, run_seed: int, label: str = "judge"
) -> ChatRequest:
    """One request judging all of ``constraints`` against one answer (a verdict each)."""
    prompt = render_prompt("judge", instruction=instruction, response=response, constraints=numbered(constraints))
    return chat_request(prompt, JUDGE_SCHEMA, cfg, run_seed, label)
