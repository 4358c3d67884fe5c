"""Plumbing shared by the IFBench types (Pyatkin et al. 2025): the base class, the kwargs policy and
the reference's own text operations (its punctuation stripping, its tokenisers, its stop words).

Every IFBench type (the 28 of ``ifbench_format``/``ifbench_tasks`` and the 29 of
``ifbench_counts``/``ifbench_words``) takes the reference's kwargs as its params, under the reference's names (``N``,
``small_n``, ``percentage``...). As for the IFEval types (``ifeval_kwargs``), a value the reference
would replace with a random one (missing, negative, an empty keyword) or cannot score (a float where
it indexes a list, a zero it divides by) raises ``IFEvalKwargsError`` naming the instruction id and
the field; ``None`` values and keys the type does not take are dropped, and whole-number floats
(``5.0``, as the Hugging Face layout stores every number) are made ints.

Where the reference gives a verdict for kwargs that this policy refuses, or crashes on them:

* ``count:words_japanese`` with ``N = 0`` divides by zero; refused (``N`` is 1 or more).
* ``sentence:keyword`` with ``N = 0`` reads the *last* sentence (Python's ``[-1]``); refused.
* ``words:keywords_specific_position`` indexes with ``n`` and ``m`` as given: a float crashes it and
  a 0 makes it draw a random one; both refused (ints, 1 or more).
* an empty keyword (after stripping, where the reference strips) makes ``count:keywords_multiple``
  count the empty string and ``words:words_position`` fail every answer; refused, as is a keyword
  that is not a string (the reference's ``.strip()`` raises on it).
* ``ratio:overlap`` without a ``reference_text`` crashes; refused.

The reference's word operations are kept literally, because its verdicts depend on them:
``strip_punct`` is ``str.strip(string.punctuation + " ")`` (ASCII marks only), ``drop_punct`` deletes
every ASCII punctuation character, ``treebank_words`` is ``nltk.word_tokenize`` (Punkt sentences,
then Treebank words), ``count_words`` the ``\\w+`` tokens of NLTK's ``RegexpTokenizer``.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from crabkit import text
from crabkit._memo import per_text

from .base import ConstraintType, Params
from .ifeval_kwargs import IFEvalKwargsError

__all__ = [
    "PUNCT",
    "Check",
    "IFBenchType",
    "count_words",
    "drop_punct",
    "index_kwarg",
    "keyword_kwarg",
    "nltk_stopwords",
    "nonempty_kwarg",
    "number_kwarg",
    "ordinal",
    "positive_kwarg",
    "raw_keyword_kwarg",
    "sentences",
    "slice_kwarg",
    "strip_punct",
    "text_kwarg",
    "treebank_words",
    "whole_kwarg",
]

#: ASCII punctuation, as the reference strips and deletes it.
PUNCT = string.punctuation
_STRIP = PUNCT + " "
_DROP = str.maketrans("", "", PUNCT)

Check = Callable[[Any], Any]  # the normalised value, or ValueError with the problem


def strip_punct(word: str) -> str:
    return word.strip(_STRIP)


def drop_punct(value: str) -> str:
    return value.translate(_DROP)


def count_words(value: str) -> int:
    return text.count_words(value)


def sentences(value: str) -> list[str]:
    """``nltk.sent_tokenize`` (Punkt english), memoised on the text by ``crabkit.text``."""
    return text.sentences(value)


@per_text()
def _treebank(value: str) -> tuple[str, ...]:
    return tuple(text.nltk_words(value))


def treebank_words(value: str) -> list[str]:
    """``nltk.word_tokenize(value)``."""
    return list(_treebank(value))


@functools.lru_cache(maxsize=1)
def nltk_stopwords() -> frozenset[str]:
    """NLTK's English stop-word list (``stopwords.words('english')``), bundled as
    ``data/nltk_stopwords_english.txt`` (provenance in ``data/README.md``)."""
    from importlib.resources import files

    raw = (files("crabkit") / "data" / "nltk_stopwords_english.txt").read_text(encoding="utf-8")
    return frozenset(w for w in raw.splitlines() if w)


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def ordinal(n: int) -> str:
    """``first`` ... ``tenth``, then ``11th``, ``12th``, ``21st``..."""
    if 1 <= n <= len(_ORDINALS):
        return _ORDINALS[n - 1]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --- the kwargs policy ------------------------------------------------------------------------------


def whole_kwarg(value: Any) -> int:
    """A whole number 0 or more (the reference draws a random one for a negative)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number (got {value!r})")  # noqa: TRY004 - one error type for kwargs
    if value < 0:
        raise ValueError(f"must be 0 or more (got {value!r}; the reference would draw a random one)")
    return value


