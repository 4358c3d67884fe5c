"""IFEval ``length_constraints:*`` types: words, sentences, ``***`` paragraphs, nth paragraph's first word.

Words are ``\\w+`` runs and sentences are NLTK Punkt (english) sentences, as the reference counts them.

``relation_bound`` is the one place an inferred "at least" / "less than" count is turned into a
number a person would ask for; the case and keyword types use it too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ._ifeval import RELATIONS, compare, get_int, get_relation, get_str, sentence_count, word_count
from .base import ConstraintType, choose, fill
from .numbers import lower_bound, upper_bound
from .registry import register

__all__ = [
    "NthParagraphFirstWord",
    "NumberParagraphs",
    "NumberSentences",
    "NumberWords",
    "ordinal",
    "reader_sentence_count",
    "relation_bound",
    "relation_bounds",
]

_STAR_DIVIDER = re.compile(r"\s?\*\*\*\s?")
# The reference's first-word cleanup stops at the first of these.
_FIRST_WORD_STOP = frozenset(".,?!'\"")

# Below these a count constraint is noise ("at least 3 words").
_MIN_WORDS = 10
_MIN_SENTENCE_WORDS = 5
# Paragraph counts beyond these read as a riddle, not a request.
_MAX_PARAGRAPHS = 8
_MAX_BLANK_LINE_PARAGRAPHS = 6
#: Bounds stay this share of the count away from it: a reader, or another tokenizer (NLTK 3.8's
#: Punkt splits some texts differently from 3.10's), counts a little differently.
WORD_MARGIN = 0.05
SENTENCE_MARGIN = 0.10
_DIVIDER_LINE = re.compile(r"^[ \t]*\*\*\*[ \t]*$", re.MULTILINE)
_SPACE_ONLY_LINE = re.compile(r"\n[ \t]+\n")
_STRUCTURED_LINE = re.compile(r"^[ \t]*(?:[#>|`~]|[-*+\u2022][ \t]|\d{1,3}[.)][ \t]|\*\*[^*\n]+\*\*[ \t]*:?[ \t]*$)", re.MULTILINE)


def relation_bound(
    count: int,
    rng: random.Random | None,
    relations: tuple[str, ...] = RELATIONS,
    least_floor: int = 1,
    margin: float = 0.0,
) -> tuple[str, int] | None:
    """A relation and a round bound that ``count`` satisfies, or None when no relation fits.

    "at least" rounds down (never below ``least_floor``, so no "at least 0"); "less than" rounds
    ``count + 1`` up, so the bound is strictly above the count, and is never below 2 (nobody asks
    for "fewer than 1"). ``margin`` keeps either bound that share of the count (at least 1) away
    from it. ``rng`` picks the relation and the tight or loose rounding (``None``: the first
    usable relation, tight).

    >>> relation_bound(263, random.Random(1), ("at least",)) in (("at least", 250), ("at least", 200))
    True
    """
    found = relation_bounds(count, rng, relations, least_floor, margin)
    if not found:
        return None
    return found[0] if rng is None else rng.choice(found)


def relation_bounds(
    count: int,
    rng: random.Random | None,
    relations: tuple[str, ...] = RELATIONS,
    least_floor: int = 1,
    margin: float = 0.0,
) -> list[tuple[str, int]]:
    """Every ``(relation, bound)`` of ``relations`` that ``count`` satisfies (see ``relation_bound``)."""
    out: list[tuple[str, int]] = []
    for relation in relations:
        if relation == "at least":
            bound = lower_bound(count, rng, margin, floor=least_floor)
            if bound is not None:
                out.append((relation, bound))
        else:
            out.append((relation, upper_bound(count, rng, margin)))
    return out


def _params_of(
    found: list[tuple[str, int]], relation_key: str, count_key: str
) -> list[dict[str, Any]]:
    return [{relation_key: relation, count_key: bound} for relation, bound in found]


_ORDINAL_WORDS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
)


def ordinal(n: int) -> str:
    """``1`` -> ``"first"`` ... ``10`` -> ``"tenth"``, then ``11`` -> ``"11th"``, ``23`` -> ``"23rd"``."""
    if 1 <= n <= len(_ORDINAL_WORDS):
        return _ORDINAL_WORDS[n - 1]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _by_relation(
    rng: random.Random | None, table: Mapping[str, tuple[str, ...]], relation: str, values: dict
) -> str:
    return fill(choose(rng, table[relation]), **values)


def reader_sentence_count(response: str) -> int:
    """Sentences as a reader counts them: prose and list-item sentences, not headings, list markers
    or bold labels (Punkt reads "1." before a list item as a sentence of its own)."""
    from .structure import layout

    found = layout(response)
    return len(found.sentences) - len(found.headings) - found.labels


@register
class NumberWords(ConstraintType):
    """The response has ``relation`` ``num_words`` words (``\\w+`` runs)."""

    id = ifeval_id = "length_constraints:number_words"
    phrasings_by_relation: ClassVar[dict[str, tuple[str, ...]]] = {
        "at least": (
            "Write at least {num_words:~word|words}.",
            "Make your response {num_words:~word|words} or longer.",
            "Your answer should contain at least {num_words:~word|words}.",
            "Use a minimum of {num_words:~word|words}.",
            "The reply needs to run to at least {num_words:~word|words}.",
            "Give a full answer of {num_words:~word|words} or more.",
        ),
        "less than": (
            "Answer in fewer than {num_words:~word|words}.",
            "Keep your response under {num_words:~word|words}.",
            "Your answer should contain less than {num_words:~word|words}.",
            "Stay below {num_words:~word|words} in total.",
            "Keep the whole reply shorter than {num_words:~word|words}.",
            "Be brief: fewer than {num_words:~word|words}.",
        ),
    }
    phrasings = sum(phrasings_by_relation.values(), ())

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        num_words = get_int(self.id, params, "num_words")
        relation = get_relation(self.id, params, "relation")
        return compare(word_count(response), relation, num_words)

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        n = word_count(response)
        if n < _MIN_WORDS:
            return []
        found = relation_bounds(n, rng, least_floor=_MIN_WORDS, margin=WORD_MARGIN)
        return _params_of(found, "relation", "num_words")

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = self.candidates(response, rng, instruction)
        return rng.choice(found) if found else None

    def describe(self, params: Mapping[str, Any], rng: random.Random | None) -> str:
        relation = get_relation(self.id, params, "relation")
        return _by_relation(rng, self.phrasings_by_relation, relation, dict(params))


@register
class NumberSentences(ConstraintType):
    """The response has ``relation`` ``num_sentences`` Punkt sentences."""

    id = ifeval_id = "length_constraints:number_sentences"
    phrasings_by_relation: ClassVar[dict[str, tuple[str, ...]]] = {
        "at least": (
            "Write at least {num_sentences:~sentence|sentences}.",
            "Make sure your response has {num_sentences:~sentence|sentences} or more.",
            "Your answer should be at least {num_sentences:~sentence|sentences} long.",
            "Use a minimum of {num_sentences:~sentence|sentences} in your reply.",
            "Give an answer of {num_sentences:~sentence|sentences} or more.",
        ),
        "less than": (
            "Answer in fewer than {num_sentences:~sentence|sentences}.",
            "Make sure your response has less than {num_sentences:~sentence|sentences}.",
            "Keep your answer under {num_sentences:~sentence|sentences}.",
            "Keep it brief: fewer than {num_sentences:~sentence|sentences} in total.",
            "Your reply should stay below {num_sentences:~sentence|sentences}.",
        ),
    }
    phrasings = sum(phrasings_by_relation.values(), ())

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        num_sentences = get_int(self.id, params, "num_sentences")
        relation = get_relation(self.id, params, "relation")
        return compare(sentence_count(response), relation, num_sentences)

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        if word_count(response) < _MIN_SENTENCE_WORDS:
            return []
        # The bound holds for Punkt's count (the check) and for a reader's, with a margin beyond both.
        punkt, reader = sentence_count(response), reader_sentence_count(response)
        found = []
        low = lower_bound(min(punkt, reader), rng, SENTENCE_MARGIN, floor=2)
        if low is not None:
            found.append(("at least", low))
        found.append(("less than", upper_bound(max(punkt, reader), rng, SENTENCE_MARGIN)))
        return _params_of(found, "relation", "num_sentences")

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = self.candidates(response, rng, instruction)
        return rng.choice(found) if found else None

    def describe(self, params: Mapping[str, Any], rng: random.Random | None) -> str:
        relation = get_relation(self.id, params, "relation")
        return _by_relation(rng, self.phrasings_by_relation, relation, dict(params))


def _star_paragraphs(response: str) -> int | None:
    """Paragraphs between ``***`` dividers as the reference counts them; None when an inner one is empty."""
    pieces = _STAR_DIVIDER.split(response)
    count = len(pieces)
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        if not piece.strip():
            if index in (0, last):
                count -= 1
            else:
                return None
    return count


@register
class NumberParagraphs(ConstraintType):
    """Exactly ``num_paragraphs`` paragraphs separated by ``***`` dividers.

    An empty piece before the first or after the last divider is not a paragraph; an empty piece
    between two dividers fails the check outright (as in the reference).
    """

    id = ifeval_id = "length_constraints:number_paragraphs"
    phrasings = (
        "Write exactly {num_paragraphs:~paragraph|paragraphs}, separated from each other by the markdown divider ***.",
        (
            "Make sure your response has {num_paragraphs:~paragraph|paragraphs}, with a line containing "
            "only *** between consecutive paragraphs."
        ),
        "Your answer should consist of {num_paragraphs:~paragraph|paragraphs} divided by *** lines.",
        "Split the reply into {num_paragraphs:~paragraph|paragraphs} and put *** between each pair of them.",
        "Use exactly {num_paragraphs:~paragraph|paragraphs}, and separate them with ***.",
        "Keep the answer to {num_paragraphs:~paragraph|paragraphs}, using the markdown divider *** between them.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return _star_paragraphs(response) == get_int(self.id, params, "num_paragraphs")

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "***" not in response:
            return None
        dividers = len(_DIVIDER_LINE.findall(response))
        # Only real divider lines: "***bold italic***" also splits for the reference, and then the
        # count would not be what a reader sees.
        if not dividers or dividers != response.count("***"):
            return None
        count = _star_paragraphs(response)
        if count is None or not 2 <= count <= _MAX_PARAGRAPHS:
            return None
        return {"num_paragraphs": count}


def _first_word(paragraph: str) -> str:
    """The reference's first word of a (stripped, non-blank) paragraph, lower-cased."""
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    found = []
    for char in word:
        if char in _FIRST_WORD_STOP:
            break
        found.append(char.lower())
    return "".join(found)


