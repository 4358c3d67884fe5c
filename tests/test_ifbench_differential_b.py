"""Cases of IFBench's format:*, custom:* and repeat:* types beyond the seeded comparison.

The comparison itself (300 seeded adversarial triples per type, every ``bench/ifbench_adversarial_*.py``
module, ours against ``../shared/oracles/ifbench``) is ``tests/test_ifbench_differential.py``. Here:
the generators of ``bench/ifbench_adversarial_b.py`` cover exactly these types and vary, and where the
reference itself raises, the instruction fails here (strict and loose).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import ifbench_adversarial_b as adversarial
import ifbench_differential as diff
import ifbench_oracle as oracle

_MISSING = oracle.oracle_missing()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")

FAMILIES = {"format", "custom", "repeat"}


@pytest.fixture(scope="module")
def reference():
    return oracle.load_reference()


def test_the_generators_cover_exactly_the_format_custom_and_repeat_types():
    from crabkit.constraints import all_types, get_by_ifbench_id

    ours = {t.id for t in all_types() if t.family in FAMILIES and t.suite == "ifbench"}
    assert len(ours) == 28
    assert set(adversarial.GENERATORS) == ours
    for iid in ours:
        kind = get_by_ifbench_id(iid)
        assert kind.id == kind.ifbench_id == iid


def test_the_generators_vary():
    for iid, generate in adversarial.GENERATORS.items():
        rng = random.Random(f"{iid}/5")
        responses = {generate(rng)[2] for _ in range(30)}
        assert len(responses) > 5, iid


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
    triple = diff.Triple(iid, {}, "p", response)
    verdict = diff.reference_verdict(triple)
    assert isinstance(verdict, str) and verdict.startswith(error), verdict
    assert diff.crabkit_verdict(triple) == (False, False)
