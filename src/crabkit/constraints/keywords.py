"""IFEval ``keywords:*`` types: keyword presence, keyword frequency, forbidden words, letter frequency.

Deliberate deviations from the reference, all for keywords it would treat as regular expressions:

* keywords are matched literally (``re.escape``), never as patterns, so ``C++`` or ``(beta)`` mean
  themselves; for plain-word keywords (all of IFEval's) the result is the reference's.
* ``forbidden_words`` bounds a word with "no word character on either side" (``(?<!\\w)``/``(?!\\w)``),
  which is ``\\b`` for keywords that start and end with a word character and stays sensible for ones
  that do not (``\\b`` next to ``+`` would demand a *word* character there).
* ``letter_frequency`` counts the symbol it was given, lower-cased; the reference swaps a non-letter
  or multi-character ``letter`` for a random ASCII letter.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from ._ifeval import compare, get_int, get_relation, get_str, get_str_list
from .base import ConstraintType
from .registry import register

__all__ = ["ForbiddenWords", "KeywordExistence", "KeywordFrequency", "LetterFrequency"]


@functools.lru_cache(maxsize=4096)
def _literal(keyword: str) -> re.Pattern[str]:
    return re.compile(re.escape(keyword), re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _whole_word(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE)


@register
class KeywordExistence(ConstraintType):
    """Every keyword in ``keywords`` appears somewhere, case-insensitively (substrings count)."""

    id = ifeval_id = "keywords:existence"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        keywords = get_str_list(self.id, params, "keywords")
        return all(_literal(k).search(response) for k in keywords)


@register
class KeywordFrequency(ConstraintType):
    """``keyword`` (stripped) occurs ``relation`` ``frequency`` times, case-insensitively, non-overlapping."""

    id = ifeval_id = "keywords:frequency"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        keyword = get_str(self.id, params, "keyword").strip()
        frequency = get_int(self.id, params, "frequency")
        relation = get_relation(self.id, params, "relation")
        if not keyword:
            raise ValueError(f"{self.id}: param 'keyword' is empty")
        return compare(len(_literal(keyword).findall(response)), relation, frequency)


@register
class ForbiddenWords(ConstraintType):
    """None of ``forbidden_words`` appears as a whole word, case-insensitively."""

    id = ifeval_id = "keywords:forbidden_words"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        words = get_str_list(self.id, params, "forbidden_words")
        return not any(_whole_word(w).search(response) for w in words)


@register
class LetterFrequency(ConstraintType):
    """The symbol ``letter`` occurs ``let_relation`` ``let_frequency`` times in the lower-cased response."""

    id = ifeval_id = "keywords:letter_frequency"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        letter = get_str(self.id, params, "letter")
        frequency = get_int(self.id, params, "let_frequency")
        relation = get_relation(self.id, params, "let_relation")
        # The reference strips the letter; a letter that is only whitespace stays itself.
        symbol = (letter.strip() or letter).lower()
        if not symbol:
            raise ValueError(f"{self.id}: param 'letter' is empty")
        return compare(response.lower().count(symbol), relation, frequency)
