"""The ``crab`` command. The only place that wires the packages together.

Each subcommand lives in its own module under ``crabkit.commands`` exposing
``register(subparsers)``; that function adds its parser and sets ``func`` to a callable taking the
parsed args and returning an exit code. Every parser uses ``commands.options.HelpFormatter``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules under crabkit.commands, each adding one or more subcommands.
_COMMAND_MODULES = [
    "ifeval",
    "ifbench",
    "generate",
    "evaluate",
    "train",
    "report",
    "export",
]


DESCRIPTION = """crab: constraint back-translation (CRAB) end to end.

Finds the constraints each response already satisfies, verifies every one, and composes
instruction-following training data; trains and evaluates with the same checkers."""

EXAMPLES = """examples:
  crab demo                                              the bundled sample, rules only (no LLM)
  crab generate pairs.jsonl --out runs/mine              back-translate; rerun the same command to resume
  crab generate pairs.jsonl --out runs/llm --backend openai --base-url http://127.0.0.1:8000/v1 \\
      --model Qwen/Qwen2.5-7B-Instruct                   with soft constraints and a judge from a server
  crab verify runs/mine/train.jsonl                      check every constraint again
  crab report runs/mine --out report.html                a page to audit the data by
  crab export runs/mine --push-to-hub me/crab-data       TRL / open-instruct forms, Parquet, card, Hub
  crab train sft runs/mine/train.jsonl --model embedded --out out/sft --lora
  crab eval ifeval --backend openai --base-url URL --model M --out eval/ifeval
  crab eval ifeval --responses responses.jsonl --out eval/ifeval   score answers you already have
  crab eval ifbench --responses responses.jsonl --out eval/ifbench IFBench (58 more types), the same way

exit status: 0 done; 1 records rejected under --strict; 2 the command cannot run (usage, input,
run directory, environment); 3 --max-requests reached; 4 nothing produced or the LLM stage failed;
130 interrupted. Run 'crab COMMAND --help' for a command's options."""


def build_parser() -> argparse.ArgumentParser:
    from crabkit.commands.options import HelpFormatter

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args, **kwargs) -> None:
            kwargs.setdefault("formatter_class", HelpFormatter)
            super().__init__(*args, **kwargs)

    parser = Parser(prog="crab", description=DESCRIPTION, epilog=EXAMPLES)
    from crabkit import __version__

    parser.add_argument("--version", action="version", version=f"crabkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"crabkit.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
