"""Constraint suites: which benchmark's types a run infers, and how strongly each is sampled.

Two suites split the registry:

* ``ifeval``: every type outside IFBench: IFEval's 25 instruction types and crabkit's own types
  in IFEval's families (word ranges, tables, code blocks...), the types crabkit inferred before
  IFBench's were added (``ConstraintType.suite == "crabkit"``);
* ``ifbench``: IFBench's (Pyatkin et al. 2025) out-of-distribution types (``suite == "ifbench"``).

A selection maps suite names to relative weights: a suite with weight 0 (or absent) is not
inferred; the others are, and their types' sampling weights in forward prompts are multiplied by
their weight relative to the largest (so ``ifeval=1,ifbench=0.5`` asks IFBench's types half as
readily as before, and IFEval's exactly as before).

>>> parse_suites("ifeval=1,ifbench=0.5")
{'ifeval': 1.0, 'ifbench': 0.5}
>>> parse_suites("all")
{'ifeval': 1.0, 'ifbench': 1.0}
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .base import ConstraintType

__all__ = [
    "DEFAULT_SUITES",
    "SUITES",
    "check_suites",
    "ifbench_instruction_ids",
    "multipliers",
    "parse_suites",
    "suite_name",
]

#: The suite names a selection may use, in the order they are reported.
SUITES = ("ifeval", "ifbench")
#: What a run infers unless told otherwise (the types crabkit inferred before IFBench's existed).
DEFAULT_SUITES: dict[str, float] = {"ifeval": 1.0}

_HINT = "choose ifeval, ifbench, all, or weights such as ifeval=1,ifbench=0.5"


def suite_name(ctype: ConstraintType) -> str:
    """The suite ``ctype`` belongs to: ``ifbench`` for IFBench's types, ``ifeval`` for the rest."""
    return "ifbench" if ctype.suite == "ifbench" else "ifeval"


def check_suites(weights: Mapping[str, float]) -> None:
    """Raise ValueError (naming the bad entry) unless ``weights`` maps known suites to numbers >= 0,
    at least one of them above 0."""
    if not isinstance(weights, Mapping):
        raise ValueError(  # noqa: TRY004  (a config value: callers report ValueErrors as bad values)
            f"suites must map suite names to weights, e.g. {{'ifeval': 1, 'ifbench': 0.5}}; got {weights!r}"
        )
    for name, w in weights.items():
        if name not in SUITES:
            raise ValueError(f"unknown suite {name!r}; {_HINT}")
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ValueError(f"suite {name!r} has weight {w!r}: a weight is a finite number >= 0")
    if not any(w > 0 for w in weights.values()):
        raise ValueError(f"every suite has weight 0, so no constraint type would be inferred; {_HINT}")


def parse_suites(spec: str) -> dict[str, float]:
    """A selection from its text form: ``ifeval``, ``ifbench``, ``all``, or comma-separated
    ``name[=weight]`` items (a bare name weighs 1; ``all=w`` gives every suite ``w``)."""
    out: dict[str, float] = {}
    items = [item.strip() for item in spec.split(",")]
    if not spec.strip() or not all(items):
        raise ValueError(f"empty suite list {spec!r}; {_HINT}")
    for item in items:
        name, sep, value = (part.strip() for part in item.partition("="))
        if sep:
            try:
                weight = float(value)
            except ValueError:
                raise ValueError(f"{item!r}: the weight {value!r} is not a number; {_HINT}") from None
        else:
            weight = 1.0
        names = SUITES if name == "all" else (name,)
        for n in names:
            if n in out:
                raise ValueError(f"suite {n!r} is given twice in {spec!r}")
            out[n] = weight
    check_suites(out)
    return out


def multipliers(weights: Mapping[str, float]) -> dict[str, float]:
    """Each inferred suite's factor on its types' sampling weights: its weight over the largest
    (suites with weight 0 are left out: they are not inferred)."""
    top = max(weights.values())
    return {name: weights[name] / top for name in SUITES if weights.get(name, 0) > 0}


def ifbench_instruction_ids() -> list[str]:
    """IFBench's 58 instruction ids: the registered ones and the one crabkit cannot check."""
    from .ifbench_unsupported import UNSUPPORTED
    from .registry import all_types

    return sorted(
        {t.ifbench_id for t in all_types() if t.suite == "ifbench" and t.ifbench_id} | set(UNSUPPORTED)
    )
