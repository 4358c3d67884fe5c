"""The constraint-type interface: one small class per type, used by generation, verification and eval.

A type knows four things about itself:

* ``infer(response, rng, instruction="")`` -> params the response already satisfies, or ``None``
  when the response shows nothing worth asking for. Whatever it returns, ``check`` accepts on the
  same response (the pipeline asserts this for every record).
* ``candidates(response, rng, instruction="", contrast=())`` -> every natural variant of the
  params (a lower or an upper bound, a narrow band...), most natural first; the pipeline keeps the
  one that other plausible answers (``contrast``: sibling responses, answers to other requests)
  fail most often. The default is ``[infer(...)]``.
* ``describe(params, rng)`` -> one of several phrasings of the constraint, in our own words;
  ``rng=None`` gives the canonical (first) phrasing, which reverse targets use.
* ``check(response, params)`` -> bool. Pure, deterministic, never raises on odd text.
* ``ifeval_id`` + ``to_kwargs`` / ``from_kwargs``: the IFEval instruction id and kwargs format where
  IFEval has the same type. For the IFEval types the params *are* the reference kwargs.

Ids carry their family as a prefix (``length_constraints:number_words``); the IFEval types keep
their reference ids, so a constraint written by crabkit is scored by IFEval tooling unchanged.
"""

from __future__ import annotations

import functools
import random
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar

__all__ = ["ConstraintType", "Params", "choose", "fill", "pick_phrase"]

Params = dict[str, Any]
T = TypeVar("T")


_AGREE = re.compile(r"\{(\w+):~([^}|]*)(?:\|([^}]*))?\}")


@functools.lru_cache(maxsize=1024)
def _agreeing(template: str) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    """``template`` with each ``{n:~one|many}`` made ``{n} {n~}``, and the (name, one, many) triples."""
    nouns = []

    def swap(m: re.Match[str]) -> str:
        name, one, many = m.group(1), m.group(2), m.group(3) or m.group(2) + "s"
        nouns.append((name, one, many))
        return f"{{{name}}} {{{name}__noun}}"

    return _AGREE.sub(swap, template), tuple(nouns)


def fill(template: str, **values: Any) -> str:
    """``template`` filled with ``values``; ``{n:~item|items}`` agrees the noun with the number:
    ``1 item``, ``3 items``."""
    if ":~" not in template:
        return template.format(**values)
    plain, nouns = _agreeing(template)
    for name, one, many in nouns:
        values[f"{name}__noun"] = one if values[name] == 1 else many
    return plain.format(**values)


def choose(rng: random.Random | None, options: Sequence[T]) -> T:
    """``rng.choice(options)``, or the first (canonical) option when ``rng`` is None."""
    return options[0] if rng is None else rng.choice(options)


def pick_phrase(rng: random.Random | None, templates: Sequence[str], **values: Any) -> str:
    """One template chosen with ``rng`` (the first with ``rng=None``), filled with ``values``."""
    return fill(choose(rng, templates), **values)


class ConstraintType(ABC):
    """Base class of every verifiable constraint type.

    Subclasses set ``id`` (``family:name``), optionally ``ifeval_id`` and ``phrasings`` (templates
    formatted with the params), and implement ``check``. ``infer`` and ``describe`` have defaults
    that a type overrides when it needs to.
    """

    id: ClassVar[str]
    ifeval_id: ClassVar[str | None] = None
    #: The IFBench (Pyatkin et al. 2025) instruction id this type scores exactly as, if any.
    ifbench_id: ClassVar[str | None] = None
    #: "ifbench" for IFBench's 58 types (inferred only when asked for), "crabkit" for the rest.
    suite: ClassVar[str] = "crabkit"
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

    def likely(self, response: str, params: Mapping[str, Any]) -> bool:
        """``check``, or a cheaper verdict that is right nearly always: used only to compare a
        constraint with other answers (which ones would pass it), never to verify one."""
        return self.check(response, params)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> Params | None:
        """Params that ``response`` already satisfies, or None. Default: this type is never inferred."""
        return None

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[Params]:
        """Every natural variant of the params ``response`` satisfies, most natural first.

        ``contrast`` holds other plausible answers (to the same request where the input has them):
        a type may read them to find what sets this response apart (words the others use and this
        one avoids). Default: ``[infer(...)]``, or none.
        """
        params = self.infer(response, rng, instruction)
        return [] if params is None else [params]

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Values the phrasing templates are formatted with. Default: the params themselves."""
        return dict(params)

    def describe(self, params: Mapping[str, Any], rng: random.Random | None) -> str:
        """A natural-language statement of the constraint, one of ``phrasings`` chosen with ``rng``
        (the canonical first one with ``rng=None``)."""
        if not self.phrasings:
            raise NotImplementedError(f"{self.id} has no phrasings")
        return pick_phrase(rng, self.phrasings, **self.describe_values(params))

    def to_kwargs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """IFEval kwargs for these params (only meaningful when ``ifeval_id`` is set)."""
        return dict(params)

    def from_kwargs(self, kwargs: Mapping[str, Any] | None) -> Params:
        """Params from IFEval kwargs under the one kwargs policy (``ifeval_kwargs``): nulls and keys
        the type does not take are dropped; a value the reference cannot score, or would replace
        with a random one, raises ``IFEvalKwargsError`` (a ``ValueError``) naming the field."""
        from .ifeval_kwargs import normalize_kwargs

        return normalize_kwargs(self.ifeval_id or "", kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"
