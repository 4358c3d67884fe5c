"""Forward examples: instruction + k sampled constraints -> response, with in-context demonstrations.

How many constraints: ``p_few`` of the prompts ask for ``few`` (1-3, as IFEval's do), the rest for
``many`` (4-8, as CRAB's do). Which ones: drawn without replacement by weight, never two that
conflict. A constraint's weight is its type's weight (``weights``, else ``DEFAULT_WEIGHTS``) times
how informative it is (the share of other answers that fail it: an answer has to work for it) times the block's balance (types available to few seeds are boosted, types already asked of
more than ``most_share`` of the block's prompts are held back). Then, while another answer still
satisfies every chosen constraint, a constraint it fails is added or swapped in (``cover``).
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from crabkit.records import Constraint

from .templates import join_forward
from .weights import DEFAULT_WEIGHTS, FINGERPRINT_TYPES

__all__ = [
    "Balance", "ForwardConfig", "cover", "forward_prompt", "sample_constraints", "sample_k", "suite_scaled", "type_weight",
    "with_suites",
]

# Weight of a constraint no other answer was compared with (soft ones, single seeds): as if half
# the other answers failed it.
_UNKNOWN_INFORMATIVENESS = 0.5
_INFORMATIVE_FLOOR = 0.15
_HELD_BACK = 0.1
#: A type that singles out one answer more than a person would ask for it is held back past this
#: share of a block's prompts (see ``weights.FINGERPRINT_TYPES``).
FINGERPRINT_SHARE = 0.05
_MOST_BOOST = 20.0
_MIN_PROMPTS_FOR_CAP = 20


@dataclass
class ForwardConfig:
    """How many constraints a forward example gets, how they are drawn, and how the prompt reads.

    ``shapes_few`` / ``shapes_many``: weights of the prompt shapes (see ``templates.SHAPES``) for
    prompts with few and with many constraints. ``weights`` overrides per-type sampling weights
    (type id or family -> weight; 0 never asks that type).
    """

    p_few: float = 0.6
    few: tuple[int, int] = (1, 3)
    many: tuple[int, int] = (4, 8)
    demo_rate: float = 0.5
    demos: tuple[int, int] = (1, 3)
    weights: dict[str, float] = field(default_factory=dict)
    most_share: float = 0.2
    shapes_few: dict[str, float] = field(
        default_factory=lambda: {"inline": 0.5, "paragraph": 0.25, "list": 0.1, "headed": 0.15}
    )
    shapes_many: dict[str, float] = field(
        default_factory=lambda: {"inline": 0.1, "paragraph": 0.25, "list": 0.25, "headed": 0.4}
    )

    def __post_init__(self) -> None:
        for name in ("p_few", "demo_rate", "most_share"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"compose.forward.{name} must be a number between 0 and 1, got {value!r}")
        for name in ("few", "many", "demos"):
            lo, hi = getattr(self, name)
            if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi):
                raise ValueError(f"compose.forward.{name} must be two whole numbers, low <= high, got {(lo, hi)!r}")
        from .templates import SHAPES

        for name in ("shapes_few", "shapes_many"):
            shapes = getattr(self, name)
            unknown = sorted(set(shapes) - set(SHAPES))
            if unknown or not any(w > 0 for w in shapes.values()):
                raise ValueError(f"compose.forward.{name}: weights over {', '.join(SHAPES)}, not all 0 (got {shapes!r})")


def sample_k(pool_size: int, cfg: ForwardConfig, rng: random.Random) -> int:
    """Number of constraints to ask for, at most ``pool_size``."""
    if pool_size <= 0:
        return 0
    lo, hi = cfg.few if rng.random() < cfg.p_few else cfg.many
    return min(rng.randint(max(lo, 1), max(hi, 1)), pool_size)


def type_weight(c: Constraint, weights: Mapping[str, float]) -> float:
    """The sampling weight of ``c``'s type: an override by id or family, else the default."""
    if c.type in weights:
        return float(weights[c.type])
    if c.family in weights:
        return float(weights[c.family])
    if c.source == "rule":
        if c.type in DEFAULT_WEIGHTS:
            return DEFAULT_WEIGHTS[c.type]
        from crabkit.constraints import get

        return get(c.type).weight
    return 1.0


def with_suites(cfg: ForwardConfig, suites: Mapping[str, float] | None) -> ForwardConfig:
    """``cfg`` with its type weights scaled by ``suites`` (see ``suite_scaled``); ``cfg`` itself when
    no factor differs from 1 (None included)."""
    if not suites or all(f == 1.0 for f in suites.values()):
        return cfg
    return dataclasses.replace(cfg, weights=suite_scaled(cfg.weights, suites))


def suite_scaled(weights: Mapping[str, float], suites: Mapping[str, float]) -> dict[str, float]:
    """``weights`` with every registered type of a suite whose factor (``suites``: suite name ->
    factor, see :meth:`crabkit.backtranslate.rules.RuleConfig.suite_multipliers`) is not 1 given
    its weight (override, default or its own) times that factor. Factor 1 everywhere: ``weights``
    as they are."""
    from crabkit.constraints import all_types
    from crabkit.constraints.suites import suite_name

    out = dict(weights)
    for ctype in all_types():
        factor = suites.get(suite_name(ctype), 1.0)
        if factor != 1.0:
            probe = Constraint(type=ctype.id, params={}, text="", verified=True, source="rule")
            out[ctype.id] = type_weight(probe, weights) * factor
    return out


