"""IFEval end to end: load prompts, generate responses (or read them), score, and write the run directory.

``DIR/responses.jsonl`` holds ``key``, ``prompt`` and ``response`` (the reference response format,
so ``crab ifeval score`` and the reference scorer read it too), ``DIR/results.jsonl`` the per-prompt
verdicts and ``DIR/summary.json`` the four reference metrics, their mean (the ``aggregate`` we
report as one IFEval number), 95% percentile-bootstrap intervals over prompts, and the per-family
and per-instruction tables.

Example::

    from crabkit.eval.ifeval_run import load_ifeval_prompts, run_ifeval
    summary = run_ifeval(backend, load_ifeval_prompts("google/IFEval"), "runs/ifeval")
    summary["aggregate"]
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crabkit.eval.generate import GenSettings, describe_backend, generate_responses
from crabkit.eval.ifeval import (
    IFEvalDataError,
    IFEvalPrompt,
    IFEvalResult,
    read_prompts,
    read_responses,
    score,
)
from crabkit.llm.base import Backend
from crabkit.records import dumps

__all__ = [
    "DEFAULT_HUB_ID",
    "METRICS",
    "bootstrap_intervals",
    "load_ifeval_prompts",
    "run_ifeval",
    "summarize",
]

log = logging.getLogger("crabkit.eval.ifeval_run")

DEFAULT_HUB_ID = "google/IFEval"
METRICS = ("prompt_strict", "instruction_strict", "prompt_loose", "instruction_loose")


def load_ifeval_prompts(source: str | Path, limit: int | None = None) -> list[IFEvalPrompt]:
    """Prompts from a local JSONL in the reference ``input_data.jsonl`` format, or a Hub dataset id.

    A path that does not exist but looks like ``owner/name`` is read with ``datasets`` (the ``hf``
    extra); the Hub copy fills every kwarg slot, with ``None`` for unused ones, which are dropped.
    """
    path = Path(source)
    if path.exists():
        prompts = read_prompts(path)
    elif isinstance(source, str) and source.count("/") == 1 and not source.endswith(".jsonl"):
        prompts = _load_hub(source)
    else:
        raise IFEvalDataError(f"{source}: no such file (and not a Hub dataset id like {DEFAULT_HUB_ID})")
    if limit is not None:
        if limit < 1:
            raise IFEvalDataError(f"limit must be at least 1, not {limit}")
        prompts = prompts[:limit]
    return prompts


def _load_hub(hub_id: str) -> list[IFEvalPrompt]:
    try:
        import datasets
    except ImportError:
        raise IFEvalDataError(
            f"{hub_id!r} is not a local file; reading it from the Hugging Face Hub needs the 'hf' extra "
            "(pip install 'crabkit[hf]')"
        ) from None
    try:
        ds = datasets.load_dataset(hub_id, split="train")
    except Exception as exc:  # noqa: BLE001 - offline, missing or private: one clear message
        raise IFEvalDataError(f"cannot load {hub_id!r} from the Hub: {type(exc).__name__}: {exc}") from None
    prompts = []
    for i, row in enumerate(ds):
        record = dict(row)
        record["kwargs"] = [
            {k: v for k, v in (kw or {}).items() if v is not None} for kw in record.get("kwargs") or []
        ]
        prompts.append(IFEvalPrompt.from_dict(record, f"{hub_id} row {i}"))
    return prompts


# --- statistics ------------------------------------------------------------------------------------

def bootstrap_intervals(
    samples: Mapping[str, Any], n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> dict[str, list[float]]:
    """Percentile bootstrap intervals, resampling *prompts* (the unit the benchmark draws).

    ``samples`` maps a metric name to a per-prompt array of successes, or to a pair ``(successes,
    trials)`` of per-prompt arrays for ratio metrics (instructions followed / instructions). Every
    metric is computed on the same resamples, so ``aggregate`` (when asked for via the key
    ``"aggregate"`` holding the list of metric names) is their mean per resample.
    """
    rng = np.random.default_rng(seed)
    names = [k for k in samples if k != "aggregate"]
    if not names:
        return {}
    first = samples[names[0]]
    n = len(first[0] if isinstance(first, tuple) else first)
    if n == 0:
        return {k: [0.0, 0.0] for k in samples}
    idx = rng.integers(0, n, size=(n_boot, n))
    draws: dict[str, np.ndarray] = {}
    for name in names:
        value = samples[name]
        if isinstance(value, tuple):
            num, den = (np.asarray(v, dtype=float) for v in value)
            totals = den[idx].sum(axis=1)
            draws[name] = np.divide(num[idx].sum(axis=1), totals, out=np.zeros(n_boot), where=totals > 0)
        else:
            draws[name] = np.asarray(value, dtype=float)[idx].mean(axis=1)
    if "aggregate" in samples:
        draws["aggregate"] = np.mean([draws[m] for m in samples["aggregate"]], axis=0)
    tail = (1 - level) / 2 * 100
    return {k: [float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))] for k, v in draws.items()}


def summarize(result: IFEvalResult, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The scorer's summary plus ``aggregate`` (mean of the four metrics) and ``ci95`` for each."""
    summary = result.summary()
    summary["aggregate"] = float(np.mean([summary[m] for m in METRICS]))
    rs = result.results
    samples: dict[str, Any] = {
        "prompt_strict": [r.strict_all for r in rs],
        "instruction_strict": ([sum(r.strict) for r in rs], [len(r.strict) for r in rs]),
        "prompt_loose": [r.loose_all for r in rs],
        "instruction_loose": ([sum(r.loose) for r in rs], [len(r.loose) for r in rs]),
        "aggregate": list(METRICS),
    }
    summary["ci95"] = bootstrap_intervals(samples, n_boot, seed)
    summary["bootstrap"] = {"resamples": n_boot, "seed": seed, "unit": "prompt", "method": "percentile"}
    return summary


