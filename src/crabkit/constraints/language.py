"""IFEval ``language:response_language``: the whole response is in one given language.

Detection is langdetect, as in the reference, but seeded (see ``crabkit.text.detect_language``) so
the verdict is the same on every run; the reference leaves langdetect unseeded. Text in which
langdetect finds no features at all counts as followed, as in the reference.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from ._ifeval import get_str, language
from .base import ConstraintType
from .registry import register

__all__ = ["LANGUAGE_NAMES", "ResponseLanguage"]

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
_WORD = re.compile(r"\w+")


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

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        words = len(_WORD.findall(response))
        if words < _MIN_WORDS:
            return None
        found = language(response)
        if found not in LANGUAGE_NAMES:
            return None
        if words < _CONFIRM_BELOW_WORDS and not _stable(response, found):
            return None
        return {"language": found}

    def describe_values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        code = get_str(self.id, params, "language")
        return {"language": LANGUAGE_NAMES.get(code, code)}
