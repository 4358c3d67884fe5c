"""The constraint-type interface: one small class per type, used by generation, verification and eval.

A type knows four things about itself:

* ``infer(response, rng, instruction="")`` -> params the response already satisfies, or ``None``
  when the response shows nothing worth asking for. Whatever it returns, ``check`` accepts on the
  same response (the pipeline asserts this for every record).
* ``describe(params, rng)`` -> one of several phrasings of the constraint, in our own words.
* ``check(response, params)`` -> bool. Pure, deterministic, never raises on odd text.
* ``ifeval_id`` + ``to_kwargs`` / ``from_kwargs``: the IFEval instruction id and kwargs format where
  IFEval has the same type. For the IFEval types the params *are* the reference kwargs.

Ids carry their family as a prefix (``length_constraints:number_words``); the IFEval types keep
their reference ids, so a constraint written by crabkit is scored by IFEval tooling unchanged.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = ["ConstraintType", "Params", "pick_phrase"]

Params = dict[str, Any]


def pick_phrase(rng: random.Random, templates: tuple[str, ...], **values: Any) -> str:
    """One template chosen with ``rng``, filled with ``values``."""
    return rng.choice(templates).format(**values)


class ConstraintType(ABC):
    """Base class of every verifiable constraint type.

    Subclasses set ``id`` (``family:name``), optionally ``ifeval_id`` and ``phrasings`` (templates
    formatted with the params), and implement ``check``. ``infer`` and ``describe`` have defaults
    that a type overrides when it needs to.
    """

    id: ClassVar[str]
    ifeval_id: ClassVar[str | None] = None
    #: Relative sampling weight used by the composer (1.0 = ordinary).
    weight: ClassVar[float] = 1.0
    #: Templates for ``describe``; formatted with the params (after ``describe_values``).
    phrasings: ClassVar[tuple[str, ...]] = ()

    @property
    def family(self) -> str:
        return self.id.split(":", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split(":", 1)[1]

    @abstractmethod
    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        """Whether ``response`` satisfies the constraint with ``params``."""

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> Params | None:
        """Params that ``response`` already satisfies, or None. Default: this type is never inferred."""
        return None

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Values the phrasing templates are formatted with. Default: the params themselves."""
        return dict(params)

    def describe(self, params: Mapping[str, Any], rng: random.Random) -> str:
        """A natural-language statement of the constraint, one of ``phrasings`` chosen with ``rng``."""
        if not self.phrasings:
            raise NotImplementedError(f"{self.id} has no phrasings")
        return pick_phrase(rng, self.phrasings, **self.describe_values(params))

    def to_kwargs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """IFEval kwargs for these params (only meaningful when ``ifeval_id`` is set)."""
        return dict(params)

    def from_kwargs(self, kwargs: Mapping[str, Any]) -> Params:
        """Params from IFEval kwargs; ``None`` values (the reference's "unset") are dropped."""
        return {k: v for k, v in kwargs.items() if v is not None}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"