# --- end to end ------------------------------------------------------------------------------------

def run_ifeval(
    backend: Backend | None,
    prompts: Sequence[IFEvalPrompt],
    out_dir: str | Path,
    *,
    settings: GenSettings | None = None,
    responses: str | Path | None = None,
    match_by: Literal["auto", "prompt", "key"] = "auto",
    n_boot: int = 2000,
    seed: int = 0,
    source: str = "",
    progress: bool = False,
    skip_missing: bool = False,
) -> dict[str, Any]:
    """Generate a response to every prompt with ``backend`` (or read ``responses``), score, write files.

    Generation is resumable: ``out_dir/responses.jsonl`` grows as answers arrive, and a rerun with
    the same settings reuses its rows. With ``responses`` nothing is generated; records are matched
    by key when every one has a key (``match_by="auto"``), else by prompt text as the reference does.
    Failed generations are scored as empty responses (they fail every instruction) and counted. A
    prompt the responses file does not answer fails every instruction, or with ``skip_missing`` is
    left out; ``summary["missing_note"]`` says which it was.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = settings or GenSettings()
    errors = 0
    if responses is not None:
        records = read_responses(responses)
        if match_by == "auto":
            match_by = "key" if records and all("key" in r for r in records) else "prompt"
        result = score(prompts, records, match_by=match_by, skip_missing=skip_missing)
        generation: dict[str, Any] = {"source": str(responses), "match_by": match_by}
        rows = _scored_rows(result, records, match_by)
    else:
        if backend is None:
            raise IFEvalDataError("give a backend to generate responses, or a responses file to score")
        # responses.jsonl is the generator's own resumable file: reference fields plus bookkeeping.
        generated = generate_responses(
            backend, [(str(p.key), p.prompt) for p in prompts], out / "responses.jsonl", settings,
            progress=progress,
        )
        errors = sum(1 for g in generated if g["error"])
        if errors:
            log.warning("%d of %d generations failed; they are scored as empty responses", errors, len(prompts))
        result = score(prompts, [g["response"] for g in generated], match_by="key")
        generation = {"backend": describe_backend(backend), **settings.to_json()}
        rows = None
    summary = {
        "benchmark": "IFEval",
        "prompts": source,
        "generation": generation,
        "generation_errors": errors,
        **summarize(result, n_boot, seed),
        "missing_note": result.missing_note(),
    }
    if rows is not None:
        with open(out / "responses.jsonl", "w", encoding="utf-8") as f:
            f.writelines(dumps(r) + "\n" for r in rows)
    with open(out / "results.jsonl", "w", encoding="utf-8") as f:
        f.writelines(dumps(r.to_dict()) + "\n" for r in result.results)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary


def _scored_rows(
    result: IFEvalResult, records: Sequence[Mapping[str, Any]], match_by: str
) -> list[dict[str, Any]]:
    """The given responses that were scored, as ``{key, prompt, response}`` in prompt order."""
    table = {}
    for r in records:  # later records win, as in the scorer
        table[str(r["key"]) if match_by == "key" else r["prompt"]] = r["response"]
    return [
        {"key": r.key, "prompt": r.prompt, "response": table[str(r.key) if match_by == "key" else r.prompt]}
        for r in result.results
        if r.has_response
    ]
