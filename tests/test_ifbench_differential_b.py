"""IFBench's format:*, custom:* and repeat:* types against the reference verifiers, on seeded adversarial triples.

The reference is ``../shared/oracles/ifbench`` (loaded by ``bench/ifbench_oracle.py``, never copied);
the triples come from ``bench/ifbench_adversarial_b.py``: 300 per instruction id, scored strict and
loose by both sides. Every disagreement fails the test with its triple.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import ifbench_adversarial_b as adversarial
import ifbench_oracle as oracle

_MISSING = oracle.oracle_missing()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")

TRIPLES_PER_ID = 300
OURS = (
    "format:parentheses", "format:quotes", "format:options", "format:newline", "format:emoji",
    "format:line_indent", "format:quote_unquote", "format:list", "format:thesis", "format:sub-bullets",
    "format:no_bullets_bullets", "format:title_case", "format:output_template", "format:no_whitespace",
    "custom:multiples", "custom:mcq_count_length", "custom:reverse_newline", "custom:word_reverse",
    "custom:character_reverse", "custom:sentence_alphabet", "custom:european_capitals_sort", "custom:csv_city",
    "custom:csv_special_character", "custom:csv_quotes", "custom:date_format_list", "repeat:repeat_change",
    "repeat:repeat_simple", "repeat:repeat_span",
)  # fmt: skip


def crabkit_verdict(instruction_id: str, kwargs: dict, response: str, prompt: str = "p") -> tuple[bool, bool]:
    """crabkit's one per-instruction verdict, the one its scorer uses."""
    from crabkit.eval.verdict import instruction_verdict

    return instruction_verdict(instruction_id, kwargs, prompt, response)


def _triples(instruction_id: str, seed: int, n: int) -> list[tuple[dict, str, str]]:
    rng = random.Random(f"{instruction_id}/{seed}")
    return [adversarial.GENERATORS[instruction_id](rng) for _ in range(n)]


@pytest.fixture(scope="module")
def reference():
    return oracle.load_reference()


def test_every_type_of_ours_is_registered_and_has_a_generator():
    from crabkit.constraints import all_types, get_by_ifbench_id

    assert sorted(adversarial.GENERATORS) == sorted(OURS)
    for iid in OURS:
        kind = get_by_ifbench_id(iid)
        assert kind.id == kind.ifbench_id == iid and kind.suite == "ifbench"
    ours = {t.id for t in all_types() if t.family in {"format", "custom", "repeat"} and t.suite == "ifbench"}
    assert ours == set(OURS)


def test_crabkit_agrees_with_the_reference_on_300_adversarial_triples_per_type(reference):
    started = time.perf_counter()
    disagreements: list[str] = []
    passed: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for iid in OURS:
        for kwargs, prompt, response in _triples(iid, 0, TRIPLES_PER_ID):
            expected = oracle.reference_verdict(iid, kwargs, prompt, response)
            got = crabkit_verdict(iid, kwargs, response, prompt)
            if got != expected:
                disagreements.append(f"{iid} {kwargs!r} {response!r}: ours {got}, reference {expected}")
            (passed if got[0] else failed)[iid] += 1
    elapsed = time.perf_counter() - started
    assert disagreements == [], "\n".join(disagreements[:20])
    # Each type is met passing and failing (strict), so the comparison tells verdicts apart.
    assert all(passed[iid] and failed[iid] for iid in OURS), {iid: (passed[iid], failed[iid]) for iid in OURS}
    assert elapsed < 60, f"{len(OURS) * TRIPLES_PER_ID} triples took {elapsed:.1f} s"


def test_the_generators_are_seeded_and_vary():
    for iid in OURS:
        first = _triples(iid, 5, 30)
        assert first == _triples(iid, 5, 30), iid
        assert len({r for _, _, r in first}) > 5, iid


def test_a_wrong_checker_is_caught(reference, monkeypatch):
    from crabkit.constraints import get_by_ifbench_id

    kind = get_by_ifbench_id("format:no_whitespace")
    monkeypatch.setattr(type(kind), "check", lambda self, response, params: " " not in response)
    assert crabkit_verdict("format:no_whitespace", {}, "a\tb") != oracle.reference_verdict(
        "format:no_whitespace", {}, "p", "a\tb"
    )


@pytest.mark.parametrize(
    ("iid", "response", "error"),
    [
        ("custom:csv_quotes", ('"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"\n"1"\t\t"A"\t"1"\t"9"\n'
         '"2"\t"M"\t"A"\t"1"\t"9"\n"3"\t"M"\t"A"\t"1"\t"9"'), "IndexError"),
        ("custom:csv_city", "ID,Country,City,Year,Count\n" + "x" * 200_000, "Error"),
        ("custom:csv_city", "ID,Country,City,Year,Count\r1,FR,Paris,2020,3\r2,FR,Nice,2021,4", "Error"),
        ("custom:csv_special_character", "ProductID,Category,Brand,Price,Stock\n" + "1,a,b\rc,2,3\n" * 14, "Error"),
    ],
)  # fmt: skip
def test_where_the_reference_raises_the_instruction_fails(reference, iid, response, error):
    verdict = oracle.reference_verdict(iid, {}, "p", response)
    assert isinstance(verdict, str) and verdict.startswith(error), verdict
    assert crabkit_verdict(iid, {}, response) == (False, False)
