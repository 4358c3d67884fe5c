"""Which constraint types must never share one instruction: contradictory, redundant or confusing pairs.

Data first: a few types exclude almost everything (``_ONLY_WITH``: the ids they tolerate), groups of
types are mutually exclusive (``_GROUPS``), and single pairs are listed in ``_PAIRS``. Where the
params decide (no commas vs a keyword holding a comma), a rule function looks at them: rules only
fire on params they are given, so ``conflicts(a, b)`` without params is the type-level answer.

The same type twice is always a conflict (one constraint of each type per instruction), except for
``soft:`` constraints, which are free text and never in this table.

>>> conflicts("change_case:english_lowercase", "change_case:english_capital")
True
>>> conflicts("punctuation:no_mark", "punctuation:no_comma", {"mark": "?"}, {})
False
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from itertools import combinations
from typing import Any

from .marks import MARKS, contains_keyword

__all__ = ["compatible", "conflicts", "required_texts"]

Params = Mapping[str, Any]

_KEEP_WITH_ANYTHING_TEXTUAL = frozenset(
    {
        "keywords:existence",
        "keywords:include",
        "keywords:frequency",
        "keywords:forbidden_words",
        "keywords:letter_frequency",
    }
)

#: Types that conflict with every type except the ones listed.
_ONLY_WITH: dict[str, frozenset[str]] = {
    # The whole answer is one of three fixed sentences: nothing else can be asked of it.
    "detectable_format:constrained_response": frozenset(),
    # A JSON document has no prose layout, case rules, start/end phrases or length in words; only
    # what its string values say (keywords) and their language can still be asked.
    "detectable_format:json_format": _KEEP_WITH_ANYTHING_TEXTUAL | {"language:response_language"},
    # The answer opens with the request verbatim, which pollutes every whole-response count, case
    # and opening; keywords, a title and banned marks (see the param rule) still make sense.
    "combination:repeat_prompt": frozenset(
        {
            "keywords:existence",
            "keywords:include",
            "keywords:frequency",
            "detectable_format:title",
            "punctuation:no_comma",
            "punctuation:no_mark",
        }
    ),
    # Two answers split by ******: whole-response structure (start, end, paragraphs, lists, length)
    # is ambiguous; what holds for each part holds for both.
    "combination:two_responses": _KEEP_WITH_ANYTHING_TEXTUAL
    | {
        "language:response_language",
        "detectable_format:title",
        "punctuation:no_comma",
        "punctuation:no_mark",
        "change_case:english_lowercase",
        "change_case:english_capital",
        "length_constraints:max_words_per_sentence",
        "length_constraints:max_word_length",
    },
}

#: Groups of types that exclude one another.
_GROUPS: tuple[frozenset[str], ...] = (
    # One statement of overall length per instruction; two would be redundant or contradictory.
    frozenset(
        {
            "length_constraints:number_words",
            "length_constraints:word_range",
            "length_constraints:word_around",
            "length_constraints:number_characters",
            "count:word_count_range",  # IFBench's word range
        }
    ),
    # Paragraphs split by *** vs by blank lines with a fixed count: two answers to "how many paragraphs".
    frozenset({"length_constraints:number_paragraphs", "length_constraints:nth_paragraph_first_word"}),
    # All lowercase vs all capitals; and counting capital words in either is a riddle, not a request.
    frozenset({"change_case:english_lowercase", "change_case:english_capital"}),
    frozenset({"change_case:english_lowercase", "change_case:capital_word_frequency"}),
    frozenset({"change_case:english_capital", "change_case:capital_word_frequency"}),
    # Two ways of asking for the same required words.
    frozenset({"keywords:existence", "keywords:include"}),
    # The response can only open one way: a given phrase, a quotation mark, a <<title>>.
    frozenset({"startend:start_phrase", "startend:quotation"}),
    frozenset({"startend:start_phrase", "detectable_format:title"}),
    # ...and end one way: a given phrase, a closing quotation mark, a postscript.
    frozenset({"startend:end_checker", "startend:quotation", "detectable_content:postscript"}),
)

#: Param names holding text that must appear in the response, per type.
_TEXT_PARAMS: dict[str, str] = {
    "keywords:include": "keywords",
    "keywords:existence": "keywords",
    "keywords:frequency": "keyword",
    "startend:start_phrase": "phrase",
    "startend:end_checker": "end_phrase",
    "detectable_content:postscript": "postscript_marker",
    "detectable_format:multiple_sections": "section_spliter",
    "length_constraints:nth_paragraph_first_word": "first_word",
    "combination:repeat_prompt": "prompt_to_repeat",
    "sentence:keyword": "word",
    "words:words_position": "keyword",
    "words:keywords_specific_position": "keyword",
}

_WORD = re.compile(r"\w+")


def required_texts(type_id: str, params: Params | None) -> list[str]:
    """Text the constraint forces into the response (keywords, start/end phrases...), as far as known."""
    key = _TEXT_PARAMS.get(type_id)
    value = (params or {}).get(key) if key else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _banned_chars(type_id: str, params: Params) -> str:
    if type_id == "punctuation:no_comma":
        return ","
    if type_id == "punctuation:no_mark":
        return MARKS.get(params.get("mark", ""), "")
    return ""


def _forced_text_breaks(a_id: str, a: Params, b_id: str, b: Params) -> bool:
    """``a`` bans something (a mark, a word, long words) that ``b`` requires to appear."""
    texts = required_texts(b_id, b)
    if not texts:
        return False
    banned = _banned_chars(a_id, a)
    if banned and any(ch in t for t in texts for ch in banned):
        return True
    if a_id == "keywords:forbidden_words":
        words = [w for w in a.get("forbidden_words") or () if isinstance(w, str)]
        if any(contains_keyword(t, w) for t in texts for w in words):
            return True
        # "Avoid 'plants'" beside "mention 'plant'" reads as a trap: no shared stem either.
        stems = {w.lower()[:5] for w in words if len(w) >= 4}
        return any(x.lower()[:5] in stems for t in texts for x in _WORD.findall(t) if len(x) >= 4)
    if a_id == "length_constraints:max_word_length" and isinstance(a.get("max_chars"), int):
        return any(len(w) > a["max_chars"] for t in texts for w in _WORD.findall(t))
    return False


def _same_mark(a_id: str, a: Params, b_id: str, b: Params) -> bool:
    # "No commas" twice over, in IFEval's words and ours.
    return a_id == "punctuation:no_comma" and b_id == "punctuation:no_mark" and b.get("mark") == ","


def _case_clash(a_id: str, a: Params, b_id: str, b: Params) -> bool:
    if b_id == "change_case:capital_word_frequency":
        relation = b.get("capital_relation")
        # All lowercase leaves no capital words to count "at least" of; all capitals leaves
        # every word a capital word, so "less than" cannot hold on any real answer.
        return (a_id == "change_case:english_lowercase" and relation == "at least") or (
            a_id == "change_case:english_capital" and relation == "less than"
        )
    if b_id == "language:response_language" and a_id.startswith("change_case:english_"):
        language = b.get("language")
        return isinstance(language, str) and language != "en"
    return False


def _paragraph_bounds(a_id: str, a: Params, b_id: str, b: Params) -> bool:
    if (a_id, b_id) != (
        "length_constraints:min_sentences_per_paragraph",
        "length_constraints:max_sentences_per_paragraph",
    ):
        return False
    lo, hi = a.get("min_sentences"), b.get("max_sentences")
    return isinstance(lo, int) and isinstance(hi, int) and lo > hi


def _first_word_clash(a_id: str, a: Params, b_id: str, b: Params) -> bool:
    # Both fix how the answer starts when the nth paragraph is the first one; they agree or clash.
    if (a_id, b_id) != ("startend:start_phrase", "length_constraints:nth_paragraph_first_word"):
        return False
    if b.get("nth_paragraph") != 1:
        return False
    phrase_words = _WORD.findall(str(a.get("phrase", "")).lower())
    first = str(b.get("first_word", "")).lower()
    return bool(phrase_words and first) and phrase_words[0] != first


def _opening_says_it(a_id: str, a: Params, b_id: str, b: Params) -> bool:
    # "Start with 'Alright, let's...'" already puts 'alright' in sentence 1: asking it again is noise.
    if (a_id, b_id) != ("startend:start_phrase", "sentence:keyword") or b.get("N") != 1:
        return False
    word = str(b.get("word", "")).lower()
    return bool(word) and word in _WORD.findall(str(a.get("phrase", "")).lower())


#: Param-aware rules, each asked in both orders.
_RULES: tuple[Callable[[str, Params, str, Params], bool], ...] = (
    _forced_text_breaks,
    _same_mark,
    _case_clash,
    _paragraph_bounds,
    _first_word_clash,
    _opening_says_it,
)


@functools.lru_cache(maxsize=8192)
def _type_level(a_id: str, b_id: str) -> bool:
    if a_id == b_id:
        return not a_id.startswith("soft:")
    for x, y in ((a_id, b_id), (b_id, a_id)):
        allowed = _ONLY_WITH.get(x)
        if allowed is not None and y not in allowed and not y.startswith("soft:"):
            return True
    return any(a_id in group and b_id in group for group in _GROUPS)


def conflicts(a_id: str, b_id: str, a_params: Params | None = None, b_params: Params | None = None) -> bool:
    """Whether constraints of types ``a_id`` and ``b_id`` (with these params, when given) must not be
    combined in one instruction. Symmetric: swapping the two sides gives the same answer."""
    if _type_level(a_id, b_id):
        return True
    a, b = a_params or {}, b_params or {}
    return any(rule(a_id, a, b_id, b) or rule(b_id, b, a_id, a) for rule in _RULES)


def _id_and_params(item: Any) -> tuple[str, Params]:
    if isinstance(item, str):
        return item, {}
    if isinstance(item, tuple) and len(item) == 2:
        return item[0], item[1] or {}
    if isinstance(item, Mapping):
        return item["type"], item.get("params") or {}
    return item.type, item.params or {}


def compatible(constraints: Iterable[Any]) -> bool:
    """Whether no two of ``constraints`` conflict. Items are ``Constraint`` records (``.type``,
    ``.params``), ``{"type", "params"}`` dicts, ``(id, params)`` pairs or bare ids."""
    items = [_id_and_params(c) for c in constraints]
    return not any(conflicts(a, b, pa, pb) for (a, pa), (b, pb) in combinations(items, 2))
