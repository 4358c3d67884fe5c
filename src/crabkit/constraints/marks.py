"""Types about what text appears: required keywords, a banned punctuation mark, the opening phrase.

Keywords are matched literally (``re.escape``, never as a pattern), case-insensitively, as whole
words or phrases: no word character may touch either end, and the words of a phrase may be separated
by any run of whitespace. ``infer`` picks them from a bounded prefix of the response's
prose (content words and two-word phrases, counted), preferring ones that share a word with the
instruction.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from crabkit import text

from ._ifeval import get_str, get_str_list, lower_word_counts, word_count
from ._match import contains_phrase, whole_hits
from ._match import lowered as lowered_text
from .base import ConstraintType
from .keywords import as_written, instruction_topic, ranked_keywords, stopwords
from .registry import register
from .structure import layout

__all__ = ["KEYWORD_SCAN_CHARS", "MARKS", "IncludeKeywords", "NoMark", "StartPhrase", "keyword_candidates"]

#: Phrase candidates come from at most this many characters of prose (the response's opening
#: states its topic); their counts, and single words' counts, come from the whole response.
KEYWORD_SCAN_CHARS = 500

_MIN_KEYWORD_WORDS = 40
_KEYWORD_POOL = 6
_LINK_OR_URL = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|\bhttps?://\S+")
# Two words side by side, only spaces between: "solar, cells" is no phrase, nor is "**solar** cells"
# (markup stays in the text the check reads). Overlapping pairs: "solar panel cost" gives two.
_PAIR = re.compile(r"(?<![\w'\u2019-])([^\W\d_]{3,})[ \t]+(?=([^\W\d_]{3,})(?![\w'\u2019-]))")
# The same on ASCII text, where letters are [a-zA-Z] (twice as fast as the Unicode class).
_ASCII_PAIR = re.compile(r"(?<![\w'-])([a-zA-Z]{3,})[ \t]+(?=([a-zA-Z]{3,})(?![\w'-]))", re.ASCII)
# Marks that play the same part for _PAIR as an ASCII stand-in: the right quote may not touch a
# word, as "'" may not; the others are like ",": no letter, no space, no word neighbour.
_PAIR_STAND_INS = (("\u2019", "'"), *((mark, ",") for mark in "\u2018\u201c\u201d\u2014\u2013\u2022\u2026\u00a0"))
# Openers and fillers that rank high in chat answers but nobody would ask to include.
_FILLERS = frozenset(
    """sure certainly absolutely great question glad happy hope help helps answer note example step steps
    summary conclusion overall however additionally finally firstly secondly lastly ok okay yes thanks
    thank please let including include includes using use used make makes made get gets provide
    provides consider ensure engage adjust create creating year years way ways thing things lot lots
    time times factor factors important key different various several good best better many much like
    level levels type types part parts kind kinds""".split()  # noqa: SIM905  (a word list reads best as text)
)


def contains_keyword(response: str, keyword: str) -> bool:
    """Whether ``keyword`` occurs in ``response`` as a whole word/phrase, ignoring case."""
    return contains_phrase(response, keyword)


def _pairs(scan: str) -> list[tuple[str, str]]:
    """``_PAIR.findall(scan)``, on ASCII text (after the common marks' stand-ins) by ``_ASCII_PAIR``."""
    if not scan.isascii():
        ascii_scan = text.replaced(scan, _PAIR_STAND_INS)
        if not ascii_scan.isascii():
            return _PAIR.findall(scan)
        scan = ascii_scan
    return _ASCII_PAIR.findall(scan)


def _scan_text(response: str) -> str:
    """The opening ``KEYWORD_SCAN_CHARS`` of the response without code, links and URLs."""
    head = layout(response).no_code[: 2 * KEYWORD_SCAN_CHARS]
    if "](" in head or "http" in head:
        head = _LINK_OR_URL.sub(lambda m: m.group(1) or " ", head)
    if len(head) > KEYWORD_SCAN_CHARS:
        cut = head.rfind(" ", 0, KEYWORD_SCAN_CHARS)
        head = head[: cut if cut > 0 else KEYWORD_SCAN_CHARS]
    return head


def keyword_candidates(response: str, instruction: str = "", limit: int | None = None) -> list[str]:
    """Content keywords of ``response``, best first, each occurring in it as a whole word/phrase.

    Candidates are the response's content words (the ranking ``keywords:existence`` uses, shared)
    and the two-word phrases of its opening prose (``KEYWORD_SCAN_CHARS``: two content words with
    only spaces between them), counted over the whole response. Candidates that share a word with
    the instruction come first, then ones the response uses more than once (its real topic); a
    candidate that is neither is dropped. Within a group, the ones whose words the response uses
    most come first (a phrase sums its words' counts: it says more). ``limit``: the best so many.
    """
    stop = stopwords()
    topic = instruction_topic(instruction)
    lowered = lowered_text(response)
    counts = lower_word_counts(response)
    found: list[tuple[bool, bool, int, int, int, str, int]] = []
    seen: set[str] = set()
    for order, (first, second) in enumerate(_pairs(lowered_text(_scan_text(response)))):
        low = f"{first} {second}"
        if low in seen:
            continue
        seen.add(low)
        if first in stop or second in stop or first in _FILLERS or second in _FILLERS:
            continue
        related = first[:5] in topic or second[:5] in topic
        c1, c2 = counts.get(first, 0), counts.get(second, 0)
        if not related and (c1 < 2 or c2 < 2):
            continue  # used once and off the instruction's topic: a phrase recurs only if its words do
        hits = whole_hits(lowered, low)
        if hits and (hits >= 2 or related):
            found.append((not related, hits < 2, -(c1 + c2), 0, order, low, hits))
    # Single words in their own ranking's order, which the sort below keeps; with a limit, only as
    # many as can reach it (each phrase can put at most two words out).
    words = (w for w in ranked_keywords(response, instruction) if w[0] not in _FILLERS)
    most = None if limit is None else limit + 2 * len(found)
    for order, (word, count, related) in enumerate(itertools.islice(words, most)):
        found.append((not related, count < 2, -count, 1, order, word, min(count, 2)))
    found.sort()
    # "Babbage" alone is no keyword of its own when every "Babbage" is in "Charles Babbage".
    best: list[str] = []
    covered: dict[str, int] = {}  # word -> most occurrences of one phrase holding it
    for *_, phrase, _hits in found:
        if limit is not None and len(best) >= limit:
            break
        if " " in phrase:
            best.append(phrase)
            for w in phrase.split():
                covered[w] = max(covered.get(w, 0), whole_hits(lowered, phrase, counts.get(w, 0)))
        elif covered.get(phrase, 0) < counts.get(phrase, 0):
            best.append(phrase)
    spelled = (as_written(response, phrase, whole_word=True) for phrase in best)
    return list(itertools.islice((k for k in spelled if k and _reads_as_term(k)), limit))


def _reads_as_term(keyword: str) -> bool:
    """Whether a two-word keyword reads as a term, not a cut through a sentence: "helped Chrome"
    (a verb before a name) and "really good" (an adverb first) do not."""
    words = keyword.split()
    if len(words) < 2:
        return True
    first, second = words[0], words[1]
    if first[:1].islower() and second[:1].isupper():
        return False
    return not first.lower().endswith(("ly", "ed"))


@register
class IncludeKeywords(ConstraintType):
    """Every keyword in ``keywords`` appears as a whole word/phrase (case-insensitive, literal)."""

    id = "keywords:include"
    phrasings = (
        "Include {the_keywords} in your response.",
        "Make sure your answer mentions {keywords}.",
        "Your response should use {the_terms}.",
        "Work {the_words} into your answer.",
        "Be sure to bring up {keywords} somewhere in the reply.",
        "Mention {keywords} at least once.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        keywords = get_str_list(self.id, params, "keywords")
        return all(contains_keyword(response, k) for k in keywords)

    def candidates(
        self, response: str, rng: random.Random, instruction: str = "", contrast: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        if word_count(response) < _MIN_KEYWORD_WORDS:
            return []
        pool = keyword_candidates(response, instruction, 2 * _KEYWORD_POOL if contrast else _KEYWORD_POOL)
        if not pool:
            return []
        if contrast:
            # Phrases the other answers lack first: they are what this answer has to say (their
            # memoised word counts rank them well enough; the contrast step checks the real thing).
            counts = [lower_word_counts(other) for other in contrast]
            pool.sort(key=lambda k: -sum(any(w not in c for w in k.lower().split()) for c in counts))
            wants = (1, 2, 3)
        else:
            pool = rng.sample(pool, len(pool))
            wants = (rng.choice((1, 2, 2, 3, 3)),)
        out = []
        for want in wants:
            chosen: list[str] = []
            used: set[str] = set()
            for phrase in pool:
                words = {w[:5] for w in phrase.lower().split()}  # stems: "breakers" is "circuit breaker" again
                if words & used:
                    continue  # "pain" and "pain relief" would be one keyword asked twice
                chosen.append(phrase)
                used |= words
                if len(chosen) == want:
                    break
            params = {"keywords": chosen}
            if (not out or chosen != out[-1]["keywords"]) and self.check(response, params):
                out.append(params)
        return out

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        found = self.candidates(response, rng, instruction)
        return found[0] if found else None

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        words = get_str_list(self.id, params, "keywords")
        quoted = [f'"{k}"' for k in words]
        joined = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
        one = len(words) == 1
        word = "term" if any(" " in w for w in words) else "word"  # "the word 'solar panel'" reads wrong
        return {
            "keywords": joined,
            "the_keywords": f"the keyword{'' if one else 's'} {joined}",
            "the_terms": f"the term{'' if one else 's'} {joined}",
            "the_words": f"the {word}{'' if one else 's'} {joined}",
        }


#: The marks ``no_mark`` can ban, each with the characters that count as it (full-width forms and
#: Spanish inverted marks are the same mark to a reader).
MARKS: dict[str, str] = {",": ",，", ":": ":：", "?": "?？¿", "!": "!！¡"}
_MARK_NAMES = {",": "commas", ":": "colons", "?": "question marks", "!": "exclamation marks"}
_MIN_MARK_WORDS = 30


@register
class NoMark(ConstraintType):
    """The response contains no ``mark`` (one of ``, : ? !``, full-width forms included)."""

    id = "punctuation:no_mark"
    phrasings = (
        "Do not use any {name} in your response.",
        "Make sure your answer contains no {name} ({mark}).",
        "Your response should be free of {name}.",
        "Avoid the character {mark} entirely.",
        "Write the whole answer without a single {mark}.",
        "Keep {name} out of your reply.",
    )


    def _mark(self, params: Mapping[str, Any]) -> str:
        mark = get_str(self.id, params, "mark")
        if mark not in MARKS:
            raise ValueError(f"{self.id}: param 'mark' must be one of {tuple(MARKS)} (got {mark!r})")
        return mark

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return not any(ch in response for ch in MARKS[self._mark(params)])

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if word_count(response) < _MIN_MARK_WORDS:
            return None
        absent = [m for m, chars in MARKS.items() if not any(ch in response for ch in chars)]
        return {"mark": rng.choice(absent)} if absent else None

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        mark = self._mark(params)
        return {"mark": f'"{mark}"', "name": _MARK_NAMES[mark]}


_LEAD = re.compile(r"^[\s*_#>]+")
_EMPHASIS = re.compile(r"[*_]+")
_QUOTES = (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'))
_NOT_PROSE_START = re.compile(r"^\s*(?:```|~~~|\||[-*+•]\s|\d+[.)]\s)")
_CLAUSE_END = re.compile(r"[,.!?:;]$")
_MARKUP_START = "#*_>[<!"
_MIN_START_WORDS = 20
_MAX_PHRASE_WORDS = 8


def _normalize_start(s: str) -> str:
    """Lower-cased text with leading markup, emphasis markers and odd spacing taken out."""
    s = _LEAD.sub("", text.replaced(s, _QUOTES))
    return " ".join(_EMPHASIS.sub("", s).split()).casefold()


@register
class StartPhrase(ConstraintType):
    """The response starts with ``phrase`` (case-insensitive; leading whitespace, ``#``/``>`` markers
    and ``*``/``_`` emphasis ignored; the phrase must end at a word boundary)."""

    id = "startend:start_phrase"
    phrasings = (
        'Begin your response with the words "{phrase}".',
        'Make sure your answer opens with "{phrase}".',
        'Your reply should start with the phrase "{phrase}".',
        'Start off with "{phrase}" and continue from there.',
        'Open the answer with exactly these words: "{phrase}".',
        'Let the first words of your response be "{phrase}".',
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        phrase = _normalize_start(get_str(self.id, params, "phrase"))
        if not phrase:
            return False
        head = _normalize_start(response.lstrip()[: 4 * len(phrase) + 64])
        if not head.startswith(phrase):
            return False
        rest = head[len(phrase) : len(phrase) + 1]
        return not (rest and rest.isalnum() and phrase[-1].isalnum())

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if word_count(response) < _MIN_START_WORDS or _NOT_PROSE_START.match(response):
            return None
        if response.lstrip()[:1] in _MARKUP_START:
            return None  # "# Image to ASCII" does not start with the words "Image to ASCII" to a reader
        first = _LEAD.sub("", response.lstrip()).split("\n", 1)[0]
        tokens = _EMPHASIS.sub("", text.replaced(first, _QUOTES)).split()
        if len(tokens) < 2:
            return None
        top = min(len(tokens), _MAX_PHRASE_WORDS)
        clause_ends = [k for k in range(2, top + 1) if _CLAUSE_END.search(tokens[k - 1])]
        # Otherwise cut after a content word: "Growing plants from seeds" rather than "... seeds is a".
        stop = stopwords()
        content_ends = [k for k in range(min(3, top), top + 1) if tokens[k - 1].lower() not in stop]
        if clause_ends and (rng.random() < 0.7 or not content_ends):
            k = rng.choice(clause_ends)
        elif content_ends:
            k = rng.choice(content_ends)
        else:
            return None
        phrase = " ".join(tokens[:k]).rstrip(",;:-\u2014")
        if phrase.count('"') % 2 or phrase.count("(") != phrase.count(")"):
            return None  # a quotation or a bracket cut open halfway
        if text.count_words(phrase) < 2 or not self.check(response, {"phrase": phrase}):
            return None
        return {"phrase": phrase}
