"""IFEval ``keywords:*`` types: keyword presence, keyword frequency, forbidden words, letter frequency.

Deliberate deviations from the reference, all for keywords it would treat as regular expressions:

* keywords are matched literally (``re.escape``), never as patterns, so ``C++`` or ``(beta)`` mean
  themselves; for plain-word keywords (all of IFEval's) the result is the reference's.
* ``forbidden_words`` bounds a word with "no word character on either side" (``(?<!\\w)``/``(?!\\w)``),
  which is ``\\b`` for keywords that start and end with a word character and stays sensible for ones
  that do not (``\\b`` next to ``+`` would demand a *word* character there).
* ``letter_frequency`` counts the symbol it was given, lower-cased; the reference swaps a non-letter
  or multi-character ``letter`` for a random ASCII letter.

Inference reads one memoised word count of the response (``\\w+`` runs, lower-cased), not a
keyword extractor: a content word the response repeats, or one it shares with the instruction, is
what it is about, and counting costs a tenth of a millisecond where a keyword extractor costs more.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crabkit import text
from crabkit._memo import per_text

from ._ifeval import compare, get_int, get_relation, get_str, get_str_list, lower_word_counts
from ._match import contains_ci, literal_pattern, lowered, plain_case, whole_hits, whole_word_in
from .base import ConstraintType, choose, fill
from .numbers import lower_bound, upper_bound
from .registry import register

__all__ = [
    "ForbiddenWords",
    "KeywordExistence",
    "KeywordFrequency",
    "LetterFrequency",
    "as_written",
    "contrast_words",
    "instruction_topic",
    "named_list",
    "quoted_list",
    "ranked_keywords",
    "stopwords",
]

_MIN_KEYWORD_CHARS = 4
_KEYWORD_POOL = 6
_MIN_KEYWORD_WORDS = 20
_MIN_FORBIDDEN_WORDS = 30
_MIN_LETTER_WORDS = 10
# A letter asked "at least N times" is one a reader can count: not e, t or a hundreds of times.
_MOST_LETTER_COUNT = 40
_RARE_LETTER_COUNT = 5
_LETTERS_BY_FREQUENCY = "etaoinshrdlcumwfgypbvkjxqz"

# Words that rank high in chat answers and requests but say nothing about the topic.
_NOT_TOPICAL = frozenset(
    """sure certainly absolutely great question questions glad happy hope help helps helpful answer answers
    note example examples step steps summary conclusion overall additionally finally firstly secondly
    lastly okay thanks thank please including include includes using make makes made provide provides
    consider ensure important different various several good best better like well also here
    write explain describe tell give list show find generate summarize summarise create need want know
    brief short detailed something someone thing things lots kind kinds type types part parts level
    levels time times year years ways following based specific possible common able""".split()  # noqa: SIM905
)
#: Fillers a request might ban ("do not use 'very' or 'really'"); inferred only when absent.
FILLER_WORDS = (
    "very", "really", "basically", "actually", "literally", "things", "stuff", "just", "simply",
    "obviously", "honestly", "totally", "definitely", "extremely", "super", "awesome", "amazing",
    "kinda", "pretty", "quite", "incredibly", "absolutely", "essentially", "truly", "clearly",
)  # fmt: skip


@functools.lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """English stopwords: the SMART stop list (the one YAKE uses), bundled as ``data/stopwords_en.txt``."""
    from importlib.resources import files

    text = (files("crabkit") / "data" / "stopwords_en.txt").read_text(encoding="utf-8")
    return frozenset(w for w in (line.strip() for line in text.splitlines()) if w and not w.startswith("#"))


def _is_content(word: str, stopwords: frozenset[str]) -> bool:
    """A lower-cased token a person could ask about: a real word, not a function or filler word."""
    return (
        len(word) >= _MIN_KEYWORD_CHARS
        and word.isalpha()
        and word not in stopwords
        and word not in _NOT_TOPICAL
    )


@functools.lru_cache(maxsize=1)
def _not_content() -> frozenset[str]:
    return stopwords() | _NOT_TOPICAL


@per_text()
def instruction_topic(instruction: str) -> frozenset[str]:
    """Five-letter stems of the instruction's content words ("bake" and "baking" share "bak")."""
    stop = stopwords()
    return frozenset(w[:5] for w in text.words(instruction.lower()) if _is_content(w, stop))


