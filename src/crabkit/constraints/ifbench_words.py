"""IFBench's word and sentence types (``words:*``, ``sentence:*``), checked as the reference checks them.

Each ``check`` follows the reference verifier of the same id step by step (see ``ifbench_counts``
for the conventions): ``str.split`` words with ASCII punctuation deleted or stripped exactly where
the reference does it, Punkt sentences, NLTK's ``word_tokenize``, syllables from ``syllapy`` (the
package the reference counts with). Where the reference would raise on a text (``sentence:increment``
with no sentence at all), ``check`` returns False; the reference's evaluation never gets there,
because a blank response fails before any checker runs.

Inferred (only when asked for: ``suite == "ifbench"``): ``words:repeats`` (answers that never lean
on one word) and ``sentence:keyword`` (a content word of one of the first sentences).

Never inferred: the rest are word games that no ordinary answer shows as a request a person would
make: ``words:alphabet``, ``words:vowel``, ``words:consonants``, ``sentence:alliteration_increment``,
``words:palindrome``, ``words:prime_lengths``, ``words:odd_even_syllables``, ``words:last_first``,
``words:paragraph_last_first``, ``sentence:increment``, ``words:no_consecutive``,
``words:keywords_specific_position`` and ``words:words_position``. ``words:start_verb`` needs NLTK's
part-of-speech tagger and is not registered (``ifbench_unsupported``).
"""

from __future__ import annotations

import itertools
import random
import re
import string
from collections import Counter
from collections.abc import Mapping
from typing import Any, ClassVar

import syllapy

from crabkit import text

from ._ifbench import (
    PUNCT,
    Check,
    IFBenchType,
    count_words,
    drop_punct,
    index_kwarg,
    keyword_kwarg,
    ordinal,
    positive_kwarg,
    raw_keyword_kwarg,
    sentences,
    strip_punct,
    treebank_words,
    whole_kwarg,
)
from .keywords import stopwords
from .registry import register

__all__ = [
    "AlliterationIncrement",
    "AlphabetLoop",
    "ConsonantClusters",
    "KeywordInSentence",
    "KeywordSpecificPosition",
    "LastWordFirstNext",
    "LimitedWordRepeat",
    "NoConsecutiveFirstLetter",
    "OddEvenSyllables",
    "Palindromes",
    "ParagraphLastFirst",
    "PrimeLengths",
    "SentenceIncrement",
    "SingleVowelParagraph",
    "WordsPosition",
]

_ALPHABET = string.ascii_lowercase
_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxyz")
_PRIMES = frozenset(
    {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97}
)

# Below this an answer shows too little for a repeat limit to mean anything.
_MIN_REPEAT_WORDS = 40
_MAX_REPEATS = 5
# sentence:keyword looks for its word in the first few sentences only (a person counts that far).
_KEYWORD_SENTENCES = 5
_MIN_KEYWORD_CHARS = 5
_MARKUP = frozenset("#*-|`>0123456789")


def _plain_words(response: str) -> list[str]:
    """Lower-cased ``str.split`` words with every ASCII punctuation character deleted."""
    return drop_punct(response.lower()).split()


