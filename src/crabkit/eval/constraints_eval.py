"""Held-out constraint following: instruction + sampled verifiable constraints -> response -> registry checks.

The held-out seeds of a crabkit run are chosen by a hash of their id, so the split is the same
on every machine and for every consumer (:func:`is_heldout` lets a trainer leave them out). Each
held-out seed gets ``k`` of its own verified constraints, drawn and worded exactly as forward
composition does (``sample_k``, ``sample_constraints``, ``forward_prompt``) with an rng seeded by
``(seed, seed id)``; the model answers; every constraint is checked by its registry type. As in
IFEval's strict score, a blank answer (or a failed generation) fails every constraint, even those
an empty text would trivially meet ("no exclamation marks").

Reported: the prompt-level pass rate (all constraints of a prompt met) and the constraint-level
pass rate, each with a 95% percentile-bootstrap interval over prompts, and pass rates per type and
per family with 95% Wilson intervals.

Example::

    from crabkit.eval.constraints_eval import evaluate_constraints
    summary = evaluate_constraints(backend, "runs/crab", n=100, seed=0)
    summary["prompt_level"]["rate"], summary["constraint_level"]["ci95"]
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crabkit.compose.forward import ForwardConfig, forward_prompt, sample_constraints, sample_k
from crabkit.constraints import UnknownConstraintType, get
from crabkit.eval.generate import GenSettings, describe_backend, generate_responses
from crabkit.eval.ifeval_run import bootstrap_intervals
from crabkit.io.jsonl import iter_jsonl_objects
from crabkit.llm.base import Backend
from crabkit.records import Constraint, dumps

__all__ = [
    "ConstraintsEvalError",
    "EvalItem",
    "build_items",
    "evaluate_constraints",
    "heldout_seeds",
    "is_heldout",
    "wilson_interval",
]

DEFAULT_FRACTION = 0.1


class ConstraintsEvalError(ValueError):
    """A run directory that cannot be evaluated: missing or malformed ``constraints.jsonl``."""


@dataclass
class EvalItem:
    """One held-out prompt: the seed's instruction plus the constraints it asks for."""

    id: str
    instruction: str
    prompt: str
    constraints: list[Constraint] = field(default_factory=list)


