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


def _copy(value: Any) -> Any:
    """A copy of a JSON-like value (dicts and lists copied all the way down)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    return value


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

    @property
    def request_key(self) -> str:
        """The request this seed answers (its turns, case and spacing aside): seeds with the same
        key are siblings, other answers to one request."""
        turns = [f"{m.role}\x00{' '.join(m.content.split()).casefold()}" for m in self.history]
        return content_id("request", *turns, " ".join(self.instruction.split()).casefold())

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
    ``contrast``, once measured, says how many other answers also satisfy it: ``{"siblings":
    [passed, of], "others": [passed, of]}`` (answers to the same request, and to other requests).
    """

    type: str
    params: dict[str, Any]
    text: str
    verified: bool
    source: str = "rule"
    ifeval_id: str | None = None
    ifeval_kwargs: dict[str, Any] | None = None
    contrast: dict[str, list[int]] | None = None

    @property
    def family(self) -> str:
        return self.type.split(":", 1)[0]

    def to_json(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every value and costs more than the whole rest
        # of writing a record. Params are plain JSON values, copied one level (as asdict would).
        d: dict[str, Any] = {
            "type": self.type, "params": _copy(self.params), "text": self.text, "verified": self.verified,
            "source": self.source,
        }  # fmt: skip
        if self.ifeval_id is not None:
            d["ifeval_id"], d["ifeval_kwargs"] = self.ifeval_id, _copy(self.ifeval_kwargs)
        if self.contrast is not None:
            d["contrast"] = {k: list(v) for k, v in self.contrast.items()}
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Constraint:
        return cls(**d)
