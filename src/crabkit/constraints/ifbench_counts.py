"""IFBench's counting and ratio types (``count:*``, ``ratio:*``), checked as the reference checks them.

Each ``check`` follows the reference verifier of the same id (IFBench, ``instructions.py``) step by
step: its tokenisation (``str.split``, NLTK's ``\\w+`` words, ``word_tokenize``, Punkt sentences),
its ASCII-only punctuation stripping, its comparisons (floats compared as it computes them). Where
the reference counts something a reader would count differently, the reference wins (``count:numbers``
deletes punctuation first, so ``3.5`` is one number; ``count:conjunctions`` counts distinct raw
tokens, so ``And`` and ``and`` are two). A blank response fails every type, as in the reference's
evaluation, which never calls a checker on one.

Inferred (only when asked for: ``suite == "ifbench"``), each with a margin so another reading still
meets it: ``count:word_count_range`` (a band around the length), ``count:unique_word_count``,
``ratio:stop_words`` (only dense answers), ``count:conjunctions``, ``count:numbers`` (2 to 6 figures,
where a reader's count agrees), ``count:pronouns``, and ``ratio:sentence_type`` /
``ratio:sentence_balance`` when an answer happens to hold them with several questions.

Never inferred, because no ordinary answer shows them as a request a person would make:
``count:person_names`` (names from the reference's fixed list of 50), ``ratio:overlap`` (character
trigram overlap with a given text), ``count:punctuation`` (every mark plus an interrobang),
``ratio:sentence_words`` (three sentences of equal length), ``count:words_japanese`` (every N-th word
Japanese) and ``count:keywords_multiple`` (five words exactly 1, 2, 3, 5 and 7 times).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from crabkit import text

from ._ifbench import (
    Check,
    IFBenchType,
    count_words,
    drop_punct,
    keyword_kwarg,
    nltk_stopwords,
    number_kwarg,
    ordinal,
    positive_kwarg,
    sentences,
    strip_punct,
    text_kwarg,
    treebank_words,
    whole_kwarg,
)
from .numbers import lower_bound, upper_bound
from .registry import register

__all__ = [
    "CONJUNCTIONS",
    "PERSON_NAMES",
    "PRONOUNS",
    "ConjunctionCount",
    "JapaneseEveryNth",
    "KeywordsMultiple",
    "NumbersCount",
    "PersonNameCount",
    "PronounCount",
    "PunctuationCover",
    "SentenceBalance",
    "SentenceTypeRatio",
    "StopWordRatio",
    "ThreeEqualSentences",
    "TrigramOverlap",
    "UniqueWordCount",
    "WordCountRange",
]

# Below these an answer shows too little for a count to be worth asking about.
_MIN_WORDS = 30
_MARGIN = 0.1
# Inferred only past these (measured on the shared seed pairs: the densest and most personal quarter).
_DENSE_STOP_SHARE = 28
_PERSONAL_SHARE = 0.085

#: The reference's coordinating conjunctions.
CONJUNCTIONS = frozenset({"and", "but", "for", "nor", "or", "so", "yet"})

#: The reference's 50 person names (matched case-sensitively, as whole words).
PERSON_NAMES = (
    "Emma", "Liam", "Sophia", "Jackson", "Olivia", "Noah", "Ava", "Lucas", "Isabella", "Mason",
    "Mia", "Ethan", "Charlotte", "Alexander", "Amelia", "Benjamin", "Harper", "Leo", "Zoe", "Daniel",
    "Chloe", "Samuel", "Lily", "Matthew", "Grace", "Owen", "Abigail", "Gabriel", "Ella", "Jacob",
    "Scarlett", "Nathan", "Victoria", "Elijah", "Layla", "Nicholas", "Audrey", "David", "Hannah",
    "Christopher", "Penelope", "Thomas", "Nora", "Andrew", "Aria", "Joseph", "Claire", "Ryan", "Stella",
    "Jonathan",
)  # fmt: skip
_NAME_PATTERNS = tuple(re.compile(rf"\b{re.escape(name)}\b") for name in PERSON_NAMES)

#: The reference's pronouns (personal, possessive, reflexive, demonstrative, interrogative, indefinite).
PRONOUNS = frozenset(
    {
        "i", "me", "we", "us", "you", "he", "him", "she", "her", "it", "they", "them", "my", "mine",
        "our", "ours", "your", "yours", "his", "hers", "its", "their", "theirs", "myself", "ourselves",
        "yourself", "yourselves", "himself", "herself", "itself", "themselves", "this", "that", "these",
        "those", "who", "whom", "whose", "which", "what", "whoever", "whomever", "whatever",
        "whichever", "anybody", "anyone", "anything", "everybody", "everyone", "everything", "nobody",
        "nothing", "somebody", "someone", "something", "each", "either", "neither", "both", "all",
        "some", "any", "none"
    }
)  # fmt: skip

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_DIGITS = re.compile(r"\d+")
# How a reader counts numbers: 3.5, 1,000 and 10:30 are one each.
_READER_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_MULTIPLE_COUNTS = (1, 2, 3, 5, 7)


def _ratio_to_5(value: float) -> int:
    """``value`` rounded up to a multiple of 5."""
    return int(-(-value // 5) * 5)


@register
class WordCountRange(IFBenchType):
    """Between ``min_words`` and ``max_words`` words (``\\w+`` tokens), both inclusive."""

    id = ifbench_id = "count:word_count_range"
    kwargs_spec: ClassVar[dict[str, Check]] = {"min_words": whole_kwarg, "max_words": whole_kwarg}
    phrasings = (
        "Write between {min_words} and {max_words} words.",
        "Keep your answer between {min_words} and {max_words} words long.",
        "The response should be {min_words} to {max_words} words in length.",
        "Aim for a length of {min_words}-{max_words} words.",
        "Use no fewer than {min_words} and no more than {max_words} words.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        p = self.params(params)
        return p["min_words"] <= count_words(response) <= p["max_words"]

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        n = count_words(response)
        if n < _MIN_WORDS:
            return None
        low = lower_bound(n, rng, _MARGIN, floor=_MIN_WORDS // 2)
        if low is None:
            return None
        return {"min_words": low, "max_words": upper_bound(n, rng, _MARGIN, inclusive=True)}


@register
class UniqueWordCount(IFBenchType):
    """At least ``N`` distinct words: lower-cased ``str.split`` tokens with ASCII punctuation stripped
    from their ends (a token of punctuation alone counts as the empty word)."""

    id = ifbench_id = "count:unique_word_count"
    kwargs_spec: ClassVar[dict[str, Check]] = {"N": whole_kwarg}
    phrasings = (
        "Use at least {N:~different word|different words}.",
        "Your answer should contain {N} or more distinct words.",
        "Vary your vocabulary: use a minimum of {N:~unique word|unique words}.",
        "Make sure the response uses at least {N:~different word|different words}.",
    )

    @staticmethod
    def unique(response: str) -> int:
        return len({strip_punct(word) for word in response.lower().split()})

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return self.unique(response) >= self.params(params)["N"]

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        n = self.unique(response)
        if n < _MIN_WORDS:
            return None
        low = lower_bound(n, rng, _MARGIN, floor=_MIN_WORDS - 5)
        return None if low is None else {"N": low}


@register
class StopWordRatio(IFBenchType):
    """Stop words (NLTK's English list) are at most ``percentage`` % of the ``\\w+`` words; an answer
    without words fails."""

    id = ifbench_id = "ratio:stop_words"
    kwargs_spec: ClassVar[dict[str, Check]] = {"percentage": number_kwarg}
    phrasings = (
        "Keep stop words (the, of, is, and...) to no more than {percentage}% of your words.",
        "Write densely: filler words like 'the', 'a' and 'of' should make up at most {percentage}% of the text.",
        "No more than {percentage}% of the words in your answer should be stop words.",
        "Make sure stop words account for {percentage}% of your words or less.",
    )

    @staticmethod
    def share(response: str) -> float | None:
        """Stop words as a percentage of all words, computed as the reference does; None without words."""
        found = count_words(response)
        if found == 0:
            return None
        stop = nltk_stopwords()
        hits = sum(1 for token in text.words(response) if token.lower() in stop)
        return (hits / found) * 100

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        limit = self.params(params)["percentage"]
        share = self.share(response)
        return share is not None and share <= limit

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if count_words(response) < 2 * _MIN_WORDS:
            return None
        share = self.share(response)
        # Answers run at 20-50 % stop words (a median near 37 % on the shared pairs): only the densest
        # quarter is worth asking for, so that most other answers fail the bound.
        if share is None or share > _DENSE_STOP_SHARE:
            return None
        return {"percentage": _ratio_to_5(share + rng.choice((2, 3, 5)))}


def _endings(response: str) -> tuple[int, int, int]:
    """Sentences ending in ``.``, ``?`` and ``!`` (the raw Punkt sentences, as the reference reads them)."""
    found = sentences(response)
    return (
        sum(1 for s in found if s.endswith(".")),
        sum(1 for s in found if s.endswith("?")),
        sum(1 for s in found if s.endswith("!")),
    )


@register
class SentenceTypeRatio(IFBenchType):
    """Exactly twice as many sentences ending in ``.`` as ending in ``?`` (none of either holds)."""

    id = ifbench_id = "ratio:sentence_type"
    phrasings = (
        "Use twice as many statements as questions: two sentences ending in a period for every question.",
        "Keep a 2:1 ratio of declarative sentences to questions.",
        "For each question you ask, write exactly two plain statements.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        declarative, interrogative, _ = _endings(response)
        return declarative == 2 * interrogative

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "?" not in response:
            return None
        declarative, interrogative, _ = _endings(response)
        return {} if interrogative >= 2 and declarative == 2 * interrogative else None


@register
class SentenceBalance(IFBenchType):
    """As many sentences ending in ``.`` as in ``?`` and as in ``!`` (none of each holds)."""

    id = ifbench_id = "ratio:sentence_balance"
    phrasings = (
        "Balance your sentence types: use as many statements as questions and as exclamations.",
        "Write the same number of declarative, interrogative and exclamatory sentences.",
        "Mix your sentences evenly: equal numbers ending in a period, a question mark and an exclamation mark.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        declarative, interrogative, exclamatory = _endings(response)
        return declarative == interrogative == exclamatory

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "?" not in response or "!" not in response:
            return None
        declarative, interrogative, exclamatory = _endings(response)
        return {} if declarative >= 2 and declarative == interrogative == exclamatory else None


@register
class ConjunctionCount(IFBenchType):
    """At least ``small_n`` distinct coordinating conjunctions, counted as the reference does: the
    distinct raw ``str.split`` tokens that are a conjunction once stripped and lower-cased."""

    id = ifbench_id = "count:conjunctions"
    kwargs_spec: ClassVar[dict[str, Check]] = {"small_n": whole_kwarg}
    phrasings = (
        "Use at least {small_n} different coordinating conjunctions (and, but, or, so, yet, for, nor).",
        (
            "Link your ideas with a variety of conjunctions: at least {small_n} different ones from and, "
            "but, or, so, yet, for and nor."
        ),
        "Include {small_n} or more distinct coordinating conjunctions such as 'but', 'yet' or 'nor'.",
    )

    @staticmethod
    def tokens(response: str) -> set[str]:
        return {word for word in response.split() if strip_punct(word).lower() in CONJUNCTIONS}

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return len(self.tokens(response)) >= self.params(params)["small_n"]

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        # What a reader counts: the conjunctions themselves, whatever their case or punctuation. Most
        # answers use three or four ("and", "or", "for", "so"); five or more sets one apart.
        distinct = len({strip_punct(word).lower() for word in self.tokens(response)})
        if distinct < 5:
            return None
        return {"small_n": rng.choice((distinct - 1, distinct))}


@register
class PersonNameCount(IFBenchType):
    """At least ``N`` of the reference's 50 first names, each matched case-sensitively as a whole word."""

    id = ifbench_id = "count:person_names"
    kwargs_spec: ClassVar[dict[str, Check]] = {"N": whole_kwarg}
    phrasings = (
        "Mention at least {N:~different person|different people} by name, choosing from these names: "
        + ", ".join(PERSON_NAMES)
        + ".",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        found = sum(1 for pattern in _NAME_PATTERNS if pattern.search(response))
        return found >= self.params(params)["N"]


@register
class TrigramOverlap(IFBenchType):
    """The share of the response's distinct character trigrams also in ``reference_text`` is within 2
    points of ``percentage``; a response without a trigram fails."""

    id = ifbench_id = "ratio:overlap"
    kwargs_spec: ClassVar[dict[str, Check]] = {"reference_text": text_kwarg, "percentage": number_kwarg}
    phrasings = (
        (
            "Keep about {percentage}% (give or take 2%) of your character trigrams in common with this "
            "text: {reference_text}"
        ),
    )

    @staticmethod
    def _trigrams(value: str) -> set[str]:
        return {value[i : i + 3] for i in range(len(value) - 2)}

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        p = self.params(params)
        grams = self._trigrams(response)
        if not grams:
            return False
        overlap = len(grams & self._trigrams(p["reference_text"])) / len(grams)
        return p["percentage"] - 2 <= overlap * 100 <= p["percentage"] + 2


@register
class NumbersCount(IFBenchType):
    """Exactly ``N`` runs of digits once ASCII punctuation is deleted (``3.5`` and ``1,000`` are one each,
    ``2-3`` is one)."""

    id = ifbench_id = "count:numbers"
    kwargs_spec: ClassVar[dict[str, Check]] = {"N": whole_kwarg}
    phrasings = (
        "Include exactly {N:~number|numbers}, written in digits.",
        "Use precisely {N:~figure|figures} (numbers in digits) in your answer, no more and no fewer.",
        "Your response must contain exactly {N:~number|numbers} written as digits.",
    )

    @staticmethod
    def count(response: str) -> int:
        return len(_DIGITS.findall(drop_punct(response)))

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return self.count(response) == self.params(params)["N"]

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        n = self.count(response)
        # A reader must count the same numbers the check does (no ranges, dates or list markers).
        if not 2 <= n <= 6 or len(_READER_NUMBER.findall(response)) != n:
            return None
        if re.search(r"^\s*\d+[.)]", response, re.MULTILINE) or re.search(r"\d\s*[-\u2013/]\s*\d", response):
            return None
        return {"N": n}


@register
class PunctuationCover(IFBenchType):
    """Every one of ``. , ! ? ; :`` and an interrobang (``?!``, ``!?`` or ``‽``); the first ``?!`` (or,
    failing that, ``!?``) does not count towards the ``!`` and ``?``."""

    id = ifbench_id = "count:punctuation"
    phrasings = (
        (
            "Use every standard punctuation mark at least once (period, comma, exclamation mark, question "
            "mark, semicolon and colon) plus an interrobang (?!)."
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        if not ("!?" in response or "?!" in response or "\u203d" in response):
            return False
        rest = response.replace("?!", "", 1)
        if len(rest) == len(response):
            rest = response.replace("!?", "", 1)
        return set(".,!?;:") <= set(rest)


@register
class ThreeEqualSentences(IFBenchType):
    """Exactly three Punkt sentences, all of the same length once stripped (words are not compared)."""

    id = ifbench_id = "ratio:sentence_words"
    phrasings = ("Respond with exactly three sentences that all have the same number of characters.",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        found = sentences(response)
        return len(found) == 3 and len({len(s.strip()) for s in found}) == 1


@register
class JapaneseEveryNth(IFBenchType):
    """Every ``N``-th ``str.split`` token that is not empty or a number once stripped contains a
    Japanese character (Hiragana, Katakana or CJK ideograph)."""

    id = ifbench_id = "count:words_japanese"
    kwargs_spec: ClassVar[dict[str, Check]] = {"N": positive_kwarg}
    phrasings = (
        "Make every {nth} word of your response a Japanese word.",
        "Write every {nth} word in Japanese.",
    )

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"nth": ordinal(self.params(params)["N"])}

    def describe(self, params: Mapping[str, Any], rng: random.Random | None) -> str:
        if self.params(params)["N"] == 1:
            return "Write every word of your response in Japanese."
        return super().describe(params, rng)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        every = self.params(params)["N"]
        for index, word in enumerate(response.split(), 1):
            if index % every:
                continue
            word = strip_punct(word)
            if word and not word.isdigit() and not _JAPANESE.search(word):
                return False
        return True


@register
class PronounCount(IFBenchType):
    """At least ``N`` pronouns among the ``word_tokenize`` tokens of the lower-cased response, with
    ``/`` read as a space (``she/her``)."""

    id = ifbench_id = "count:pronouns"
    kwargs_spec: ClassVar[dict[str, Check]] = {"N": whole_kwarg}
    phrasings = (
        "Use at least {N:~pronoun|pronouns} (I, you, it, they, this, everyone...).",
        "Write in a personal, connected way, with {N} or more pronouns.",
        "Make sure your answer contains a minimum of {N:~pronoun|pronouns}.",
    )

    @staticmethod
    def count(response: str) -> int:
        return sum(1 for token in treebank_words(response.replace("/", " ").lower()) if token in PRONOUNS)

    @staticmethod
    def quick_count(response: str) -> int:
        """Pronouns among the ``\\w+`` words: nearly always ``count`` (``it's`` gives ``it`` either
        way, and on the shared seed pairs never below it), at about 1/50 of the cost of Treebank
        tokenising."""
        return sum(1 for word in text.words(response.lower()) if word in PRONOUNS)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return self.count(response) >= self.params(params)["N"]

    def likely(self, response: str, params: Mapping[str, Any]) -> bool:
        return self.quick_count(response) >= self.params(params)["N"]

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        words = count_words(response)
        # The quick count first (it is never below the real one): most answers are not personal
        # enough, and need no tokenising.
        if words < _MIN_WORDS or self.quick_count(response) < max(12, _PERSONAL_SHARE * words):
            return None
        n = self.count(response)
        # Pronouns are 2-12 % of an answer's words: only a clearly personal answer is worth asking for.
        if n < 12 or n < _PERSONAL_SHARE * words:
            return None
        low = lower_bound(n, rng, _MARGIN, floor=10)
        return None if low is None else {"N": low}


@register
class KeywordsMultiple(IFBenchType):
    """``keyword1`` once, ``keyword2`` twice, ``keyword3`` three, ``keyword4`` five and ``keyword5``
    seven times, each counted as a case-insensitive substring (``cat`` is in ``concatenate``)."""

    id = ifbench_id = "count:keywords_multiple"
    kwargs_spec: ClassVar[dict[str, Check]] = {f"keyword{i}": keyword_kwarg for i in range(1, 6)}
    phrasings = (
        (
            "Use the word '{keyword1}' once, '{keyword2}' twice, '{keyword3}' three times, '{keyword4}' "
            "five times and '{keyword5}' seven times."
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        p = self.params(params)
        lowered = response.lower()
        return all(lowered.count(p[f"keyword{i}"].lower()) == n for i, n in enumerate(_MULTIPLE_COUNTS, 1))
