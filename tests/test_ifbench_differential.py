"""crabkit's IFBench checks against the reference verifiers, on 300 seeded adversarial triples per type.

The reference is ``../shared/oracles/ifbench`` (imported from a temporary copy, never copied); the
harness is ``bench/ifbench_differential.py``, which collects the generators of every
``bench/ifbench_adversarial_*.py`` module. Every disagreement fails the test with its triple.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import ifbench_differential as diff
import ifbench_oracle

_MISSING = ifbench_oracle.oracle_missing()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


@pytest.fixture(scope="module")
def generators():
    ifbench_oracle.load_reference()
    return diff.collect_generators()


def test_every_registered_ifbench_type_has_a_generator(generators):
    from crabkit.constraints import all_types

    registered = {t.ifbench_id for t in all_types() if t.suite == "ifbench"}
    assert registered - set(generators) == set()
    assert set(generators) - registered == set()  # and no generator for a type that is not there


def test_crabkit_agrees_with_the_reference_on_300_adversarial_triples_per_type(generators):
    report = diff.compare(diff.generate_triples(generators, diff.CI_TRIPLES, 0), keep=20)
    assert report.triples == diff.CI_TRIPLES * len(generators)
    assert report.n_disagreements == 0, "\n".join(report.examples)
    # Every type is met passing and failing (strict), so the comparison tells verdicts apart.
    one_sided = {
        i: report.strict_passed[i] for i in report.by_id if not 0 < report.strict_passed[i] < report.by_id[i]
    }
    assert one_sided == {}


def test_the_triples_are_seeded(generators):
    one = list(diff.generate_triples(generators, 20, 5, ["words:alphabet", "count:numbers"]))
    assert one == list(diff.generate_triples(generators, 20, 5, ["words:alphabet", "count:numbers"]))
    assert one != list(diff.generate_triples(generators, 20, 6, ["words:alphabet", "count:numbers"]))


def test_a_wrong_checker_is_caught(generators, monkeypatch):
    from crabkit.constraints import get_by_ifbench_id

    numbers = get_by_ifbench_id("count:numbers")
    # Off by one where the reference deletes punctuation first: "3.5" counted as two numbers.
    monkeypatch.setattr(
        type(numbers), "count", staticmethod(lambda response: len(re.findall(r"\d+", response)))
    )
    report = diff.compare(diff.generate_triples(generators, 200, 0, ["count:numbers"]))
    assert report.disagreements["count:numbers"] > 0
    assert "count:numbers" in report.examples[0] and '"response"' in report.examples[0]


def test_a_reference_crash_is_a_disagreement():
    triple = diff.Triple("count:words_japanese", {"N": 0}, "p", "some words here")
    assert isinstance(diff.reference_verdict(triple), str)  # ZeroDivisionError in the reference
    assert isinstance(diff.crabkit_verdict(triple), str)  # our kwargs error, naming the field
    assert "'N'" in diff.crabkit_verdict(triple)


def test_the_reference_reads_crabkits_stop_words():
    ifbench_oracle.load_reference()
    import nltk

    from crabkit.constraints._ifbench import nltk_stopwords

    assert set(nltk.corpus.stopwords.words("english")) == nltk_stopwords()
    assert "stopwords" not in ifbench_oracle.missing_data()