def positive_kwarg(value: Any) -> int:
    """A whole number 1 or more (the reference divides by it, or counts from 1)."""
    number = whole_kwarg(value)
    if number < 1:
        raise ValueError(f"must be 1 or more (got {value!r})")
    return number


def index_kwarg(value: Any) -> int:
    """A position counted from 1, as an int: the reference indexes a list with it (a float crashes it,
    a 0 makes it draw a random one)."""
    if isinstance(value, float):
        raise ValueError(  # noqa: TRY004 - one error type for kwargs
            f"must be an integer, not a float (got {value!r}; the reference cannot index with it)"
        )
    return positive_kwarg(value)


def number_kwarg(value: Any) -> float | int:
    """A finite number 0 or more, kept as given (the reference compares it, fractions included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"must be a number (got {value!r})")
    if value < 0:
        raise ValueError(f"must be 0 or more (got {value!r}; the reference would draw a random one)")
    return int(value) if isinstance(value, float) and value.is_integer() else value


def text_kwarg(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string (got {value!r})")  # noqa: TRY004 - one error type for kwargs
    return value


def keyword_kwarg(value: Any) -> str:
    """A keyword with its surrounding whitespace removed, as the reference strips it; never empty."""
    word = text_kwarg(value).strip()
    if not word:
        raise ValueError("must not be empty (the reference would draw a random word)")
    return word


def nonempty_kwarg(value: Any) -> str:
    """Text the reference refuses when empty (``prompt_to_repeat``), kept as given."""
    if not text_kwarg(value):
        raise ValueError("must not be empty (the reference refuses it)")
    return value


def slice_kwarg(value: Any) -> int:
    """An int the reference slices with, as given (a bool slices as 0 or 1, a negative from the end);
    never a float."""
    if isinstance(value, int):
        return int(value)
    raise ValueError(f"must be an integer (got {value!r}; the reference cannot slice with it)")


def raw_keyword_kwarg(value: Any) -> str:
    """A keyword the reference keeps as given (``sentence:keyword``); never empty."""
    if not text_kwarg(value):
        raise ValueError("must not be empty (the reference would draw a random word)")
    return value


class IFBenchType(ConstraintType):
    """An IFBench instruction type: ``id == ifbench_id``, inferred only when asked for (``suite``),
    params = the reference's kwargs under ``kwargs_spec`` (field -> check; every field is required;
    nulls and other keys dropped), written back unchanged by ``to_kwargs``."""

    suite: ClassVar[str] = "ifbench"
    kwargs_spec: ClassVar[dict[str, Check]] = {}

    def from_kwargs(self, kwargs: Mapping[str, Any] | None) -> Params:
        type_id = self.ifbench_id or self.id
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise IFEvalKwargsError(type_id, "kwargs", f"must be an object (got {kwargs!r})")
        given = kwargs or {}
        params: Params = {}
        for name, check in self.kwargs_spec.items():
            value = given.get(name)
            if value is None:
                raise IFEvalKwargsError(
                    type_id, name, "is missing (the reference would draw a random value or refuse)"
                )
            try:
                params[name] = check(value)
            except ValueError as exc:
                raise IFEvalKwargsError(type_id, name, str(exc)) from None
        return params

    def to_kwargs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {name: params[name] for name in self.kwargs_spec if name in params}

    def params(self, params: Mapping[str, Any]) -> Params:
        """``params`` checked and normalised as kwargs are (checks call this: a bad param is a
        ``ValueError`` naming the field, never a wrong verdict)."""
        return self.from_kwargs(params) if self.kwargs_spec else {}
