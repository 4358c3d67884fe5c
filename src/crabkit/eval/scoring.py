"""The scoring engine IFEval and IFBench share: prompt records, response matching, the per-prompt loop, summaries.

A ``Benchmark`` says what differs between them: how an instruction id finds its type
(``crabkit.eval.verdict``), which ids crabkit does not check (prompts holding one are left out of
the headline metrics and counted), and whether a response's prompt also matches after ``strip()``
(IFBench's reference tolerates that; IFEval's does not). Everything else is one code path:
``score`` matches responses to prompts, ``score_prompt`` asks ``instruction_verdict`` for each
instruction, and ``EvalResult.summary`` gives the four reference metrics and the per-type tables.

Inputs are the reference formats: prompts (``key``, ``prompt``, ``instruction_id_list``, ``kwargs``)
and responses (``prompt``, ``response``; ``key`` too when matching by key). A prompt without a
response fails every instruction and is listed in ``missing`` (the IFEval reference raises
``KeyError``); ``skip_missing=True`` leaves such prompts out of the scores instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from crabkit.constraints import UnknownConstraintType
from crabkit.constraints.ifbench_unsupported import UNSUPPORTED
from crabkit.io.jsonl import iter_jsonl_objects

from .verdict import Resolver, instruction_verdict, loose_variants, resolve_ifbench, resolve_ifeval

__all__ = [
    "IFBENCH",
    "IFEVAL",
    "Benchmark",
    "EvalDataError",
    "EvalPrompt",
    "EvalResult",
    "MatchBy",
    "PromptResult",
    "read_prompts",
    "read_responses",
    "score",
    "score_prompt",
]

MatchBy = Literal["prompt", "key"]


class EvalDataError(ValueError):
    """Input that cannot be scored: unreadable file, bad JSON line, missing field, unknown instruction."""


@dataclass(frozen=True)
class Benchmark:
    """What one IFEval-style benchmark changes in the shared scorer.

    ``unsupported`` maps an instruction id crabkit does not check to the reason; ``None`` (IFEval)
    means the benchmark has no such notion and its summary carries no ``unsupported`` block.
    """

    name: str
    resolve: Resolver
    hub_id: str
    unsupported: Mapping[str, str] | None = None
    #: A response whose prompt differs from the benchmark's only by surrounding whitespace matches it.
    match_stripped: bool = False
    hub_split: str = "train"

    def __post_init__(self) -> None:
        if not self.name or not self.hub_id or not self.hub_split:
            raise ValueError("a Benchmark needs a name, a hub_id and a hub_split")


IFEVAL = Benchmark("IFEval", resolve_ifeval, "google/IFEval")
IFBENCH = Benchmark("IFBench", resolve_ifbench, "allenai/IFBench_test", unsupported=UNSUPPORTED,
                    match_stripped=True)  # fmt: skip


@dataclass(frozen=True)
class EvalPrompt:
    """One prompt: its instructions and their reference kwargs (one dict per instruction)."""

    key: int | str
    prompt: str
    instruction_id_list: list[str]
    kwargs: list[dict[str, Any]]

    @classmethod
    def from_dict(cls, record: Mapping[str, Any], where: str = "prompt record") -> EvalPrompt:
        for name, kind in (("key", (int, str)), ("prompt", str), ("instruction_id_list", list)):
            if name not in record:
                raise EvalDataError(f"{where}: missing field {name!r}")
            if not isinstance(record[name], kind) or isinstance(record[name], bool):
                raise EvalDataError(f"{where}: field {name!r} has the wrong type")
        ids = record["instruction_id_list"]
        kwargs = record.get("kwargs")
        if kwargs is None:
            kwargs = [{} for _ in ids]
        if not isinstance(kwargs, list) or not all(isinstance(k, dict) for k in kwargs):
            raise EvalDataError(f"{where}: field 'kwargs' must be a list of objects")
        if len(kwargs) != len(ids):
            raise EvalDataError(
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
    #: Its instruction ids crabkit does not check (their verdicts read False); such a prompt is
    #: left out of the headline metrics.
    unsupported: list[str] = field(default_factory=list)
    #: The response scored (None without one); not written to results.jsonl.
    response: str | None = field(default=None, repr=False, compare=False)

    @property
    def strict_all(self) -> bool:
        return all(self.strict)

    @property
    def loose_all(self) -> bool:
        return all(self.loose)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "prompt": self.prompt,
            "instruction_id_list": self.instruction_id_list,
            "strict": self.strict,
            "loose": self.loose,
        }
        if not self.has_response:
            out["no_response"] = True
        if self.unsupported:
            out["unsupported"] = self.unsupported
        return out


@dataclass
class EvalResult:
    """Scored prompts, the prompts that had no response and the count of unused responses.

    ``results`` holds the prompts without a response too (failing every instruction), unless they
    were skipped (``skipped_missing``), and the prompts holding an unsupported type (marked by
    ``PromptResult.unsupported``; the headline metrics leave them out).
    """

    results: list[PromptResult]
    missing: list[EvalPrompt] = field(default_factory=list)
    n_unmatched_responses: int = 0
    skipped_missing: bool = False
    #: The benchmark's unsupported ids and reasons; None where it has none (IFEval).
    unsupported: Mapping[str, str] | None = None

    @property
    def scored(self) -> list[PromptResult]:
        """The prompts the headline metrics count: those whose every type crabkit checks."""
        return [r for r in self.results if not r.unsupported]

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
        """Prompt- and instruction-level accuracy, strict and loose, overall, per instruction, per family.

        With an ``unsupported`` table (IFBench) it adds ``unsupported`` (which prompts and types were
        left out, and why) and ``all_prompts`` (the four metrics over every prompt, each unsupported
        instruction counted as failed).
        """
        rates, by_id, by_family = _tally(self.scored)
        out = {
            **rates,
            "n_missing": len(self.missing),
            "missing_keys": [p.key for p in self.missing],
            "missing_scored_as": "skipped" if self.skipped_missing else "failures",
            "n_unmatched_responses": self.n_unmatched_responses,
            "by_instruction": _table(by_id),
            "by_family": _table(by_family),
        }
        if self.unsupported is not None:
            out["unsupported"] = self._unsupported_block()
            out["all_prompts"] = {
                "label": "all prompts, each instruction of an unsupported type counted as failed",
                **_tally(self.results)[0],
            }
        return out

    def _unsupported_block(self) -> dict[str, Any]:
        left_out = [r for r in self.results if r.unsupported]
        types: dict[str, dict[str, Any]] = {}
        for r in left_out:
            for iid in dict.fromkeys(r.unsupported):
                row = types.setdefault(iid, {"n_prompts": 0, "n_instructions": 0, "reason": self.unsupported[iid]})
                row["n_prompts"] += 1
                row["n_instructions"] += r.unsupported.count(iid)
        note = None
        if left_out:
            names = ", ".join(f"{t} ({row['n_prompts']})" for t, row in sorted(types.items()))
            note = (f"{len(left_out)} of {len(self.results)} prompts hold an instruction type crabkit does not "
                    f"check and are left out of the metrics: {names}; 'all_prompts' counts them as failed")  # fmt: skip
        return {
            "n_prompts": len(left_out),
            "keys": [r.key for r in left_out],
            "types": dict(sorted(types.items())),
            "note": note,
        }


def _tally(results: Sequence[PromptResult]) -> tuple[dict[str, Any], dict[str, list[int]], dict[str, list[int]]]:
    """The four rates and counts over ``results``, and the per-id and per-family counts."""
    by_id: dict[str, list[int]] = {}
    by_family: dict[str, list[int]] = {}
    prompt_strict = prompt_loose = 0
    for result in results:
        prompt_strict += result.strict_all
        prompt_loose += result.loose_all
        for iid, s, lo in zip(result.instruction_id_list, result.strict, result.loose):
            for table, name in ((by_id, iid), (by_family, iid.split(":", 1)[0])):
                row = table.setdefault(name, [0, 0, 0])
                row[0] += 1
                row[1] += s
                row[2] += lo
    n_prompts = len(results)
    n_instructions = sum(row[0] for row in by_id.values())
    rates = {
        "prompt_strict": _ratio(prompt_strict, n_prompts),
        "instruction_strict": _ratio(sum(r[1] for r in by_id.values()), n_instructions),
        "prompt_loose": _ratio(prompt_loose, n_prompts),
        "instruction_loose": _ratio(sum(r[2] for r in by_id.values()), n_instructions),
        "n_prompts": n_prompts,
        "n_instructions": n_instructions,
    }
    return rates, by_id, by_family


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


def read_prompts(path: str | Path) -> list[EvalPrompt]:
    """Prompts from a JSONL file in the reference ``input_data.jsonl`` format."""
    prompts = [EvalPrompt.from_dict(record, where) for where, record in iter_jsonl_objects(path, EvalDataError)]
    seen: set[str] = set()
    for prompt in prompts:
        if str(prompt.key) in seen:
            raise EvalDataError(f"{path}: key {prompt.key!r} appears twice")
        seen.add(str(prompt.key))
    return prompts


def read_responses(path: str | Path) -> list[dict[str, Any]]:
    """Response records (``prompt`` and/or ``key``, ``response``) from a JSONL file.

    Each record also carries ``_where`` (file and line), so later errors can name the line.
    """
    records = []
    for where, record in iter_jsonl_objects(path, EvalDataError):
        if "response" not in record:
            raise EvalDataError(f"{where}: missing field 'response'")
        if not isinstance(record["response"], str):
            raise EvalDataError(f"{where}: field 'response' must be a string")
        if "prompt" not in record and "key" not in record:
            raise EvalDataError(f"{where}: needs a 'prompt' or a 'key' field to match it to a prompt")
        records.append({**record, "_where": where})
    return records


# --- matching --------------------------------------------------------------------------------------


def _response_table(
    prompts: Sequence[EvalPrompt],
    responses: Mapping[Any, str] | Sequence[str] | Sequence[Mapping[str, Any]],
    match_by: MatchBy,
    stripped: bool,
) -> dict[str, str]:
    """Responses keyed by ``str(key)`` or by prompt text, whichever ``match_by`` names; with
    ``stripped`` (and prompt matching) each prompt text is also entered stripped, as IFBench's
    reference enters it."""
    if match_by not in ("prompt", "key"):
        raise ValueError(f"match_by must be 'prompt' or 'key', not {match_by!r}")
    strip = stripped and match_by == "prompt"
    if isinstance(responses, Mapping):
        table = {(str(k) if match_by == "key" else k): v for k, v in responses.items()}
        if strip:
            for ident in list(table):
                if isinstance(ident, str):
                    table.setdefault(ident.strip(), table[ident])
    elif responses and all(isinstance(r, str) for r in responses):
        if len(responses) != len(prompts):
            raise EvalDataError(f"{len(responses)} responses given by position for {len(prompts)} prompts")
        return {_prompt_id(p, match_by): r for p, r in zip(prompts, responses)}  # type: ignore[misc]
    else:
        table = {}
        for index, record in enumerate(responses):
            where = f"response {index}"
            if isinstance(record, Mapping):
                where = record.get("_where", where)
            if not isinstance(record, Mapping) or not isinstance(record.get("response"), str):
                raise EvalDataError(f"{where}: expected a record with a string 'response'")
            if match_by not in record:
                raise EvalDataError(f"{where}: missing field {match_by!r} (matching by {match_by})")
            if match_by == "prompt" and not isinstance(record["prompt"], str):
                raise EvalDataError(f"{where}: field 'prompt' must be a string")
            ident = str(record["key"]) if match_by == "key" else record["prompt"]
            # Later records win, as in the reference's prompt -> response dict.
            table[ident] = record["response"]
            if strip and ident.strip() != ident:
                table[ident.strip()] = record["response"]
    for ident, response in table.items():
        if not isinstance(response, str):
            raise EvalDataError(f"response for {ident!r} is not a string")
    return table


def _prompt_id(prompt: EvalPrompt, match_by: MatchBy) -> str:
    return str(prompt.key) if match_by == "key" else prompt.prompt


# --- scoring ---------------------------------------------------------------------------------------


def score_prompt(prompt: EvalPrompt, response: str | None, bench: Benchmark = IFEVAL) -> PromptResult:
    """Strict and loose verdicts of ``response`` for every instruction of ``prompt``; ``None`` (no
    response) fails them all. The kwargs are checked either way. An instruction of a type the
    benchmark lists as unsupported reads False and is named in ``PromptResult.unsupported``."""
    unsupported = bench.unsupported or {}
    variants = loose_variants(response) if response is not None else None
    strict: list[bool] = []
    loose: list[bool] = []
    skipped: list[str] = []
    for iid, kwargs in zip(prompt.instruction_id_list, prompt.kwargs):
        if iid in unsupported:
            skipped.append(iid)
            verdict = (False, False)
        else:
            try:
                verdict = instruction_verdict(iid, kwargs, prompt.prompt, response, resolve=bench.resolve,
                                              variants=variants)  # fmt: skip
            except UnknownConstraintType:
                raise EvalDataError(f"prompt key {prompt.key!r}: unknown instruction id {iid!r}") from None
            except ValueError as exc:  # the kwargs policy, or a check refusing its params: names the field
                raise EvalDataError(f"prompt key {prompt.key!r}: {exc}") from None
        strict.append(verdict[0])
        loose.append(verdict[1])
    return PromptResult(prompt.key, prompt.prompt, list(prompt.instruction_id_list), strict, loose,
                        response is not None, skipped, response)  # fmt: skip


def score(
    prompts: Iterable[EvalPrompt | Mapping[str, Any]],
    responses: Mapping[Any, str] | Sequence[str] | Sequence[Mapping[str, Any]],
    match_by: MatchBy = "prompt",
    skip_missing: bool = False,
    bench: Benchmark = IFEVAL,
) -> EvalResult:
    """Score ``responses`` against ``prompts`` of ``bench``.

    ``responses`` is a list of records (``{"prompt"/"key": ..., "response": ...}``, e.g. from
    ``read_responses``), a mapping from prompt text (or key, with ``match_by="key"``) to response,
    or a list of response strings in prompt order. A prompt without a response fails every
    instruction, or with ``skip_missing`` is left out of the scores; either way it is listed in
    ``missing``.
    """
    prompt_list = [
        p if isinstance(p, EvalPrompt) else EvalPrompt.from_dict(p, f"prompt {i}")
        for i, p in enumerate(prompts)
    ]
    strip = bench.match_stripped and match_by == "prompt"
    table = _response_table(prompt_list, responses, match_by, bench.match_stripped)
    results, missing, used = [], [], set()
    for prompt in prompt_list:
        ident = _prompt_id(prompt, match_by)
        response = table.get(ident)
        if response is None and strip:
            ident = ident.strip()
            response = table.get(ident)
        if response is None:
            missing.append(prompt)
            if skip_missing:
                score_prompt(prompt, None, bench)  # bad kwargs are an error whether or not the prompt is scored
                continue
        else:
            used.add(ident)
        results.append(score_prompt(prompt, response, bench))
    if strip:
        unmatched = len({i.strip() for i in table} - {i.strip() for i in used})
    else:
        unmatched = len(set(table) - used)
    return EvalResult(results, missing, unmatched, skip_missing, bench.unsupported)