@register
class NthParagraphFirstWord(ConstraintType):
    """Exactly ``num_paragraphs`` blank-line paragraphs, paragraph ``nth_paragraph`` starting with ``first_word``.

    Paragraphs are split on ``"\\n\\n"``; blank pieces do not count. The first word is the first
    whitespace token, leading quotes removed, cut at the first ``.,?!'"``, compared lower-cased.
    """

    id = ifeval_id = "length_constraints:nth_paragraph_first_word"
    phrasings = (
        (
            "Write exactly {num_paragraphs:~paragraph|paragraphs} separated by blank lines, and begin "
            'the {nth} paragraph with the word "{first_word}".'
        ),
        (
            "Make sure your response has {num_paragraphs:~paragraph|paragraphs} (split by an empty line) "
            'and that paragraph {nth_paragraph} starts with "{first_word}".'
        ),
        (
            "Your answer should be {num_paragraphs:~paragraph|paragraphs} long, separated by blank lines; "
            'the {nth} one must open with the word "{first_word}".'
        ),
        (
            'Start the {nth} paragraph with "{first_word}", and use {num_paragraphs:~paragraph|paragraphs} '
            "in total, each separated by a blank line."
        ),
        (
            "Write {num_paragraphs:~paragraph|paragraphs} with a blank line between them, and let the {nth} "
            'one begin with "{first_word}".'
        ),
        (
            'Keep the answer to {num_paragraphs:~paragraph|paragraphs} separated by blank lines; "{first_word}" '
            "must be the first word of paragraph {nth_paragraph}."
        ),
    )

    def _params(self, params: Mapping[str, Any]) -> tuple[int, int, str]:
        expected = get_int(self.id, params, "num_paragraphs")
        nth = get_int(self.id, params, "nth_paragraph")
        first_word = get_str(self.id, params, "first_word").lower()
        if nth < 1:
            raise ValueError(f"{self.id}: param 'nth_paragraph' must be >= 1 (got {nth})")
        return expected, nth, first_word

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        expected, nth, first_word = self._params(params)
        paragraphs = response.split("\n\n")
        count = sum(1 for p in paragraphs if p.strip())
        # The reference indexes the raw split (blank pieces included) with the non-blank count.
        if nth > count:
            return False
        paragraph = paragraphs[nth - 1].strip()
        if not paragraph:
            return False
        return count == expected and _first_word(paragraph) == first_word

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        if "\n\n" not in response or _SPACE_ONLY_LINE.search(response):
            return []  # a line of spaces looks blank to a reader but does not split for the reference
        paragraphs = response.split("\n\n")
        count = sum(1 for p in paragraphs if p.strip())
        if not 2 <= count <= _MAX_BLANK_LINE_PARAGRAPHS:
            return []
        # Only prose reads as "N paragraphs": a heading, a list or a code block between blank lines
        # is a piece for the check but no paragraph to a reader.
        if any(_STRUCTURED_LINE.search(p) for p in paragraphs):
            return []
        found = []
        for index in range(count):
            paragraph = paragraphs[index].strip()
            if not paragraph:
                break  # past a blank piece the reference's "nth" is no longer the reader's nth
            word = _first_word(paragraph)
            if len(word) > 1 and word.isalpha():
                found.append({"num_paragraphs": count, "nth_paragraph": index + 1, "first_word": word})
        # The first paragraph last: "start the first paragraph with" is only the opening word.
        return found[1:] + found[:1]

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = self.candidates(response, rng, instruction)
        return rng.choice(found) if found else None

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        _, nth, _ = self._params(params)
        return {**params, "nth": ordinal(nth)}
