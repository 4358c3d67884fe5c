"""IFEval scoring, strict and loose, exactly as the reference ``evaluation_lib`` scores it.

Inputs are the reference formats: prompts (``key``, ``prompt``, ``instruction_id_list``, ``kwargs``)
and responses (``prompt``, ``response``; ``key`` too when matching by key). An instruction is
followed *strictly* when the non-blank response passes its check, and *loosely* when any of eight
variants passes: the response, without its first line, without its last line, without both, and
each of these with every ``*`` removed. A prompt without a response fails every instruction and is
listed in ``missing`` (the reference raises ``KeyError``); ``skip_missing=True`` leaves such prompts
out of the scores instead.

Example::

    from crabkit.eval.ifeval import read_prompts, read_responses, score
    result = score(read_prompts("input_data.jsonl"), read_responses("responses.jsonl"))
    result.summary()["prompt_strict"]

Checks are the registered IFEval constraint types (``crabkit.constraints``), so their documented
deviations (literal keywords, literal letter symbol, seeded langdetect) apply here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from crabkit.constraints import UnknownConstraintType, get_by_ifeval_id
from crabkit.constraints.base import ConstraintType
from crabkit.io.jsonl import iter_jsonl_objects

__all__ = [
    "IFEvalDataError",
    "IFEvalPrompt",
    "IFEvalResult",
    "MatchBy",
    "PromptResult",
    "clear_caches",
    "loose_variants",
    "read_prompts",
    "read_responses",
    "score",
    "score_prompt",
]

MatchBy = Literal["prompt", "key"]


class IFEvalDataError(ValueError):
    """Input that cannot be scored: unreadable file, bad JSON line, missing field, unknown instruction."""


@dataclass(frozen=True)
class IFEvalPrompt:
    """One IFEval prompt: its instructions and their reference kwargs (one dict per instruction)."""

    key: int | str
    prompt: str
    instruction_id_list: list[str]
    kwargs: list[dict[str, Any]]

    @classmethod
    def from_dict(cls, record: Mapping[str, Any], where: str = "prompt record") -> IFEvalPrompt:
        for name, kind in (("key", (int, str)), ("prompt", str), ("instruction_id_list", list)):
            if name not in record:
                raise IFEvalDataError(f"{where}: missing field {name!r}")
            if not isinstance(record[name], kind) or isinstance(record[name], bool):
                raise IFEvalDataError(f"{where}: field {name!r} has the wrong type")
        ids = record["instruction_id_list"]
        kwargs = record.get("kwargs")
        if kwargs is None:
            kwargs = [{} for _ in ids]
        if not isinstance(kwargs, list) or not all(isinstance(k, dict) for k in kwargs):
            raise IFEvalDataError(f"{where}: field 'kwargs' must be a list of objects")
        if len(kwargs) != len(ids):
            raise IFEvalDataError(
                f"{where}: {len(ids)} instruction ids but {len(kwargs)} kwargs (key {record['key']!r})"
            )
        return cls(record["key"], record["prompt"], list(ids), [dict(k) for k in kwargs])


@dataclass
class PromptResult:
    """Per-instruction verdicts for one prompt, in ``instruction_id_list`` order."""

    key: int | str
    prompt: str
    instruction_id_list: list[str]
    strict: list[bool]
    loose: list[bool]
    #: False for a prompt that had no response (scored as failing every instruction).
    has_response: bool = True

    @property
    def strict_all(self) -> bool:
        return all(self.strict)

    @property
    def loose_all(self) -> bool:
        return all(self.loose)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "key": self.key,
            "prompt": self.prompt,
            "instruction_id_list": self.instruction_id_list,
            "strict": self.strict,
            "loose": self.loose,
        }
        if not self.has_response:
            out["no_response"] = True
        return out


@dataclass
class IFEvalResult:
    """Scored prompts, the prompts that had no response and the count of unused responses.

    ``results`` holds the prompts without a response too (failing every instruction), unless they
    were skipped (``skipped_missing``).
    """

    results: list[PromptResult]
    missing: list[IFEvalPrompt] = field(default_factory=list)
    n_unmatched_responses: int = 0
    skipped_missing: bool = False

    def missing_note(self) -> str | None:
        """One line on the prompts without a response, or None when every prompt had one."""
        if not self.missing:
            return None
        n_all = len(self.results) + (len(self.missing) if self.skipped_missing else 0)
        keys = ", ".join(str(p.key) for p in self.missing[:20])
        more = f" and {len(self.missing) - 20} more" if len(self.missing) > 20 else ""
        fate = "left out of the scores (--skip-missing)" if self.skipped_missing else "counted as failures"
        return f"{len(self.missing)} of {n_all} prompts have no response, {fate}: key {keys}{more}"

    def summary(self) -> dict[str, Any]:
        """Prompt- and instruction-level accuracy, strict and loose, overall, per instruction, per family."""
        n_prompts = len(self.results)
        by_id: dict[str, list[int]] = {}
        by_family: dict[str, list[int]] = {}
        prompt_strict = prompt_loose = 0
        for result in self.results:
            prompt_strict += result.strict_all
            prompt_loose += result.loose_all
            for iid, s, lo in zip(result.instruction_id_list, result.strict, result.loose):
                for table, name in ((by_id, iid), (by_family, iid.split(":", 1)[0])):
                    row = table.setdefault(name, [0, 0, 0])
                    row[0] += 1
                    row[1] += s
                    row[2] += lo
        n_instructions = sum(row[0] for row in by_id.values())
        return {
            "prompt_strict": _ratio(prompt_strict, n_prompts),
            "instruction_strict": _ratio(sum(r[1] for r in by_id.values()), n_instructions),
            "prompt_loose": _ratio(prompt_loose, n_prompts),
            "instruction_loose": _ratio(sum(r[2] for r in by_id.values()), n_instructions),
            "n_prompts": n_prompts,
            "n_instructions": n_instructions,
            "n_missing": len(self.missing),
            "missing_keys": [p.key for p in self.missing],
            "missing_scored_as": "skipped" if self.skipped_missing else "failures",
            "n_unmatched_responses": self.n_unmatched_responses,
            "by_instruction": _table(by_id),
            "by_family": _table(by_family),
        }


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _table(counts: Mapping[str, list[int]]) -> dict[str, dict[str, float | int]]:
    return {
        name: {
            "n": n,
            "strict": _ratio(s, n),
            "loose": _ratio(lo, n),
            "n_strict": s,
            "n_loose": lo,
        }
        for name, (n, s, lo) in sorted(counts.items())
    }


# --- reading ---------------------------------------------------------------------------------------


def _read_jsonl(path: str | Path) -> Iterable[tuple[str, dict[str, Any]]]:
    """``(where, record)`` for each non-blank line; ``where`` names the file and line for errors."""
    return iter_jsonl_objects(path, IFEvalDataError)


def read_prompts(path: str | Path) -> list[IFEvalPrompt]:
    """IFEval prompts from a JSONL file in the reference ``input_data.jsonl`` format."""
    prompts = [IFEvalPrompt.from_dict(record, where) for where, record in _read_jsonl(path)]
    seen: set[str] = set()
    for prompt in prompts:
        if str(prompt.key) in seen:
            raise IFEvalDataError(f"{path}: key {prompt.key!r} appears twice")
        seen.add(str(prompt.key))
    return prompts


def read_responses(path: str | Path) -> list[dict[str, Any]]:
    """Response records (``prompt`` and/or ``key``, ``response``) from a JSONL file.

    Each record also carries ``_where`` (file and line), so later errors can name the line.
    """
    records = []
    for where, record in _read_jsonl(path):
        if "response" not in record:
            raise IFEvalDataError(f"{where}: missing field 'response'")
        if not isinstance(record["response"], str):
            raise IFEvalDataError(f"{where}: field 'response' must be a string")
        if "prompt" not in record and "key" not in record:
            raise IFEvalDataError(f"{where}: needs a 'prompt' or a 'key' field to match it to a prompt")
        records.append({**record, "_where": where})
    return records


# --- matching --------------------------------------------------------------------------------------


def _response_table(
    prompts: Sequence[IFEvalPrompt],
    responses: Mapping[Any, str] | Sequence[str] | Sequence[Mapping[str, Any]],
    match_by: MatchBy,
) -> dict[str, str]:
    """Responses keyed by ``str(key)`` or by prompt text, whichever ``match_by`` names."""
    if match_by not in ("prompt", "key"):
        raise ValueError(f"match_by must be 'prompt' or 'key', not {match_by!r}")
    if isinstance(responses, Mapping):
        table = {(str(k) if match_by == "key" else k): v for k, v in responses.items()}
    elif responses and all(isinstance(r, str) for r in responses):
        if len(responses) != len(prompts):
            raise IFEvalDataError(f"{len(responses)} responses given by position for {len(prompts)} prompts")
        return {_prompt_id(p, match_by): r for p, r in zip(prompts, responses)}  # type: ignore[misc]
    else:
        table = {}
        for index, record in enumerate(responses):
            where = f"response {index}"
            if isinstance(record, Mapping):
                where = record.get("_where", where)
            if not isinstance(record, Mapping) or not isinstance(record.get("response"), str):
                raise IFEvalDataError(f"{where}: expected a record with a string 'response'")
            if match_by not in record:
                raise IFEvalDataError(f"{where}: missing field {match_by!r} (matching by {match_by})")
            if match_by == "prompt" and not isinstance(record["prompt"], str):
                raise IFEvalDataError(f"{where}: field 'prompt' must be a string")
            ident = str(record["key"]) if match_by == "key" else record["prompt"]
            # Later records win, as in the reference's prompt -> response dict.
            table[ident] = record["response"]
    for ident, response in table.items():
        if not isinstance(response, str):
            raise IFEvalDataError(f"response for {ident!r} is not a string")
    return table


def _prompt_id(prompt: IFEvalPrompt, match_by: MatchBy) -> str:
    return str(prompt.key) if match_by == "key" else prompt.prompt


# --- scoring ---------------------------------------------------------------------------------------


def loose_variants(response: str) -> list[str]:
    """The reference's eight loose variants, without repeats or blanks; the response itself comes first.

    Dropping repeats and blanks changes no verdict: a check is a pure function of the text, and the
    reference fails a blank variant before checking it.
    """
    lines = response.split("\n")
    no_first = "\n".join(lines[1:]).strip()
    no_last = "\n".join(lines[:-1]).strip()
    no_both = "\n".join(lines[1:-1]).strip()
    variants = [response, no_first, no_last, no_both]
    variants += [v.replace("*", "") for v in variants]
    seen: set[str] = set()
    unique = []
    for variant in variants:
        if variant not in seen and variant.strip():
            seen.add(variant)
            unique.append(variant)
    return unique


def _checks(prompt: IFEvalPrompt) -> list[tuple[ConstraintType, dict[str, Any]]]:
    checks = []
    for iid, kwargs in zip(prompt.instruction_id_list, prompt.kwargs):
        try:
            ctype = get_by_ifeval_id(iid)
        except UnknownConstraintType:
            raise IFEvalDataError(f"prompt key {prompt.key!r}: unknown instruction id {iid!r}") from None
        try:
            checks.append((ctype, ctype.from_kwargs(kwargs)))
        except ValueError as exc:  # the kwargs policy: names the instruction id and the field
            raise IFEvalDataError(f"prompt key {prompt.key!r}: {exc}") from None
    return checks


def _run(prompt: IFEvalPrompt, ctype: ConstraintType, params: Mapping[str, Any], text: str) -> bool:
    try:
        return bool(ctype.check(text, params))
    except ValueError as exc:
        raise IFEvalDataError(f"prompt key {prompt.key!r}: {exc}") from None


def score_prompt(prompt: IFEvalPrompt, response: str | None) -> PromptResult:
    """Strict and loose verdicts of ``response`` for every instruction of ``prompt``; ``None`` (no
    response) fails them all. The kwargs are checked either way."""
    checks = _checks(prompt)
    if response is None:
        fails = [False] * len(checks)
        return PromptResult(prompt.key, prompt.prompt, list(prompt.instruction_id_list), fails, list(fails), False)
    blank = not response.strip()
    strict = [not blank and _run(prompt, t, p, response) for t, p in checks]
    loose = list(strict)
    if not blank and not all(strict):
        # The response itself is the first variant and its verdict is the strict one; a blank
        # response has only blank variants.
        others = loose_variants(response)[1:]
        for index, (ctype, params) in enumerate(checks):
            if not loose[index]:
                loose[index] = any(_run(prompt, ctype, params, v) for v in others)
    return PromptResult(prompt.key, prompt.prompt, list(prompt.instruction_id_list), strict, loose)


def score(
    prompts: Iterable[IFEvalPrompt | Mapping[str, Any]],
    responses: Mapping[Any, str] | Sequence[str] | Sequence[Mapping[str, Any]],
    match_by: MatchBy = "prompt",
    skip_missing: bool = False,
) -> IFEvalResult:
    """Score ``responses`` against ``prompts``.

    ``responses`` is a list of records (``{"prompt"/"key": ..., "response": ...}``, e.g. from
    ``read_responses``), a mapping from prompt text (or key, with ``match_by="key"``) to response,
    or a list of response strings in prompt order. A prompt without a response fails every
    instruction, or with ``skip_missing`` is left out of the scores; either way it is listed in
    ``missing``.
    """
    prompt_list = [
        p if isinstance(p, IFEvalPrompt) else IFEvalPrompt.from_dict(p, f"prompt {i}")
        for i, p in enumerate(prompts)
    ]
    table = _response_table(prompt_list, responses, match_by)
    results, missing, used = [], [], set()
    for prompt in prompt_list:
        ident = _prompt_id(prompt, match_by)
        response = table.get(ident)
        if response is None:
            missing.append(prompt)
            if skip_missing:
                _checks(prompt)  # bad kwargs are an error whether or not the prompt is scored
                continue
        else:
            used.add(ident)
        results.append(score_prompt(prompt, response))
    return IFEvalResult(results, missing, len(set(table) - used), skip_missing)


def clear_caches() -> None:
    """Forget memoised text analyses (sentences, tokens, languages); for cold-start timing."""
    from crabkit.constraints._ifeval import clear_caches as clear

    clear()
