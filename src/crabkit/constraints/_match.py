"""Case-insensitive keyword matching without compiling a pattern per keyword.

The keyword checks are defined by regular expressions (``re.IGNORECASE``, literal text, ``(?<!\\w)``
and ``(?!\\w)`` for whole words, ``\\s+`` between the words of a phrase). Compiling one per keyword
costs more than everything else a check does, and nearly every keyword is new. For an ASCII keyword
and a response holding none of ``ODD_FOLDS``, plain string search on the lower-cased response finds
exactly what the pattern finds (see ``plain_case``); anything else goes to the pattern itself.
"""

from __future__ import annotations

import functools
import re

from crabkit._memo import per_text

__all__ = [
    "ODD_FOLDS",
    "contains_ci",
    "contains_phrase",
    "literal_pattern",
    "lowered",
    "plain_case",
    "whole_hits",
    "whole_word_in",
]

#: The only non-ASCII characters that ``re.IGNORECASE`` matches to ASCII letters ("I", "i", "s", "k"),
#: and the only one whose lower case is longer than itself.
ODD_FOLDS = ("\u0130", "\u0131", "\u017f", "\u212a")


@per_text()
def lowered(response: str) -> str:
    """``response.lower()``, memoised (every keyword check of a response reads it)."""
    return response.lower()


@per_text()
def _has_odd_folds(response: str) -> bool:
    return not response.isascii() and any(c in response for c in ODD_FOLDS)


def plain_case(response: str, keyword: str) -> bool:
    """Whether string methods on ``lowered(response)`` answer for an IGNORECASE pattern of ``keyword``.

    With an ASCII keyword and none of ``ODD_FOLDS`` in the response, an ASCII letter of the pattern
    matches exactly its two cases, other ASCII characters only themselves, and lower-casing keeps
    every offset (no other character lower-cases to more than one character or to ASCII).
    """
    return keyword.isascii() and not _has_odd_folds(response)


@functools.lru_cache(maxsize=4096)
def literal_pattern(keyword: str) -> re.Pattern[str]:
    """``keyword`` as a literal, case-insensitive pattern."""
    return re.compile(re.escape(keyword), re.IGNORECASE)


def contains_ci(response: str, keyword: str) -> bool:
    """``re.search(re.escape(keyword), response, re.IGNORECASE)`` as a bool."""
    if plain_case(response, keyword):
        return keyword.lower() in lowered(response)
    return literal_pattern(keyword).search(response) is not None


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what re's \w matches in a str pattern


def whole_hits(haystack: str, needle: str, most: int = 2) -> int:
    """Occurrences of ``needle`` in ``haystack`` that no word character touches, counted up to ``most``
    (a plain, case-sensitive string scan: callers lower-case both sides when case should not count)."""
    hits = start = 0
    while hits < most:
        i = haystack.find(needle, start)
        if i < 0:
            break
        end = i + len(needle)
        if (i == 0 or not _is_word_char(haystack[i - 1])) and (
            end == len(haystack) or not _is_word_char(haystack[end])
        ):
            hits += 1
        start = i + 1
    return hits


@functools.lru_cache(maxsize=4096)
def _phrase_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", re.IGNORECASE)


def _phrase_at(text: str, low: str, start: int, words: list[str]) -> bool:
    """Whether ``words`` (lower-cased) occur in ``low`` from ``start``, one or more spaces apart,
    followed by no word character."""
    pos = start
    for k, word in enumerate(words):
        if k:
            gap = pos
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos == gap:
                return False
        if not low.startswith(word, pos):
            return False
        pos += len(word)
    return pos == len(text) or not _is_word_char(text[pos])


def contains_phrase(response: str, phrase: str) -> bool:
    """``(?<!\\w)word1\\s+word2...(?!\\w)`` (escaped, IGNORECASE) found in ``response``."""
    words = phrase.split()
    if not words:
        return False
    if not plain_case(response, phrase):
        return _phrase_pattern(tuple(words)).search(response) is not None
    low = lowered(response)
    first = words[0].lower()
    rest = [w.lower() for w in words]
    start = low.find(first)
    while start >= 0:
        if (start == 0 or not _is_word_char(response[start - 1])) and _phrase_at(response, low, start, rest):
            return True
        start = low.find(first, start + 1)
    return False


@functools.lru_cache(maxsize=4096)
def _whole_word(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE)


def whole_word_in(response: str, word: str) -> bool:
    """``(?<!\\w)word(?!\\w)`` (escaped, IGNORECASE) found in ``response``."""
    if word and word.split() == [word]:  # one word: the phrase search is the same pattern
        return contains_phrase(response, word)
    return _whole_word(word).search(response) is not None
