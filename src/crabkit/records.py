"""The data model: plain dataclasses with a JSON form, passed between pipeline stages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Constraint", "Message", "Reject", "Seed", "content_id", "dumps"]


def content_id(*parts: str) -> str:
    """A stable id from content: the same text always gets the same id, across runs and machines."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


def dumps(obj: Any) -> str:
    """Canonical JSON line: stable key order and no ASCII escaping, so equal records are equal bytes."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass
class Message:
    role: str
    content: str


@dataclass
class Seed:
    """One instruction-response pair to back-translate.

    ``history`` holds earlier turns when a multi-turn conversation is read with all turns;
    ``origin`` says where the record came from (file and line/index) for error messages.
    """

    instruction: str
    response: str
    id: str = ""
    history: list[Message] = field(default_factory=list)
    origin: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            # Earlier turns count only when present, so single-turn ids stay content_id(instr, resp).
            turns = [f"{m.role}\x00{m.content}" for m in self.history]
            self.id = content_id(*turns, self.instruction, self.response)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Seed:
        d = dict(d)
        d["history"] = [Message(**m) for m in d.get("history", [])]
        return cls(**d)


@dataclass
class Reject:
    """A bad input record: where it was and why it cannot be used."""

    origin: str
    reason: str
    field: str | None = None
    stage: str = "read"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Constraint:
    """One constraint a response satisfies.

    ``type`` is a registry id for verifiable constraints (``params`` holds its arguments), or
    ``soft:<kind>`` for an LLM-written one (``params`` is empty and ``text`` is the constraint).
    """

    type: str
    params: dict[str, Any]
    text: str
    verified: bool
    source: str = "rule"
    ifeval_id: str | None = None
    ifeval_kwargs: dict[str, Any] | None = None

    @property
    def family(self) -> str:
        return self.type.split(":", 1)[0]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        if d["ifeval_id"] is None:
            del d["ifeval_id"], d["ifeval_kwargs"]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Constraint:
        return cls(**d)
