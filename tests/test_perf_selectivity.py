"""Where inference became more selective for speed, it skips only what is rarely worth asking, and
still never proposes what the check rejects."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from conftest import shared_path
from crabkit.backtranslate.rules import backtranslate_rules
from crabkit.constraints import all_types, get
from crabkit.constraints import language as language_module
from crabkit.constraints.language import SAME_LANGUAGE_SHARE, reads_as_english
from crabkit.records import Seed

ENGLISH = (
    "Bees dance to show the other bees where the flowers are, and the angle of the dance points to "
    "the food. It is one of the best known ways that insects share what they find with the hive."
)
SPANISH = (
    "Las abejas bailan para mostrar a las otras abejas dónde están las flores, y el ángulo del baile "
    "señala la comida. Es una de las formas más conocidas en que los insectos comparten lo que encuentran."
)


# Terse, bold-heavy English (few of the very commonest words) and an English preamble to a translation.
MARKDOWN_ENGLISH = (
    "**Quick plan for a weekend garden refresh:**\n\n- **Prune** dead stems from roses and shrubs\n"
    "- **Feed** beds with compost from your own heap\n- **Water** early, not at noon\n"
    "- **Mulch** paths by Sunday so weeds have no light\n- **Plant** herbs which like sun: basil, thyme\n"
)
PREAMBLE_THEN_HEBREW = (
    "Here is the translation of your note into Hebrew:\n\n"
    "שלום לכולם, הפגישה של מחר תתחיל בשעה תשע בבוקר בחדר הגדול ליד המטבח ואנא הביאו מחשבים"
)


def test_english_is_recognised_without_the_detector():
    assert reads_as_english(ENGLISH)
    assert reads_as_english(MARKDOWN_ENGLISH)
    assert not reads_as_english(SPANISH)
    assert not reads_as_english(PREAMBLE_THEN_HEBREW)  # English markers, but most words in another script
    assert not reads_as_english("Too short to tell.")


def test_english_for_english_is_asked_for_a_share_of_seeds_without_detecting_the_rest(monkeypatch):
    t = get("language:response_language")
    calls = []
    real = language_module.language

    def counting(value):
        calls.append(value)
        return real(value)

    monkeypatch.setattr(language_module, "language", counting)
    found = [t.infer(ENGLISH, random.Random(seed), "Why do bees dance in the hive, and what does it show?")
             for seed in range(400)]  # fmt: skip
    asked = [p for p in found if p is not None]
    assert all(p == {"language": "en"} for p in asked)
    assert abs(len(asked) / len(found) - SAME_LANGUAGE_SHARE) < 0.05
    assert len(calls) == len(asked)  # the detector ran only for the pairs it was asked about


def test_other_languages_and_english_for_another_language_are_always_asked():
    t = get("language:response_language")
    for seed in range(20):
        assert t.infer(SPANISH, random.Random(seed), "Why do bees dance?") == {"language": "es"}
        assert t.infer(
            ENGLISH, random.Random(seed), "¿Por qué bailan las abejas en la colmena y qué muestran?"
        ) == {"language": "en"}


def test_selective_types_still_hold_and_most_types_appear_on_the_shared_pairs():
    path = shared_path("seed_pairs", "pairs_flat.jsonl")
    pairs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    types = list(all_types())
    emitted: Counter[str] = Counter()
    failures = 0
    for p in pairs[::2]:
        result = backtranslate_rules(Seed(instruction=p["instruction"], response=p["response"]), 3, types)
        failures += len(result.verify_failures) + len(result.infer_errors)
        emitted.update(c.type for c in result.constraints)
    assert failures == 0
    assert len(emitted) >= 30, sorted(emitted)
    n = len(pairs[::2])
    # Each selective type still appears on a fair share of real answers.
    assert 0.05 < emitted["language:response_language"] / n < 0.3
    assert emitted["change_case:capital_word_frequency"] / n > 0.3


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
