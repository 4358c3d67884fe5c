"""crabkit's IFEval scoring against the reference code, on 30,000 seeded adversarial triples.

The reference is ``../shared/oracles/instruction_following_eval`` (imported, never copied); the
harness is ``bench/ifeval_differential.py`` (``--long`` there runs 200,000 triples). Every
disagreement that no README deviation explains fails the test with its triple.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import ifeval_differential as diff

_MISSING = diff.oracle_missing()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


@pytest.fixture(scope="module")
def lib():
    return diff.load_reference()


@pytest.fixture(scope="module")
def official():
    return diff.load_official()


def test_crabkit_agrees_with_the_reference_on_30000_adversarial_triples(lib, official):
    report = diff.compare(diff.generate_triples(diff.CI_TRIPLES, 0, *official), lib, keep=50)
    assert report.triples == diff.CI_TRIPLES >= 20_000
    assert report.n_unexplained == 0, "\n".join(report.unexplained)
    assert len(report.by_id) == 25
    # Every instruction id is met passing and failing, so the comparison tells verdicts apart.
    assert all(0 < report.passed[iid] < n for iid, n in report.by_id.items()), report.passed
    assert report.strict_agree / report.triples > 0.99 and report.loose_agree / report.triples > 0.99


def test_the_generator_is_seeded(official):
    first = list(diff.generate_triples(300, 5, *official))
    assert first == list(diff.generate_triples(300, 5, *official))
    assert first != list(diff.generate_triples(300, 6, *official))
    assert any(t.response == "" for t in diff.generate_triples(3000, 0, *official))


def test_a_wrong_checker_is_caught(lib, official, monkeypatch):
    from crabkit.constraints import get_by_ifeval_id

    comma = get_by_ifeval_id("punctuation:no_comma")
    monkeypatch.setattr(type(comma), "check", lambda self, response, params: "," not in response[:-1])
    triples = [diff.Triple("punctuation:no_comma", {}, "p", "no commas here,")]
    report = diff.compare(iter(triples), lib)
    assert report.n_unexplained == 1 and "no_comma" in report.unexplained[0]


@pytest.mark.parametrize(
    ("iid", "kwargs", "response"),
    [
        ("length_constraints:number_sentences", {"num_sentences": 2, "relation": "at least"},
         "He said \u201cStop.\u201d Then he left."),
        ("length_constraints:number_sentences", {"num_sentences": 2, "relation": "at least"}, "Done.\x1fNext one."),
        ("change_case:capital_word_frequency", {"capital_frequency": 3, "capital_relation": "at least"},
         "'TIS THE SEASON"),
        ("change_case:capital_word_frequency", {"capital_frequency": 4, "capital_relation": "at least"},
         "DON'T\nSTOP NOW"),
        ("change_case:capital_word_frequency", {"capital_frequency": 1, "capital_relation": "less than"},
         "I'm\nhere"),
        ("length_constraints:number_words", {"num_words": 3, "relation": "less than"},
         "\u0935\u093f\u091c\u094d\u091e\u093e\u0928 \u092a\u094d\u0930\u092f\u094b\u0917\u0936\u093e\u0932\u093e"),
        ("length_constraints:number_words", {"num_words": 3, "relation": "less than"}, "\u2764\ufe0f \u2764\ufe0f"),
    ],
)  # fmt: skip
def test_the_issues_nltk_examples_score_as_the_reference_does(lib, iid, kwargs, response):
    triple = diff.Triple(iid, kwargs, "p", response)
    assert diff.crabkit_verdict(triple) == diff.reference_verdict(lib, triple)


def test_sentences_and_words_are_the_installed_nltks(lib):
    import nltk
    from nltk.tokenize import RegexpTokenizer

    from crabkit import text
    from crabkit.constraints._ifeval import upper_token_count

    texts = ["He said \u201cStop.\u201d Then he left.", "Done.\x1fNext one.", "'TIS THE SEASON", "DON'T\nSTOP NOW",
             "I'm\nhere", "Dr. Smith arrived. \u0935\u093f\u091c\u094d\u091e\u093e\u0928 \u2764\ufe0f OK."]  # fmt: skip
    for value in texts:
        assert text.sentences(value) == nltk.sent_tokenize(value)
        assert text.words(value) == RegexpTokenizer(r"\w+").tokenize(value)
        assert upper_token_count(value) == sum(t.isupper() for t in nltk.word_tokenize(value))


def test_deep_json_verdicts_match_the_reference_up_to_the_documented_depth(lib):
    for depth in (1, 100, 499, 500):
        triple = diff.Triple("detectable_format:json_format", {}, "p", "[" * depth + "]" * depth)
        assert diff.crabkit_verdict(triple) == diff.reference_verdict(lib, triple) == (True, True)
    deeper = diff.Triple("detectable_format:json_format", {}, "p", "[" * 501 + "]" * 501)
    assert diff.crabkit_verdict(deeper) == (False, False)
    assert diff.documented_deviation(deeper) == "JSON nested deeper than 500 levels fails"
