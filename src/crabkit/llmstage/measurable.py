"""Measurable claims in soft constraints: the statements a registry checker can decide.

Soft constraints are free text, but many state something measurable: "use a numbered list", "about
300 words", "answer in Spanish", "start with 'Dear'", "three paragraphs". :func:`measurables` maps such
statements (regexes over the constraint text, negation-aware) to registry types + params, or to a few
structural counts, and :func:`check_measurable` runs them on the response: a constraint the checker
contradicts is dropped without asking the judge (and costs no request).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crabkit import text as _text

__all__ = ["Measurable", "check_measurable", "measurables"]

log = logging.getLogger(__name__)


def _paragraph_count(response: str) -> int:
    return sum(1 for p in _text.paragraphs_blank(response) if p.strip())


def _compare(found: int, relation: str, n: int) -> bool:
    return {"exactly": found == n, "at least": found >= n, "at most": found <= n}[relation]


def _numbered(response: str) -> int:
    from crabkit.constraints.structure import layout

    return len(layout(response).numbered)


# Counts the registry has no type for (or only in an exact-count form).
_LOCAL: dict[str, Callable[[str, Mapping[str, Any]], bool]] = {
    "paragraphs": lambda r, p: _compare(_paragraph_count(r), p["relation"], p["n"]),
    "numbered_items": lambda r, p: _compare(_numbered(r), p["relation"], p["n"]),
    "bullet_items": lambda r, p: _compare(len(_text.bullets(r)), p["relation"], p["n"]),
}


@dataclass(frozen=True)
class Measurable:
    """One checkable claim of a soft constraint: a registry type (or a local count) with params.
    ``negate``: the constraint forbids it ("do not use a table")."""

    label: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    negate: bool = False

    def holds(self, response: str) -> bool:
        try:
            if self.type in _LOCAL:
                ok = _LOCAL[self.type](response, self.params)
            else:
                from crabkit.constraints import get

                ok = bool(get(self.type).check(response, self.params))
        except Exception:  # a checker failure is a disagreement, never a pass
            log.exception("measurable check %s %r raised", self.type, self.params)
            return False
        return ok != self.negate


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "a single": 1, "single": 1,
}
_N = r"(\d{1,5}(?:,\d{3})?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_NEG = re.compile(r"\b(?:no|not|never|avoid\w*|without|don't|do not|refrain\w*|rather than|instead of|nor|free of)\b")
_CLAUSE_END = re.compile(r"[.;!?]\s|:\s|,\s*(?:and|but)\s|\bbut\b")

_ABOUT = ("about", "around", "approximately", "roughly", "close to", "nearly", "some", "circa", "approx.")
_AT_LEAST = ("at least", "no fewer than", "no less than", "a minimum of", "minimum of", "minimum")
_MORE_THAN = ("more than", "over")
_AT_MOST = ("at most", "no more than", "a maximum of", "maximum of", "maximum", "up to", "within", "not exceeding",
            "do not exceed", "don't exceed", "not exceed", "not to exceed", "no longer than")
_LESS_THAN = ("fewer than", "less than", "under", "below", "shorter than")
_EXACTLY = ("exactly", "precisely", "just")
_RELATION = "|".join(re.escape(w) for w in sorted(_ABOUT + _AT_LEAST + _MORE_THAN + _AT_MOST + _LESS_THAN
                                                   + _EXACTLY, key=len, reverse=True))


def _num(s: str) -> int:
    s = s.lower().replace(",", "")
    return int(s) if s.isdigit() else _NUMBER_WORDS[s]


def _bounds(qualifier: str | None, n: int) -> tuple[str, int] | None:
    """(relation, n) with relation exactly / at least / at most / about; None for unknown."""
    q = (qualifier or "").lower().strip()
    if not q or q in _EXACTLY:
        return "exactly", n
    if q in _ABOUT:
        return "about", n
    if q in _AT_LEAST:
        return "at least", n
    if q in _MORE_THAN:
        return "at least", n + 1
    if q in _AT_MOST:
        return "at most", n
    if q in _LESS_THAN:
        return "at most", n - 1
    return None


def _negated(text: str, start: int) -> bool:
    """Whether a negation word comes earlier in the clause that holds position ``start``."""
    clause = _CLAUSE_END.split(text[:start])[-1]
    return bool(_NEG.search(clause))


_LANGUAGES: dict[str, str] = {
    "english": "en", "spanish": "es", "french": "fr", "german": "de", "italian": "it", "portuguese": "pt",
    "dutch": "nl", "russian": "ru", "japanese": "ja", "korean": "ko", "arabic": "ar", "hindi": "hi",
    "turkish": "tr", "polish": "pl", "swedish": "sv", "danish": "da", "finnish": "fi", "greek": "el",
    "czech": "cs", "ukrainian": "uk", "vietnamese": "vi", "indonesian": "id", "thai": "th", "hebrew": "he",
    "persian": "fa", "romanian": "ro", "hungarian": "hu", "bengali": "bn", "swahili": "sw",
}
_QUOTE = r"(?:\"([^\"\n]{2,80})\"|\u201c([^\u201d\n]{2,80})\u201d|(?<!\w)'([^'\n]{2,80})'(?!\w))"

_WORDS = re.compile(rf"(?:\b({_RELATION})\s+)?{_N}(?:\s*(?:-|to|and)\s*{_N})?[\s-]+words?\b", re.IGNORECASE)
_BETWEEN = re.compile(rf"\bbetween\s+{_N}\s+and\s+{_N}\s+words\b", re.IGNORECASE)
_PER_UNIT = re.compile(r"^\s*(?:per|in each|each|for each|in every|in any)\b|^\s*(?:long\s+)?(?:per|each)\b", re.IGNORECASE)
# Plural only: "one sentence" / "a paragraph" are mostly about a part of the answer.
_SENTENCES = re.compile(rf"(?:\b({_RELATION})\s+)?{_N}\s+(?:\w+\s+)?sentences\b", re.IGNORECASE)
_PARAGRAPHS = re.compile(rf"(?:\b({_RELATION})\s+)?{_N}\s+(?:\w+\s+)?paragraphs\b", re.IGNORECASE)
_ONE_PARAGRAPH = re.compile(r"\b(?:in|as|within)\s+(?:a\s+single|one|just\s+one)\s+paragraph\b", re.IGNORECASE)
# "the first two paragraphs", "the last three items": a part, not the whole answer
_PART = re.compile(r"\b(?:first|last|next|final|opening|closing|other|remaining|of\s+the)\s+$", re.IGNORECASE)
_NUMBERED = re.compile(
    rf"(?:\b({_RELATION})\s+)?(?:{_N}\s+)?numbered\s+(?:list|points?|items?|steps?|entries)"
    rf"(?:\s+(?:of|with|containing)\s+(?:({_RELATION})\s+)?{_N}\s+(?:items?|points?|steps?|entries))?",
    re.IGNORECASE,
)
_BULLETS = re.compile(
    rf"(?:\b({_RELATION})\s+)?(?:{_N}\s+)?bullet(?:ed)?(?:[\s-]+(?:points?|list|items?))?|\bbullets\b", re.IGNORECASE
)
_TABLE = re.compile(r"\btables?\b(?!\s+of\s+contents)", re.IGNORECASE)
_CODE = re.compile(r"\b(?:fenced\s+)?code\s+blocks?\b", re.IGNORECASE)
_JSON = re.compile(r"\bJSON\b", re.IGNORECASE)
_HEADINGS = re.compile(rf"(?:\b({_RELATION})\s+)?(?:{_N}\s+)?(?:markdown\s+|section\s+)?head(?:ing|er)s?\b", re.IGNORECASE)
_BOLD = re.compile(r"\bbold(?:face|ed)?\b|\bhighlight(?:ed|s)?\b(?=[^.]*\b(?:markdown|asterisks?|bold)\b)", re.IGNORECASE)
_LOWER = re.compile(r"\b(?:all|entirely|only)\s+(?:in\s+)?lower[\s-]?case\b|\bno\s+capital\s+letters\b", re.IGNORECASE)
_UPPER = re.compile(r"\b(?:all|entirely|only)\s+(?:in\s+)?(?:capital\s+letters|caps|upper[\s-]?case)\b|\ball[\s-]caps\b",
                    re.IGNORECASE)
_NO_COMMA = re.compile(r"\b(?:no|without|avoid(?:ing)?|not\s+use|don't\s+use|never\s+use|refrain\s+from\s+using)"
                       r"\s+(?:using\s+)?(?:any\s+)?commas?\b", re.IGNORECASE)
_LANGUAGE = re.compile(r"\b(?:in|into|using)\s+(" + "|".join(_LANGUAGES) + r")\b(?!\s+(?:words?|terms?|names?))"
                       r"|\b(" + "|".join(_LANGUAGES) + r")\s+language\b", re.IGNORECASE)
_START = re.compile(rf"\b(?:start|begin|open)(?:s|ing)?\b[^.;!?\"\u201c]{{0,60}}?\b(?:with|by)\b[^.;!?\"\u201c]{{0,30}}?{_QUOTE}",
                    re.IGNORECASE)
_END = re.compile(rf"\b(?:end|finish|conclude|close)(?:s|ing)?\b[^.;!?\"\u201c]{{0,60}}?\b(?:with|by)\b[^.;!?\"\u201c]{{0,30}}?"
                  rf"{_QUOTE}", re.IGNORECASE)


def _count_claims(m: re.Match, rel_group: int, n_group: int, text: str = "") -> tuple[str, int] | None:
    if m.group(n_group) is None:
        return None
    return _bounds(m.group(rel_group), _num(m.group(n_group)))


def _word_claims(text: str) -> list[Measurable]:
    out = []
    spans: list[tuple[int, int]] = []
    for m in _BETWEEN.finditer(text):
        if not _negated(text, m.start()):
            lo, hi = sorted((_num(m.group(1)), _num(m.group(2))))
            out.append(Measurable("word count", "length_constraints:word_range", {"min_words": lo, "max_words": hi}))
        spans.append(m.span())
    for m in _WORDS.finditer(text):
        if any(a <= m.start() < b for a, b in spans) or _negated(text, m.start()):
            continue
        after, before = text[m.end():], text[: m.start()]
        per_sentence = bool(_PER_UNIT.match(after)) or re.search(r"\b(?:each|every|per)\s+sentence\b[^.]*$", before, re.IGNORECASE)
        rel = m.group(1)
        lo_n, hi_n = _num(m.group(2)), (_num(m.group(3)) if m.group(3) else None)
        if per_sentence:
            per = re.match(r"\s*(?:per|in each|each|for each|in every|in any)\s+(\w+)", after, re.IGNORECASE)
            unit = per.group(1).lower() if per else ("sentence" if re.search(r"sentence", before, re.IGNORECASE) else "")
            b = _bounds(rel, lo_n)
            if unit.startswith("sentence") and b and b[0] == "at most":
                out.append(Measurable("words per sentence", "length_constraints:max_words_per_sentence",
                                      {"max_words": b[1]}))
            continue
        if hi_n is not None:
            lo, hi = sorted((lo_n, hi_n))
            out.append(Measurable("word count", "length_constraints:word_range", {"min_words": lo, "max_words": hi}))
            continue
        b = _bounds(rel, lo_n)
        if b is None or b[1] <= 0:
            continue
        relation, n = b
        if relation in ("about", "exactly"):  # nobody counts to an exact word total: read it as "about"
            out.append(Measurable("word count", "length_constraints:word_around", {"num_words": n}))
        elif relation == "at least":
            out.append(Measurable("word count", "length_constraints:word_range", {"min_words": n}))
        else:
            out.append(Measurable("word count", "length_constraints:word_range", {"max_words": n}))
    return out


def _sentence_claims(text: str) -> list[Measurable]:
    out = []
    for m in _SENTENCES.finditer(text):
        after = text[m.end():]
        if _negated(text, m.start()) or _PER_UNIT.match(after) or re.match(r"\s*(?:long|in length)", after):
            continue
        if _PART.search(text[: m.start()]):
            continue
        b = _count_claims(m, 1, 2, text)
        if b is None or b[0] == "about":
            continue
        relation, n = b
        if relation in ("exactly", "at least"):
            out.append(Measurable("sentence count", "length_constraints:number_sentences",
                                  {"relation": "at least", "num_sentences": n}))
        if relation in ("exactly", "at most"):
            out.append(Measurable("sentence count", "length_constraints:number_sentences",
                                  {"relation": "less than", "num_sentences": n + 1}))
    return out


def _paragraph_claims(text: str) -> list[Measurable]:
    out = []
    m1 = _ONE_PARAGRAPH.search(text)
    if m1 and not _negated(text, m1.start()):
        out.append(Measurable("paragraph count", "paragraphs", {"relation": "exactly", "n": 1}))
    for m in _PARAGRAPHS.finditer(text):
        if _negated(text, m.start()) or _PER_UNIT.match(text[m.end():]) or _PART.search(text[: m.start()]):
            continue
        b = _count_claims(m, 1, 2, text)
        if b is None or b[0] == "about":
            continue
        out.append(Measurable("paragraph count", "paragraphs", {"relation": b[0], "n": b[1]}))
    return out


def _list_claims(text: str) -> list[Measurable]:
    out = []
    for m in _NUMBERED.finditer(text):
        if _PART.search(text[: m.start()]):
            continue
        negated = _negated(text, m.start())
        count = _count_claims(m, 1, 2, text) or _count_claims(m, 3, 4, text)
        if negated:
            out.append(Measurable("numbered list", "numbered_items", {"relation": "at least", "n": 1}, negate=True))
        elif count and count[0] == "exactly":
            out.append(Measurable("numbered list", "detectable_format:numbered_list", {"num_items": count[1]}))
        elif count and count[0] in ("at least", "at most"):
            out.append(Measurable("numbered list", "numbered_items", {"relation": count[0], "n": count[1]}))
        else:
            out.append(Measurable("numbered list", "numbered_items", {"relation": "at least", "n": 1}))
    for m in _BULLETS.finditer(text):
        if _PART.search(text[: m.start()]):
            continue
        negated = _negated(text, m.start())
        count = _count_claims(m, 1, 2, text)
        if negated:
            out.append(Measurable("bullet list", "bullet_items", {"relation": "at least", "n": 1}, negate=True))
        elif count and count[0] == "exactly":
            out.append(Measurable("bullet list", "detectable_format:number_bullet_lists", {"num_bullets": count[1]}))
        elif count and count[0] in ("at least", "at most"):
            out.append(Measurable("bullet list", "bullet_items", {"relation": count[0], "n": count[1]}))
        else:
            out.append(Measurable("bullet list", "bullet_items", {"relation": "at least", "n": 1}))
    return out


def _presence(text: str, pattern: re.Pattern, label: str, type_id: str, params: dict[str, Any]) -> list[Measurable]:
    m = pattern.search(text)
    if not m:
        return []
    return [Measurable(label, type_id, params, negate=_negated(text, m.start()))]


def _format_claims(text: str) -> list[Measurable]:
    out = _presence(text, _TABLE, "table", "detectable_format:table", {})
    out += _presence(text, _CODE, "code block", "detectable_format:code_block", {})
    out += _presence(text, _BOLD, "bold", "detectable_format:number_highlighted_sections", {"num_highlights": 1})
    m = _JSON.search(text)
    if m and not _negated(text, m.start()):
        out.append(Measurable("json", "detectable_format:json_format", {}))
    m = _HEADINGS.search(text)
    if m:
        count = _count_claims(m, 1, 2, text)
        if _negated(text, m.start()):
            out.append(Measurable("headings", "detectable_format:heading_count",
                                  {"relation": "at least", "num_headings": 1}, negate=True))
        elif count and count[0] in ("exactly", "at least"):
            out.append(Measurable("headings", "detectable_format:heading_count",
                                  {"relation": count[0], "num_headings": count[1]}))
        else:
            out.append(Measurable("headings", "detectable_format:heading_count",
                                  {"relation": "at least", "num_headings": 1}))
    if _LOWER.search(text):
        out.append(Measurable("lowercase", "change_case:english_lowercase", {}))
    if _UPPER.search(text):
        out.append(Measurable("uppercase", "change_case:english_capital", {}))
    if _NO_COMMA.search(text):
        out.append(Measurable("no commas", "punctuation:no_comma", {}))
    return out


def _phrase_claims(text: str) -> list[Measurable]:
    out = []
    m = _LANGUAGE.search(text)
    if m and not _negated(text, m.start()):
        name = (m.group(1) or m.group(2)).lower()
        out.append(Measurable("language", "language:response_language", {"language": _LANGUAGES[name]}))
    for pattern, label, type_id, key in (
        (_START, "start phrase", "startend:start_phrase", "phrase"),
        (_END, "end phrase", "startend:end_checker", "end_phrase"),
    ):
        m = pattern.search(text)
        if m and not _negated(text, m.start()):
            phrase = next(g for g in m.groups() if g).strip()
            if phrase:
                out.append(Measurable(label, type_id, {key: phrase}))
    return out


def measurables(constraint: str) -> list[Measurable]:
    """Every checkable claim in a soft constraint's text (empty when it states nothing measurable).

    >>> [(m.type, m.params) for m in measurables("Answer in Spanish in about 300 words.")]
    [('length_constraints:word_around', {'num_words': 300}), ('language:response_language', {'language': 'es'})]
    """
    folded = constraint.casefold()
    # Each family's patterns cannot match without one of its words (the words are in every branch of
    # the patterns, which match case-insensitively): a text without them skips the family. Same
    # result, a fraction of the time, since most soft constraints measure nothing.
    return [
        m
        for family, needles in _FAMILIES
        if any(n in folded for n in needles)
        for m in family(constraint)
    ]


_FAMILIES = (
    (_word_claims, ("word",)),
    (_sentence_claims, ("sentences",)),
    (_paragraph_claims, ("paragraph",)),
    (_list_claims, ("numbered", "bullet")),
    (_format_claims, ("table", "code", "json", "head", "bold", "highlight", "lower", "capital", "caps", "upper",
                      "comma")),
    (_phrase_claims, ("in", "using", "start", "begin", "open", "end", "finish", "conclude", "close")),
)


def check_measurable(constraint: str, response: str) -> bool | None:
    """True when every measurable claim of ``constraint`` holds on ``response``, False when one
    does not, None when the constraint states nothing measurable."""
    found = measurables(constraint)
    if not found:
        return None
    return all(m.holds(response) for m in found)
