"""Which of a response's constraints other plausible answers fail: the ones worth asking for.

A constraint is informative when a good answer has to work for it: other answers to the same request
(siblings: the input's other responses to that instruction) and answers to other requests mostly
fail it. ``choose_informative`` checks every verified variant of every type against those contrast
answers, keeps per type the variant they fail most often (ties: the type's most natural variant),
and records the counts on the constraint (``Constraint.contrast``) and the passing answers
(``Backtranslated.passed_by``), which composition uses to pick sets that single out this answer.

Contrast answers come from the same block, whose text analyses are still memoised, so a check on
them costs microseconds. Siblings count twice as much as other answers: an answer to another
question fails a keyword constraint without telling much.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from crabkit.constraints import ConstraintType, get
from crabkit.records import Constraint

from .rules import Backtranslated

__all__ = ["ContrastConfig", "choose_informative", "informativeness"]

log = logging.getLogger(__name__)

_SIBLING_WEIGHT = 2


@dataclass
class ContrastConfig:
    """How many other answers each response is compared with: ``siblings`` (same request) and
    ``others`` (other requests of the same block). 0 and 0 turns contrast off."""

    siblings: int = 4
    others: int = 2

    def __post_init__(self) -> None:
        for name in ("siblings", "others"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"contrast.{name} must be a whole number >= 0, got {value!r}")


def informativeness(c: Constraint) -> float | None:
    """The weighted share of contrast answers that fail ``c`` (siblings count twice), or None when
    ``c`` was never compared (soft constraints, runs without contrast)."""
    if not c.contrast:
        return None
    (ps, ns), (po, no) = c.contrast.get("siblings", [0, 0]), c.contrast.get("others", [0, 0])
    total = _SIBLING_WEIGHT * ns + no
    if not total:
        return None
    return 1.0 - (_SIBLING_WEIGHT * ps + po) / total


def _holds(ctype: ConstraintType, response: str, c: Constraint) -> bool:
    try:
        return bool(ctype.likely(response, c.params))
    except Exception:  # a checker that raises on another answer: that answer fails it
        log.debug("checker %s raised on a contrast answer", ctype.id, exc_info=True)
        return False


def choose_informative(bt: Backtranslated, siblings: Sequence[str], others: Sequence[str]) -> None:
    """Keep, for every type of ``bt``, the verified variant the contrast answers fail most often."""
    contrast = [*siblings, *others]
    bt.contrast_size = len(contrast)
    if not contrast:
        return
    n_sib = len(siblings)
    weights = [_SIBLING_WEIGHT if i < n_sib else 1 for i in range(len(contrast))]
    chosen: dict[str, Constraint] = {}
    for type_id, variants in bt.candidates.items():
        ctype = get(type_id)
        best: tuple[int, Constraint, frozenset[int]] | None = None
        for c in variants:
            # Weighted passes so far; a variant is dropped as soon as it cannot beat the best.
            load, passed = 0, []
            for i, answer in enumerate(contrast):
                if _holds(ctype, answer, c):
                    load += weights[i]
                    passed.append(i)
                    if best is not None and load >= best[0]:
                        break
            else:
                if best is None or load < best[0]:
                    best = (load, c, frozenset(passed))
            if best is not None and best[0] == 0:
                break  # every contrast answer fails it: no variant can do better
        assert best is not None
        _, c, passed_set = best
        sib = sum(1 for i in passed_set if i < n_sib)
        c.contrast = {"siblings": [sib, n_sib], "others": [len(passed_set) - sib, len(contrast) - n_sib]}
        chosen[type_id] = c
        bt.passed_by[type_id] = passed_set
    bt.constraints = [chosen.get(c.type, c) if c.source == "rule" else c for c in bt.constraints]
