"""IFEval ``length_constraints:*`` types: words, sentences, ``***`` paragraphs, nth paragraph's first word.

Words are ``\\w+`` runs and sentences are NLTK Punkt (english) sentences, as the reference counts them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crabkit import text

from ._ifeval import compare, get_int, get_relation, get_str, sentence_count
from .base import ConstraintType
from .registry import register

__all__ = ["NthParagraphFirstWord", "NumberParagraphs", "NumberSentences", "NumberWords"]

_STAR_DIVIDER = re.compile(r"\s?\*\*\*\s?")
# The reference's first-word cleanup stops at the first of these.
_FIRST_WORD_STOP = frozenset(".,?!'\"")


@register
class NumberWords(ConstraintType):
    """The response has ``relation`` ``num_words`` words (``\\w+`` runs)."""

    id = ifeval_id = "length_constraints:number_words"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        num_words = get_int(self.id, params, "num_words")
        relation = get_relation(self.id, params, "relation")
        return compare(text.count_words(response), relation, num_words)


@register
class NumberSentences(ConstraintType):
    """The response has ``relation`` ``num_sentences`` Punkt sentences."""

    id = ifeval_id = "length_constraints:number_sentences"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        num_sentences = get_int(self.id, params, "num_sentences")
        relation = get_relation(self.id, params, "relation")
        return compare(sentence_count(response), relation, num_sentences)


@register
class NumberParagraphs(ConstraintType):
    """Exactly ``num_paragraphs`` paragraphs separated by ``***`` dividers.

    An empty piece before the first or after the last divider is not a paragraph; an empty piece
    between two dividers fails the check outright (as in the reference).
    """

    id = ifeval_id = "length_constraints:number_paragraphs"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        expected = get_int(self.id, params, "num_paragraphs")
        pieces = _STAR_DIVIDER.split(response)
        count = len(pieces)
        last = len(pieces) - 1
        for index, piece in enumerate(pieces):
            if not piece.strip():
                if index in (0, last):
                    count -= 1
                else:
                    return False
        return count == expected


@register
class NthParagraphFirstWord(ConstraintType):
    """Exactly ``num_paragraphs`` blank-line paragraphs, paragraph ``nth_paragraph`` starting with ``first_word``.

    Paragraphs are split on ``"\\n\\n"``; blank pieces do not count. The first word is the first
    whitespace token, leading quotes removed, cut at the first ``.,?!'"``, compared lower-cased.
    """

    id = ifeval_id = "length_constraints:nth_paragraph_first_word"

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        expected = get_int(self.id, params, "num_paragraphs")
        nth = get_int(self.id, params, "nth_paragraph")
        first_word = get_str(self.id, params, "first_word").lower()
        if nth < 1:
            raise ValueError(f"{self.id}: param 'nth_paragraph' must be >= 1 (got {nth})")
        paragraphs = response.split("\n\n")
        count = sum(1 for p in paragraphs if p.strip())
        # The reference indexes the raw split (blank pieces included) with the non-blank count.
        if nth > count:
            return False
        paragraph = paragraphs[nth - 1].strip()
        if not paragraph:
            return False
        word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
        found = []
        for char in word:
            if char in _FIRST_WORD_STOP:
                break
            found.append(char.lower())
        return count == expected and "".join(found) == first_word
