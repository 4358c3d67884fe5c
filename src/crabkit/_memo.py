"""Memoised analyses of one text (a response, an instruction), and one way to forget them all.

Each constraint type infers on a response and the verifier then checks it, so analyses shared by
several types (its words, sentences, layout...) are remembered for the last few hundred texts.
``per_text`` is ``functools.lru_cache`` that also enrols the function, so ``clear_all`` (cold-start
timing) reaches every such memo without a list kept by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["clear_all", "per_text"]

F = TypeVar("F", bound=Callable[..., Any])

_MEMOS: list[Any] = []


def per_text(maxsize: int = 256) -> Callable[[F], F]:
    """``functools.lru_cache(maxsize)``, enrolled for :func:`clear_all`."""

    def wrap(fn: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        _MEMOS.append(cached)
        return cached  # type: ignore[return-value]

    return wrap


def clear_all() -> None:
    """Forget every memoised text analysis (results never change, only their cost)."""
    for fn in _MEMOS:
        fn.cache_clear()
