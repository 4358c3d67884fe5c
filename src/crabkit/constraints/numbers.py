"""Human-looking numbers for inferred constraints: "at least 250 words", not "at least 263 words".

A person asking for a length rounds to a step that fits the size (5 near 30, 25 near 300, 250 near
3,000) and sometimes to a coarser one when that still leaves a fair bound. Every helper here keeps
the bound honest: ``round_down_nice(n) <= n <= round_up_nice(n)``, and ``around_nice(n)`` is within
5 % of ``n`` (half the ±10 % that "around N" is checked with), so inference never asks for more than
the response gives.
"""

from __future__ import annotations

import math
import random

__all__ = [
    "around_nice", "lower_bound", "nice_steps", "round_down_nice", "round_up_nice", "upper_bound",
]

# (upper limit, fine step, coarse step): the steps a person would round a count of that size to.
_STEPS: tuple[tuple[int, int, int], ...] = (
    (10, 1, 5),
    (50, 5, 10),
    (200, 10, 50),
    (1000, 25, 100),
    (5000, 50, 250),
)
_LAST_STEPS = (250, 1000)

# A coarse bound is only used when it stays this close to the real count (a person asking for "at
# least 100 words" of a 190-word answer would be asking for much less than they got).
_DOWN_FLOOR = 0.75
_UP_CEIL = 1.35


def nice_steps(n: int) -> tuple[int, int]:
    """The (fine, coarse) rounding steps for a count of size ``n``."""
    for limit, fine, coarse in _STEPS:
        if n < limit:
            return fine, coarse
    return _LAST_STEPS


def round_down_nice(n: int, rng: random.Random | None) -> int:
    """A round number ``<= n`` (a fair "at least" bound); ``rng`` picks the tight or loose step.

    >>> round_down_nice(263, random.Random(0)) in (250, 200)
    True
    """
    if n <= 0:
        return 0
    fine, coarse = nice_steps(n)
    tight = max(n // fine * fine, 1)
    loose = n // coarse * coarse
    if loose >= max(1, _DOWN_FLOOR * n) and loose != tight and rng is not None and rng.random() < 0.5:
        return loose
    return tight


def round_up_nice(n: int, rng: random.Random | None) -> int:
    """A round number ``>= n`` (a fair "at most" bound); ``rng`` picks the tight or loose step.

    >>> round_up_nice(263, random.Random(0)) in (275, 300)
    True
    """
    if n <= 0:
        return 0
    fine, coarse = nice_steps(n)
    tight = -(-n // fine) * fine
    loose = -(-n // coarse) * coarse
    if loose <= _UP_CEIL * n and loose != tight and rng is not None and rng.random() < 0.5:
        return loose
    return tight


def around_nice(n: int) -> int:
    """The roundest number within 5 % of ``n`` (so "around N words", checked at ±10 %, holds).

    >>> around_nice(289), around_nice(271), around_nice(33)
    (300, 275, 33)
    """
    if n <= 0:
        return 0
    for step in (1000, 500, 250, 100, 50, 25, 10, 5):
        if step > n:
            continue
        target = (n + step // 2) // step * step
        if target > 0 and abs(n - target) <= 0.05 * target:
            return target
    return n


def _slack(n: int, margin: float) -> int:
    """How far a bound stays from the measured count: ``margin`` of it, at least 1 (0 without margin)."""
    return max(1, math.ceil(margin * n)) if margin > 0 else 0


def lower_bound(n: int, rng: random.Random | None, margin: float = 0.0, floor: int = 1) -> int | None:
    """A round "at least" bound for a count of ``n``, ``margin`` (a share of ``n``, at least 1) below
    it so that a slightly different count (another tokenizer, a reader's count) still meets it;
    None when that would fall below ``floor``. ``rng=None`` takes the tight rounding.

    >>> lower_bound(31, None, margin=0.1)
    25
    """
    value = round_down_nice(n - _slack(n, margin), rng)
    return value if value >= floor else None


def upper_bound(n: int, rng: random.Random | None, margin: float = 0.0, inclusive: bool = False) -> int:
    """A round "less than" bound for a count of ``n``: strictly above ``n`` plus the margin, never
    below 2; with ``inclusive``, a round "at most" bound (at least ``n`` plus the margin).

    >>> upper_bound(31, None, margin=0.1), upper_bound(263, None, margin=0.05, inclusive=True)
    (40, 300)
    """
    if inclusive:
        return max(round_up_nice(n + _slack(n, margin), rng), 1)
    return max(round_up_nice(n + _slack(n, margin) + 1, rng), 2)
