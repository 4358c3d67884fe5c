"""`crab eval BENCHMARK`: one subcommand per benchmark, each in its own ``_register_<name>`` function."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from crabkit.commands.options import add_backend_options
from crabkit.commands.options import backend_from_args as _backend_from_args

__all__ = ["add_backend_args", "backend_from_args", "register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate a model on an instruction-following benchmark")
    bench = p.add_subparsers(dest="benchmark", metavar="BENCHMARK")
    p.set_defaults(func=lambda args: _usage(p))
    _register_followbench(bench)
    _register_ifeval(bench)
    _register_ifbench(bench)
    _register_constraints(bench)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# --- shared backend flags --------------------------------------------------------------------------

def add_backend_args(p: argparse.ArgumentParser, prefix: str = "", what: str = "the model under test") -> None:
    """The shared backend options (``crabkit.commands.options``), with ``prefix`` for a judge."""
    add_backend_options(p, prefix=prefix, what=what)


def backend_from_args(args: argparse.Namespace, prefix: str = "", cache: Path | None = None):
    """The backend the ``prefix`` options describe (a counting one with ``--dry-run``); None without one."""
    return _backend_from_args(args, prefix, cache, dry_run=getattr(args, "dry_run", False))


def _dry_run_out(args: argparse.Namespace, out: Path) -> tuple[Path, Any]:
    """Where a run writes: ``out``, or with ``--dry-run`` a temporary directory (nothing is kept)."""
    if not getattr(args, "dry_run", False):
        return out, None
    import tempfile

    tmp = tempfile.TemporaryDirectory(prefix="crab-dry-run-")
    return Path(tmp.name), tmp


def _print_dry_run(name: str, backends: dict[str, Any]) -> None:
    for what, backend in backends.items():
        if backend is None or not hasattr(backend, "stats"):
            continue
        s = backend.stats
        print(f"crab eval {name} --dry-run: {what}: {s.misses} requests to send (about "
              f"{s.est_prompt_tokens:,} prompt tokens), {s.hits} already cached")  # fmt: skip
    print("  nothing was sent and no results were written")


# --- followbench -----------------------------------------------------------------------------------

def _register_followbench(bench: argparse._SubParsersAction) -> None:
    from crabkit.eval.followbench import CATEGORIES, DEFAULT_HUB_ID, LEVELS

    p = bench.add_parser("followbench", help="FollowBench: HSR/SSR per level, CSL (rules + LLM judge)")
    p.add_argument("--data", default=DEFAULT_HUB_ID,
                   help=f"directory of *_constraints.json, one JSON/JSONL file, or a Hub id (default {DEFAULT_HUB_ID})")
    p.add_argument("--out", required=True, help="run directory: results.jsonl, summary.json, llm_cache.sqlite")
    add_backend_args(p)
    add_backend_args(p, "judge-", "the judge")
    p.add_argument("--categories", nargs="+", choices=CATEGORIES, help="default: all six")
    p.add_argument("--levels", nargs="+", type=int, choices=LEVELS, help="default: 1-5")
    p.add_argument("--responses", help="score the responses in this JSONL/JSON file instead of generating")
    _add_generation_args(p, max_tokens=2048)
    p.add_argument("--judge-max-tokens", type=int, default=1024, help="most new tokens per judge answer")
    p.set_defaults(func=run_followbench_cmd)


def run_followbench_cmd(args: argparse.Namespace) -> int:
    from rich.console import Console

    from crabkit.eval.followbench import (
        FollowBenchDataError,
        JudgeParams,
        render_summary,
        run_followbench,
    )

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    out = Path(args.out)
    cache = None if args.no_cache else out / "llm_cache.sqlite"
    work, tmp = _dry_run_out(args, out)
    backend = judge = None
    try:
        if args.responses is None and args.backend is None:
            raise ValueError("give --backend to generate responses, or --responses to score existing ones")
        backend = None if args.responses else backend_from_args(args, cache=cache)
        judge = backend_from_args(args, "judge-", cache=cache)
        report = run_followbench(
            backend, args.data, judge, work,
            categories=args.categories, levels=args.levels or (1, 2, 3, 4, 5),
            gen_params=_gen_settings(args),
            judge_params=JudgeParams(max_tokens=args.judge_max_tokens),
            responses=args.responses,
        )
    except (FollowBenchDataError, ValueError, TypeError, OSError, ImportError, RuntimeError) as exc:
        print(f"crab eval followbench: {exc}", file=sys.stderr)
        return 2
    finally:
        for b in (backend, judge):
            if b is not None:
                b.close()
        if tmp is not None:
            tmp.cleanup()
    if tmp is not None:
        _print_dry_run("followbench", {"model under test": backend, "judge": judge})
        return 0
    console = Console()
    console.print(render_summary(report.summary))
    s = report.summary
    notes = [f"{s['overall']['n']} responses scored"]
    if s["overall"]["malformed"]:
        notes.append(f"{s['overall']['malformed']} malformed judge answers counted as NO")
    if s["overall"]["errors"]:
        notes.append(f"{s['overall']['errors']} failed generations scored as empty")
    if s["unscored"]["no_judge"]:
        notes.append(f"{s['unscored']['no_judge']} judge items skipped (no --judge-backend)")
    if s["unscored"]["no_response"]:
        notes.append(f"{s['unscored']['no_response']} items without a response")
    console.print("; ".join(notes) + f". Files: {out / 'results.jsonl'}, {out / 'summary.json'}")
    return 0


# --- shared generation flags -----------------------------------------------------------------------

def _add_generation_args(p: argparse.ArgumentParser, max_tokens: int) -> None:
    p.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (0: greedy)")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling share")
    p.add_argument("--max-tokens", type=int, default=max_tokens, help="most new tokens per answer")
    p.add_argument("--seed", type=int, help="sampling seed, for backends that take one")
    p.add_argument("--system", help="system prompt for the model under test")
    p.add_argument("--batch-size", type=int, default=64, help="requests per backend call (progress granularity)")
    p.add_argument("--no-cache", action="store_true", help="do not keep LLM answers in OUT/llm_cache.sqlite")
    p.add_argument("--dry-run", action="store_true",
                   help="count the requests generation would send (cached answers excluded); send nothing")


def _gen_settings(args: argparse.Namespace):
    from crabkit.eval.generate import GenSettings

    return GenSettings(args.temperature, args.top_p, args.max_tokens, args.seed, args.system, args.batch_size)


def _interval(rate: float, ci: list[float]) -> tuple[str, str]:
    return f"{rate:.4f}", f"[{ci[0]:.4f}, {ci[1]:.4f}]"


# --- ifeval, ifbench -------------------------------------------------------------------------------

_SCORED = {
    # name: (Benchmark attribute in crabkit.eval.scoring, help, what --prompts reads)
    "ifeval": ("IFEVAL", ("IFEval: generate (or read --responses), then score strict/loose at prompt and "
                          "instruction level"), "input_data.jsonl-format file"),
    "ifbench": ("IFBENCH", ("IFBench: 58 more constraint types over 300 WildChat prompts; generate (or read "
                            "--responses), then score as IFEval"), "IFBench_test.jsonl-format file"),
}


def _benchmark(name: str):
    from crabkit.eval import scoring

    return getattr(scoring, _SCORED[name][0])


def _register_ifeval(bench: argparse._SubParsersAction) -> None:
    _register_scored(bench, "ifeval")


def _register_ifbench(bench: argparse._SubParsersAction) -> None:
    _register_scored(bench, "ifbench")


def _register_scored(bench: argparse._SubParsersAction, name: str) -> None:
    spec = _benchmark(name)
    _, help_text, layout = _SCORED[name]
    description = (f"Generates a response to every prompt with --backend, or scores the responses in --responses "
                   f"(crab's one {spec.name} scorer; `crab {name} score` is an alias of the --responses form). Writes "
                   "OUT/responses.jsonl, OUT/results.jsonl and OUT/summary.json. A prompt without a response fails "
                   "every instruction unless --skip-missing is given.")  # fmt: skip
    if spec.unsupported is not None:
        description += (" Prompts holding a type crabkit does not check are left out of the headline metrics and "
                        "counted; the summary also gives the reading over all prompts with those instructions "
                        "counted as failed.")  # fmt: skip
    p = bench.add_parser(name, help=help_text, description=description)
    p.add_argument("--prompts", default=spec.hub_id,
                   help=f"{layout}, or a Hub dataset id (default {spec.hub_id})")
    p.add_argument("--out", required=True, help="run directory")
    add_backend_args(p)
    p.add_argument("--responses", help="score this responses JSONL instead of generating")
    add_scoring_args(p)
    p.add_argument("--limit", type=int, help="only the first N prompts")
    _add_generation_args(p, max_tokens=1024)
    p.set_defaults(func=run_scored_cmd, scored_benchmark=name)


def add_scoring_args(p: argparse.ArgumentParser) -> None:
    """The scoring options, shared by `crab eval ifeval|ifbench` and their aliases `crab ifeval|ifbench score`."""
    p.add_argument("--match-by", choices=["auto", "prompt", "key"], default="auto",
                   help="how --responses records find their prompt: by prompt text (as the reference), by key, "
                        "or auto: by key when every record has one, else by prompt text (default auto)")
    p.add_argument("--skip-missing", action="store_true",
                   help="score only the prompts that have a response (default: a prompt without one fails "
                        "every instruction)")
    p.add_argument("--bootstrap-seed", type=int, default=0, help="seed of the bootstrap intervals (default 0)")


def run_scored_cmd(args: argparse.Namespace) -> int:
    """`crab eval ifeval`, `crab eval ifbench` and their `score` aliases (``args.scored_benchmark``)."""
    from crabkit.eval.benchmark_run import run_benchmark
    from crabkit.eval.ifbench import load_ifbench_prompts
    from crabkit.eval.ifeval_run import load_ifeval_prompts
    from crabkit.eval.scoring import EvalDataError

    bench_name = getattr(args, "scored_benchmark", "ifeval")
    spec = _benchmark(bench_name)
    name = getattr(args, "command_name", f"crab eval {bench_name}")
    out = Path(args.out)
    dry_run = getattr(args, "dry_run", False)
    work, tmp = _dry_run_out(args, out)
    backend = None
    try:
        if args.responses is None and getattr(args, "backend", None) is None:
            raise ValueError("give --backend to generate responses, or --responses to score existing ones")
        load = load_ifbench_prompts if bench_name == "ifbench" else load_ifeval_prompts
        prompts = load(args.prompts, getattr(args, "limit", None))
        if args.responses is None:
            backend = backend_from_args(args, cache=None if args.no_cache else out / "llm_cache.sqlite")
        settings = _gen_settings(args) if args.responses is None else None
        summary = run_benchmark(spec, backend, prompts, work, settings=settings, responses=args.responses,
                                match_by=args.match_by, seed=args.bootstrap_seed, source=str(args.prompts),
                                progress=sys.stderr.isatty(), skip_missing=args.skip_missing)
    except (EvalDataError, ValueError, TypeError, OSError, ImportError, RuntimeError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    finally:
        if backend is not None:
            backend.close()
        if tmp is not None:
            tmp.cleanup()
    if dry_run and tmp is not None:
        _print_dry_run(bench_name, {"model under test": backend})
        return 0
    _print_scored_summary(summary, out)
    return 0


run_ifeval_cmd = run_scored_cmd  # the name `crab ifeval score` has always called


def _metrics_table(title: str, s: dict[str, Any]):
    from rich.table import Table

    from crabkit.eval.benchmark_run import METRICS

    table = Table(title=title)
    for column in ("metric", "score", "95% CI"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name in (*METRICS, "aggregate"):
        table.add_row(name, *_interval(s[name], s["ci95"][name]), end_section=name == METRICS[-1])
    return table


def _print_scored_summary(summary: dict[str, Any], out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    bench = summary.get("benchmark", "IFEval")
    left_out = summary.get("unsupported")
    title = f"{bench}: {summary['n_prompts']} prompts, {summary['n_instructions']} instructions"
    console = Console()
    console.print(_metrics_table(title, summary))
    if left_out is not None:
        console.print(f"the prompts whose every type crabkit checks; {left_out['n_prompts']} more left out (below)",
                      soft_wrap=True)  # fmt: skip
    # IFEval's 25 types fit a family table; IFBench's 58 are read per type.
    per_type = left_out is not None
    rows = summary["by_instruction" if per_type else "by_family"]
    label = "type" if per_type else "family"
    table = Table(title=f"per {label}")
    for column in (label, "n", "strict", "loose"):
        table.add_column(column, justify="left" if column == label else "right")
    for name, row in rows.items():
        table.add_row(name, str(row["n"]), f"{row['strict']:.4f}", f"{row['loose']:.4f}")
    console.print(table)
    if left_out is not None:
        every = summary["all_prompts"]
        console.print(_metrics_table(f"{bench}: all {every['n_prompts']} prompts", every))
        console.print(f"all {every['n_prompts']} prompts, unsupported instructions counted as failed", soft_wrap=True)
        for type_id, row in left_out["types"].items():
            console.print(f"not checked: {type_id} ({row['n_prompts']} prompts): {row['reason']}", soft_wrap=True)
        if left_out["note"]:
            console.print(left_out["note"], soft_wrap=True)
    console.print("aggregate = mean of the four metrics; intervals: percentile bootstrap over prompts",
                  soft_wrap=True)
    if summary.get("missing_note"):
        print(f"warning: {summary['missing_note']}", file=sys.stderr)
    if summary["generation_errors"]:
        console.print(f"warning: {summary['generation_errors']} failed generation(s) scored as empty responses")
    console.print(f"Files: {out / 'responses.jsonl'}, {out / 'results.jsonl'}, {out / 'summary.json'}", soft_wrap=True)


# --- constraints (held-out seeds of a crabkit run) -------------------------------------------------

def _register_constraints(bench: argparse._SubParsersAction) -> None:
    p = bench.add_parser("constraints", help="held-out seeds of a crab generate run + sampled verifiable constraints",
                         description="Writes OUT/responses.jsonl, OUT/results.jsonl and OUT/summary.json.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a `crab generate` run directory (constraints.jsonl)")
    p.add_argument("--out", help="output directory (default RUN_DIR/eval_constraints)")
    add_backend_args(p)
    p.add_argument("--n", type=int, help="evaluate this many held-out seeds (default: the --fraction share)")
    p.add_argument("--fraction", type=float, default=0.1, help="held-out share of seeds, by id hash (default 0.1)")
    p.add_argument("--split-seed", type=int, default=0, help="seed of constraint draws, wording and bootstrap")
    _add_generation_args(p, max_tokens=1024)
    p.set_defaults(func=run_constraints_cmd)


def run_constraints_cmd(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from crabkit.eval.constraints_eval import ConstraintsEvalError, evaluate_constraints

    out = Path(args.out) if args.out else Path(args.run_dir) / "eval_constraints"
    work, tmp = _dry_run_out(args, out)
    backend = None
    try:
        if args.backend is None:
            raise ValueError("give --backend: the model whose answers are checked")
        backend = backend_from_args(args, cache=None if args.no_cache else out / "llm_cache.sqlite")
        s = evaluate_constraints(backend, args.run_dir, args.n, args.split_seed, fraction=args.fraction,
                                 out_dir=work, settings=_gen_settings(args), progress=sys.stderr.isatty())
    except (ConstraintsEvalError, ValueError, TypeError, OSError, ImportError, RuntimeError) as exc:
        print(f"crab eval constraints: {exc}", file=sys.stderr)
        return 2
    finally:
        if backend is not None:
            backend.close()
        if tmp is not None:
            tmp.cleanup()
    if tmp is not None:
        _print_dry_run("constraints", {"model under test": backend})
        return 0
    table = Table(title=f"Held-out constraints: {s['prompt_level']['n']} prompts")
    for column in ("level", "n", "pass rate", "95% CI"):
        table.add_column(column, justify="left" if column == "level" else "right")
    for label, key in (("prompt (all met)", "prompt_level"), ("constraint", "constraint_level")):
        table.add_row(label, str(s[key]["n"]), *_interval(s[key]["rate"], s[key]["ci95"]))
    families = Table(title="per family (Wilson 95% CI)")
    for column in ("family", "n", "pass rate", "95% CI"):
        families.add_column(column, justify="left" if column == "family" else "right")
    for name, row in s["by_family"].items():
        families.add_row(name, str(row["n"]), *_interval(row["rate"], row["ci95"]))
    console = Console()
    console.print(table)
    console.print(families)
    if s["generation_errors"]:
        console.print(f"warning: {s['generation_errors']} failed generation(s) scored as empty responses")
    console.print(f"Files: {out / 'results.jsonl'}, {out / 'summary.json'}", soft_wrap=True)
    return 0
