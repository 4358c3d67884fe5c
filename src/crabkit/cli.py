"""The ``crab`` command. The only place that wires the packages together.

Each subcommand lives in its own module under ``crabkit.commands`` exposing
``register(subparsers)``; that function adds its parser and sets ``func`` to a callable taking the
parsed args and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules under crabkit.commands, each adding one or more subcommands.
_COMMAND_MODULES = [
    "ifeval",
    "generate",
    "evaluate",
    "train",
    "report",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crab", description=__doc__.splitlines()[0])
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