@per_text()
def ranked_keywords(response: str, instruction: str) -> tuple[tuple[str, int, bool], ...]:
    """Content words of ``response`` with their counts and whether they relate to the instruction, best first.

    Words that share a stem with the instruction come first, then words the response repeats (its
    real topic), each group by count and then first occurrence; a word used once and unrelated to
    the instruction is left out.
    """
    topic = instruction_topic(instruction)
    excluded = _not_content()
    counts = lower_word_counts(response).items()
    # First the test most words fail (used once, off the topic), as comprehensions; then
    # _is_content, inlined, on the few that pass.
    if topic:
        kept = [(p, w, c) for p, (w, c) in enumerate(counts) if c >= 2 or w[:5] in topic]
    else:
        kept = [(p, w, c) for p, (w, c) in enumerate(counts) if c >= 2]
    ranked = [
        (w[:5] not in topic, -c, p, w, c)
        for p, w, c in kept
        if len(w) >= _MIN_KEYWORD_CHARS and w not in excluded and w.isalpha()
    ]
    ranked.sort()
    return tuple((word, count, not unrelated) for unrelated, *_, word, count in ranked)


def as_written(response: str, word: str, whole_word: bool = False) -> str | None:
    """``word`` (lower-cased, from ``response``) as the response writes it: lower case if it ever does
    (as a whole word, with ``whole_word``), else its first spelling; None if the check would not find it."""
    if whole_hits(response, word, 1) if whole_word else word in response:
        return word
    if plain_case(response, word):
        start = lowered(response).find(word)
        return response[start : start + len(word)] if start >= 0 else None
    found = literal_pattern(word).search(response)
    return found.group(0) if found else None


def _occurrences(response: str, keyword: str) -> int:
    """The check's count of ``keyword``: case-insensitive, non-overlapping, substrings included."""
    if plain_case(response, keyword):
        return lowered(response).count(keyword.lower())
    return len(literal_pattern(keyword).findall(response))


def _absent(response: str, word: str) -> bool:
    """Whether the check finds no whole-word ``word`` (a lower-cased token) in ``response``."""
    if plain_case(response, word):
        return word not in lower_word_counts(response)
    return not whole_word_in(response, word)


def quoted_list(items: Sequence[str], last: str = "and") -> str:
    """``['apple', 'pear', 'fig']`` -> ``'apple', 'pear' and 'fig'`` (``last`` joins the final two)."""
    quoted = [f'"{s}"' if "'" in s else f"'{s}'" for s in items]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + f" {last} " + quoted[-1]


def named_list(items: Sequence[str], one: str, many: str, last: str = "and") -> str:
    """``the word 'fig'`` / ``the words 'fig' and 'pear'``: the quoted list after a noun that agrees."""
    return f"{one if len(items) == 1 else many} {quoted_list(items, last)}"


def _by_relation(
    rng: random.Random | None, table: Mapping[str, tuple[str, ...]], relation: str, values: dict
) -> str:
    return fill(choose(rng, table[relation]), **values)


def _lacking(word: str, contrast: Sequence[str]) -> int:
    """How many contrast texts do not use ``word`` (lower-cased) as a word: a ranking only (the
    contrast step checks the constraint itself), so memoised word counts answer, not a text scan."""
    return sum(word not in lower_word_counts(other) for other in contrast)


def contrast_words(response: str, instruction: str, contrast: Sequence[str], most: int = 3) -> list[str]:
    """Words other answers use and ``response`` does not: content words (or fillers) found in at
    least two of ``contrast`` (one, when there are only one or two), absent from ``response`` as
    whole words, and sharing no stem with the instruction's own words; the most widely used first.
    """
    if not contrast:
        return []
    need = 1 if len(contrast) <= 2 else 2
    topic = instruction_topic(instruction)
    stop = stopwords()
    fillers = frozenset(FILLER_WORDS)
    # Counter keeps first-seen order, which breaks ties in the sort below.
    seen = Counter(itertools.chain.from_iterable(lower_word_counts(other).keys() for other in contrast))
    counts = lower_word_counts(response)
    asked = lower_word_counts(instruction)  # no word of the request itself, filler or not
    ranked = sorted(
        (w for w, n in seen.items() if n >= need and w not in counts and w not in asked and w[:5] not in topic),
        key=lambda w: (-seen[w], w not in fillers),
    )
    found = []
    for word in ranked:
        if (word in fillers or _is_content(word, stop)) and _absent(response, word):
            found.append(word)
            if len(found) >= most:
                break
    return found


