"""`crab ifbench score`: an alias of `crab eval ifbench --responses` (see ``crabkit.commands.ifeval``)."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    from crabkit.commands.ifeval import register_alias

    register_alias(sub, "ifbench")
