"""Per-text memos: every one is enrolled, and clear_caches forgets them all."""

from __future__ import annotations

from crabkit import _memo
from crabkit.backtranslate.rules import backtranslate_rules
from crabkit.constraints import all_types
from crabkit.constraints._ifeval import clear_caches
from crabkit.records import Seed

RESPONSE = (
    "## Solar panels\n\nSolar panels turn sunlight into power. They cost less every year, and the "
    "PANELS last for decades.\n\n* Cheap to run\n* Quiet\n* Clean\n\nIn short, **solar power** pays "
    "for itself. Solar panels are a sound choice for most homes with a sunny roof."
)


def test_a_back_translation_fills_the_per_text_memos_and_clear_caches_empties_every_one():
    backtranslate_rules(Seed(instruction="Explain solar panels.", response=RESPONSE), 0, list(all_types()))
    used = [fn for fn in _memo._MEMOS if fn.cache_info().currsize]
    assert len(used) >= 10  # layout, words, sentences, bullets, capitals... all enrolled
    clear_caches()
    assert [fn.__name__ for fn in _memo._MEMOS if fn.cache_info().currsize] == []


def test_per_text_is_an_lru_cache_of_the_given_size():
    calls = []

    @_memo.per_text(2)
    def length(s: str) -> int:
        calls.append(s)
        return len(s)

    for s in ("a", "bb", "a", "ccc", "a", "bb"):
        assert length(s) == len(s)
    assert calls == ["a", "bb", "ccc", "bb"]  # "bb" was the least recent when "ccc" came
    _memo.clear_all()
    length("a")
    assert calls[-1] == "a"  # asked again after clear_all
