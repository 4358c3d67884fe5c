"""`crab eval BENCHMARK`: one subcommand per benchmark, each in its own ``_register_<name>`` function."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_backend_args", "backend_from_args", "register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate a model on an instruction-following benchmark")
    bench = p.add_subparsers(dest="benchmark", metavar="BENCHMARK")
    p.set_defaults(func=lambda args: _usage(p))
    _register_followbench(bench)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# --- shared backend flags --------------------------------------------------------------------------

def add_backend_args(p: argparse.ArgumentParser, prefix: str = "", what: str = "model under test") -> None:
    """``--{prefix}backend``, ``--{prefix}model``, ``--{prefix}base-url`` and ``--{prefix}script``."""
    p.add_argument(f"--{prefix}backend", choices=["openai", "local", "vllm", "scripted"],
                   help=f"LLM backend of the {what}")
    p.add_argument(f"--{prefix}model", default="", help=f"model name or path of the {what}")
    p.add_argument(f"--{prefix}base-url", help="OpenAI-compatible endpoint (openai backend), e.g. http://host:8000/v1")
    p.add_argument(f"--{prefix}script", help="scripted backend: JSON file, a list of answers or {prompt: answer}")


def backend_from_args(args: argparse.Namespace, prefix: str = "", cache: Path | None = None):
    """The backend the ``prefix`` flags describe, cached in ``cache`` when given; None without a backend."""
    from crabkit.llm import make_backend

    attr = prefix.replace("-", "_")
    kind = getattr(args, f"{attr}backend")
    if kind is None:
        return None
    settings: dict[str, Any] = {"model": getattr(args, f"{attr}model")}
    base_url = getattr(args, f"{attr}base_url")
    if base_url:
        if kind != "openai":
            raise ValueError(f"--{prefix}base-url only applies to the openai backend")
        settings["base_url"] = base_url
    if kind == "scripted":
        script_file = getattr(args, f"{attr}script")
        settings = {"model": settings["model"] or "scripted", "script": _load_script(script_file), "default": ""}
    return make_backend(kind, cache=cache, **settings)


def _load_script(path: str | None) -> Any:
    if not path:
        return {}
    try:
        script = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the script ({exc})") from exc
    if not isinstance(script, (list, dict)):
        raise TypeError(f"{path}: a script is a JSON list of answers or an object {{prompt: answer}}")
    return script


# --- followbench -----------------------------------------------------------------------------------

def _register_followbench(bench: argparse._SubParsersAction) -> None:
    from crabkit.eval.followbench import CATEGORIES, DEFAULT_HUB_ID, LEVELS

    p = bench.add_parser("followbench", help="FollowBench: HSR/SSR per level, CSL (rules + LLM judge)")
    p.add_argument("--data", default=DEFAULT_HUB_ID,
                   help=f"directory of *_constraints.json, one JSON/JSONL file, or a Hub id (default {DEFAULT_HUB_ID})")
    p.add_argument("--out", required=True, help="run directory: results.jsonl, summary.json, llm_cache.sqlite")
    add_backend_args(p)
    add_backend_args(p, "judge-", "judge")
    p.add_argument("--categories", nargs="+", choices=CATEGORIES, help="default: all six")
    p.add_argument("--levels", nargs="+", type=int, choices=LEVELS, help="default: 1-5")
    p.add_argument("--responses", help="score the responses in this JSONL/JSON file instead of generating")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--max-tokens", type=int, default=2048)
    p.add_argument("--seed", type=int)
    p.add_argument("--system", help="system prompt for the model under test")
    p.add_argument("--judge-max-tokens", type=int, default=1024)
    p.add_argument("--no-cache", action="store_true", help="do not keep LLM answers in OUT/llm_cache.sqlite")
    p.set_defaults(func=run_followbench_cmd)


def run_followbench_cmd(args: argparse.Namespace) -> int:
    from rich.console import Console

    from crabkit.eval.followbench import (
        FollowBenchDataError,
        GenParams,
        JudgeParams,
        render_summary,
        run_followbench,
    )

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    out = Path(args.out)
    cache = None if args.no_cache else out / "llm_cache.sqlite"
    backend = judge = None
    try:
        if args.responses is None and args.backend is None:
            raise ValueError("give --backend to generate responses, or --responses to score existing ones")
        backend = None if args.responses else backend_from_args(args, cache=cache)
        judge = backend_from_args(args, "judge-", cache=cache)
        report = run_followbench(
            backend, args.data, judge, out,
            categories=args.categories, levels=args.levels or (1, 2, 3, 4, 5),
            gen_params=GenParams(args.temperature, args.top_p, args.max_tokens, args.seed, args.system),
            judge_params=JudgeParams(max_tokens=args.judge_max_tokens),
            responses=args.responses,
        )
    except (FollowBenchDataError, ValueError, TypeError, OSError) as exc:
        print(f"crab eval followbench: {exc}", file=sys.stderr)
        return 2
    finally:
        for b in (backend, judge):
            if b is not None:
                b.close()
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
