"""`crab ifeval score`: IFEval strict and loose accuracy of a response file, as the reference scores it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ifeval", help="IFEval scoring (reference-exact strict and loose accuracy)")
    actions = p.add_subparsers(dest="ifeval_command", metavar="ACTION")
    s = actions.add_parser(
        "score",
        help="score a responses JSONL against IFEval prompts",
        description="Writes DIR/summary.json and DIR/results.jsonl and prints the summary.",
    )
    s.add_argument(
        "--input-data", required=True, type=Path, help="prompts JSONL (IFEval input_data.jsonl format)"
    )
    s.add_argument(
        "--responses", required=True, type=Path, help="responses JSONL with prompt (or key) and response"
    )
    s.add_argument("--output", required=True, type=Path, help="directory for summary.json and results.jsonl")
    s.add_argument(
        "--match-by",
        choices=["prompt", "key"],
        default="prompt",
        help="match responses to prompts by prompt text (default, as the reference) or by key",
    )
    s.set_defaults(func=run_score)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_score(args: argparse.Namespace) -> int:
    from crabkit.eval.ifeval import IFEvalDataError, read_prompts, read_responses, score

    try:
        prompts = read_prompts(args.input_data)
        responses = read_responses(args.responses)
        result = score(prompts, responses, match_by=args.match_by)
    except IFEvalDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = result.summary()
    try:
        args.output.mkdir(parents=True, exist_ok=True)
        (args.output / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        with (args.output / "results.jsonl").open("w", encoding="utf-8") as f:
            for item in result.results:
                f.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
    except OSError as exc:
        print(f"error: cannot write to {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    _print_summary(summary)
    if result.missing:
        keys = ", ".join(str(p.key) for p in result.missing[:20])
        more = f" and {len(result.missing) - 20} more" if len(result.missing) > 20 else ""
        print(
            f"warning: {len(result.missing)} prompt(s) had no response and were not scored "
            f"(matching by {args.match_by}): key {keys}{more}",
            file=sys.stderr,
        )
    print(f"wrote {args.output / 'summary.json'} and {args.output / 'results.jsonl'}")
    return 0


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    overall = Table(title=f"IFEval: {summary['n_prompts']} prompts, {summary['n_instructions']} instructions")
    for column in ("level", "strict", "loose"):
        overall.add_column(column, justify="left" if column == "level" else "right")
    overall.add_row("prompt", f"{summary['prompt_strict']:.4f}", f"{summary['prompt_loose']:.4f}")
    overall.add_row(
        "instruction", f"{summary['instruction_strict']:.4f}", f"{summary['instruction_loose']:.4f}"
    )
    console.print(overall)
    for title, rows in (("per family", summary["by_family"]), ("per instruction", summary["by_instruction"])):
        table = Table(title=title)
        for column in ("id", "n", "strict", "loose"):
            table.add_column(column, justify="left" if column == "id" else "right")
        for name, row in rows.items():
            table.add_row(name, str(row["n"]), f"{row['strict']:.4f}", f"{row['loose']:.4f}")
        console.print(table)
