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
import random
import string
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crabkit import text
from crabkit._memo import per_text

from ._ifeval import compare, get_int, get_relation, get_str, get_str_list, lower_word_counts
from ._match import contains_ci, literal_pattern, lowered, plain_case, whole_hits, whole_word_in
from .base import ConstraintType
from .length import relation_bound
from .registry import register

__all__ = [
    "ForbiddenWords",
    "KeywordExistence",
    "KeywordFrequency",
    "LetterFrequency",
    "as_written",
    "instruction_topic",
    "quoted_list",
    "ranked_keywords",
    "stopwords",
]

_MIN_KEYWORD_CHARS = 4
_KEYWORD_POOL = 6
_MIN_KEYWORD_WORDS = 20
_MIN_FORBIDDEN_WORDS = 30
_MIN_LETTER_WORDS = 10

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
    """English stopwords: the SMART list YAKE uses, as ``yake-rust`` ships it (only the list is used)."""
    import yake_rust

    return frozenset(yake_rust.Yake(language="en").stopwords)


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


def _by_relation(
    rng: random.Random, table: Mapping[str, tuple[str, ...]], relation: str, values: dict
) -> str:
    return rng.choice(table[relation]).format(**values)


@register
class KeywordExistence(ConstraintType):
    """Every keyword in ``keywords`` appears somewhere, case-insensitively (substrings count)."""

    id = ifeval_id = "keywords:existence"
    phrasings = (
        "Include the keywords {keywords} in the response.",
        "Make sure your answer mentions {keywords}.",
        "Your response should contain the words {keywords}.",
        "Do not leave out the keywords {keywords}; each must appear at least once.",
        "Use {keywords} somewhere in your reply.",
        "Work the terms {keywords} into your answer.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        keywords = get_str_list(self.id, params, "keywords")
        return all(contains_ci(response, k) for k in keywords)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if sum(lower_word_counts(response).values()) < _MIN_KEYWORD_WORDS:
            return None
        ranked = ranked_keywords(response, instruction)[:_KEYWORD_POOL]
        if not ranked:
            return None
        pool = [word for word, _, _ in ranked]
        related = [word for word, _, is_related in ranked if is_related]
        want = min(rng.choice((1, 2, 2, 3)), len(pool))
        # One word of the request's topic when there is one, the rest from the whole pool.
        picked = {rng.choice(related)} if related else set()
        rest = [w for w in pool if w not in picked]
        picked.update(rng.sample(rest, want - len(picked)))
        # Each keyword is the response's own spelling of one of its words, so the substring check holds.
        keywords = [w for w in (as_written(response, p) for p in pool if p in picked) if w]
        return {"keywords": keywords} if keywords else None

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"keywords": quoted_list(get_str_list(self.id, params, "keywords"))}


