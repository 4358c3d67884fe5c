"""The one kwargs policy of the IFEval types: what the reference can score is accepted, nothing else.

The reference (``instruction_following_eval``) builds each instruction from its kwargs and, where a
value is missing or out of range, silently draws a random one (a negative ``num_words``, a missing
``relation``, a ``letter`` that is not a letter...), or raises. A random threshold is never what the
caller meant, so here every such value is an ``IFEvalKwargsError`` naming the instruction id and the
field. Values the reference takes as they are stay accepted: whole-number floats (``5.0``) and
booleans (``true`` counts as 1) where it compares numbers, a negative ``capital_frequency`` (which
it compares as given), empty strings where it keeps them. ``None`` values and keys the instruction
does not take (the Hugging Face layout fills every slot, with nulls) are ignored.

Deviations from the reference, all documented in the README: a fractional threshold (``5.5``) and
a bare string where a list of keywords is expected are errors here (the reference compares the
first and splits the second into letters); a ``letter`` that is one character but not an ASCII
letter (the official prompt 1122 asks for ``#``) is counted as given, where the reference swaps
it for a random letter.

Example::

    normalize_kwargs("length_constraints:number_words", {"num_words": 5.0, "relation": "at least",
                                                         "keyword": None})
    # -> {"num_words": 5, "relation": "at least"}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["RELATIONS", "SPECS", "IFEvalKwargsError", "normalize_kwargs"]

#: The reference's two comparison relations.
RELATIONS = ("less than", "at least")


class IFEvalKwargsError(ValueError):
    """IFEval kwargs the reference cannot score, or would replace with a random value."""

    def __init__(self, ifeval_id: str, field: str, problem: str) -> None:
        super().__init__(f"{ifeval_id}: field {field!r} {problem}")
        self.ifeval_id = ifeval_id
        self.field = field


Check = Callable[[Any], Any]  # returns the normalised value, or raises ValueError with the problem


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise ValueError(f"must be a whole number (got {value!r})")


def _count(value: Any) -> int:
    number = _whole(value)
    if number < 0:
        raise ValueError(f"must be 0 or more (got {value!r}; the reference would draw a random one)")
    return number


def _index(value: Any) -> int:
    # The reference indexes a list with it: an int (or a bool), never a float.
    if isinstance(value, float):
        raise ValueError(  # noqa: TRY004 - one error type for kwargs
            f"must be an integer, not a float (got {value!r}; the reference cannot index with it)"
        )
    return _whole(value)


def _relation(value: Any) -> str:
    if value not in RELATIONS or not isinstance(value, str):
        raise ValueError(f"must be one of {RELATIONS} (got {value!r})")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string (got {value!r})")  # noqa: TRY004 - one error type for kwargs
    return value


def _nonempty_text(value: Any) -> str:
    if not _text(value):
        raise ValueError("must not be empty (the reference draws a random one or refuses it)")
    return value


def _text_list(value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a list of strings (got {value!r})")
    if not value:
        raise ValueError("must not be empty (the reference would draw random words)")
    return list(value)


def _letter(value: Any) -> str:
    # One character. A letter is what the reference takes; any other single symbol (the official
    # prompt 1122 asks for "#") it swaps for a random letter, and we count the symbol instead.
    if not isinstance(value, str) or len(value) != 1:
        raise ValueError(f"must be one letter (got {value!r}; the reference would draw a random one)")
    return value


def _language(value: Any) -> str:
    from .language import LANGUAGE_NAMES

    if not isinstance(value, str) or value not in LANGUAGE_NAMES:
        raise ValueError(f"must be one of the reference's language codes {sorted(LANGUAGE_NAMES)} (got {value!r})")
    return value


#: Every field each IFEval instruction takes, with its check; all are required.
SPECS: dict[str, dict[str, Check]] = {
    "keywords:existence": {"keywords": _text_list},
    "keywords:frequency": {"keyword": _nonempty_text, "frequency": _count, "relation": _relation},
    "keywords:forbidden_words": {"forbidden_words": _text_list},
    "keywords:letter_frequency": {"letter": _letter, "let_frequency": _count, "let_relation": _relation},
    "language:response_language": {"language": _language},
    "length_constraints:number_sentences": {"num_sentences": _count, "relation": _relation},
    "length_constraints:number_paragraphs": {"num_paragraphs": _count},
    "length_constraints:number_words": {"num_words": _count, "relation": _relation},
    "length_constraints:nth_paragraph_first_word": {
        "num_paragraphs": _count,
        "nth_paragraph": _index,
        "first_word": _text,
    },
    "detectable_content:number_placeholders": {"num_placeholders": _count},
    "detectable_content:postscript": {"postscript_marker": _text},
    "detectable_format:number_bullet_lists": {"num_bullets": _count},
    "detectable_format:constrained_response": {},
    "detectable_format:number_highlighted_sections": {"num_highlights": _count},
    "detectable_format:multiple_sections": {"section_spliter": _text, "num_sections": _count},
    "detectable_format:json_format": {},
    "detectable_format:title": {},
    "combination:two_responses": {},
    "combination:repeat_prompt": {"prompt_to_repeat": _nonempty_text},
    "startend:end_checker": {"end_phrase": _text},
    "startend:quotation": {},
    "change_case:capital_word_frequency": {"capital_frequency": _whole, "capital_relation": _relation},
    "change_case:english_capital": {},
    "change_case:english_lowercase": {},
    "punctuation:no_comma": {},
}


def normalize_kwargs(ifeval_id: str, kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The params for ``ifeval_id`` from reference ``kwargs``: nulls and other keys dropped, numbers
    made ints; ``IFEvalKwargsError`` for a missing field or a value the policy refuses."""
    spec = SPECS.get(ifeval_id)
    if spec is None:
        return {k: v for k, v in (kwargs or {}).items() if v is not None}
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise IFEvalKwargsError(ifeval_id, "kwargs", f"must be an object (got {kwargs!r})")
    if not spec:
        return {}
    given = kwargs or {}
    params: dict[str, Any] = {}
    for name, check in spec.items():
        value = given.get(name)
        if value is None:
            raise IFEvalKwargsError(ifeval_id, name, "is missing (the reference would draw a random value)")
        try:
            params[name] = check(value)
        except ValueError as exc:
            raise IFEvalKwargsError(ifeval_id, name, str(exc)) from None
    if "nth_paragraph" in params and not 1 <= params["nth_paragraph"] <= params["num_paragraphs"]:
        raise IFEvalKwargsError(
            ifeval_id,
            "nth_paragraph",
            f"must be between 1 and num_paragraphs ({params['num_paragraphs']}) "
            f"(got {params['nth_paragraph']}; the reference would draw a random one)",
        )
    return params
