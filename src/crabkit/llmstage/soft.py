"""Soft constraints: what the answer follows that a checker cannot measure (style, meaning, structure...).

An answer lists them as JSON, ``{"constraints": [{"type", "constraint"}]}`` (or the paper's flat shape);
names outside the vocabulary are mapped onto it or dropped, one constraint per type is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from crabkit import text as _text
from crabkit.llm.base import ChatRequest

from .prompts import chat_request, load_json, render_prompt
from .refine import REFINE_SCHEMA
from .soft_types import DESCRIPTIONS, SOFT_TYPES, resolve

__all__ = [
    "REFINE_SOFT_SCHEMA", "SOFT_SCHEMA", "SoftItem", "SoftParse", "parse_soft", "refine_soft_request", "soft_from",
    "soft_request", "type_list",
]  # fmt: skip


def _squash(s: str) -> str:
    return " ".join(s.split())


SOFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "constraints": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": list(SOFT_TYPES)},
                    "constraint": {"type": "string"},
                },
                "required": ["type", "constraint"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["constraints"],
    "additionalProperties": False,
}
#: Refine and soft constraints in one answer: the answer is sent once, not twice.
REFINE_SOFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {**REFINE_SCHEMA["properties"], **SOFT_SCHEMA["properties"]},
    "required": ["refined_instruction", "constraints"],
    "additionalProperties": False,
}
MIN_CONSTRAINT_WORDS, MAX_CONSTRAINT_WORDS = 3, 60


class SoftItem(BaseModel):
    """One soft constraint as the model wrote it (type names are mapped afterwards)."""

    model_config = ConfigDict(extra="ignore")
    type: str = Field(validation_alias=AliasChoices("type", "kind", "category", "name"))
    constraint: str = Field(validation_alias=AliasChoices("constraint", "text", "description", "instruction"))


def type_list() -> str:
    return "\n".join(f"- {name}: {DESCRIPTIONS[name]}" if DESCRIPTIONS[name] else f"- {name}" for name in SOFT_TYPES)


@dataclass
class SoftParse:
    """What a soft-constraint answer held. ``error`` set: nothing could be read at all."""

    constraints: list[tuple[str, str]] = field(default_factory=list)  # (vocabulary name, text)
    repaired: bool = False
    mapped: list[str] = field(default_factory=list)  # "given -> name"
    unknown: list[str] = field(default_factory=list)  # names dropped
    invalid: list[str] = field(default_factory=list)  # items dropped, with the reason
    error: str | None = None


def _raw_items(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("constraints"), list):
        return value["constraints"]
    if value and all(isinstance(v, str) for v in value.values()):
        # The paper's own shape: {"Desired_Writing_Style": "...", ...}
        return [{"type": k, "constraint": v} for k, v in value.items()]
    return None


def parse_soft(answer: str) -> SoftParse:
    """Read, repair, validate and map a soft-constraint answer. One constraint per type is kept
    (the first); unknown type names are mapped onto the vocabulary or dropped."""
    out = SoftParse()
    try:
        value, out.repaired = load_json(answer)
    except ValueError as exc:
        out.error = f"unreadable answer: {exc}"
        return out
    return soft_from(value, out)


def soft_from(value: Any, out: SoftParse | None = None) -> SoftParse:
    """The soft constraints of a parsed answer (see :func:`parse_soft`)."""
    out = out or SoftParse()
    items = _raw_items(value)
    if items is None:
        out.error = f"no constraints list in the answer (got {type(value).__name__})"
        return out
    seen: set[str] = set()
    for n, raw in enumerate(items):
        try:
            item = SoftItem.model_validate(raw)
        except ValidationError as exc:
            out.invalid.append(f"item {n}: {exc.errors()[0]['msg']}")
            continue
        name = resolve(item.type)
        if name is None:
            out.unknown.append(item.type.strip()[:40])
            continue
        if _squash(item.type).lower() != name:
            out.mapped.append(f"{item.type.strip()[:40]} -> {name}")
        words = _text.count_words(item.constraint)
        if not MIN_CONSTRAINT_WORDS <= words <= MAX_CONSTRAINT_WORDS:
            out.invalid.append(f"item {n}: {words} words")
            continue
        if name in seen:
            out.invalid.append(f"item {n}: second {name}")
            continue
        seen.add(name)
        out.constraints.append((name, _squash(item.constraint)))
    return out




def soft_request(instruction: str, response: str, cfg: Any, run_seed: int) -> ChatRequest:
    """The soft-constraints-only request."""
    prompt = render_prompt("soft", instruction=instruction, response=response, types=type_list())
    return chat_request(prompt, SOFT_SCHEMA, cfg, run_seed, "soft")


def refine_soft_request(instruction: str, response: str, cfg: Any, run_seed: int) -> ChatRequest:
    """One request for both the refined instruction and the soft constraints."""
    prompt = render_prompt("refine_soft", instruction=instruction, response=response, types=type_list())
    return chat_request(prompt, REFINE_SOFT_SCHEMA, cfg, run_seed, "refine_soft")