@register
class KeywordFrequency(ConstraintType):
    """``keyword`` (stripped) occurs ``relation`` ``frequency`` times, case-insensitively, non-overlapping."""

    id = ifeval_id = "keywords:frequency"
    phrasings_by_relation: ClassVar[dict[str, tuple[str, ...]]] = {
        "at least": (
            "In your response, the word '{keyword}' should appear at least {frequency} times.",
            "Make sure you use the word '{keyword}' {frequency} times or more.",
            "Your answer should mention '{keyword}' no fewer than {frequency} times.",
            "Do not use the word '{keyword}' fewer than {frequency} times.",
            "Repeat the keyword '{keyword}' at least {frequency} times throughout the reply.",
        ),
        "less than": (
            "In your response, the word '{keyword}' should appear less than {frequency} times.",
            "Make sure you use the word '{keyword}' fewer than {frequency} times.",
            "Your answer should mention '{keyword}' under {frequency} times.",
            "Do not use the word '{keyword}' {frequency} times or more.",
            "Keep the word '{keyword}' to fewer than {frequency} occurrences.",
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

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        pool = [(w, c) for w, c, _ in ranked_keywords(response, instruction) if c >= 2][:_KEYWORD_POOL]
        for word, count in rng.sample(pool, len(pool)):
            # The check counts substrings ("art" in "start"); ask only for words whose substring
            # count is their word count, so the number means what a reader thinks it means.
            if _occurrences(response, word) != count:
                continue
            found = relation_bound(count, rng, least_floor=2)
            if found is None:
                return None
            keyword = as_written(response, word)
            if keyword is None:
                continue
            return {"relation": found[0], "keyword": keyword, "frequency": found[1]}
        return None

    def describe(self, params: Mapping[str, Any], rng: random.Random) -> str:
        relation = get_relation(self.id, params, "relation")
        return _by_relation(rng, self.phrasings_by_relation, relation, dict(params))


@register
class ForbiddenWords(ConstraintType):
    """None of ``forbidden_words`` appears as a whole word, case-insensitively."""

    id = ifeval_id = "keywords:forbidden_words"
    phrasings = (
        "Do not include the words {any_words} in the response.",
        "Make sure you never use {any_words}.",
        "Your answer should avoid the words {all_words} entirely.",
        "Keep {all_words} out of your reply.",
        "Write your response without using {any_words}.",
        "Avoid these words completely: {all_words}.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        words = get_str_list(self.id, params, "forbidden_words")
        return not any(whole_word_in(response, w) for w in words)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        counts = lower_word_counts(response)
        if sum(counts.values()) < _MIN_FORBIDDEN_WORDS:
            return None
        stop = stopwords()
        # Words of the request the answer manages without are the natural ones to ban.
        from_instruction = list(
            dict.fromkeys(
                w
                for w in text.words(instruction.lower())
                if w not in counts and _is_content(w, stop) and _absent(response, w)
            )
        )
        fillers = [w for w in FILLER_WORDS if _absent(response, w)]
        want = rng.choice((1, 1, 2, 2, 3, 4))
        chosen = rng.sample(from_instruction, min(want, len(from_instruction)))
        chosen += rng.sample(fillers, min(want - len(chosen), len(fillers)))
        return {"forbidden_words": chosen} if chosen else None

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        words = get_str_list(self.id, params, "forbidden_words")
        return {"all_words": quoted_list(words), "any_words": quoted_list(words, "or")}


@register
class LetterFrequency(ConstraintType):
    """The symbol ``letter`` occurs ``let_relation`` ``let_frequency`` times in the lower-cased response."""

    id = ifeval_id = "keywords:letter_frequency"
    phrasings_by_relation: ClassVar[dict[str, tuple[str, ...]]] = {
        "at least": (
            "In your response, the letter '{letter}' should appear at least {let_frequency} times.",
            "Make sure the letter '{letter}' occurs {let_frequency} times or more in your answer.",
            "Your reply should use the letter '{letter}' no fewer than {let_frequency} times.",
            "Do not use the letter '{letter}' fewer than {let_frequency} times.",
            "Include the letter '{letter}' at least {let_frequency} times.",
        ),
        "less than": (
            "In your response, the letter '{letter}' should appear less than {let_frequency} times.",
            "Make sure the letter '{letter}' occurs fewer than {let_frequency} times in your answer.",
            "Your reply should use the letter '{letter}' under {let_frequency} times.",
            "Do not use the letter '{letter}' {let_frequency} times or more.",
            "Keep the letter '{letter}' to fewer than {let_frequency} occurrences.",
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

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if sum(lower_word_counts(response).values()) < _MIN_LETTER_WORDS:
            return None
        letter = rng.choice(string.ascii_lowercase)
        found = relation_bound(lowered(response).count(letter), rng)
        assert found is not None  # "less than" always fits
        return {"let_relation": found[0], "letter": letter, "let_frequency": found[1]}

    def describe(self, params: Mapping[str, Any], rng: random.Random) -> str:
        relation = get_relation(self.id, params, "let_relation")
        return _by_relation(rng, self.phrasings_by_relation, relation, dict(params))
