"""Row forms the training tools read, made from a run's rows (pure functions, no dependencies).

SFT (from ``train.jsonl`` rows), by ``SFT_FORMS``:

* ``prompt-completion`` (the default): TRL's conversational prompt/completion form, ``prompt`` every
  turn before the final answer, ``completion`` the final answer; TRL puts the loss on the completion
  only (as ``crab train sft`` does by default);
* ``messages``: TRL's conversational form, the whole conversation in ``messages``.

RLVR (from ``ifeval_ground_truth.jsonl`` rows), by ``RLVR_FORMS``:

* ``grpo`` (the default): TRL GRPO rows, ``prompt`` a message list, and the columns
  ``crabkit.train.rewards.constraint_reward`` reads (``instruction_id_list``, ``kwargs`` and
  ``constraints`` as JSON text, ``reference_words``);
* ``open-instruct``: open-instruct's RLVR layout, ``messages`` (the prompt turns), ``ground_truth``
  (its IFEval verifier's string ``[{"instruction_id": [...], "kwargs": [...]}]``) and ``dataset``
  (``"ifeval"``, which picks that verifier). That verifier knows IFEval's ids, not IFBench's: a row
  keeps its IFEval ids only, and a row with none is left out (``crab export`` counts them);
* ``ifeval``: IFEval's ``input_data`` layout (``key``, ``prompt``, ``instruction_id_list``,
  ``kwargs``) plus ``response`` and ``history`` (the system message and earlier turns; often empty).

Preference pairs (``crab pairs`` rows), by ``PAIR_FORMS``: ``conversational`` (the default; TRL's
conversational preference form, every field a message list) or ``standard`` (strings; a prompt with
earlier turns stays a message list, as a string cannot hold them, so such pairs cannot be Parquet).

Every form keeps ``id`` (and SFT rows ``kind``, ``seed_id``, ``constraint_types``) to trace a row back
to the run. Columns whose objects differ in keys from row to row are JSON text (``JSON_COLUMNS``
when written to Parquet), so Arrow does not widen them into null-filled structs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = [
    "JSON_COLUMNS", "PAIR_FORMS", "RLVR_FORMS", "SFT_FORMS", "FormError", "ground_truth_label", "pair_rows",
    "rlvr_rows", "sft_rows",
]

SFT_FORMS = ("prompt-completion", "messages")
RLVR_FORMS = ("grpo", "open-instruct", "ifeval")
PAIR_FORMS = ("conversational", "standard")
#: Per form, the columns held as JSON text in Parquet (in JSONL they keep their JSON shape).
JSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "ifeval": ("kwargs", "history"), "conversational": ("constraints", "kwargs"), "standard": ("constraints", "kwargs"),
}


class FormError(ValueError):
    """A row that cannot take the form asked for; the message names the row and field."""


def _where(row: Mapping[str, Any], n: int) -> str:
    return f"row {n} (id {row.get('id', row.get('seed_id', '?'))})"


def _messages(row: Mapping[str, Any], field: str, where: str) -> list[dict[str, str]]:
    value = row.get(field)
    if not isinstance(value, list) or not value or not all(
        isinstance(m, Mapping) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in value
    ):
        raise FormError(f"{where}: field {field!r} must be a non-empty list of {{role, content}} messages")
    return [{"role": m["role"], "content": m["content"]} for m in value]


def _check_form(form: str, forms: tuple[str, ...], what: str) -> None:
    if form not in forms:
        raise FormError(f"unknown {what} form {form!r}; choose from {', '.join(forms)}")


def sft_rows(rows: Iterable[Mapping[str, Any]], form: str = "prompt-completion") -> Iterator[dict[str, Any]]:
    """``train.jsonl`` rows in the SFT ``form`` (see the module docstring)."""
    _check_form(form, SFT_FORMS, "SFT")
    for n, row in enumerate(rows, 1):
        where = _where(row, n)
        messages = _messages(row, "messages", where)
        out: dict[str, Any] = {
            "id": str(row.get("id", "")),
            "kind": str(row.get("kind", "")),
            "seed_id": str(row.get("seed_id", "")),
            "constraint_types": [str(t) for t in row.get("constraint_types") or []],
        }
        if form == "messages":
            out["messages"] = messages
        else:
            if len(messages) < 2 or messages[-1]["role"] != "assistant":
                raise FormError(f"{where}: field 'messages' must end with the assistant's answer")
            out["prompt"], out["completion"] = messages[:-1], messages[-1:]
        yield out


def _clean_kwargs(kwargs: Any, n_ids: int, where: str) -> list[dict[str, Any]]:
    if not isinstance(kwargs, list) or len(kwargs) != n_ids:
        raise FormError(f"{where}: field 'kwargs' must be a list with one entry per instruction id")
    out = []
    for kw in kwargs:
        if kw is not None and not isinstance(kw, Mapping):
            raise FormError(f"{where}: field 'kwargs' holds {kw!r:.60}, not an object")
        # open-instruct's verifier drops None values itself; JSON null would also break its
        # ast.literal_eval of the label.
        out.append({k: v for k, v in (kw or {}).items() if v is not None})
    return out


def ground_truth_label(instruction_ids: list[str], kwargs: list[dict[str, Any]]) -> str:
    """open-instruct's IFEval ``ground_truth``: ``[{"instruction_id": [...], "kwargs": [...]}]`` as text."""
    return json.dumps([{"instruction_id": instruction_ids, "kwargs": kwargs}], ensure_ascii=False, sort_keys=True)


