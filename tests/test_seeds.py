"""Seed filter: length with a seeded diversity bypass, language, duplicates, limit."""

from __future__ import annotations

import json
import random

import pytest

from crabkit.io import read_records
from crabkit.records import Reject, Seed
from crabkit.seeds import SeedFilter, filter_seeds

ENGLISH = (
    "The committee reviewed the proposal carefully and decided that the new library should open "
    "next spring, after the renovation of the old building is complete and the books have been moved."
)
GERMAN = (
    "Der Ausschuss hat den Vorschlag sorgfältig geprüft und beschlossen, dass die neue Bibliothek im "
    "nächsten Frühjahr eröffnet werden soll, nachdem die Renovierung des alten Gebäudes abgeschlossen ist."
)


def seed(i: int, response: str) -> Seed:
    return Seed(instruction=f"Question {i}?", response=response, origin=f"in.jsonl:{i}")


def words(n: int) -> str:
    return " ".join(["word"] * n)


def run(items, rng_seed: int = 0, **cfg) -> list[Seed | Reject]:
    return list(filter_seeds(items, SeedFilter(**cfg), random.Random(rng_seed)))


def test_short_response_is_rejected_with_its_word_count():
    out = run([seed(1, words(7)), seed(2, words(20))], bypass_rate=0.0)
    reject, kept = out
    assert isinstance(reject, Reject) and kept.origin == "in.jsonl:2"
    assert (reject.origin, reject.field, reject.stage) == ("in.jsonl:1", "response", "filter")
    assert reject.reason == "too short: response has 7 words, fewer than 20"


def test_bypass_lets_about_its_share_of_short_responses_through():
    items = [seed(i, words(5)) for i in range(2000)]
    kept = [x for x in run(items, bypass_rate=0.1) if isinstance(x, Seed)]
    assert 140 <= len(kept) <= 260  # 10% of 2,000, with room for chance
    assert all(isinstance(x, Seed) for x in run(items[:50], bypass_rate=1.0))


def test_bypass_is_reproducible_with_the_same_seed_and_differs_with_another():
    items = [seed(i, words(5)) for i in range(500)]

    def kept(rng_seed):
        return [x.origin for x in run(items, rng_seed=rng_seed) if isinstance(x, Seed)]

    assert kept(1) == kept(1)
    assert kept(1) != kept(2)


def test_long_responses_do_not_shift_the_bypass_choices():
    short = [seed(i, words(5)) for i in range(300)]
    mixed = [x for i, s in enumerate(short) for x in (s, seed(1000 + i, words(30)))]
    kept_alone = [x.origin for x in run(short) if isinstance(x, Seed)]
    kept_mixed = [
        x.origin for x in run(mixed) if isinstance(x, Seed) and x.origin in {s.origin for s in short}
    ]
    assert kept_alone == kept_mixed


def test_language_filter_keeps_listed_languages_only():
    out = run([seed(1, ENGLISH), seed(2, GERMAN), seed(3, "12345 67890 " * 5)], min_words=0, languages=["en"])
    assert isinstance(out[0], Seed)
    assert out[1].reason == "wrong language: response is in 'de', not en"
    assert out[2].reason.startswith("unknown language:")
    assert isinstance(run([seed(2, GERMAN)], min_words=0, languages=["EN", "de"])[0], Seed)


def test_language_is_judged_on_a_bounded_prefix():
    response = ENGLISH * 3 + " " + GERMAN * 40
    assert isinstance(run([seed(1, response)], languages=["en"], language_prefix_chars=500)[0], Seed)
    assert isinstance(run([seed(1, response)], languages=["en"], language_prefix_chars=20_000)[0], Reject)


def test_code_and_math_do_not_decide_the_language():
    code = "```go\nfor i := 1; i < 101; i++ {\n    if i%15 == 0 {\n        fmt.Println(i)\n    }\n}\n```\n"
    math = "$\\vec{r}(s) = \\vec{a} + s$ and \\begin{align*}\\int_0^1 ds\\end{align*}\n"
    response = (
        "Here is the same loop written in Go, followed by the integral you asked about:\n" + code * 3 + math
    )
    assert isinstance(run([seed(1, response)], min_words=0, languages=["en"])[0], Seed)


def test_duplicates_are_rejected_naming_the_first_record():
    out = run([seed(1, ENGLISH), Seed("Question 1?", ENGLISH, origin="other.jsonl:9")])
    assert isinstance(out[0], Seed)
    assert out[1].reason == "duplicate: same instruction and response as the record at in.jsonl:1"
    assert out[1].origin == "other.jsonl:9"
    kept = run([seed(1, ENGLISH), seed(1, ENGLISH)], dedup=False)
    assert all(isinstance(x, Seed) for x in kept)


def test_limit_stops_reading_after_enough_seeds():
    consumed = []

    def source():
        for i in range(100):
            consumed.append(i)
            yield seed(i, words(25))

    out = run(source(), limit=3)
    assert [x.origin for x in out] == ["in.jsonl:0", "in.jsonl:1", "in.jsonl:2"]
    assert consumed == [0, 1, 2]
    assert run(source(), limit=0) == []


def test_read_rejects_pass_through_unchanged_and_do_not_count_toward_the_limit():
    bad = Reject("in.jsonl:5", "invalid JSON: x")
    out = run([bad, seed(1, words(25)), bad, seed(2, words(25))], limit=1)
    assert out[0] is bad and isinstance(out[1], Seed) and len(out) == 2


@pytest.mark.parametrize("cfg", [{"bypass_rate": 1.5}, {"min_words": -1}, {"limit": -2}])
def test_bad_config_is_refused(cfg):
    with pytest.raises(ValueError):
        SeedFilter(**cfg)


def test_read_then_filter_end_to_end(tmp_path):
    rows = [{"prompt": f"Q{i}", "response": words(3 if i % 2 else 30)} for i in range(40)] + [
        {"prompt": "Q0", "response": words(30)},
        {"prompt": "Q", "response": None},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = list(filter_seeds(read_records(path), SeedFilter(bypass_rate=0.0), random.Random(0)))
    kinds = {}
    for x in out:
        key = x.reason.split(":")[0] if isinstance(x, Reject) else "seed"
        kinds[key] = kinds.get(key, 0) + 1
    assert kinds == {"seed": 20, "too short": 20, "duplicate": 1, "not text": 1}
