"""IFBench (Pyatkin et al. 2025): 58 constraint types over 300 held-out WildChat prompts, scored as
the reference ``evaluation_lib`` scores them.

The engine is IFEval's (``crabkit.eval.scoring``, ``crabkit.eval.benchmark_run``); what differs is
``IFBENCH``: ids resolve to IFBench's types first, then to IFEval's, a response's prompt also matches
after ``strip()`` (as the reference's prompt -> response table allows), and the types crabkit does
not check (``unsupported_types()``, with reasons) leave their prompts out of the headline metrics.
Those prompts are counted in ``summary["unsupported"]``, and ``summary["all_prompts"]`` gives the
reading over every prompt with each unsupported instruction counted as failed.

Example::

    from crabkit.eval.ifbench import load_ifbench_prompts, run_ifbench
    summary = run_ifbench(None, load_ifbench_prompts("IFBench_test.jsonl"), "runs/ifbench",
                          responses="sample_output.jsonl")
    summary["prompt_loose"], summary["unsupported"]["note"]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Unpack

from crabkit.eval.benchmark_run import RunOptions, load_prompts, run_benchmark
from crabkit.eval.scoring import IFBENCH, EvalPrompt
from crabkit.llm.base import Backend

__all__ = ["DEFAULT_HUB_ID", "IFBENCH", "load_ifbench_prompts", "run_ifbench", "unsupported_types"]

DEFAULT_HUB_ID = IFBENCH.hub_id


def unsupported_types() -> dict[str, str]:
    """IFBench instruction id -> why crabkit does not check it."""
    return dict(IFBENCH.unsupported or {})


def load_ifbench_prompts(source: str | Path, limit: int | None = None) -> list[EvalPrompt]:
    """IFBench prompts from a local ``IFBench_test.jsonl``-format file or a Hub id (default
    ``allenai/IFBench_test``); the kwargs' nulls are dropped."""
    prompts = load_prompts(source, IFBENCH, limit)
    return [EvalPrompt(p.key, p.prompt, p.instruction_id_list,
                       [{k: v for k, v in kw.items() if v is not None} for kw in p.kwargs]) for p in prompts]  # fmt: skip


def run_ifbench(backend: Backend | None, prompts: Sequence[EvalPrompt], out_dir: str | Path,
                **options: Unpack[RunOptions]) -> dict[str, Any]:  # fmt: skip
    """``crabkit.eval.benchmark_run.run_benchmark`` with the IFBench benchmark (same options)."""
    return run_benchmark(IFBENCH, backend, prompts, out_dir, **options)
