"""IFEval ``change_case:*`` types: all-capital or all-lowercase English, and the count of capitalised words.

"English" is langdetect's verdict (seeded, see ``crabkit.text.detect_language``); text in which it
finds no features counts as English, as in the reference. Capitalised words are NLTK
``word_tokenize`` tokens for which ``str.isupper()`` holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._ifeval import compare, get_int, get_relation, language, upper_token_count
from .base import ConstraintType
from .registry import register

__all__ = ["CapitalWordFrequency", "EnglishCapital", "EnglishLowercase"]


def _is_english(value: str) -> bool:
    found = language(value)
    return found is None or found == "en"


@register
class EnglishCapital(ConstraintType):
    """Every cased letter is upper case (``str.isupper``) and the text is English."""

    id = ifeval_id = "change_case:english_capital"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return response.isupper() and _is_english(response)


@register
class EnglishLowercase(ConstraintType):
    """Every cased letter is lower case (``str.islower``) and the text is English."""

    id = ifeval_id = "change_case:english_lowercase"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return response.islower() and _is_english(response)


@register
class CapitalWordFrequency(ConstraintType):
    """All-capital words (``USA``, ``OK``) occur ``capital_relation`` ``capital_frequency`` times."""

    id = ifeval_id = "change_case:capital_word_frequency"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        frequency = get_int(self.id, params, "capital_frequency")
        relation = get_relation(self.id, params, "capital_relation")
        return compare(upper_token_count(response), relation, frequency)
