"""Differential test of crabkit's IFBench checks against the reference verifiers, on adversarial text.

Triples (instruction id, kwargs, prompt, response) come from the seeded generators of every
``bench/ifbench_adversarial_*.py`` module (each exposes ``GENERATORS: dict[id, rng -> (kwargs,
prompt, response)]``). Each triple is scored strict and loose by crabkit
(``crabkit.eval.verdict.instruction_verdict``, the one verdict crabkit scores with) and by the reference's ``evaluation_lib``
in ``../shared/oracles/ifbench`` (imported from a temporary copy, never copied into the package; see
``ifbench_oracle.py``). A crash on either side is a verdict too (its text), so it disagrees with
any boolean verdict. Every disagreement is printed with a reproducer.

    .venv/bin/python bench/ifbench_differential.py                    # 300 triples per type, seed 0
    .venv/bin/python bench/ifbench_differential.py --triples 3000 --seed 7
    .venv/bin/python bench/ifbench_differential.py --types words:alphabet,count:numbers --show 20

``tests/test_ifbench_differential.py`` runs the same code (300 triples per type, seed 0). Exit
status 1 on any disagreement, 2 when the reference is not there.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import ifbench_oracle

CI_TRIPLES = 300

Generator = Callable[[random.Random], tuple[dict, str, str]]


@dataclass(frozen=True)
class Triple:
    instruction_id: str
    kwargs: dict[str, Any]
    prompt: str
    response: str

    def show(self) -> str:
        """A reproducer: the JSON of the triple."""
        return json.dumps(
            {"instruction_id": self.instruction_id, "kwargs": self.kwargs, "prompt": self.prompt,
             "response": self.response},
            ensure_ascii=False,
        )  # fmt: skip


def collect_generators(bench: Path = BENCH) -> dict[str, Generator]:
    """Every ``GENERATORS`` entry of the ``ifbench_adversarial_*.py`` modules in ``bench``."""
    found: dict[str, Generator] = {}
    for path in sorted(bench.glob("ifbench_adversarial_*.py")):
        module = importlib.import_module(path.stem)
        for iid, gen in getattr(module, "GENERATORS", {}).items():
            if iid in found:
                raise ValueError(f"{path.name}: a generator for {iid!r} is already in another module")
            found[iid] = gen
    return found


def generate_triples(
    generators: dict[str, Generator], per_type: int, seed: int, only: Iterable[str] | None = None
) -> Iterator[Triple]:
    """``per_type`` triples of each instruction id, from one stream per (seed, id): adding a type never
    changes another's triples."""
    wanted = set(only) if only else None
    for iid in sorted(generators):
        if wanted is not None and iid not in wanted:
            continue
        rng = random.Random(f"{seed}/{iid}")
        for _ in range(per_type):
            kwargs, prompt, response = generators[iid](rng)
            yield Triple(iid, kwargs, prompt, response)


def crabkit_verdict(triple: Triple) -> tuple[bool, bool] | str:
    from crabkit.eval.verdict import instruction_verdict

    try:
        return instruction_verdict(triple.instruction_id, triple.kwargs, triple.prompt, triple.response)
    except Exception as exc:  # noqa: BLE001 - a crash is a verdict to compare too
        return f"{type(exc).__name__}: {exc}"[:200]


def reference_verdict(triple: Triple) -> tuple[bool, bool] | str:
    return ifbench_oracle.reference_verdict(triple.instruction_id, dict(triple.kwargs), triple.prompt,
                                            triple.response)  # fmt: skip


@dataclass
class Report:
    triples: int = 0
    by_id: Counter = field(default_factory=Counter)
    strict_passed: Counter = field(default_factory=Counter)
    loose_passed: Counter = field(default_factory=Counter)
    disagreements: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def n_disagreements(self) -> int:
        return sum(self.disagreements.values())


def compare(triples: Iterable[Triple], keep: int = 20) -> Report:
    report = Report()
    start = time.perf_counter()
    for triple in triples:
        ours, theirs = crabkit_verdict(triple), reference_verdict(triple)
        iid = triple.instruction_id
        report.triples += 1
        report.by_id[iid] += 1
        if isinstance(theirs, tuple):
            report.strict_passed[iid] += theirs[0]
            report.loose_passed[iid] += theirs[1]
        if ours != theirs:
            report.disagreements[iid] += 1
            if len(report.examples) < keep:
                report.examples.append(f"{iid}: crabkit {ours} reference {theirs}\n  {triple.show()}")
    report.seconds = time.perf_counter() - start
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=CI_TRIPLES, help="triples per instruction id")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--types", default="", help="comma-separated instruction ids (default: all)")
    parser.add_argument("--show", type=int, default=20, help="disagreements to print in full")
    args = parser.parse_args(argv)
    reason = ifbench_oracle.oracle_missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    ifbench_oracle.load_reference()
    generators = collect_generators()
    only = [t for t in args.types.split(",") if t] or None
    report = compare(generate_triples(generators, args.triples, args.seed, only), keep=args.show)
    print(f"{'instruction id':40} {'triples':>7} {'strict':>7} {'loose':>7} {'differ':>7}")
    for iid in sorted(report.by_id):
        print(f"{iid:40} {report.by_id[iid]:7} {report.strict_passed[iid]:7} {report.loose_passed[iid]:7} "
              f"{report.disagreements[iid]:7}")  # fmt: skip
    print(f"{report.triples} triples over {len(report.by_id)} instruction ids, "
          f"{report.n_disagreements} disagreements, {report.seconds:.1f} s")  # fmt: skip
    for example in report.examples:
        print(example)
    return 1 if report.n_disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
