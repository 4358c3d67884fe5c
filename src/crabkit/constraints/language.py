"""IFEval ``language:response_language``: the whole response is in one given language.

Detection is langdetect, as in the reference, but seeded (see ``crabkit.text.detect_language``) so
the verdict is the same on every run; the reference leaves langdetect unseeded. Text in which
langdetect finds no features at all counts as followed, as in the reference.

``infer`` states the response's language for every pair that is not English-for-English, and for
a share (``SAME_LANGUAGE_SHARE``) of those that are: "answer in English" to an English request
says little (none of IFEval's 31 response_language items asks for the prompt's own language; the
CRAB sample states it for 1 English pair in 18), and detecting it cost more than all other rule
types together. For an English-looking answer (common English words make up a tenth of its words
and words in other scripts or with accents at most a tenth, see ``reads_as_english``) to an
English-looking or absent request, ``rng`` decides before the detector runs.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from typing import Any

from ._ifeval import get_str, language, lower_word_counts, word_count
from .base import ConstraintType
from .registry import register

__all__ = ["LANGUAGE_NAMES", "SAME_LANGUAGE_SHARE", "ResponseLanguage", "reads_as_english"]

#: The languages IFEval asks for (its ISO 639-1 codes) and their English names.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "ar": "Arabic", "hi": "Hindi",
    "fr": "French", "ru": "Russian", "de": "German", "ja": "Japanese", "it": "Italian",
    "bn": "Bengali", "uk": "Ukrainian", "th": "Thai", "ur": "Urdu", "ta": "Tamil", "te": "Telugu",
    "bg": "Bulgarian", "ko": "Korean", "pl": "Polish", "he": "Hebrew", "fa": "Persian",
    "vi": "Vietnamese", "ne": "Nepali", "sw": "Swahili", "kn": "Kannada", "mr": "Marathi",
    "gu": "Gujarati", "pa": "Punjabi", "ml": "Malayalam", "fi": "Finnish",
}  # fmt: skip

# Too little text and langdetect's verdict is a coin toss; below this many words it is not asked.
_MIN_WORDS = 8
# Below this many words the verdict is confirmed with a second seed before it is asked for.
_CONFIRM_BELOW_WORDS = 40
# English function words (a quarter to a third of running English) that seldom occur in other
# languages' text. Markdown-heavy answers (bold runs, terse list items) have fewer of them: with
# only the commonest 18, 115 of 3,163 English texts of the shared data read as not English.
_ENGLISH_MARKERS = frozenset(
    "the and of to that with you for this are is it in your be can or as a an on by from at not have "  # noqa: SIM905
    "has will which their they was were been these those would more when what how".split()
)
_ENGLISH_MARKER_SHARE = 0.10
# At most this share of the words may hold a non-ASCII letter (another script, or accents): an
# English preamble to a Hebrew translation has plenty of English markers.
_FOREIGN_WORD_SHARE = 0.10
#: Share of English-for-English pairs for which "answer in English" is inferred: as often as the
#: CRAB sample states it (1 English pair in 18).
SAME_LANGUAGE_SHARE = 1 / 18


def reads_as_english(value: str) -> bool:
    """A cheap test (no detector): at least ``_MIN_WORDS`` words, a tenth of them common English
    words, and at most a tenth of them holding a non-ASCII letter."""
    counts = lower_word_counts(value)
    total = sum(counts.values())
    if total < _MIN_WORDS:
        return False
    if sum(map(counts.get, _ENGLISH_MARKERS, itertools.repeat(0))) < _ENGLISH_MARKER_SHARE * total:
        return False
    if value.isascii() or "".join(counts).isascii():  # no word holds a non-ASCII letter
        return True
    return sum(n for w, n in counts.items() if not w.isascii()) <= _FOREIGN_WORD_SHARE * total


def _request_is_english(instruction: str) -> bool:
    """Whether the request is English, or too short or absent to say otherwise."""
    if word_count(instruction) < _MIN_WORDS or reads_as_english(instruction):
        return True
    return language(instruction) in ("en", None)


def _stable(response: str, found: str) -> bool:
    """Whether a second langdetect run (another seed) names the same language."""
    from langdetect import LangDetectException

    from crabkit import _langdetect

    try:
        return _langdetect.detect(response, seed=1) == found
    except LangDetectException:
        return False


@register
class ResponseLanguage(ConstraintType):
    """langdetect names ``language`` (an ISO 639-1 code such as ``en``, ``fr``, ``zh-cn``)."""

    id = ifeval_id = "language:response_language"
    phrasings = (
        "Your ENTIRE response should be in {language}; no other language is allowed.",
        "Make sure you answer only in {language}.",
        "Write the whole reply in {language}.",
        "Do not use any language other than {language} in your response.",
        "Keep every sentence of your answer in {language}.",
        "Respond in {language}, and in {language} alone.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        expected = get_str(self.id, params, "language")
        found = language(response)
        return found is None or found == expected

    def likely(self, response: str, params: Mapping[str, Any]) -> bool:
        """An English-looking answer (``reads_as_english``) is taken as English without the detector."""
        if reads_as_english(response):
            return get_str(self.id, params, "language") == "en"
        return self.check(response, params)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        words = word_count(response)
        if words < _MIN_WORDS:
            return None
        english_pair = reads_as_english(response) and _request_is_english(instruction)
        if english_pair and rng.random() >= SAME_LANGUAGE_SHARE:
            return None  # English for English, passed over without running the detector
        found = language(response)
        if found not in LANGUAGE_NAMES:
            return None
        if words < _CONFIRM_BELOW_WORDS and not _stable(response, found):
            return None
        return {"language": found}

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        code = get_str(self.id, params, "language")
        return {"language": LANGUAGE_NAMES.get(code, code)}
