"""The fixed vocabulary of soft (LLM-written) constraint types, and the mapping of names models invent.

Two families, as in the CRAB paper: *global* constraints shape the whole response (style, meaning,
language...), *local* ones shape a part of it (structure, format, opening sentence, lists...). Ids
read ``soft:<family>:<name>``, e.g. ``soft:global:writing_style``.

Models asked for these names still write their own ("Desired_Writing_Style", "Tone_and_Perspective",
"Multi-lingual Constraints"...). :func:`resolve` maps such a name onto the vocabulary through a
synonym table, then a close fuzzy match; anything else is dropped by the caller, never kept as free
text, so every soft constraint in the output has one of the twelve ids below.

>>> resolve("Desired_Writing_Style"), resolve("Multi-lingual Constraints"), resolve("weather")
('writing_style', 'language', None)
>>> type_id("item_listing")
'soft:local:item_listing'
"""

from __future__ import annotations

import difflib
import re
from types import MappingProxyType

__all__ = ["DESCRIPTIONS", "GLOBAL", "LOCAL", "SOFT_TYPES", "family_of", "resolve", "type_id"]

GLOBAL: tuple[str, ...] = (
    "writing_style",
    "semantic_elements",
    "morphological_prohibitions",
    "language",
    "literary_devices",
    "grammatical_structure",
)
LOCAL: tuple[str, ...] = (
    "hierarchical_structure",
    "special_output_format",
    "paragraphs_and_separators",
    "start_end_sentence",
    "key_formatting",
    "item_listing",
)
SOFT_TYPES: tuple[str, ...] = GLOBAL + LOCAL

# One line each, shown to the model in the prompt (our own wording).
DESCRIPTIONS = MappingProxyType(
    {
        "writing_style": "tone, register, audience",
        "semantic_elements": "points or details covered",
        "morphological_prohibitions": "words or content avoided",
        "language": "",
        "literary_devices": "analogies, examples, figures of speech",
        "grammatical_structure": "voice, tense, person, sentence forms",
        "hierarchical_structure": "parts and levels",
        "special_output_format": "markdown, table, code, JSON, letter",
        "paragraphs_and_separators": "",
        "start_end_sentence": "how it opens or closes",
        "key_formatting": "bold, italics, quotes",
        "item_listing": "lists and their items",
    }
)

# Names seen in CRAB-style outputs and in model answers, normalised (see _norm), -> vocabulary name.
_SYNONYMS: dict[str, str] = {
    # global
    "style": "writing_style",
    "desired_writing_style": "writing_style",
    "tone": "writing_style",
    "tone_and_perspective": "writing_style",
    "tone_and_emotional_appeal": "writing_style",
    "word_choice_and_tone": "writing_style",
    "perspective": "writing_style",
    "audience": "writing_style",
    "target_audience": "writing_style",
    "register": "writing_style",
    "formality": "writing_style",
    "objectivity": "writing_style",
    "semantic": "semantic_elements",
    "semantics": "semantic_elements",
    "content": "semantic_elements",
    "theme": "semantic_elements",
    "topic": "semantic_elements",
    "specific_topics_to_cover": "semantic_elements",
    "key_concepts_to_emphasize": "semantic_elements",
    "specificity": "semantic_elements",
    "relevance": "semantic_elements",
    "relevance_and_context": "semantic_elements",
    "contextual": "semantic_elements",
    "contextual_relevance": "semantic_elements",
    "additional_context": "semantic_elements",
    "domain_knowledge": "semantic_elements",
    "focus": "semantic_elements",
    "morphological": "morphological_prohibitions",
    "morphological_prohibition": "morphological_prohibitions",
    "prohibitions": "morphological_prohibitions",
    "prohibited_words": "morphological_prohibitions",
    "forbidden_words": "morphological_prohibitions",
    "avoid": "morphological_prohibitions",
    "exclusions": "morphological_prohibitions",
    "multi_lingual": "language",
    "multilingual": "language",
    "multi_language": "language",
    "response_language": "language",
    "language_choice": "language",
    "literary_device": "literary_devices",
    "rhetorical_devices": "literary_devices",
    "figurative_language": "literary_devices",
    "rhetoric": "literary_devices",
    "grammar": "grammatical_structure",
    "grammatical": "grammatical_structure",
    "sentence_structure": "grammatical_structure",
    "syntax": "grammatical_structure",
    "voice_and_tense": "grammatical_structure",
    # local
    "hierarchical": "hierarchical_structure",
    "hierarchical_instructions": "hierarchical_structure",
    "hierarchy": "hierarchical_structure",
    "structure": "hierarchical_structure",
    "organization": "hierarchical_structure",
    "format_and_structure": "hierarchical_structure",
    "format": "special_output_format",
    "formatting": "special_output_format",
    "output_format": "special_output_format",
    "answer_format": "special_output_format",
    "format_requirements": "special_output_format",
    "specific_formatting_requirements": "special_output_format",
    "special_format": "special_output_format",
    "paragraphs": "paragraphs_and_separators",
    "paragraph": "paragraphs_and_separators",
    "paragraph_structure": "paragraphs_and_separators",
    "separators": "paragraphs_and_separators",
    "specific_sentence": "start_end_sentence",
    "start_sentence": "start_end_sentence",
    "end_sentence": "start_end_sentence",
    "opening_sentence": "start_end_sentence",
    "closing_sentence": "start_end_sentence",
    "start_or_end_sentence": "start_end_sentence",
    "conclusion_requirements": "start_end_sentence",
    "key_term_formatting": "key_formatting",
    "emphasis": "key_formatting",
    "highlighting": "key_formatting",
    "keyword_formatting": "key_formatting",
    "item_listing_details": "item_listing",
    "listing": "item_listing",
    "list": "item_listing",
    "lists": "item_listing",
    "list_format": "item_listing",
    "bullet_points": "item_listing",
    "enumeration": "item_listing",
}

# Suffixes models tack on ("..._constraints", "... requirements") that carry no meaning here.
_SUFFIX = re.compile(r"_(?:constraints?|requirements?|instructions?|rules?|type)$")
_FUZZY_CUTOFF = 0.85


def _norm(name: str) -> str:
    s = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    s = s.removeprefix("soft_").removeprefix("global_").removeprefix("local_")
    return s


def resolve(name: str) -> str | None:
    """The vocabulary name for ``name`` (exact, synonym, or close fuzzy match), or None."""
    if not isinstance(name, str):
        return None
    full = _norm(name)
    for s in (full, _SUFFIX.sub("", full)):
        if s in SOFT_TYPES:
            return s
        if s in _SYNONYMS:
            return _SYNONYMS[s]
    known = list(SOFT_TYPES) + list(_SYNONYMS)
    close = difflib.get_close_matches(_SUFFIX.sub("", full), known, n=1, cutoff=_FUZZY_CUTOFF)
    if not close:
        return None
    return close[0] if close[0] in SOFT_TYPES else _SYNONYMS[close[0]]


def family_of(name: str) -> str:
    """``global`` or ``local`` for a vocabulary name."""
    if name in GLOBAL:
        return "global"
    if name in LOCAL:
        return "local"
    raise ValueError(f"{name!r} is not a soft constraint type; known: {', '.join(SOFT_TYPES)}")


def type_id(name: str) -> str:
    """The constraint id of a vocabulary name: ``soft:<family>:<name>``."""
    return f"soft:{family_of(name)}:{name}"
