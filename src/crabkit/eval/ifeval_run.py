"""IFEval end to end: load prompts, generate responses (or read them), score, and write the run directory.

``DIR/responses.jsonl`` holds ``key``, ``prompt`` and ``response`` (the reference response format,
so ``crab ifeval score`` and the reference scorer read it too), ``DIR/results.jsonl`` the per-prompt
verdicts and ``DIR/summary.json`` the four reference metrics, their mean (the ``aggregate`` we
report as one IFEval number), 95% percentile-bootstrap intervals over prompts, and the per-family
and per-instruction tables. The code is the one IFEval and IFBench share
(``crabkit.eval.benchmark_run``), run with the IFEval benchmark.

Example::

    from crabkit.eval.ifeval_run import load_ifeval_prompts, run_ifeval
    summary = run_ifeval(backend, load_ifeval_prompts("google/IFEval"), "runs/ifeval")
    summary["aggregate"]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Unpack

from crabkit.eval.benchmark_run import (
    METRICS,
    RunOptions,
    bootstrap_intervals,
    load_prompts,
    run_benchmark,
    summarize,
)
from crabkit.eval.scoring import IFEVAL, EvalPrompt
from crabkit.llm.base import Backend

__all__ = [
    "DEFAULT_HUB_ID",
    "METRICS",
    "bootstrap_intervals",
    "load_ifeval_prompts",
    "run_ifeval",
    "summarize",
]

DEFAULT_HUB_ID = IFEVAL.hub_id


def load_ifeval_prompts(source: str | Path, limit: int | None = None) -> list[EvalPrompt]:
    """IFEval prompts from a local ``input_data.jsonl``-format file or a Hub id (default ``google/IFEval``)."""
    return load_prompts(source, IFEVAL, limit)


def run_ifeval(backend: Backend | None, prompts: Sequence[EvalPrompt], out_dir: str | Path,
               **options: Unpack[RunOptions]) -> dict[str, Any]:  # fmt: skip
    """``crabkit.eval.benchmark_run.run_benchmark`` with the IFEval benchmark (same options)."""
    return run_benchmark(IFEVAL, backend, prompts, out_dir, **options)
