"""`crab ifeval score` and `crab ifbench score`: aliases of `crab eval ifeval|ifbench --responses`,
with the reference's flag names.

``--input-data`` is ``--prompts``, ``--output`` is ``--out``; ``--responses``, ``--match-by``,
``--skip-missing`` and ``--bootstrap-seed`` are the same options. Alias and command run one code
path (``crabkit.commands.evaluate.run_scored_cmd``), so they write the same files with the same
results.
"""

from __future__ import annotations

import argparse

__all__ = ["register", "register_alias"]

_LAYOUT = {"ifeval": ("IFEval", "IFEval input_data.jsonl format"), "ifbench": ("IFBench", "IFBench_test.jsonl format")}


def register(sub: argparse._SubParsersAction) -> None:
    register_alias(sub, "ifeval")


def register_alias(sub: argparse._SubParsersAction, benchmark: str) -> None:
    """Add `crab BENCHMARK score` (``benchmark``: ifeval or ifbench)."""
    from crabkit.commands.evaluate import add_scoring_args

    name, layout = _LAYOUT[benchmark]
    p = sub.add_parser(benchmark, help=f"{name} scoring (alias of `crab eval {benchmark} --responses`)")
    actions = p.add_subparsers(dest=f"{benchmark}_command", metavar="ACTION")
    s = actions.add_parser(
        "score",
        help=f"score a responses JSONL against {name} prompts (alias of `crab eval {benchmark} --responses`)",
        description=f"An alias of `crab eval {benchmark} --prompts FILE --responses FILE --out DIR`: the same "
        "scorer, the same files (DIR/responses.jsonl, DIR/results.jsonl, DIR/summary.json). A prompt without a "
        "response fails every instruction unless --skip-missing is given.",
    )
    s.add_argument("--input-data", required=True, dest="prompts", metavar="FILE", help=f"prompts JSONL ({layout})")
    s.add_argument("--responses", required=True, metavar="FILE", help="responses JSONL with prompt (or key) and response")
    s.add_argument(
        "--output", required=True, dest="out", metavar="DIR", help="directory for responses.jsonl, results.jsonl, summary.json"
    )
    add_scoring_args(s)
    s.set_defaults(func=run_score, command_name=f"crab {benchmark} score", scored_benchmark=benchmark)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_score(args: argparse.Namespace) -> int:
    from crabkit.commands.evaluate import run_scored_cmd

    return run_scored_cmd(args)
