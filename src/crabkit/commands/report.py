"""`crab report DIR`: one self-contained HTML page (inline plots, no network) about a run and its evals."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="HTML report of a run directory and the evaluations below it",
        description="Sections appear for what DIR holds: a `crab generate` run (manifest.json, stats.json, "
        "constraints.jsonl, rejects.jsonl) and any `crab eval` output directories below it (summary.json).",
    )
    p.add_argument("dir", metavar="DIR", type=Path, help="run directory (eval output directories are found below it)")
    p.add_argument("--out", type=Path, help="HTML file to write (default DIR/report.html)")
    p.add_argument("--title", help="page title (default: the directory name)")
    p.add_argument("--tokenizer", metavar="PATH_OR_ID",
                   help="count row lengths in this model's tokens, chat template included (a directory, a .gguf, "
                        "embedded for SmolLM2, or a cached Hub id; default: words)")
    p.add_argument("--examples", type=int, default=3, metavar="N", help="examples shown per kind in the example browser")
    p.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    from crabkit.eval.report import build_report

    try:
        path = build_report(args.dir, args.out, args.title, tokenizer=args.tokenizer, per_kind=args.examples)
    except (FileNotFoundError, ImportError, OSError) as exc:
        print(f"crab report: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0
