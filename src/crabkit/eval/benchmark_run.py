"""An IFEval-style benchmark end to end: load prompts, generate responses (or read them), score, write the run directory.

One code path for IFEval and IFBench, parameterised by a ``crabkit.eval.scoring.Benchmark``.
``DIR/responses.jsonl`` holds ``key``, ``prompt`` and ``response`` (the reference response format,
so the alias commands and the reference scorers read it too), ``DIR/results.jsonl`` the per-prompt
verdicts and ``DIR/summary.json`` the four reference metrics, their mean (the ``aggregate``
reported as one number), 95% percentile-bootstrap intervals over prompts, and the per-family and
per-instruction tables. For a benchmark with unsupported types (IFBench) the summary adds
``unsupported`` and ``all_prompts`` (the reading over every prompt, unsupported instructions
counted as failed), with its own intervals.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypedDict

import numpy as np

from crabkit.eval.generate import GenSettings, describe_backend, generate_responses
from crabkit.eval.scoring import (
    Benchmark,
    EvalDataError,
    EvalPrompt,
    EvalResult,
    PromptResult,
    read_prompts,
    read_responses,
    score,
)
from crabkit.llm.base import Backend
from crabkit.records import dumps

__all__ = ["METRICS", "RunOptions", "bootstrap_intervals", "load_prompts", "run_benchmark", "summarize"]

log = logging.getLogger("crabkit.eval.benchmark_run")

METRICS = ("prompt_strict", "instruction_strict", "prompt_loose", "instruction_loose")


def load_prompts(source: str | Path, bench: Benchmark, limit: int | None = None) -> list[EvalPrompt]:
    """Prompts from a local JSONL in the reference ``input_data.jsonl`` format, or a Hub dataset id.

    A path that does not exist but looks like ``owner/name`` is read with ``datasets`` (the ``hf``
    extra); the Hub copy fills every kwarg slot, with ``None`` for unused ones, which are dropped.
    """
    path = Path(source)
    if path.exists():
        prompts = read_prompts(path)
    elif isinstance(source, str) and source.count("/") == 1 and not source.endswith(".jsonl"):
        prompts = _load_hub(source, bench.hub_split)
    else:
        raise EvalDataError(f"{source}: no such file (and not a Hub dataset id like {bench.hub_id})")
    if limit is not None:
        if limit < 1:
            raise EvalDataError(f"limit must be at least 1, not {limit}")
        prompts = prompts[:limit]
    return prompts


def _load_hub(hub_id: str, split: str) -> list[EvalPrompt]:
    try:
        import datasets
    except ImportError:
        raise EvalDataError(
            f"{hub_id!r} is not a local file; reading it from the Hugging Face Hub needs the 'hf' extra "
            "(pip install 'crabkit[hf]')"
        ) from None
    try:
        ds = datasets.load_dataset(hub_id, split=split)
    except Exception as exc:  # noqa: BLE001 - offline, missing or private: one clear message
        raise EvalDataError(f"cannot load {hub_id!r} from the Hub: {type(exc).__name__}: {exc}") from None
    prompts = []
    for i, row in enumerate(ds):
        record = dict(row)
        record["kwargs"] = [
            {k: v for k, v in (kw or {}).items() if v is not None} for kw in record.get("kwargs") or []
        ]
        prompts.append(EvalPrompt.from_dict(record, f"{hub_id} row {i}"))
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


def _intervals(results: Sequence[PromptResult], n_boot: int, seed: int) -> dict[str, list[float]]:
    samples: dict[str, Any] = {
        "prompt_strict": [r.strict_all for r in results],
        "instruction_strict": ([sum(r.strict) for r in results], [len(r.strict) for r in results]),
        "prompt_loose": [r.loose_all for r in results],
        "instruction_loose": ([sum(r.loose) for r in results], [len(r.loose) for r in results]),
        "aggregate": list(METRICS),
    }
    return bootstrap_intervals(samples, n_boot, seed)


def summarize(result: EvalResult, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The scorer's summary plus ``aggregate`` (mean of the four metrics) and ``ci95`` for each
    (for ``all_prompts`` too, where the summary has it)."""
    summary = result.summary()
    summary["aggregate"] = float(np.mean([summary[m] for m in METRICS]))
    summary["ci95"] = _intervals(result.scored, n_boot, seed)
    summary["bootstrap"] = {"resamples": n_boot, "seed": seed, "unit": "prompt", "method": "percentile"}
    if "all_prompts" in summary:
        every = summary["all_prompts"]
        every["aggregate"] = float(np.mean([every[m] for m in METRICS]))
        every["ci95"] = _intervals(result.results, n_boot, seed)
    return summary


# --- end to end ------------------------------------------------------------------------------------

class RunOptions(TypedDict, total=False):
    """The keyword options of :func:`run_benchmark` (what ``run_ifeval`` and ``run_ifbench`` take)."""

    settings: GenSettings | None
    responses: str | Path | None
    match_by: Literal["auto", "prompt", "key"]
    n_boot: int
    seed: int
    source: str
    progress: bool
    skip_missing: bool


def run_benchmark(
    bench: Benchmark,
    backend: Backend | None,
    prompts: Sequence[EvalPrompt],
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
        result = score(prompts, records, match_by=match_by, skip_missing=skip_missing, bench=bench)
        generation: dict[str, Any] = {"source": str(responses), "match_by": match_by}
        rows = [{"key": r.key, "prompt": r.prompt, "response": r.response} for r in result.results if r.has_response]
    else:
        if backend is None:
            raise EvalDataError("give a backend to generate responses, or a responses file to score")
        # responses.jsonl is the generator's own resumable file: reference fields plus bookkeeping.
        generated = generate_responses(
            backend, [(str(p.key), p.prompt) for p in prompts], out / "responses.jsonl", settings,
            progress=progress,
        )
        errors = sum(1 for g in generated if g["error"])
        if errors:
            log.warning("%d of %d generations failed; they are scored as empty responses", errors, len(prompts))
        result = score(prompts, [g["response"] for g in generated], match_by="key", bench=bench)
        generation = {"backend": describe_backend(backend), **settings.to_json()}
        rows = None
    summary = {
        "benchmark": bench.name,
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
