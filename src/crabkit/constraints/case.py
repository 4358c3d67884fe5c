"""IFEval ``change_case:*`` types: all-capital or all-lowercase English, and the count of capitalised words.

"English" is langdetect's verdict (seeded, see ``crabkit.text.detect_language``); text in which it
finds no features counts as English, as in the reference. Capitalised words are NLTK
``word_tokenize`` tokens for which ``str.isupper()`` holds.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crabkit import text
from crabkit._memo import per_text

from ._ifeval import compare, get_int, get_relation, language, upper_token_count
from .base import ConstraintType, choose, fill
from .numbers import round_down_nice, upper_bound
from .registry import register

__all__ = ["CapitalWordFrequency", "EnglishCapital", "EnglishLowercase"]

_LETTER_WORD = re.compile(r"[^\W\d_]{2,}")
# A whole response in one case is only a choice worth asking for when there is prose to see it in.
_MIN_CAPITAL_WORDS = 5
_MIN_LOWERCASE_WORDS = 10
# "Fewer than N all-caps words" is only asked of responses with few capital letters to begin with.
_FEW_CAPITALS = 30


def _is_english(value: str) -> bool:
    found = language(value)
    return found is None or found == "en"


def _letter_words(response: str, most: int) -> int:
    """Words of two or more letters in ``response``, counted up to ``most`` (enough to decide)."""
    n = 0
    for _ in _LETTER_WORD.finditer(response):
        n += 1
        if n >= most:
            break
    return n


@register
class EnglishCapital(ConstraintType):
    """Every cased letter is upper case (``str.isupper``) and the text is English."""

    id = ifeval_id = "change_case:english_capital"
    phrasings = (
        "Write your entire response in English, using capital letters only.",
        "Make sure every letter of your answer is upper case, and answer in English.",
        "Your whole response should be in English and in ALL CAPITAL LETTERS.",
        "Do not use any lowercase letters: reply in English, all in capitals.",
        "Keep the entire answer in English and in uppercase from start to finish.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return response.isupper() and _is_english(response)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if not response.isupper() or _letter_words(response, _MIN_CAPITAL_WORDS) < _MIN_CAPITAL_WORDS:
            return None
        return {} if _is_english(response) else None


@register
class EnglishLowercase(ConstraintType):
    """Every cased letter is lower case (``str.islower``) and the text is English."""

    id = ifeval_id = "change_case:english_lowercase"
    phrasings = (
        "Write your entire response in English, using lowercase letters only.",
        "Make sure your answer is in English and contains no capital letters at all.",
        "Your whole response should be in English and entirely in lowercase.",
        "Do not use any capital letters; answer in English, all lowercase.",
        "Keep every letter of your English reply lowercase, even at the start of sentences.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return response.islower() and _is_english(response)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if not response.islower() or _letter_words(response, _MIN_LOWERCASE_WORDS) < _MIN_LOWERCASE_WORDS:
            return None
        return {} if _is_english(response) else None


@per_text()
def _capital_chunks(response: str) -> int:
    """Whitespace-separated chunks that are all capitals (``str.isupper``) with two or more of them.

    A lower bound on the reference's count without running its tokenizer: every token NLTK makes of
    such a chunk has no lower-case letter, at least one has an upper-case one, and tokens never span
    whitespace, so each chunk yields at least one distinct all-capital token.
    """
    return sum(1 for chunk in response.split() if chunk.isupper() and sum(map(str.isupper, chunk)) >= 2)


_ASCII_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_NON_ASCII = re.compile("[^\x00-\x7f]+")


@per_text()
def _capital_letters(response: str) -> int:
    """Upper-case characters: an upper bound on the reference's count, since every all-capital token
    holds at least one and tokens never overlap."""
    # ASCII capitals are counted in C on the UTF-8 bytes (a multi-byte character has no byte below
    # 0x80); common marks (never capitals) become spaces, and any other non-ASCII characters are
    # tested one by one.
    response = text.marks_as_spaces(response)
    raw = response.encode("utf-8", "surrogatepass")
    found = len(raw) - len(raw.translate(None, _ASCII_UPPER))
    if len(raw) == len(response):  # all ASCII
        return found
    return found + sum(map(str.isupper, "".join(_NON_ASCII.findall(response))))


@register
class CapitalWordFrequency(ConstraintType):
    """All-capital words (``USA``, ``OK``) occur ``capital_relation`` ``capital_frequency`` times."""

    id = ifeval_id = "change_case:capital_word_frequency"
    phrasings_by_relation: ClassVar[dict[str, tuple[str, ...]]] = {
        "at least": (
            "Use at least {capital_frequency:~word|words} written entirely in capital letters.",
            "Make sure at least {capital_frequency:~word|words} in your response {verb} in ALL CAPS.",
            "Your answer should contain {capital_frequency:~all-capital word|all-capital words} or more.",
            "Write at least {capital_frequency:~word|words} in full capitals.",
            "Include a minimum of {capital_frequency:~word|words} in all capital letters for emphasis.",
        ),
        "less than": (
            "Use fewer than {capital_frequency:~word|words} written entirely in capital letters.",
            "Make sure fewer than {capital_frequency:~word|words} in your response are in ALL CAPS.",
            "Your answer should contain fewer than {capital_frequency:~all-capital word|all-capital words}.",
            "Keep fully capitalised words to fewer than {capital_frequency}.",
            "Keep all-caps words rare: fewer than {capital_frequency} of them.",
        ),
    }
    phrasings = sum(phrasings_by_relation.values(), ())

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        frequency = get_int(self.id, params, "capital_frequency")
        relation = get_relation(self.id, params, "capital_relation")
        # The reference's count lies between two cheap counts (see _capital_chunks and
        # _capital_letters); when they already decide the comparison, its tokenizer need not run.
        if relation == "at least" and _capital_chunks(response) >= frequency:
            return True
        if relation == "less than" and _capital_letters(response) < frequency:
            return True
        return compare(upper_token_count(response), relation, frequency)

    def likely(self, response: str, params: Mapping[str, Any]) -> bool:
        """The cheap bounds decide, else the all-capital chunks stand in for the tokenizer's count."""
        frequency = get_int(self.id, params, "capital_frequency")
        relation = get_relation(self.id, params, "capital_relation")
        chunks = _capital_chunks(response)
        if relation == "at least" and chunks >= frequency:
            return True
        if relation == "less than" and _capital_letters(response) < frequency:
            return True
        return compare(chunks, relation, frequency)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = self.candidates(response, rng, instruction)
        return rng.choice(found) if found else None

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        # Only responses that really write some words in capitals show a choice worth asking about
        # ("fewer than 5 all-caps words" of a text with none says nothing).
        acronyms = _capital_chunks(response)
        if not acronyms or _letter_words(response, _MIN_CAPITAL_WORDS) < _MIN_CAPITAL_WORDS:
            return []
        # Both bounds bracket the reference's count, so the params hold and check never needs
        # to run the tokenizer on what infer proposes.
        out = [{"capital_relation": "at least", "capital_frequency": max(round_down_nice(acronyms, rng), 1)}]
        capitals = _capital_letters(response)
        if capitals <= _FEW_CAPITALS:
            out.append({"capital_relation": "less than", "capital_frequency": upper_bound(capitals, rng)})
        return out

    def describe(self, params: Mapping[str, Any], rng: random.Random | None) -> str:
        relation = get_relation(self.id, params, "capital_relation")
        verb = "is" if params.get("capital_frequency") == 1 else "are"
        return fill(choose(rng, self.phrasings_by_relation[relation]), verb=verb, **params)
