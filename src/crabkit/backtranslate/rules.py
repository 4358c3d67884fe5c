"""Rule-based back-translation: every verifiable constraint a response already satisfies.

Each (record, type) pair gets its own ``random.Random`` derived from the run seed, the record id and
the type id, so a record's constraints do not depend on record order, on resuming, or on which
other types are registered.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from crabkit.constraints import ConstraintType, all_types
from crabkit.records import Constraint, Seed

__all__ = ["RuleConfig", "Backtranslated", "backtranslate_rules", "verify_constraint"]

log = logging.getLogger(__name__)


@dataclass
class RuleConfig:
    """Which verifiable types to infer. Empty ``include`` means all registered types."""

    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)

    def types(self) -> list[ConstraintType]:
        chosen = [t for t in all_types() if (not self.include or t.id in self.include)]
        return [t for t in chosen if t.id not in self.exclude]


@dataclass
class Backtranslated:
    """A seed with the constraints its response satisfies, and counts of what went wrong."""

    seed: Seed
    constraints: list[Constraint]
    infer_errors: list[str] = field(default_factory=list)
    verify_failures: list[str] = field(default_factory=list)
    refined_instruction: str | None = None


def _rng(run_seed: int, record_id: str, salt: str) -> random.Random:
    # A string seed is hashed with SHA-512 by random.Random: stable across processes and versions.
    return random.Random(f"{run_seed}:{record_id}:{salt}")


def verify_constraint(response: str, c: Constraint) -> bool:
    """Re-check one verifiable constraint with its registry type (soft constraints are not handled here)."""
    from crabkit.constraints import get

    try:
        return bool(get(c.type).check(response, c.params))
    except Exception:  # a checker that raises is a failed check, never a pass
        log.exception("checker %s raised on params %r", c.type, c.params)
        return False


def backtranslate_rules(
    seed: Seed, run_seed: int, types: Iterable[ConstraintType] | None = None
) -> Backtranslated:
    """Infer, describe and verify every verifiable constraint ``seed.response`` satisfies."""
    out = Backtranslated(seed=seed, constraints=[])
    for ctype in types if types is not None else all_types():
        rng = _rng(run_seed, seed.id, ctype.id)
        try:
            params = ctype.infer(seed.response, rng, seed.instruction)
            if params is None:
                continue
            text = ctype.describe(params, rng)
        except Exception as exc:  # an infer bug must not kill the run; it is counted and reported
            log.warning("infer bug: %s on record %s: %r", ctype.id, seed.id, exc)
            out.infer_errors.append(ctype.id)
            continue
        c = Constraint(
            type=ctype.id,
            params=dict(params),
            text=text,
            verified=False,
            source="rule",
            ifeval_id=ctype.ifeval_id,
            ifeval_kwargs=ctype.to_kwargs(params) if ctype.ifeval_id else None,
        )
        if verify_constraint(seed.response, c):
            c.verified = True
            out.constraints.append(c)
        else:
            # infer promised a constraint the response does not meet: a bug, dropped loudly.
            log.warning("verify failure (infer bug): %s %r on record %s", ctype.id, params, seed.id)
            out.verify_failures.append(ctype.id)
    return out
