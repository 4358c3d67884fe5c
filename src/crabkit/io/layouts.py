"""Layout adapters: one raw record (a dict from any reader) -> Seeds, or Rejects saying what is wrong.

Layouts, detected per record from its keys unless one is named:

* ``alpaca``: ``instruction`` / ``input`` / ``output`` (a non-empty input is appended to the
  instruction after a blank line).
* ``pair``: one instruction key (``instruction``, ``prompt``, ``question``, ``query``, ``input``) and
  one response key (``output``, ``response``, ``completion``, ``answer``).
* ``sharegpt``: ``conversations``, a list of ``{"from", "value"}`` (human / gpt / system).
* ``messages``: OpenAI chat ``messages``, a list of ``{"role", "content"}``; content may be a string
  or a list of ``{"type": "text", "text": ...}`` parts.

Both conversation layouts accept either message shape. A conversation gives every assistant turn
that answers a user turn (``all_turns``, the default; earlier turns go into ``history``), or with
``all_turns=False`` only the first, whose ``meta["later_turns"]`` then counts the assistant turns
left out (the pipeline warns about them).
System messages go to ``meta["system"]``; other scalar fields of the record (``id``, ``model``,
``source``...) are kept in ``meta``.

Every Reject reason reads ``"<kind>: <detail>"`` with a stable kind first, so counts can group by it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from crabkit.records import Message, Reject, Seed

__all__ = ["DEFAULT_MAX_CHARS", "LAYOUTS", "FieldMap", "adapt_record", "detect_layout"]

DEFAULT_MAX_CHARS = 200_000
LAYOUTS = ("auto", "alpaca", "pair", "sharegpt", "messages")

_INSTRUCTION_KEYS = ("instruction", "prompt", "question", "query", "input")
_RESPONSE_KEYS = ("output", "response", "completion", "answer")
_ROLES = {
    "user": "user",
    "human": "user",
    "prompter": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "chatgpt": "assistant",
    "system": "system",
}
_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class FieldMap:
    """Names of the record's fields where they differ from the layout's defaults.

    ``FieldMap(instruction="q", response="a")`` reads ``{"q": ..., "a": ...}`` as a pair;
    ``FieldMap(messages="dialog")`` reads a conversation from ``dialog``.
    """

    instruction: str | None = None
    response: str | None = None
    input: str | None = None
    messages: str | None = None


def detect_layout(record: dict[str, Any], fields: FieldMap | None = None) -> str | None:
    """The layout a record is in, judged from its keys (and the field map), or None.

    A key whose value is null counts as absent: Parquet and Arrow tables hold every column in every
    row, so a mixed file gives each record the other layouts' keys too, as nulls.
    """
    fields = fields or FieldMap()
    if fields.messages:
        return "messages"
    if fields.instruction or fields.response:
        return "pair"
    if any(v is None for v in record.values()):
        record = {k: v for k, v in record.items() if v is not None}
    if "messages" in record:
        return "messages"
    if "conversations" in record:
        return "sharegpt"
    if "instruction" in record and "output" in record:
        return "alpaca"
    if _first_key(record, _INSTRUCTION_KEYS) or _first_key(record, _RESPONSE_KEYS):
        return "pair"  # even with one side missing: the pair adapter says which
    return None


def adapt_record(
    record: Any,
    origin: str,
    *,
    layout: str = "auto",
    fields: FieldMap | None = None,
    all_turns: bool = True,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> list[Seed | Reject]:
    """Seeds (one per assistant turn, or only the first with ``all_turns=False``) and Rejects from
    one raw record."""
    fields = fields or FieldMap()
    if not isinstance(record, dict):
        return [Reject(origin, f"not an object: record is {_kind(record)}, expected a JSON object")]
    name = detect_layout(record, fields) if layout == "auto" else layout
    if name is None:
        keys = ", ".join(sorted(map(str, record))[:12]) or "none"
        return [
            Reject(
                origin,
                f"unknown layout: no instruction/response or messages fields (keys: {keys}); "
                "name them with a field map or pick a layout",
            )
        ]
    if name in ("sharegpt", "messages"):
        key = fields.messages or ("conversations" if name == "sharegpt" else "messages")
        return _conversation(record, key, origin, all_turns, max_chars)
    if name in ("alpaca", "pair"):
        return [_pair(record, name, fields, origin, max_chars)]
    raise ValueError(f"unknown layout {name!r}; expected one of {', '.join(LAYOUTS)}")


def _pair(record: dict, layout: str, fields: FieldMap, origin: str, max_chars: int) -> Seed | Reject:
    if layout == "alpaca":
        ikey, rkey = fields.instruction or "instruction", fields.response or "output"
    else:
        ikey = fields.instruction or _first_key(record, _INSTRUCTION_KEYS) or "instruction"
        rkey = fields.response or _first_key(record, _RESPONSE_KEYS) or "response"
    xkey = fields.input or "input"
    for key, side, candidates in (
        (ikey, "instruction", _INSTRUCTION_KEYS),
        (rkey, "response", _RESPONSE_KEYS),
    ):
        if key not in record:
            named = layout == "alpaca" or getattr(fields, side)
            looked = f"{key!r} (layout {layout})" if named else f"no {side} field ({', '.join(candidates)})"
            return Reject(origin, f"missing field: {looked}", key)
    instruction = _text(record[ikey], ikey, origin, max_chars)
    if isinstance(instruction, Reject):
        return instruction
    response = _text(record[rkey], rkey, origin, max_chars)
    if isinstance(response, Reject):
        return response
    used = {ikey, rkey}
    if xkey not in used and xkey in record:
        used.add(xkey)
        extra = record[xkey]
        if extra is not None and not (isinstance(extra, str) and not extra.strip()):
            extra = _text(extra, xkey, origin, max_chars)
            if isinstance(extra, Reject):
                return extra
            instruction = f"{instruction}\n\n{extra}"
    return Seed(instruction=instruction, response=response, origin=origin, meta=_meta(record, used))


def _conversation(
    record: dict, key: str, origin: str, all_turns: bool, max_chars: int
) -> list[Seed | Reject]:
    if key not in record:
        return [Reject(origin, f"missing field: {key!r}", key)]
    turns = record[key]
    if isinstance(turns, str) and turns.lstrip().startswith("["):
        # A table column of JSON text (a conversation flattened to fit a CSV or Parquet cell).
        try:
            turns = json.loads(turns)
        except (ValueError, RecursionError):
            pass
    if not isinstance(turns, list):
        return [Reject(origin, f"not a list: {key} is {_kind(turns)}, expected a list of messages", key)]
    meta = _meta(record, {key})
    out: list[Seed | Reject] = []
    history: list[Message] = []
    systems: list[str] = []
    later = 0  # assistant turns after the first, not used without all_turns
    for i, raw in enumerate(turns):
        msg = _message(raw, f"{key}[{i}]", origin, max_chars)
        if isinstance(msg, Reject):
            # Later turns would carry a broken history, so the conversation ends here (without
            # all_turns, past the first reply nothing more is used, so nothing is rejected either).
            if all_turns or not out:
                out.append(msg)
            break
        if msg.role == "system":
            if msg.content.strip():
                systems.append(msg.content)
            continue
        if msg.role == "assistant" and history and history[-1].role == "user":
            if out and not all_turns:
                later += 1
                history.append(msg)
                continue
            turn_meta = dict(meta)
            if systems:
                turn_meta["system"] = "\n\n".join(systems)
            if all_turns:
                turn_meta["turn"] = sum(isinstance(x, Seed) for x in out) + 1
            out.append(
                Seed(
                    instruction=history[-1].content,
                    response=msg.content,
                    history=list(history[:-1]),
                    origin=origin,
                    meta=turn_meta,
                )
            )
        history.append(msg)
    if later:
        first = next(x for x in out if isinstance(x, Seed))
        first.meta["later_turns"] = later
    if not out:
        out.append(Reject(origin, f"no reply: {key} has no assistant turn after a user turn", key))
    return out


def _message(raw: Any, where: str, origin: str, max_chars: int) -> Message | Reject:
    if not isinstance(raw, dict):
        return Reject(origin, f"not an object: {where} is {_kind(raw)}, expected a message object", where)
    rkey = "role" if "role" in raw else "from"
    ckey = next((k for k in ("content", "value", "text") if k in raw), None)
    if rkey not in raw:
        return Reject(origin, f"missing field: {where} has no 'role' or 'from'", f"{where}.role")
    if ckey is None:
        return Reject(origin, f"missing field: {where} has no 'content' or 'value'", f"{where}.content")
    role = _ROLES.get(str(raw[rkey]).strip().lower())
    if role is None:
        return Reject(
            origin,
            f"unknown role: {where}.{rkey} is {raw[rkey]!r}, expected user, assistant or system",
            f"{where}.{rkey}",
        )
    field = f"{where}.{ckey}"
    content = _parts_text(raw[ckey], field, origin)
    if isinstance(content, Reject):
        return content
    if role == "system" and isinstance(content, str) and not content.strip():
        return Message(role, "")
    checked = _text(content, field, origin, max_chars)
    return checked if isinstance(checked, Reject) else Message(role, checked)


def _parts_text(content: Any, field: str, origin: str) -> Any:
    """OpenAI content parts joined into one text; anything else is returned for ``_text`` to judge."""
    if not isinstance(content, list) or not all(isinstance(p, dict) for p in content):
        return content
    texts = []
    for j, part in enumerate(content):
        if part.get("type", "text") != "text":
            return Reject(origin, f"not text: {field}[{j}] is a {part.get('type')!r} part", f"{field}[{j}]")
        texts.append(part.get("text"))
        if not isinstance(texts[-1], str):
            return Reject(
                origin,
                f"not text: {field}[{j}].text is {_kind(texts[-1])}, expected text",
                f"{field}[{j}].text",
            )
    return "\n".join(texts)


def _text(value: Any, field: str, origin: str, max_chars: int) -> str | Reject:
    """The value if it is usable text, else a Reject naming the field."""
    if not isinstance(value, str):
        return Reject(origin, f"not text: {field} is {_kind(value)}, expected text", field)
    if not value.strip():
        return Reject(origin, f"empty: {field} is {'empty' if not value else 'only whitespace'}", field)
    if len(value) > max_chars:
        return Reject(
            origin, f"too long: {field} has {len(value):,} characters, more than {max_chars:,}", field
        )
    if not _encodable(value):
        return Reject(origin, f"invalid UTF-8: {field} holds bytes that are not valid UTF-8", field)
    return value


def _encodable(text: str) -> bool:
    # Readers decode with surrogateescape, so undecodable bytes show up here as lone surrogates.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _meta(record: dict, used: set[str]) -> dict[str, Any]:
    """The record's other scalar fields (nested values are dropped; they are not seed metadata)."""
    return {
        k: v
        for k, v in record.items()
        if k not in used
        and isinstance(k, str)
        and isinstance(v, _SCALARS)
        and _encodable(k)
        and (not isinstance(v, str) or _encodable(v))
    }


def _first_key(record: dict, candidates: tuple[str, ...]) -> str | None:
    """The first candidate key the record holds a value for (null: no value, see detect_layout)."""
    return next((k for k in candidates if record.get(k) is not None), None) or next(
        (k for k in candidates if k in record), None
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