def _hash_unit(seed_id: str, salt: int) -> float:
    """A number in [0, 1) fixed by the seed id (and salt), the same on every machine."""
    digest = hashlib.sha256(f"crabkit-heldout:{salt}:{seed_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_heldout(seed_id: str, fraction: float = DEFAULT_FRACTION, salt: int = 0) -> bool:
    """Whether a seed belongs to the held-out share ``fraction`` (stable: no other seed matters)."""
    return _hash_unit(seed_id, salt) < fraction


def _read_rows(run_dir: Path) -> Iterator[dict[str, Any]]:
    path = run_dir / "constraints.jsonl"
    if not path.exists():
        raise ConstraintsEvalError(f"{run_dir}: no constraints.jsonl (is this a `crab generate` run directory?)")
    for where, row in iter_jsonl_objects(path, ConstraintsEvalError):
        for name, kind in (("id", str), ("instruction", str), ("constraints", list)):
            if not isinstance(row.get(name), kind):
                raise ConstraintsEvalError(f"{where}: field {name!r} is missing or not a {kind.__name__}")
        row["_where"] = where
        yield row


def _checkable(row: dict[str, Any]) -> list[Constraint]:
    """The row's verified constraints that the registry can check (soft ones have no checker)."""
    out = []
    for i, d in enumerate(row["constraints"]):
        try:
            c = Constraint.from_json(d)
        except TypeError as exc:
            raise ConstraintsEvalError(f"{row['_where']}: constraints[{i}] is malformed ({exc})") from None
        if not c.verified or c.source != "rule":
            continue
        try:
            get(c.type)
        except UnknownConstraintType:
            continue
        out.append(c)
    return out


def heldout_seeds(
    run_dir: str | Path, n: int | None = None, fraction: float = DEFAULT_FRACTION, salt: int = 0
) -> list[dict[str, Any]]:
    """Held-out rows of ``constraints.jsonl`` that have a checkable constraint, in hash order.

    With ``n``: the ``n`` seeds of lowest hash (a prefix of one fixed order, so ``n=50`` is part of
    ``n=100``). Otherwise every seed with :func:`is_heldout`.
    """
    rows = [r for r in _read_rows(Path(run_dir)) if _checkable(r)]
    ranked = sorted(rows, key=lambda r: (_hash_unit(r["id"], salt), r["id"]))
    if n is not None:
        if n < 1:
            raise ConstraintsEvalError(f"n must be at least 1, not {n}")
        return ranked[:n]
    if not 0 < fraction <= 1:
        raise ConstraintsEvalError(f"fraction must be in (0, 1], not {fraction}")
    return [r for r in ranked if _hash_unit(r["id"], salt) < fraction]


def build_items(rows: Sequence[dict[str, Any]], seed: int, cfg: ForwardConfig | None = None) -> list[EvalItem]:
    """A prompt per row: ``k`` of its constraints (never two in conflict), in forward wording."""
    cfg = cfg or ForwardConfig()
    items = []
    for row in rows:
        pool = _checkable(row)
        rng = random.Random(f"{seed}:constraints-eval:{row['id']}")
        chosen = sample_constraints(pool, sample_k(len(pool), cfg, rng), rng, cfg.weights)
        items.append(EvalItem(row["id"], row["instruction"], forward_prompt(row["instruction"], chosen, rng), chosen))
    return items


def _check(c: Constraint, response: str) -> bool:
    if not response.strip():
        return False
    try:
        return bool(get(c.type).check(response, c.params))
    except ValueError:  # params the checker rejects: count as not followed, never crash the report
        return False


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> list[float]:
    """The 95% Wilson score interval of a binomial proportion (sound for small n and rates near 0/1)."""
    if n == 0:
        return [0.0, 0.0]
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def _rates(table: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
    return {
        name: {"n": n, "passed": k, "rate": k / n if n else 0.0, "ci95": wilson_interval(k, n)}
        for name, (n, k) in sorted(table.items())
    }


def _summarize(results: Sequence[dict[str, Any]], n_boot: int, seed: int) -> dict[str, Any]:
    by_type: dict[str, list[int]] = {}
    by_family: dict[str, list[int]] = {}
    for r in results:
        for c in r["constraints"]:
            for table, name in ((by_type, c["type"]), (by_family, c["type"].split(":", 1)[0])):
                row = table.setdefault(name, [0, 0])
                row[0] += 1
                row[1] += c["passed"]
    passed = [sum(c["passed"] for c in r["constraints"]) for r in results]
    totals = [len(r["constraints"]) for r in results]
    ci = bootstrap_intervals(
        {"prompt": [r["all_passed"] for r in results], "constraint": (passed, totals)}, n_boot, seed
    )
    n_prompts, n_constraints = len(results), sum(totals)
    return {
        "prompt_level": {
            "rate": sum(r["all_passed"] for r in results) / n_prompts if n_prompts else 0.0,
            "n": n_prompts,
            "ci95": ci.get("prompt", [0.0, 0.0]),
        },
        "constraint_level": {
            "rate": sum(passed) / n_constraints if n_constraints else 0.0,
            "n": n_constraints,
            "ci95": ci.get("constraint", [0.0, 0.0]),
        },
        "by_type": _rates(by_type),
        "by_family": _rates(by_family),
        "intervals": {
            "overall": f"percentile bootstrap over prompts, {n_boot} resamples, seed {seed}",
            "by_type_and_family": "Wilson score",
        },
    }


def evaluate_constraints(
    backend: Backend,
    run_dir: str | Path,
    n: int | None = None,
    seed: int = 0,
    *,
    fraction: float = DEFAULT_FRACTION,
    out_dir: str | Path | None = None,
    settings: GenSettings | None = None,
    forward: ForwardConfig | None = None,
    n_boot: int = 2000,
    progress: bool = False,
) -> dict[str, Any]:
    """Generate answers to the held-out prompts of ``run_dir``, check them, and return the summary.

    ``n`` picks that many held-out seeds (else the share ``fraction``); ``seed`` fixes the split's
    constraint draws, wording and bootstrap. With ``out_dir``, writes ``responses.jsonl``
    (resumable), ``results.jsonl`` (per prompt and constraint verdicts) and ``summary.json``.
    """
    run = Path(run_dir)
    rows = heldout_seeds(run, n, fraction)
    if not rows:
        raise ConstraintsEvalError(f"{run}: no held-out seed with a checkable constraint (try a larger --n)")
    items = build_items(rows, seed, forward)
    settings = settings or GenSettings()
    out = Path(out_dir) if out_dir is not None else None
    generated = generate_responses(
        backend, [(it.id, it.prompt) for it in items],
        out / "responses.jsonl" if out is not None else None, settings, progress=progress,
    )
    results = []
    for it, g in zip(items, generated):
        verdicts = [
            {"type": c.type, "params": c.params, "text": c.text, "passed": _check(c, g["response"])}
            for c in it.constraints
        ]
        results.append({
            "id": it.id, "prompt": it.prompt, "response": g["response"], "error": g["error"],
            "constraints": verdicts, "all_passed": all(v["passed"] for v in verdicts),
        })
    summary = {
        "benchmark": "crab-constraints",
        "run_dir": str(run),
        "split": {"n": n, "fraction": None if n is not None else fraction, "seed": seed,
                  "heldout_seeds": len(items)},
        "generation": {"backend": describe_backend(backend), **settings.to_json()},
        "generation_errors": sum(1 for g in generated if g["error"]),
        **_summarize(results, n_boot, seed),
    }
    if out is not None:
        with open(out / "results.jsonl", "w", encoding="utf-8") as f:
            f.writelines(dumps(r) + "\n" for r in results)
        (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary
