"""`crab ifeval score`: an alias of `crab eval ifeval --responses`, with the reference's flag names.

``--input-data`` is ``--prompts``, ``--output`` is ``--out``; ``--responses``, ``--match-by``,
``--skip-missing`` and ``--bootstrap-seed`` are the same options. Both run one code path
(``crabkit.commands.evaluate.run_ifeval_cmd``), so they write the same files with the same results.
"""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    from crabkit.commands.evaluate import add_scoring_args

    p = sub.add_parser("ifeval", help="IFEval scoring (alias of `crab eval ifeval --responses`)")
    actions = p.add_subparsers(dest="ifeval_command", metavar="ACTION")
    s = actions.add_parser(
        "score",
        help="score a responses JSONL against IFEval prompts (alias of `crab eval ifeval --responses`)",
        description="An alias of `crab eval ifeval --prompts FILE --responses FILE --out DIR`: the same scorer, "
        "the same files (DIR/responses.jsonl, DIR/results.jsonl, DIR/summary.json). A prompt without a "
        "response fails every instruction unless --skip-missing is given.",
    )
    s.add_argument(
        "--input-data", required=True, dest="prompts", metavar="FILE", help="prompts JSONL (IFEval input_data.jsonl format)"
    )
    s.add_argument("--responses", required=True, metavar="FILE", help="responses JSONL with prompt (or key) and response")
    s.add_argument(
        "--output", required=True, dest="out", metavar="DIR", help="directory for responses.jsonl, results.jsonl, summary.json"
    )
    add_scoring_args(s)
    s.set_defaults(func=run_score, command_name="crab ifeval score")
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_score(args: argparse.Namespace) -> int:
    from crabkit.commands.evaluate import run_ifeval_cmd

    return run_ifeval_cmd(args)
