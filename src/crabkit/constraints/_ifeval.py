"""Plumbing shared by the IFEval-compatible constraint types: params, relations, cached text analyses.

The IFEval types take the reference kwargs as params. Where the reference draws a random value for a
missing or invalid kwarg, we raise ``ValueError`` naming the type and the kwarg instead: a random
threshold is never what a caller meant. Bad *responses* never raise.

The analyses that cost real time (Punkt sentences, Treebank words, langdetect) are memoised on the
exact text, because one scoring pass asks several checks about the same response and the same loose
variant; ``clear_caches`` empties them (benchmarks call it to time cold passes).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from crabkit import text
from crabkit._memo import clear_all, per_text

from ._match import lowered

__all__ = [
    "RELATIONS",
    "clear_caches",
    "compare",
    "get_int",
    "get_relation",
    "get_str",
    "get_str_list",
    "language",
    "lower_word_counts",
    "sentence_count",
    "upper_token_count",
    "word_count",
]

#: The reference's two comparison relations: "less than" is ``<``, "at least" is ``>=``.
RELATIONS = ("less than", "at least")

_CACHE_SIZE = 1024


def _missing(type_id: str, key: str, what: str) -> ValueError:
    return ValueError(f"{type_id}: param {key!r} must be {what}")


def get_int(type_id: str, params: Mapping[str, Any], key: str) -> int:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _missing(type_id, key, f"an integer (got {value!r})")
    return value


def get_str(type_id: str, params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str):
        raise _missing(type_id, key, f"a string (got {value!r})")
    return value


def get_str_list(type_id: str, params: Mapping[str, Any], key: str) -> list[str]:
    value = params.get(key)
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise _missing(type_id, key, f"a non-empty list of strings (got {value!r})")
    if not all(isinstance(v, str) for v in value):
        raise _missing(type_id, key, f"a list of strings (got {value!r})")
    return list(value)


def get_relation(type_id: str, params: Mapping[str, Any], key: str = "relation") -> str:
    value = params.get(key)
    if value not in RELATIONS:
        raise _missing(type_id, key, f"one of {RELATIONS} (got {value!r})")
    return value


def compare(count: int, relation: str, threshold: int) -> bool:
    """``count < threshold`` for "less than", ``count >= threshold`` for "at least"."""
    return count < threshold if relation == "less than" else count >= threshold


@per_text()
def lower_word_counts(value: str) -> Counter[str]:
    """Lower-cased ``\\w+`` token -> occurrences, in order of first occurrence (memoised per response)."""
    return Counter(text.words(lowered(value)))


@per_text(_CACHE_SIZE)
def word_count(value: str) -> int:
    """``\\w+`` words in a whole response (memoised: a dozen types ask for it).

    Lower-casing maps every character to characters that are word characters (for the `regex`
    engine NLTK uses, see ``text.words``) exactly when the original is (checked over all of
    Unicode by a test), so the runs, and their number, are those of the lower-cased text, whose
    words the keyword types count anyway.
    """
    return sum(lower_word_counts(value).values())


@per_text(_CACHE_SIZE)
def sentence_count(value: str) -> int:
    """Punkt sentences in ``value`` (the reference's ``count_sentences``)."""
    return text.count_sentences(value)


def _unwrapped(value: Any) -> Any:
    """A pattern (or nested tuples and lists of them) without NLTK's per-match timeout wrapper
    (``nltk.redos.TimedPattern._rx``: the same `regex` pattern, matching identically)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrapped(v) for v in value)
    return getattr(value, "_rx", value)


@functools.lru_cache(maxsize=1)
def _treebank():
    """NLTK's ``NLTKWordTokenizer`` (``word_tokenize``'s), its own ``tokenize`` code, with its patterns
    unwrapped: NLTK 3.10.4 runs each of them under a timeout wrapper that doubles the cost."""
    from nltk.tokenize import NLTKWordTokenizer

    tokenizer = NLTKWordTokenizer()
    for name in dir(tokenizer):
        if name.isupper():
            setattr(tokenizer, name, _unwrapped(getattr(tokenizer, name)))
    return tokenizer


# NLTK's Treebank code and patterns (3.10.4, 3.10.3) for which ``_no_upper_tokens`` was worked out.
_TREEBANK_SHA256 = frozenset({
    "f69547250108f4bdd17b4ea5e5a03056e17f9bf35c317c9b0cbf5710579cb23c",
    "1ea900e2d4bf7430f28c543dc7ee57ef931ec1d2b3579ba429b2b4b456fbb63f",
})  # fmt: skip
_PLAIN_CAPITALISED = re.compile(r"[A-Z][a-z]+[,.;:!?]?")
# A whitespace-separated chunk (``str.split``'s whitespace: ``re``'s ``\s`` on ASCII) holding a capital.
_CAPITAL_CHUNK = re.compile(r"(?<!\S)\S*[A-Z]\S*")


def _pattern_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_pattern_text(v) for v in value) + "]"
    if hasattr(value, "pattern"):
        return repr((value.pattern, int(value.flags) & ~(256 | 32)))
    return repr(value)


@functools.lru_cache(maxsize=1)
def _treebank_checked() -> bool:
    """Whether NLTK's Treebank tokenizer is one ``_no_upper_tokens`` was worked out for."""
    import hashlib
    import inspect

    from nltk.tokenize.destructive import NLTKWordTokenizer

    tokenizer = NLTKWordTokenizer()
    digest = hashlib.sha256(inspect.getsource(NLTKWordTokenizer.tokenize).encode())
    for name in sorted(a for a in dir(tokenizer) if a.isupper()):
        digest.update(name.encode())
        digest.update(_pattern_text(getattr(tokenizer, name)).encode())
    return digest.hexdigest() in _TREEBANK_SHA256


def _no_upper_tokens(sentence: str) -> bool:
    """Whether the Treebank tokens of an ASCII ``sentence`` cannot include an all-capitals one.

    Treebank only inserts spaces and swaps quote marks for other marks (never adds a letter, never
    joins text across whitespace), so each token lies inside one whitespace-separated chunk. A chunk
    without a capital gives no capital token; neither does a capitalised word (``The``, ``Paris,``):
    its only splits are before the trailing mark and inside ``Cannot``-style contractions, whose
    pieces all keep a lower-case letter.
    """
    return all(_PLAIN_CAPITALISED.fullmatch(chunk.group()) for chunk in _CAPITAL_CHUNK.finditer(sentence))


@per_text(16 * _CACHE_SIZE)
def _sentence_upper_tokens(sentence: str) -> int:
    if sentence.isascii() and _treebank_checked() and _no_upper_tokens(sentence):
        return 0
    return sum(1 for token in _treebank().tokenize(sentence) if token.isupper())


@per_text(_CACHE_SIZE)
def upper_token_count(value: str) -> int:
    """NLTK ``word_tokenize`` tokens that are all upper case (``str.isupper``).

    ``word_tokenize`` runs the Treebank tokenizer on each Punkt sentence separately, so counting per
    sentence (memoised: loose variants repeat most sentences) gives the same total.
    """
    return sum(_sentence_upper_tokens(s) for s in text.sentences(value))


def language(value: str) -> str | None:
    """langdetect's language code for ``value`` (seed 0), or None when it finds no features: the
    project's one detector, ``text.detect_language`` (exact, faster, its verdicts memoised)."""
    return text.detect_language(value)


def clear_caches() -> None:
    """Forget every memoised text analysis (``per_text`` memos, Punkt's and langdetect's own)."""
    from crabkit import _langdetect

    clear_all()
    _langdetect.clear_cache()
    text.clear_memos()
