"""What a composed request must never say: number disagreement, impossible counts, double negatives.

``glitches(text)`` names every such pattern in a constraint's wording. The phrasing tests run it over
every template of every type with the numbers 0, 1 and 2, and ``bench/data_quality.py`` counts it over
a run's prompts; both expect nothing. Quoted text (a keyword, a phrase to repeat) is left out of the
search, since it is the user's words, not ours.
"""

from __future__ import annotations

import re

__all__ = ["GLITCHES", "glitches"]

_COUNTED = (
    r"(?:word|time|sentence|paragraph|bullet|bullet point|item|numbered item|section|heading|header|"
    r"placeholder|character|letter|highlight|passage|part|phrase|entry|point|line|keyword|occurrence|spot)"
)
_ADJECTIVE = r"(?:[\w#-]+ )?"

#: (name, pattern): each is a mistake a person would not make when asking for something.
GLITCHES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("plural after 1", re.compile(rf"(?<![\d.,])\b1 {_ADJECTIVE}{_COUNTED}s\b", re.IGNORECASE)),
    (
        "singular after a number other than 1",
        re.compile(
            rf"(?<![\d.,])\b(?:0|[2-9]|\d{{2,}}) {_ADJECTIVE}{_COUNTED}\b(?!s|-| {_COUNTED})", re.IGNORECASE
        ),
    ),
    ("impossible lower bound", re.compile(r"\b(?:at least|a minimum of) 0\b(?![\d.,])", re.IGNORECASE)),
    (
        "impossible upper bound",
        re.compile(
            r"\b(?:(?:fewer than|less than|under|below) [01]|(?:at most|a maximum of) 0)\b(?![\d.,])",
            re.IGNORECASE,
        ),
    ),
    (
        "double negative",
        re.compile(
            r"\b(?:do not|don't|never|avoid|without)\b[^.;:!?\n]*?\b(?:fewer|less|under|below)\b"
            r"|\b(?:do not|don't) stop (?:before|until)\b",
            re.IGNORECASE,
        ),
    ),
    ("repeated word", re.compile(r"\b(\w{2,}) \1\b", re.IGNORECASE)),
)

_QUOTED = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'|\u201c[^\u201d\n]*\u201d|<<[^>\n]*>>")


def glitches(text: str) -> list[str]:
    """The names of the patterns of ``GLITCHES`` that ``text`` shows (empty when it reads well).

    >>> glitches("Write at least 1 words."), glitches("Do not write fewer than 50 words."), glitches("Use 2 bullets.")
    (['plural after 1'], ['double negative'], [])
    """
    plain = _QUOTED.sub("''", text)
    return [name for name, pattern in GLITCHES if pattern.search(plain)]
