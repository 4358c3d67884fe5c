"""Length types beyond IFEval: word ranges, "around N words", per-sentence and per-paragraph limits,
word length and character count (the CRAB paper's Digit / Sentence / Paragraph / Word constraints,
with their checks the right way round).

Counting conventions:

* words are ``\\w+`` runs, as IFEval counts them, over the whole response;
* sentences and paragraphs come from ``structure.layout``: code blocks and tables are not sentences;
  headings, bold label lines and list items are sentence units but not paragraphs; a paragraph is a
  run of plain text lines, ended by a blank line or by any heading, list, table, code or rule line;
* word length ignores code (fenced and inline) and URLs, which nobody reads as words;
* characters are those of the response with leading and trailing whitespace removed.

The per-unit limits ("every sentence at most N words") hold vacuously when there is no such unit;
``infer`` never proposes them then.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crabkit import text
from crabkit._memo import per_text

from ._ifeval import get_int, get_str, lower_word_counts, word_count
from .base import ConstraintType, choose, fill
from .length import WORD_MARGIN
from .numbers import around_nice, lower_bound, round_up_nice, upper_bound
from .registry import register
from .structure import layout

__all__ = [
    "CHAR_RELATIONS",
    "MaxSentencesPerParagraph",
    "MaxWordLength",
    "MaxWordsPerSentence",
    "MinSentencesPerParagraph",
    "NumberCharacters",
    "WordAround",
    "WordRange",
]

#: Relations of ``number_characters``.
CHAR_RELATIONS = ("at most", "at least")

#: "Around N words" holds within this fraction of N.
AROUND_TOLERANCE = 0.10

# Below these a length constraint is noise: nobody asks a two-line answer to be "at least 10 words".
_MIN_WORDS = 30
_MIN_CHARS = 150
_MIN_SENTENCES = 3
# Above these the limit says nothing a person would ask for.
_MAX_SENTENCE_WORDS = 60
_MAX_PARAGRAPH_SENTENCES = 10
_MAX_WORD_CHARS = 20

_INLINE_CODE = re.compile(r"`[^`\n]*`")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_WWW = re.compile(r"www\.", re.IGNORECASE)


@per_text()
def _longest_sentence(response: str) -> int | None:
    """Words in the longest sentence of ``response`` (None when it has none); memoised for infer and check.

    Sentences are counted longest first: a sentence of ``n`` characters holds at most ``(n + 1) // 2``
    words, so once that bound cannot beat the best count the shorter ones need no counting.
    """
    best = None
    for sentence in sorted(layout(response).sentences, key=len, reverse=True):
        if best is not None and (len(sentence) + 1) // 2 <= best:
            break
        words = text.count_words(sentence)
        if best is None or words > best:
            best = words
    return best


def _by_mode(rng: random.Random | None, table: Mapping[str, tuple[str, ...]], mode: str, values: dict) -> str:
    return fill(choose(rng, table[mode]), **values)


@register
class WordRange(ConstraintType):
    """Word count within ``min_words`` and/or ``max_words`` (both inclusive, at least one given)."""

    id = "length_constraints:word_range"
    phrasings_by_mode: ClassVar[dict[str, tuple[str, ...]]] = {
        "min": (
            "Write at least {min_words:~word|words}.",
            "Make sure your answer is at least {min_words:~word|words} long.",
            "Your response should contain a minimum of {min_words:~word|words}.",
            "Give a thorough answer of {min_words:~word|words} or more.",
            "The answer should run to {min_words:~word|words} or more.",
        ),
        "max": (
            "Answer in at most {max_words:~word|words}.",
            "Make sure your response does not exceed {max_words:~word|words}.",
            "Your answer should be {max_words:~word|words} or shorter.",
            "Keep the answer within {max_words:~word|words}.",
            "Limit the response to a maximum of {max_words:~word|words}.",
        ),
        "between": (
            "Write between {min_words} and {max_words:~word|words}.",
            "Make sure your answer is at least {min_words} and at most {max_words:~word|words} long.",
            "Your response should be {min_words} to {max_words:~word|words} in length.",
            "Keep the length within {min_words}-{max_words:~word|words}.",
            "Aim for a word count between {min_words} and {max_words}.",
        ),
    }
    phrasings = sum(phrasings_by_mode.values(), ())

    def _bounds(self, params: Mapping[str, Any]) -> tuple[int | None, int | None]:
        lo = get_int(self.id, params, "min_words") if "min_words" in params else None
        hi = get_int(self.id, params, "max_words") if "max_words" in params else None
        if lo is None and hi is None:
            raise ValueError(f"{self.id}: give 'min_words', 'max_words' or both")
        return lo, hi

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        lo, hi = self._bounds(params)
        n = word_count(response)
        return (lo is None or n >= lo) and (hi is None or n <= hi)

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        n = word_count(response)
        if n < _MIN_WORDS:
            return []
        lo = lower_bound(n, rng, WORD_MARGIN, floor=_MIN_WORDS)
        hi = upper_bound(n, rng, WORD_MARGIN, inclusive=True)
        out: list[dict[str, Any]] = []
        if lo is not None:
            out.append({"min_words": lo, "max_words": hi})  # a band is what sets one length apart
            out.append({"min_words": lo})
        out.append({"max_words": hi})
        return out

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = self.candidates(response, rng, instruction)
        return rng.choice(found) if found else None

    def describe(self, params: Mapping[str, Any], rng: random.Random | None) -> str:
        lo, hi = self._bounds(params)
        mode = "between" if lo is not None and hi is not None else ("min" if lo is not None else "max")
        return _by_mode(rng, self.phrasings_by_mode, mode, dict(params))


@register
class WordAround(ConstraintType):
    """About ``num_words`` words: the count is within ±10 % of ``num_words``."""

    id = "length_constraints:word_around"
    phrasings = (
        "Write around {num_words:~word|words}.",
        "Make sure your answer is roughly {num_words:~word|words} long.",
        "Your response should be approximately {num_words:~word|words}.",
        "Keep the length close to {num_words:~word|words}.",
        "Aim for about {num_words:~word|words} in total.",
        "The answer should run to something like {num_words:~word|words}.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        target = get_int(self.id, params, "num_words")
        return abs(word_count(response) - target) <= AROUND_TOLERANCE * target

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        n = word_count(response)
        if n < _MIN_WORDS:
            return None
        return {"num_words": around_nice(n)}


@register
class MaxWordsPerSentence(ConstraintType):
    """Every sentence has at most ``max_words`` words (sentences as in the module docstring)."""

    id = "length_constraints:max_words_per_sentence"
    phrasings = (
        "Keep every sentence to {max_words:~word|words} or fewer.",
        "Make sure no sentence runs longer than {max_words:~word|words}.",
        "Each sentence in your answer should contain at most {max_words:~word|words}.",
        "Write short sentences: at most {max_words:~word|words} apiece.",
        "Limit each sentence to a maximum of {max_words:~word|words}.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        limit = get_int(self.id, params, "max_words")
        longest = _longest_sentence(response)
        return longest is None or longest <= limit

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if len(layout(response).sentences) < _MIN_SENTENCES:
            return None
        longest = _longest_sentence(response)
        if longest is None or longest > _MAX_SENTENCE_WORDS:
            return None
        # Another splitter may join two sentences: the limit stays a tenth above the longest.
        return {"max_words": round_up_nice(longest + max(1, longest // 10), rng)}


@register
class MaxSentencesPerParagraph(ConstraintType):
    """Every paragraph has at most ``max_sentences`` sentences (paragraphs as in the module docstring)."""

    id = "length_constraints:max_sentences_per_paragraph"
    phrasings = (
        "Keep each paragraph to at most {max_sentences:~sentence|sentences}.",
        "Make sure no paragraph has more than {max_sentences:~sentence|sentences}.",
        "Your paragraphs should have {max_sentences:~sentence|sentences} or fewer each.",
        "Limit every paragraph to a maximum of {max_sentences:~sentence|sentences}.",
        "Write paragraphs of at most {max_sentences:~sentence|sentences}.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        limit = get_int(self.id, params, "max_sentences")
        return all(len(p) <= limit for p in layout(response).paragraphs)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = layout(response)
        paragraphs = found.paragraphs
        if len(paragraphs) < 2 or sum(len(p) for p in paragraphs) < _MIN_SENTENCES:
            return None
        # A list item of several sentences is a paragraph to a reader: the limit holds for it too.
        most = max(max(len(p) for p in paragraphs), max(found.items, default=0))
        if most > _MAX_PARAGRAPH_SENTENCES:
            return None
        return {"max_sentences": most + rng.choice((0, 1))}


@register
class MinSentencesPerParagraph(ConstraintType):
    """Every paragraph has at least ``min_sentences`` sentences (paragraphs as in the module docstring)."""

    id = "length_constraints:min_sentences_per_paragraph"
    phrasings = (
        "Write each paragraph with at least {min_sentences:~sentence|sentences}.",
        "Make sure every paragraph contains {min_sentences:~sentence|sentences} or more.",
        "Your paragraphs should be developed: at least {min_sentences:~sentence|sentences} each.",
        "Give each paragraph a minimum of {min_sentences:~sentence|sentences}.",
        "Keep every paragraph at {min_sentences:~sentence|sentences} or longer.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        floor = get_int(self.id, params, "min_sentences")
        return all(len(p) >= floor for p in layout(response).paragraphs)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = layout(response)
        paragraphs = found.paragraphs
        if len(paragraphs) < 2:
            return None
        # List items count as paragraphs for a reader; short items make the floor false for them.
        least = min(min(len(p) for p in paragraphs), min(found.items, default=len(paragraphs[0])))
        if least < 2:
            return None
        return {"min_sentences": rng.randint(2, least) if least <= 3 else rng.choice((least - 1, least))}


@per_text()
def _plain_words(response: str) -> tuple[int, int | None]:
    """How many words there are outside code and URLs (what a reader would call the answer's
    words), and the length of the longest (None when there is none); memoised for infer and check."""
    prose = layout(response).no_code
    if "`" in prose:
        prose = _INLINE_CODE.sub(" ", prose)
    if "://" in prose or _WWW.search(prose):  # what every _URL match holds
        prose = _URL.sub(" ", prose)
    if prose == response and "\u0130" not in response:
        # Nothing taken out: the response's own (memoised) word counts answer. Lower-casing keeps
        # every word's length but U+0130's.
        counts = lower_word_counts(response)
        return sum(counts.values()), max(map(len, counts), default=None)
    found = text.words(prose)
    return len(found), max(map(len, found), default=None)


@register
class MaxWordLength(ConstraintType):
    """No word is longer than ``max_chars`` characters (words outside code and URLs)."""

    id = "length_constraints:max_word_length"
    phrasings = (
        "Use no word longer than {max_chars:~character|characters}.",
        "Make sure every word in your answer is {max_chars:~character|characters} or shorter.",
        "Stick to short words: {max_chars:~character|characters} per word at most.",
        "Keep each word to {max_chars:~character|characters} or fewer.",
        "Choose plain words, none longer than {max_chars:~character|characters}.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        limit = get_int(self.id, params, "max_chars")
        longest = _plain_words(response)[1]
        return longest is None or longest <= limit

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        count, longest = _plain_words(response)
        if count < _MIN_WORDS or longest is None:
            return None
        if longest > _MAX_WORD_CHARS:
            return None
        return {"max_chars": longest + rng.choice((0, 0, 1, 2))}


@register
class NumberCharacters(ConstraintType):
    """``relation`` ("at most" / "at least") ``num_chars`` characters, surrounding whitespace excluded."""

    id = "length_constraints:number_characters"
    phrasings_by_mode: ClassVar[dict[str, tuple[str, ...]]] = {
        "at most": (
            "Answer in at most {num_chars:~character|characters}.",
            "Make sure your response stays within {num_chars:~character|characters}.",
            "Your answer should not exceed {num_chars:~character|characters}, spaces included.",
            "Keep the whole reply within {num_chars:~character|characters}.",
            "Use at most {num_chars:~character|characters} in total.",
        ),
        "at least": (
            "Write at least {num_chars:~character|characters}.",
            "Make sure your response is at least {num_chars:~character|characters} long.",
            "Your answer should run to {num_chars:~character|characters} or more, spaces included.",
            "Keep the reply substantial: a minimum of {num_chars:~character|characters}.",
            "Use at least {num_chars:~character|characters} in total.",
        ),
    }
    phrasings = sum(phrasings_by_mode.values(), ())

    def _relation(self, params: Mapping[str, Any]) -> str:
        relation = get_str(self.id, params, "relation")
        if relation not in CHAR_RELATIONS:
            raise ValueError(
                f"{self.id}: param 'relation' must be one of {CHAR_RELATIONS} (got {relation!r})"
            )
        return relation

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        limit = get_int(self.id, params, "num_chars")
        n = len(response.strip())
        return n <= limit if self._relation(params) == "at most" else n >= limit

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        n = len(response.strip())
        if n < _MIN_CHARS:
            return []
        out = [{"relation": "at most", "num_chars": upper_bound(n, rng, WORD_MARGIN, inclusive=True)}]
        low = lower_bound(n, rng, WORD_MARGIN, floor=_MIN_CHARS)
        if low is not None:
            out.insert(0, {"relation": "at least", "num_chars": low})
        return out

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = self.candidates(response, rng, instruction)
        return rng.choice(found) if found else None

    def describe(self, params: Mapping[str, Any], rng: random.Random | None) -> str:
        return _by_mode(rng, self.phrasings_by_mode, self._relation(params), dict(params))