def rlvr_rows(rows: Iterable[Mapping[str, Any]], form: str = "grpo") -> Iterator[dict[str, Any]]:
    """``ifeval_ground_truth.jsonl`` rows in the RLVR ``form`` (see the module docstring)."""
    from crabkit.text import count_words

    _check_form(form, RLVR_FORMS, "RLVR")
    for n, row in enumerate(rows, 1):
        where = _where(row, n)
        prompt, ids = row.get("prompt"), row.get("instruction_id_list")
        if not isinstance(prompt, str) or not prompt.strip():
            raise FormError(f"{where}: field 'prompt' must be a non-empty string")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise FormError(f"{where}: field 'instruction_id_list' must be a non-empty list of IFEval or IFBench ids")
        kwargs = _clean_kwargs(row.get("kwargs"), len(ids), where)
        history = _messages(row, "history", where) if row.get("history") else []
        turns = [*history, {"role": "user", "content": prompt}]
        row_id = str(row.get("seed_id", row.get("key", "")))
        if form == "ifeval":
            out: dict[str, Any] = {
                "key": int(row.get("key", n)), "prompt": prompt, "instruction_id_list": list(ids),
                "kwargs": kwargs, "response": str(row.get("response") or ""), "id": row_id, "history": history,
            }  # fmt: skip
            yield out
        elif form == "open-instruct":
            from crabkit.constraints import is_ifeval_id

            known = [(i, kw) for i, kw in zip(ids, kwargs) if is_ifeval_id(i)]
            if known:
                yield {"id": row_id, "messages": turns, "dataset": "ifeval",
                       "ground_truth": ground_truth_label([i for i, _ in known], [kw for _, kw in known])}  # fmt: skip
        else:
            response = row.get("response")
            yield {
                "id": row_id,
                "prompt": turns,
                "instruction_id_list": list(ids),
                "kwargs": json.dumps(kwargs, ensure_ascii=False, sort_keys=True),
                "constraints": json.dumps(row.get("other_constraints") or [], ensure_ascii=False, sort_keys=True),
                "reference_words": count_words(response) if isinstance(response, str) else -1,
            }


def _turns(value: Any, role: str, where: str, field: str) -> list[dict[str, str]]:
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    return _messages({field: value}, field, where)


def pair_rows(rows: Iterable[Mapping[str, Any]], form: str = "conversational") -> Iterator[dict[str, Any]]:
    """Preference rows (``prompt``, ``chosen``, ``rejected`` plus any other fields) in ``form``."""
    _check_form(form, PAIR_FORMS, "preference")
    for n, row in enumerate(rows, 1):
        where = _where(row, n)
        for key in ("prompt", "chosen", "rejected"):
            if key not in row:
                raise FormError(f"{where}: missing field {key!r}")
        out = dict(row)
        if form == "conversational":
            out["prompt"] = _turns(row["prompt"], "user", where, "prompt")
            out["chosen"] = _turns(row["chosen"], "assistant", where, "chosen")
            out["rejected"] = _turns(row["rejected"], "assistant", where, "rejected")
        else:
            prompt = row["prompt"]
            if isinstance(prompt, list):
                turns = _messages(row, "prompt", where)
                if len(turns) == 1 and turns[0]["role"] == "user":
                    out["prompt"] = turns[0]["content"]  # earlier turns would be lost in a string: kept as a list
            for key in ("chosen", "rejected"):
                value = row[key]
                if not isinstance(value, str):
                    value = "".join(m.get("content") or "" for m in _messages(row, key, where)
                                    if m["role"] == "assistant")  # fmt: skip
                out[key] = value
        yield out
