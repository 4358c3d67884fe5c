"""FollowBench's rule-scored items, with the same verdicts as its ``rule_based_evaluation.py``.

FollowBench scores three kinds of item by code instead of an LLM judge:

* every item of the **example** category: the response must match the item's answer template
  (``target`` without its ``{instruction}`` line) in full, where ``{answer}`` stands for any text on
  one line (:func:`matches_example_template`);
* items whose ``source`` is in :data:`RULE_SOURCES`, in any other category: an exact or
  last-match answer check (E2E, CONLL2003, BBH, GSM8K...) or, for the five summarisation sources
  of the mixed category, one check per added constraint;
* the **format** category's example ids 22 and 30: one check per added constraint.

Upstream quirks are kept on purpose so scores stay comparable: sentences are split on ``.!?`` (so
a numbered ``1.`` marker is a one-word sentence), words on single spaces where upstream does, the
format-22 level-5 check wants four paragraphs, and the format-30 checks run in their code's order,
which is not the order its instructions add the constraints.

Responses are scored verbatim: upstream strips nothing, and several checks compare whole strings.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable

__all__ = [
    "FORMAT_RULE_IDS",
    "RULE_SOURCES",
    "RuleDataError",
    "matches_example_template",
    "rule_checks",
    "uses_rules",
]

# Sources FollowBench routes to rule checks in every category file it scores with the judge.
RULE_SOURCES = frozenset({
    "E2E", "WIKIEVENTS", "CONLL2003", "text_editing", "cnn_dailymail", "xsum", "samsum", "gigaword",
    "arxiv", "BBH_logical", "BBH_time", "self_made_space", "gsm_8k",
})
# Example ids of the format category that FollowBench checks by rule instead of the judge.
FORMAT_RULE_IDS = frozenset({22, 30})


class RuleDataError(ValueError):
    """A rule item that cannot be checked (bad target, unknown source)."""


def uses_rules(category: str, source: str, example_id: int) -> bool:
    """True when FollowBench scores this item by code rather than by the LLM judge."""
    if category == "example":
        return True
    if source in RULE_SOURCES:
        return True
    return category == "format" and example_id in FORMAT_RULE_IDS


# --- text helpers, each matching the upstream helper of the same purpose ---------------------------

def _sentences(text: str) -> list[str]:
    # Upstream splits on the three marks only and keeps whitespace-only pieces.
    return [s for s in re.split(r"[.!?]", text) if s]


def _has_word(text: str, word: str) -> bool:
    return re.search(r"\b" + re.escape(word) + r"\b", text) is not None


def _nth_sentence_has_word(text: str, n: int, word: str) -> bool:
    sents = _sentences(text)
    return len(sents) >= n and _has_word(sents[n - 1], word)


def _present_perfect(text: str) -> bool:
    return re.search(r"\b(has|have)\s+\w+", text) is not None


def _present_continuous(text: str) -> bool:
    return re.search(r"\b(am|is|are)\s+\w+ing\b", text) is not None


def _space_words(text: str) -> int:
    # Upstream counts ``text.split(' ')``: runs of spaces and newlines count differently from split().
    return len(text.split(" "))


def _all_sentences_shorter(text: str, n: int) -> bool:
    return all(len(s.split()) < n for s in _sentences(text))


def _all_sentences_longer(text: str, n: int) -> bool:
    return all(len(s.split()) > n for s in _sentences(text))


def _paragraphs_numbered(text: str) -> bool:
    return all(re.match(r"\d+\.", p.lstrip()) for p in text.split("\n\n") if p.lstrip())


def _punctuation_count(text: str) -> int:
    return sum(ch in string.punctuation for ch in text)


def _last_match_equals(pattern: str, text: str, target: str) -> bool:
    found = re.findall(pattern, text)
    return bool(found) and found[-1] == target


# --- answer checks: one verdict for the whole item, whatever its level -----------------------------

def _wikievents(response: str, target: str) -> bool:
    allowed = target.split("\n")
    return all(line in allowed for line in response.split("\n"))


def _conll2003(response: str, target: str) -> bool:
    try:
        entities = ast.literal_eval(target)
    except (ValueError, SyntaxError) as exc:
        raise RuleDataError(f"CONLL2003 target is not a Python list literal: {target[:60]!r}") from exc
    return response in entities


_ANSWER_CHECKS: dict[str, Callable[[str, str], bool]] = {
    "E2E": lambda r, t: r == t,
    "text_editing": lambda r, t: r == t,
    "WIKIEVENTS": _wikievents,
    "CONLL2003": _conll2003,
    "BBH_logical": lambda r, t: _last_match_equals(r"\([A-Z]\)", r, t),
    "BBH_time": lambda r, t: _last_match_equals(r"\d{2}/\d{2}/\d{4}", r, t),
    "self_made_space": lambda r, t: t in r,
    "gsm_8k": lambda r, t: _last_match_equals(r"\$\d+", r, t),
}

# --- per-constraint checks: the check for level k is the k-th added constraint ---------------------

_Check = Callable[[str], bool]

_CONSTRAINT_CHECKS: dict[str, list[_Check]] = {
    "cnn_dailymail": [
        lambda r: len(_sentences(r)) == 3,
        lambda r: _all_sentences_shorter(r, 15),
        lambda r: (_nth_sentence_has_word(r, 1, "Potter") and _nth_sentence_has_word(r, 2, "actor")
                   and _nth_sentence_has_word(r, 3, "films")),
        lambda r: not _nth_sentence_has_word(r, 2, "lavish"),
        lambda r: len(_sentences(r)) >= 3 and _present_perfect(_sentences(r)[2]),
    ],
    "xsum": [
        lambda r: len(_sentences(r)) == 1,
        lambda r: _space_words(r) < 20,
        lambda r: not _has_word(r, "Newton Stewart"),
        _present_continuous,
        lambda r: _has_word(r, "operation"),
    ],
    "samsum": [
        lambda r: len(_sentences(r)) == 1,
        lambda r: _space_words(r) < 15,
        lambda r: _has_word(r, "stuff"),
        lambda r: re.search("procrast", r, re.IGNORECASE) is None,
        lambda r: _punctuation_count(r) == 1,
    ],
    "gigaword": [
        lambda r: _space_words(r) == 8,
        lambda r: _punctuation_count(r) == 0,
        str.islower,
        lambda r: not _has_word(r, "bus"),
        lambda r: _has_word(r, "in"),
    ],
    "arxiv": [
        lambda r: len(_sentences(r)) == 1,
        lambda r: _space_words(r) <= 20,
        lambda r: r[:2] == "We",
        lambda r: _has_word(r, "activations"),
        lambda r: not _has_word(r, "transformer"),
    ],
}


def _format22(response: str, level: int) -> list[bool]:
    paras = response.split("\n\n")
    # Level 5 adds a closing sentence, which upstream expects as a fourth paragraph.
    wanted = 4 if level == 5 else 3
    count_ok = len(paras) == wanted
    checks = [
        count_ok,
        # Upstream only looks at the first three paragraphs, and only once the count is right.
        count_ok and all(len(_sentences(p)) < 3 for p in paras[:3]),
        _all_sentences_longer(response, 20),
        _paragraphs_numbered(response),
        response[-len("Those are suggestions"):] == "Those are suggestions",
    ]
    return checks[:level]


def _format30(response: str, level: int) -> list[bool]:
    sentences = re.split(r"(?<!\w\.\w.)(?<![A-Z][a-z]\.)(?<=\.|\?)\s", response)
    numbered = [s for s in sentences if any(f"{n}." in s for n in range(1, 6))]
    checks = [
        "**" in response,
        len(re.findall(r"\*\*[\d].+?:", response)) == 5,
        all(len(s.split(".")) < 3 for s in numbered),
        all(10 <= len(s.split()) <= 15 for s in sentences),
        all(not w.endswith("-ly") for s in sentences for w in s.split()),
    ]
    return checks[:level]


def matches_example_template(response: str, target: str) -> bool:
    """Does ``response`` match an example-category ``target`` as FollowBench's ``check_match`` does?

    The ``{instruction}`` line is dropped, doubled braces become single ones, and ``{answer}`` matches
    any run of characters except newlines; everything else must match literally, over the whole
    response.
    """
    template = target.replace("{instruction}\n", "").replace("{{", "{").replace("}}", "}")
    pattern = ".*".join(re.escape(part) for part in template.split("{answer}"))
    return re.fullmatch(pattern, response) is not None


def rule_checks(category: str, source: str, example_id: int, level: int, target: str, response: str) -> list[bool]:
    """Per-constraint verdicts (``level`` booleans) of a rule item; the item passes when all are true.

    Sources checked per constraint give one boolean per added constraint. The others (answer
    matching, the example category) give one verdict for the whole response, repeated ``level``
    times: FollowBench scores those items all-or-nothing.
    """
    if not 1 <= level <= 5:
        raise RuleDataError(f"{category} example {example_id}: level {level} has no constraints to check")
    if category == "example":
        return [matches_example_template(response, target)] * level
    if source in _CONSTRAINT_CHECKS:
        return [check(response) for check in _CONSTRAINT_CHECKS[source][:level]]
    if source in _ANSWER_CHECKS:
        return [_ANSWER_CHECKS[source](response, target)] * level
    if category == "format" and example_id == 22:
        return _format22(response, level)
    if category == "format" and example_id == 30:
        return _format30(response, level)
    raise RuleDataError(f"{category} example {example_id} (source {source!r}) is not a rule-scored item")
