"""Default sampling weights per constraint type: spread over the families, fingerprints held down.

A weight is relative: 1.0 is an ordinary request. Composition divides each weight by how often the
type is available in the block (a type most responses show is not asked of most prompts), so the
weights set the mix of the data, not the mix of what responses happen to show. Types a person asks
for rarely, or that single out one answer without being a request (a letter count, the longest
word, the exact first words), weigh less. ``ForwardConfig.weights`` overrides any of these by type
id or by family.
"""

from __future__ import annotations

__all__ = ["DEFAULT_WEIGHTS", "FINGERPRINT_TYPES"]

#: Types that say more about one answer than about what a person would ask for.
FINGERPRINT_TYPES = frozenset(
    {
        "keywords:letter_frequency",
        "length_constraints:max_word_length",
        "length_constraints:number_characters",
        "length_constraints:max_sentences_per_paragraph",
        "length_constraints:min_sentences_per_paragraph",
        "startend:start_phrase",
        "punctuation:no_mark",
    }
)

DEFAULT_WEIGHTS: dict[str, float] = {
    # keywords
    "keywords:existence": 0.7,
    "keywords:include": 0.4,
    "keywords:frequency": 0.6,
    "keywords:forbidden_words": 0.6,
    "keywords:letter_frequency": 0.15,
    # length
    "length_constraints:number_words": 1.2,
    "length_constraints:number_sentences": 1.0,
    "length_constraints:number_paragraphs": 1.0,
    "length_constraints:nth_paragraph_first_word": 0.8,
    "length_constraints:word_range": 0.7,
    "length_constraints:word_around": 0.5,
    "length_constraints:number_characters": 0.3,
    "length_constraints:max_words_per_sentence": 0.5,
    "length_constraints:max_sentences_per_paragraph": 0.3,
    "length_constraints:min_sentences_per_paragraph": 0.3,
    "length_constraints:max_word_length": 0.2,
    # format
    "detectable_format:number_bullet_lists": 1.0,
    "detectable_format:numbered_list": 0.8,
    "detectable_format:heading_count": 0.7,
    "detectable_format:number_highlighted_sections": 0.8,
    "detectable_format:multiple_sections": 1.0,
    "detectable_format:json_format": 1.0,
    "detectable_format:title": 1.0,
    "detectable_format:constrained_response": 1.0,
    "detectable_format:code_block": 0.4,
    "detectable_format:table": 0.7,
    # case
    "change_case:capital_word_frequency": 0.5,
    "change_case:english_lowercase": 1.0,
    "change_case:english_capital": 1.0,
    # start and end
    "startend:end_checker": 1.0,
    "startend:quotation": 1.0,
    "startend:start_phrase": 0.2,
    # combination, content, punctuation, language
    "combination:two_responses": 1.0,
    "combination:repeat_prompt": 1.0,
    "detectable_content:number_placeholders": 1.0,
    "detectable_content:postscript": 1.0,
    "punctuation:no_comma": 1.0,
    "punctuation:no_mark": 0.25,
    "language:response_language": 1.0,
}