@dataclass
class Balance:
    """A block's balance of types: how many seeds could be asked each type, and how many prompts
    asked it so far."""

    seeds: int = 0
    available: Counter[str] = field(default_factory=Counter)
    asked: Counter[str] = field(default_factory=Counter)
    prompts: int = 0
    most_share: float = 0.2

    @classmethod
    def of(cls, pools: Sequence[Sequence[Constraint]], most_share: float = 0.2) -> Balance:
        available: Counter[str] = Counter()
        for pool in pools:
            available.update({c.type for c in pool})
        return cls(seeds=len(pools), available=available, most_share=most_share)

    def factor(self, type_id: str) -> float:
        share = self.available[type_id] / self.seeds if self.seeds else 1.0
        boost = min(1.0 / share, _MOST_BOOST) if share > 0 else _MOST_BOOST
        if type_id in FINGERPRINT_TYPES:
            if self.asked[type_id] >= max(1.0, FINGERPRINT_SHARE * self.prompts):
                return _HELD_BACK * _HELD_BACK
        elif self.prompts >= _MIN_PROMPTS_FOR_CAP and self.asked[type_id] > self.most_share * self.prompts:
            boost *= _HELD_BACK
        return boost

    def record(self, chosen: Sequence[Constraint]) -> None:
        self.prompts += 1
        self.asked.update({c.type for c in chosen})


def _informative_factor(c: Constraint) -> float:
    from crabkit.backtranslate.contrast import informativeness

    s = informativeness(c)
    s = _UNKNOWN_INFORMATIVENESS if s is None else s
    return _INFORMATIVE_FLOOR + s


def sample_constraints(
    pool: Sequence[Constraint],
    k: int,
    rng: random.Random,
    weights: Mapping[str, float] | None = None,
    *,
    forced: Sequence[Constraint] = (),
    balance: Balance | None = None,
) -> list[Constraint]:
    """Up to ``k`` constraints (``forced`` ones first) drawn without replacement by weight, never
    two that conflict, in random order."""
    from crabkit.constraints.conflicts import conflicts

    weights = weights or {}
    chosen: list[Constraint] = list(forced)
    known: dict[int, float] = {}

    def weight(c: Constraint) -> float:
        if id(c) not in known:
            w = type_weight(c, weights)
            if w > 0:
                w *= _informative_factor(c)
                if balance is not None:
                    w *= balance.factor(c.type)
            known[id(c)] = max(w, 0.0)
        return known[id(c)]

    candidates = [
        c for c in pool
        if c not in chosen and weight(c) > 0
        and not any(conflicts(f.type, c.type, f.params, c.params) for f in chosen)
    ]  # fmt: skip
    while candidates and len(chosen) < k:
        pick = rng.choices(candidates, weights=[weight(c) for c in candidates])[0]
        chosen.append(pick)
        candidates = [
            c
            for c in candidates
            if c is not pick and not conflicts(pick.type, c.type, pick.params, c.params)
        ]
    rng.shuffle(chosen)
    return chosen


def cover(
    chosen: list[Constraint],
    pool: Sequence[Constraint],
    passed_by: Mapping[str, Collection[int]],
    n_contrast: int,
    most: int,
    keep: Collection[Constraint] = (),
    weights: Mapping[str, float] | None = None,
    balance: Balance | None = None,
) -> list[Constraint]:
    """``chosen`` changed so that fewer contrast answers satisfy all of it: while some answer passes
    every chosen constraint, the constraint that most such answers fail (weighed by its type's
    weight and the block's balance) is added (up to ``most``) or swapped for a chosen one (never one
    of ``keep``) when that leaves fewer answers passing."""
    from crabkit.constraints.conflicts import conflicts

    if not n_contrast:
        return chosen
    weights = weights or {}
    everyone = frozenset(range(n_contrast))

    def passing(cs: Sequence[Constraint]) -> frozenset[int]:
        left = everyone
        for c in cs:
            left = left & frozenset(passed_by.get(c.type, everyone)) if c.source == "rule" else left
        return left

    chosen = list(chosen)
    for _ in range(4):
        left = passing(chosen)
        if not left:
            break
        best, best_gain = None, 0.0
        for c in pool:
            w = type_weight(c, weights)
            if c in chosen or c.source != "rule" or w <= 0 or c.type not in passed_by:
                continue
            gain = len(left - frozenset(passed_by[c.type])) * w
            if balance is not None:
                gain *= balance.factor(c.type)
            if gain > best_gain:
                best, best_gain = c, gain
        if best is None:
            break
        clash = [x for x in chosen if conflicts(x.type, best.type, x.params, best.params)]
        if len(chosen) < most and not clash:
            chosen.append(best)
            continue
        # Swap: drop the chosen constraint whose loss (with ``best`` added) leaves the fewest passing.
        options = []
        for x in chosen:
            if x in keep or any(y is not x and conflicts(y.type, best.type, y.params, best.params) for y in chosen):
                continue
            trial = [y for y in chosen if y is not x] + [best]
            options.append((len(passing(trial)), chosen.index(x), trial))
        if not options:
            break
        size, _, trial = min(options, key=lambda o: (o[0], o[1]))
        if size >= len(left):
            break
        chosen = trial
    return chosen


def forward_prompt(
    instruction: str, constraints: Sequence[Constraint], rng: random.Random, shape: str | None = None
) -> str:
    return join_forward(instruction, [c.text for c in constraints], rng, shape)