@register
class AlphabetLoop(IFBenchType):
    """Each word starts with the letter after the previous word's, ``z`` looping to ``a`` (words:
    ``str.split`` after deleting punctuation; the first must start with an ASCII letter)."""

    id = ifbench_id = "words:alphabet"
    phrasings = ("Start each word with the next letter of the alphabet, going back to 'a' after 'z'.",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        words = strip_punct(drop_punct(response)).split()
        if not words:
            return False
        letter = words[0][0].lower()
        if letter not in _ALPHABET:  # a substring test, as the reference's: "" and "i̇" fail too
            return False
        for word in words[1:]:
            word = strip_punct(word).lower()
            if not word:
                continue
            letter = _ALPHABET[(_ALPHABET.index(letter) + 1) % 26]
            if word[0] != letter:
                return False
        return True


@register
class SingleVowelParagraph(IFBenchType):
    """One line of text (after stripping) using at most three of the vowels ``a e i o u``."""

    id = ifbench_id = "words:vowel"
    phrasings = ("Write a single paragraph whose words use no more than three different vowels.",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        paragraphs = response.strip().split("\n")
        if len(paragraphs) != 1:
            return False
        return len(set(paragraphs[0].lower()) & set("aeiou")) <= 3


@register
class ConsonantClusters(IFBenchType):
    """Every ``str.split`` word (lower-cased, punctuation kept) has two consonants in a row."""

    id = ifbench_id = "words:consonants"
    phrasings = ("Make sure every word you use has a consonant cluster (two or more consonants in a row).",)

    @staticmethod
    def _clustered(word: str) -> bool:
        return any(a in _CONSONANTS and b in _CONSONANTS for a, b in itertools.pairwise(word))

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return all(self._clustered(word) for word in response.lower().split())


def _alliteration(sentence: str) -> int:
    """Words in runs of two or more sharing a first character (leading punctuation stripped)."""
    words = [w for w in (word.lstrip(PUNCT + " ") for word in sentence.lower().split()) if w]
    score = 0
    running = False
    for a, b in itertools.pairwise(words):
        if a[0] == b[0]:
            score += 1 if running else 2
            running = True
        else:
            running = False
    return score


@register
class AlliterationIncrement(IFBenchType):
    """Each Punkt sentence has more alliterating words than the one before (the first more than -1)."""

    id = ifbench_id = "sentence:alliteration_increment"
    phrasings = ("Give each sentence a longer run of alliterating words than the sentence before it.",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        previous = -1
        for sentence in sentences(response):
            score = _alliteration(sentence)
            if score <= previous:
                return False
            previous = score
        return True


@register
class Palindromes(IFBenchType):
    """At least 10 palindromic words of 5 or more characters (lower-cased, punctuation deleted)."""

    id = ifbench_id = "words:palindrome"
    phrasings = ("Include at least 10 single-word palindromes, each five or more letters long.",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        words = drop_punct(response).lower().split()
        return sum(1 for w in words if len(w) >= 5 and w == w[::-1]) >= 10


@register
class PrimeLengths(IFBenchType):
    """Every word (``str.split`` after deleting punctuation) is 2, 3, 5, 7, ... or 97 characters long."""

    id = ifbench_id = "words:prime_lengths"
    phrasings = ("Use only words whose length is a prime number of letters.",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return all(len(word) in _PRIMES for word in drop_punct(response).split())


@register
class LimitedWordRepeat(IFBenchType):
    """No word (lower-cased, punctuation deleted, ``str.split``) occurs more than ``small_n`` times."""

    id = ifbench_id = "words:repeats"
    kwargs_spec: ClassVar[dict[str, Check]] = {"small_n": whole_kwarg}
    phrasings = (
        "Don't use any word more than {small_n:~time|times}.",
        "Vary your wording: no word should appear more than {small_n:~time|times}.",
        "Avoid repeating yourself; use each word at most {small_n:~time|times}.",
        "Keep every word to {small_n:~use|uses} or fewer in the whole answer.",
    )

    @staticmethod
    def most(response: str) -> int:
        return max(Counter(_plain_words(response)).values(), default=0)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return self.most(response) <= self.params(params)["small_n"]

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if count_words(response) < _MIN_REPEAT_WORDS:
            return None
        most = self.most(response)
        if most > _MAX_REPEATS:
            return None
        return {"small_n": max(2, most + rng.choice((0, 0, 1)))}


@register
class KeywordInSentence(IFBenchType):
    """``word`` (as a whole word, any case, as given) is in the ``N``-th Punkt sentence."""

    id = ifbench_id = "sentence:keyword"
    kwargs_spec: ClassVar[dict[str, Check]] = {"word": raw_keyword_kwarg, "N": positive_kwarg}
    phrasings = (
        "Use the word '{word}' in your {nth} sentence.",
        "Mention '{word}' in the {nth} sentence of your answer.",
        "Make sure your {nth} sentence contains the word '{word}'.",
        "The word '{word}' should appear in sentence number {N}.",
    )

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        p = self.params(params)
        return {**p, "nth": ordinal(p["N"])}

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        p = self.params(params)
        found = sentences(response)
        if len(found) < p["N"]:
            return False
        return re.search(rf"\b{re.escape(p['word'])}\b", found[p["N"] - 1], re.IGNORECASE) is not None

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = sentences(response)
        if len(found) < 3:
            return None
        stop = stopwords()
        asked = {w.lower() for w in text.words(instruction)}
        options = []
        for index, sentence in enumerate(found[:_KEYWORD_SENTENCES], 1):
            # A reader counts sentences of prose: stop at a heading, a list, a table or code, where
            # Punkt's sentences and a reader's part ways.
            if "\n" in sentence.strip() or sentence.lstrip()[:1] in _MARKUP:
                break
            others = " ".join(found[: index - 1]).lower()
            for word in dict.fromkeys(text.words(sentence)):
                low = word.lower()
                # A word the request already names, or one an earlier sentence used, says nothing.
                if len(low) < _MIN_KEYWORD_CHARS or not low.isalpha() or low in stop or low in asked:
                    continue
                if not low.isascii() or re.search(rf"\b{re.escape(low)}\b", others):
                    continue
                options.append({"word": low, "N": index})
        if not options:
            return None
        chosen = rng.choice(options)
        return chosen if self.check(response, chosen) else None


@register
class OddEvenSyllables(IFBenchType):
    """Consecutive words (lower-cased, punctuation deleted) alternate odd and even syllable counts
    (``syllapy.count``, as the reference counts)."""

    id = ifbench_id = "words:odd_even_syllables"
    phrasings = ("Alternate between words with an odd and an even number of syllables.",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        parity = [syllapy.count(word) % 2 for word in drop_punct(response).lower().split()]
        return all(a != b for a, b in itertools.pairwise(parity))


@register
class LastWordFirstNext(IFBenchType):
    """Each Punkt sentence starts with the word the previous one ended with (any case)."""

    id = ifbench_id = "words:last_first"
    phrasings = ("Begin each sentence with the word the previous sentence ended with.",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        found = sentences(response)
        for current, following in itertools.pairwise(found):
            last = current.rstrip(PUNCT + " ").split()
            first = following.lstrip(PUNCT + " ").split()
            if not last or not first or last[-1].lower() != first[0].lower():
                return False
        return True


@register
class ParagraphLastFirst(IFBenchType):
    """Every non-empty line starts and ends with the same word (lower-cased, outer punctuation stripped)."""

    id = ifbench_id = "words:paragraph_last_first"
    phrasings = (
        "End each paragraph with the same word it starts with, and put each paragraph on its own line.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        for line in response.split("\n"):
            words = strip_punct(line.strip().lower()).split()
            if words and words[0] != words[-1]:
                return False
        return True


@register
class SentenceIncrement(IFBenchType):
    """Each Punkt sentence has exactly ``small_n`` more words (``str.split`` after deleting punctuation)
    than the one before."""

    id = ifbench_id = "sentence:increment"
    kwargs_spec: ClassVar[dict[str, Check]] = {"small_n": whole_kwarg}
    phrasings = (
        "Make each sentence exactly {small_n:~word|words} longer than the one before it.",
        "Every sentence should have {small_n} more {small_n:~word|words} than the previous sentence.",
    )

    def describe(self, params: Mapping[str, Any], rng: random.Random | None) -> str:
        if self.params(params)["small_n"] == 0:
            return "Write every sentence with the same number of words."
        return super().describe(params, rng)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        step = self.params(params)["small_n"]
        counts = [len(drop_punct(s).split()) for s in sentences(response)]
        if not counts:  # the reference raises IndexError here (it never sees a blank response)
            return False
        return all(b == a + step for a, b in itertools.pairwise(counts))


@register
class NoConsecutiveFirstLetter(IFBenchType):
    """No two consecutive words (lower-cased, punctuation deleted) start with the same character."""

    id = ifbench_id = "words:no_consecutive"
    phrasings = ("Never let two words in a row start with the same letter.",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        words = _plain_words(response)
        return all(a[0] != b[0] for a, b in itertools.pairwise(words))


def _alnum_tokens(sentence: str) -> list[str]:
    return [token for token in treebank_words(sentence) if any(ch.isalnum() for ch in token)]


@register
class KeywordSpecificPosition(IFBenchType):
    """``keyword`` (any case) is the ``m``-th ``word_tokenize`` token holding a letter or digit of the
    ``n``-th Punkt sentence."""

    id = ifbench_id = "words:keywords_specific_position"
    kwargs_spec: ClassVar[dict[str, Check]] = {"keyword": keyword_kwarg, "n": index_kwarg, "m": index_kwarg}
    phrasings = (
        "In your {nth} sentence, make '{keyword}' the {mth} word.",
        "Put the word '{keyword}' in sentence {n}, as word number {m} of that sentence.",
    )

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        p = self.params(params)
        return {**p, "nth": ordinal(p["n"]), "mth": ordinal(p["m"])}

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        p = self.params(params)
        found = sentences(response)
        if len(found) < p["n"]:
            return False
        words = _alnum_tokens(found[p["n"] - 1])
        return len(words) >= p["m"] and words[p["m"] - 1].lower() == p["keyword"].lower()


@register
class WordsPosition(IFBenchType):
    """``keyword`` (any case) is the second ``word_tokenize`` token and the second to last, not counting
    a final token that is a substring of ASCII punctuation (``.``, ``!``, ``()``...)."""

    id = ifbench_id = "words:words_position"
    kwargs_spec: ClassVar[dict[str, Check]] = {"keyword": keyword_kwarg}
    phrasings = ("Make '{keyword}' both the second word and the second-to-last word of your response.",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        keyword = self.params(params)["keyword"].lower()
        words = treebank_words(response)
        if len(words) < 2:
            return False
        if words[-1] in string.punctuation:  # a substring test, as the reference's
            return len(words) >= 3 and words[1].lower() == words[-3].lower() == keyword
        return words[1].lower() == words[-2].lower() == keyword
