"""Rule-based back-translation: every verifiable constraint a response already satisfies.

Each (record, type) pair gets its own random stream derived from the run seed, the record id and
the type id, so a record's constraints do not depend on record order, on resuming, or on which
other types are registered.

A type may offer several variants of its params (``candidates``: a lower bound, an upper bound, a
band...); every variant is described and verified here, and ``Backtranslated.constraints`` holds
the first of each type until :mod:`crabkit.backtranslate.contrast` picks the one other answers fail
most often.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from crabkit.constraints import ConstraintType, all_types
from crabkit.constraints.suites import DEFAULT_SUITES, check_suites, multipliers, suite_name
from crabkit.records import Constraint, Seed

__all__ = ["Backtranslated", "RuleConfig", "backtranslate_rules", "verify_constraint"]

log = logging.getLogger(__name__)


@dataclass
class RuleConfig:
    """Which verifiable types to infer.

    ``suites``: suite name -> weight (see :mod:`crabkit.constraints.suites`): the types of every
    suite weighted above 0 are inferred, and forward prompts ask them in proportion to their
    suite's weight. The default, ``{"ifeval": 1}``, is every type but IFBench's.
    ``include`` (when not empty) names the types to infer instead, whatever their suite;
    ``exclude`` removes types from either choice.
    """

    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    suites: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SUITES))

    def __post_init__(self) -> None:
        try:
            check_suites(self.suites)
        except ValueError as exc:
            raise ValueError(f"rules.suites: {exc}") from None

    def types(self) -> list[ConstraintType]:
        if self.include:
            chosen = [t for t in all_types() if t.id in self.include]
        else:
            on = self.suite_multipliers()
            chosen = [t for t in all_types() if suite_name(t) in on]
        return [t for t in chosen if t.id not in self.exclude]

    def suite_multipliers(self) -> dict[str, float]:
        """Each inferred suite's factor on its types' sampling weights (1 for the heaviest)."""
        return multipliers(self.suites)

    def is_default_selection(self) -> bool:
        """Whether ``suites`` selects and weighs exactly as the default does (e.g. ``ifeval=2`` or
        ``ifeval=1,ifbench=0``): such runs give the same bytes, so they share a fingerprint."""
        return self.suite_multipliers() == multipliers(DEFAULT_SUITES)


@dataclass
class Backtranslated:
    """A seed with the constraints its response satisfies, and counts of what went wrong.

    ``response`` is what the constraints hold for: the seed's own response, or its edited form
    (``edit`` names the edit; ``seed.response`` keeps the original). ``candidates`` holds every
    verified variant per type (``constraints`` one of each); ``passed_by`` maps a chosen
    constraint's type to the indexes of the contrast answers that also satisfy it.
    """

    seed: Seed
    constraints: list[Constraint]
    infer_errors: list[str] = field(default_factory=list)
    verify_failures: list[str] = field(default_factory=list)
    refined_instruction: str | None = None
    response: str = ""
    edit: str | None = None
    candidates: dict[str, list[Constraint]] = field(default_factory=dict, repr=False)
    passed_by: dict[str, frozenset[int]] = field(default_factory=dict, repr=False)
    contrast_size: int = 0
    salt: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not self.response:
            self.response = self.seed.response


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
    *,
    response: str | None = None,
    contrast: Sequence[str] = (),
    salt: str = "",
    describe: bool = True,
) -> Backtranslated:
    """Infer, describe and verify every verifiable constraint ``seed.response`` satisfies.

    ``response``: back-translate this text instead (an edited form of the seed's response).
    ``contrast``: other plausible answers, which some types read to find what sets this one apart.
    ``salt`` varies the random streams (an edited response draws its own).
    ``describe=False`` leaves the wording to :func:`describe_constraints` (called once the variant
    of each type is chosen, so only the chosen ones are worded).
    ``timings``, when given, gains each type's CPU seconds (infer, describe and verify); analyses
    shared by several types (layout, sentences, word counts) count for the first type that asks.
    """
    out = Backtranslated(seed=seed, constraints=[], response=response or seed.response)
    out.salt = salt
    record_key = _record_key(run_seed, seed.id + salt)
    rng = _StreamRandom(0)
    for ctype in types if types is not None else RuleConfig().types():
        if timings is None:
            _one_type(out, ctype, rng, record_key, contrast)
        else:
            start = time.process_time()
            _one_type(out, ctype, rng, record_key, contrast)
            timings[ctype.id] = timings.get(ctype.id, 0.0) + time.process_time() - start
    if describe:
        describe_constraints(out, run_seed)
    return out


_DESCRIBE = "describe"


def describe_constraints(bt: Backtranslated, run_seed: int) -> None:
    """Word every rule constraint of ``bt`` that has no text yet, each type with its own stream."""
    record_key = _record_key(run_seed, bt.seed.id + bt.salt)
    rng = _StreamRandom(0)
    from crabkit.constraints import get

    for c in bt.constraints:
        if c.text or c.source != "rule":
            continue
        rng.seed(record_key ^ _type_key(c.type) ^ _type_key(_DESCRIBE))
        try:
            c.text = get(c.type).describe(c.params, rng)
        except Exception as exc:  # noqa: BLE001  (a describe bug must not kill the run)
            log.warning("describe bug: %s on record %s: %r", c.type, bt.seed.id, exc)
            bt.infer_errors.append(c.type)
    bt.constraints = [c for c in bt.constraints if c.text or c.source != "rule"]


def _one_type(
    out: Backtranslated, ctype: ConstraintType, rng: _StreamRandom, record_key: int, contrast: Sequence[str]
) -> None:
    """Infer, describe and verify one type on one record, adding the results (or the failure) to ``out``."""
    rng.seed(record_key ^ _type_key(ctype.id))  # a fresh stream per type (see _rng)
    seed, response = out.seed, out.response
    try:
        found = ctype.candidates(response, rng, seed.instruction, contrast)
    except Exception as exc:  # noqa: BLE001  (an infer bug must not kill the run; it is counted and reported)
        log.warning("infer bug: %s on record %s: %r", ctype.id, seed.id, exc)
        out.infer_errors.append(ctype.id)
        return
    kept = []
    for params in found:
        c = Constraint(
            type=ctype.id,
            params=dict(params),
            text="",
            verified=False,
            source="rule",
            ifeval_id=ctype.ifeval_id,
            ifeval_kwargs=ctype.to_kwargs(params) if ctype.ifeval_id else None,
        )
        if _verify_with(ctype, response, c):  # the registry's type for c.type, already at hand
            c.verified = True
            kept.append(c)
        else:
            # infer promised a constraint the response does not meet: a bug, dropped loudly.
            log.warning("verify failure (infer bug): %s %r on record %s", ctype.id, params, seed.id)
            out.verify_failures.append(ctype.id)
    if kept:
        out.constraints.append(kept[0])
        out.candidates[ctype.id] = kept