@register
class KeywordExistence(ConstraintType):
    """Every keyword in ``keywords`` appears somewhere, case-insensitively (substrings count)."""

    id = ifeval_id = "keywords:existence"
    phrasings = (
        "Include {the_keywords} in the response.",
        "Make sure your answer mentions {keywords}.",
        "Your response should contain {the_words}.",
        "Use {keywords} somewhere in your reply.",
        "Work {the_terms} into your answer.",
        "Be sure to mention {keywords}.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        keywords = get_str_list(self.id, params, "keywords")
        return all(contains_ci(response, k) for k in keywords)

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        if sum(lower_word_counts(response).values()) < _MIN_KEYWORD_WORDS:
            return []
        ranked = ranked_keywords(response, instruction)[: 2 * _KEYWORD_POOL]
        if not ranked:
            return []
        pool = [word for word, _, _ in ranked]
        if contrast:
            # Words the other answers lack first: they are what this answer has to say.
            pool.sort(key=lambda w: -_lacking(w, contrast))
            picks = [pool[:1], pool[:2], pool[:3]]
        else:
            pool = pool[:_KEYWORD_POOL]
            related = [word for word, _, is_related in ranked[:_KEYWORD_POOL] if is_related]
            want = min(rng.choice((1, 2, 2, 3)), len(pool))
            # One word of the request's topic when there is one, the rest from the whole pool.
            picked = {rng.choice(related)} if related else set()
            rest = [w for w in pool if w not in picked]
            picked.update(rng.sample(rest, want - len(picked)))
            picks = [[p for p in pool if p in picked]]
        out = []
        for pick in picks:
            # Each keyword is the response's own spelling of one of its words, so the check holds.
            keywords = [w for w in (as_written(response, p) for p in pick) if w]
            if keywords and (not out or keywords != out[-1]["keywords"]):
                out.append({"keywords": keywords})
        return out

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = self.candidates(response, rng, instruction)
        return found[0] if found else None

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        words = get_str_list(self.id, params, "keywords")
        return {
            "keywords": quoted_list(words),
            "the_keywords": named_list(words, "the keyword", "the keywords"),
            "the_words": named_list(words, "the word", "the words"),
            "the_terms": named_list(words, "the term", "the terms"),
        }


@register
class KeywordFrequency(ConstraintType):
    """``keyword`` (stripped) occurs ``relation`` ``frequency`` times, case-insensitively, non-overlapping."""

    id = ifeval_id = "keywords:frequency"
    phrasings_by_relation: ClassVar[dict[str, tuple[str, ...]]] = {
        "at least": (
            "In your response, the word '{keyword}' should appear at least {frequency:~time|times}.",
            "Use the word '{keyword}' {frequency:~time|times} or more.",
            "Mention '{keyword}' at least {frequency:~time|times}.",
            "Make sure '{keyword}' comes up at least {frequency:~time|times}.",
            "Repeat the keyword '{keyword}' at least {frequency:~time|times} throughout the reply.",
        ),
        "less than": (
            "In your response, the word '{keyword}' should appear less than {frequency:~time|times}.",
            "Use the word '{keyword}' fewer than {frequency:~time|times}.",
            "Mention '{keyword}' fewer than {frequency:~time|times}.",
            "Keep the word '{keyword}' to fewer than {frequency:~occurrence|occurrences}.",
            "Say '{keyword}' less than {frequency:~time|times} in your answer.",
        ),
    }
    phrasings = sum(phrasings_by_relation.values(), ())

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        keyword = get_str(self.id, params, "keyword").strip()
        frequency = get_int(self.id, params, "frequency")
        relation = get_relation(self.id, params, "relation")
        if not keyword:
            raise ValueError(f"{self.id}: param 'keyword' is empty")
        return compare(_occurrences(response, keyword), relation, frequency)

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        pool = [(w, c) for w, c, _ in ranked_keywords(response, instruction) if c >= 2][: 2 * _KEYWORD_POOL]
        if contrast:
            # A count is telling when the other answers use the word much less (or much more).
            counts = [lower_word_counts(o) for o in contrast]
            pool.sort(key=lambda wc: -sum(abs(c.get(wc[0], 0) - wc[1]) > 1 for c in counts))
        else:
            pool = rng.sample(pool[:_KEYWORD_POOL], min(len(pool), _KEYWORD_POOL))
        out = []
        for word, count in pool:
            # The check counts substrings ("art" in "start"); ask only for words whose substring
            # count is their word count, so the number means what a reader thinks it means.
            if _occurrences(response, word) != count:
                continue
            keyword = as_written(response, word)
            if keyword is None:
                continue
            low = lower_bound(count, rng, floor=2)
            if low is not None:
                out.append({"relation": "at least", "keyword": keyword, "frequency": low})
            out.append({"relation": "less than", "keyword": keyword, "frequency": upper_bound(count, rng)})
            if len(out) >= 4:
                break
        return out

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = self.candidates(response, rng, instruction)
        return rng.choice(found[:2]) if found else None

    def describe(self, params: Mapping[str, Any], rng: random.Random | None) -> str:
        relation = get_relation(self.id, params, "relation")
        return _by_relation(rng, self.phrasings_by_relation, relation, dict(params))


@register
class ForbiddenWords(ConstraintType):
    """None of ``forbidden_words`` appears as a whole word, case-insensitively.

    Inferred only from other answers (``contrast``): a word that they use and this response does
    without is one a plausible answer would reach for. Words of the request itself are never banned.
    """

    id = ifeval_id = "keywords:forbidden_words"
    phrasings = (
        "Do not include {the_words_any} in the response.",
        "Make sure you never use {any_words}.",
        "Avoid {the_words_all} entirely.",
        "Keep {all_words} out of your reply.",
        "Write your response without using {any_words}.",
        "Don't use {the_words_any} anywhere in your answer.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        words = get_str_list(self.id, params, "forbidden_words")
        return not any(whole_word_in(response, w) for w in words)

    def likely(self, response: str, params: Mapping[str, Any]) -> bool:
        """The memoised word counts answer for plain words (the ones inferred), the check otherwise."""
        words = get_str_list(self.id, params, "forbidden_words")
        if all(w.isalpha() and w.islower() and w.isascii() for w in words) and plain_case(response, "a"):
            counts = lower_word_counts(response)
            return not any(w in counts for w in words)
        return self.check(response, params)

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        if sum(lower_word_counts(response).values()) < _MIN_FORBIDDEN_WORDS:
            return []
        words = contrast_words(response, instruction, contrast)
        return [{"forbidden_words": words[:n]} for n in range(1, len(words) + 1)]

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        words = get_str_list(self.id, params, "forbidden_words")
        return {
            "all_words": quoted_list(words),
            "any_words": quoted_list(words, "or"),
            "the_words_all": named_list(words, "the word", "the words"),
            "the_words_any": named_list(words, "the word", "the words", "or"),
        }


@register
class LetterFrequency(ConstraintType):
    """The symbol ``letter`` occurs ``let_relation`` ``let_frequency`` times in the lower-cased response."""

    id = ifeval_id = "keywords:letter_frequency"
    phrasings_by_relation: ClassVar[dict[str, tuple[str, ...]]] = {
        "at least": (
            "In your response, the letter '{letter}' should appear at least {let_frequency:~time|times}.",
            "Make sure the letter '{letter}' occurs {let_frequency:~time|times} or more in your answer.",
            "Use the letter '{letter}' at least {let_frequency:~time|times}.",
            "Include the letter '{letter}' at least {let_frequency:~time|times}.",
        ),
        "less than": (
            "In your response, the letter '{letter}' should appear less than {let_frequency:~time|times}.",
            "Make sure the letter '{letter}' occurs fewer than {let_frequency:~time|times} in your answer.",
            "Use the letter '{letter}' fewer than {let_frequency:~time|times}.",
            "Keep the letter '{letter}' to fewer than {let_frequency:~occurrence|occurrences}.",
        ),
    }
    phrasings = sum(phrasings_by_relation.values(), ())

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        letter = get_str(self.id, params, "letter")
        frequency = get_int(self.id, params, "let_frequency")
        relation = get_relation(self.id, params, "let_relation")
        # The reference strips the letter; a letter that is only whitespace stays itself.
        symbol = (letter.strip() or letter).lower()
        if not symbol:
            raise ValueError(f"{self.id}: param 'letter' is empty")
        return compare(lowered(response).count(symbol), relation, frequency)

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        if sum(lower_word_counts(response).values()) < _MIN_LETTER_WORDS:
            return []
        low = lowered(response)
        # A handful of letters, counted (26 full scans of the text cost more than the rest of the type).
        letters = rng.sample(_LETTERS_BY_FREQUENCY, 8)
        counts = {letter: low.count(letter) for letter in letters}
        # A count a reader could check: a letter used a few dozen times at most, or a rare one.
        countable = [c for c in letters if 3 <= counts[c] <= _MOST_LETTER_COUNT]
        rare = [c for c in letters if counts[c] <= _RARE_LETTER_COUNT]
        out = []
        for letter in rng.sample(countable, min(2, len(countable))):
            bound = lower_bound(counts[letter], rng, floor=2)
            if bound is not None:
                out.append({"let_relation": "at least", "letter": letter, "let_frequency": bound})
        if rare:
            letter = rng.choice(rare)
            out.append({"let_relation": "less than", "letter": letter, "let_frequency": upper_bound(counts[letter], rng)})
        return out

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = self.candidates(response, rng, instruction)
        return rng.choice(found) if found else None

    def describe(self, params: Mapping[str, Any], rng: random.Random | None) -> str:
        relation = get_relation(self.id, params, "let_relation")
        return _by_relation(rng, self.phrasings_by_relation, relation, dict(params))
