"""Rule-based back-translation: every verifiable constraint a response already satisfies.

Each (record, type) pair gets its own random stream derived from the run seed, the record id and
the type id, so a record's constraints do not depend on record order, on resuming, or on which
other types are registered.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from crabkit.constraints import ConstraintType, all_types
from crabkit.records import Constraint, Seed

__all__ = ["Backtranslated", "RuleConfig", "backtranslate_rules", "verify_constraint"]

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


_MASK64 = (1 << 64) - 1


class _StreamRandom(random.Random):
    """``random.Random`` drawing from a SplitMix64 stream (Steele et al., 2014).

    Every (record, type) pair needs a fresh seeded stream and draws only a handful of numbers from
    it; seeding a Mersenne Twister costs more than all those draws (about 7 us, 39 times a
    record), while seeding this is one integer assignment. ``random()`` and ``getrandbits()`` are
    overridden, so ``choice``, ``sample``, ``randint``, ``gauss``... all draw from the stream.
    """

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)

    def seed(self, a: object = None, version: int = 2) -> None:  # type: ignore[override]
        if not isinstance(a, int):
            raise TypeError(f"_StreamRandom takes an integer seed, got {type(a).__name__}")
        self._state = a & _MASK64
        self.gauss_next = None

    def _next64(self) -> int:
        self._state = z = (self._state + 0x9E3779B97F4A7C15) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def random(self) -> float:
        return (self._next64() >> 11) * (1.0 / 9007199254740992.0)

    def getrandbits(self, k: int) -> int:
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        if k <= 64:
            return self._next64() >> (64 - k)
        words = -(-k // 64)
        value = 0
        for _ in range(words):
            value = (value << 64) | self._next64()
        return value >> (words * 64 - k)

    def _randbelow(self, n: int) -> int:  # type: ignore[override]
        """A uniform integer in ``[0, n)`` from one 64-bit draw (Lemire's multiply-shift, 2019).

        ``choice`` and ``sample`` call this ~40 times a record; the stdlib's rejection loop drew 1.6
        numbers per call here. Without rejection each value's probability is off by at most
        ``n / 2**64`` (below 1e-16 for any list this draws from). Past 64 bits, the stdlib's way.
        """
        if n > _MASK64:
            return super()._randbelow(n)  # type: ignore[misc]
        return (self._next64() * n) >> 64

    def getstate(self) -> tuple:
        return ("splitmix64", self._state, self.gauss_next)

    def setstate(self, state: tuple) -> None:
        _, self._state, self.gauss_next = state


def _digest64(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


@functools.lru_cache(maxsize=4096)
def _type_key(type_id: str) -> int:
    return _digest64(f"type:{type_id}")


def _record_key(run_seed: int, record_id: str) -> int:
    return _digest64(f"{run_seed}:{record_id}")


def _rng(run_seed: int, record_id: str, salt: str) -> random.Random:
    """The stream of one (record, type) pair: the same for the same three values, in any process."""
    return _StreamRandom(_record_key(run_seed, record_id) ^ _type_key(salt))


def verify_constraint(response: str, c: Constraint) -> bool:
    """Re-check one verifiable constraint with its registry type (soft constraints are not handled here)."""
    from crabkit.constraints import UnknownConstraintType, get

    try:
        ctype = get(c.type)
    except UnknownConstraintType:  # not a verifiable type this registry knows: never a pass
        log.warning("no verifiable constraint type %r", c.type)
        return False
    return _verify_with(ctype, response, c)


def _verify_with(ctype: ConstraintType, response: str, c: Constraint) -> bool:
    try:
        return bool(ctype.check(response, c.params))
    except Exception:  # a checker that raises is a failed check, never a pass
        log.exception("checker %s raised on params %r", c.type, c.params)
        return False


def backtranslate_rules(
    seed: Seed,
    run_seed: int,
    types: Iterable[ConstraintType] | None = None,
    timings: dict[str, float] | None = None,
) -> Backtranslated:
    """Infer, describe and verify every verifiable constraint ``seed.response`` satisfies.

    ``timings``, when given, gains each type's CPU seconds (infer, describe and verify); analyses
    shared by several types (layout, sentences, word counts) count for the first type that asks.
    """
    if timings is not None:
        return _timed(seed, run_seed, types, timings)
    out = Backtranslated(seed=seed, constraints=[])
    record_key = _record_key(run_seed, seed.id)
    rng = _StreamRandom(0)
    for ctype in types if types is not None else all_types():
        _one_type(seed, ctype, rng, record_key, out)
    return out


def _timed(
    seed: Seed, run_seed: int, types: Iterable[ConstraintType] | None, timings: dict[str, float]
) -> Backtranslated:
    out = Backtranslated(seed=seed, constraints=[])
    record_key = _record_key(run_seed, seed.id)
    rng = _StreamRandom(0)
    for ctype in types if types is not None else all_types():
        start = time.process_time()
        _one_type(seed, ctype, rng, record_key, out)
        timings[ctype.id] = timings.get(ctype.id, 0.0) + time.process_time() - start
    return out


def _one_type(
    seed: Seed, ctype: ConstraintType, rng: _StreamRandom, record_key: int, out: Backtranslated
) -> None:
    """Infer, describe and verify one type on one record, adding the result (or the failure) to ``out``."""
    rng.seed(record_key ^ _type_key(ctype.id))  # a fresh stream per type (see _rng)
    try:
        params = ctype.infer(seed.response, rng, seed.instruction)
        if params is None:
            return
        text = ctype.describe(params, rng)
    except Exception as exc:  # noqa: BLE001  (an infer bug must not kill the run; it is counted and reported)
        log.warning("infer bug: %s on record %s: %r", ctype.id, seed.id, exc)
        out.infer_errors.append(ctype.id)
        return
    c = Constraint(
        type=ctype.id,
        params=dict(params),
        text=text,
        verified=False,
        source="rule",
        ifeval_id=ctype.ifeval_id,
        ifeval_kwargs=ctype.to_kwargs(params) if ctype.ifeval_id else None,
    )
    if _verify_with(ctype, seed.response, c):  # the registry's type for c.type, already at hand
        c.verified = True
        out.constraints.append(c)
    else:
        # infer promised a constraint the response does not meet: a bug, dropped loudly.
        log.warning("verify failure (infer bug): %s %r on record %s", ctype.id, params, seed.id)
        out.verify_failures.append(ctype.id)
