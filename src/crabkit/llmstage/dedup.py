"""ROUGE-L deduplication of a record's constraints, and the refined-instruction overlap rule.

Two constraints of one record whose ROUGE-L F1 exceeds the threshold (0.6, as in the CRAB paper) say
the same thing twice; one of them goes. Which one: the soft constraint with the most such overlaps
in the record (ties: the later one). Verifiable (rule) constraints are never dropped here: they are
exact and checked, their wording comes from our own phrasings, and clashes between them are the
conflicts table's job, not ROUGE's. So a soft constraint restating a rule one is the one removed.

Overlap with the refined instruction: a soft constraint that restates part of the refined
instruction would, in one prompt with it, ask for the same thing twice. The paper answers this by
using the refined instruction less often, and so do we: with ``n`` soft constraints largely
contained in the refined instruction (ROUGE-L precision of the constraint against the instruction
above the threshold), the refined instruction is used with probability ``0.5 ** n``, decided by a
per-record seeded rng; otherwise the original instruction is used.

Tokens are lower-cased Unicode words (``\\w+``), not rouge-score's ASCII-only default, so non-English
constraints are compared too.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import lru_cache

from crabkit.records import Constraint

__all__ = ["DedupResult", "Score", "dedup_constraints", "refined_use_probability", "rouge_l", "use_refined"]

THRESHOLD = 0.6
_TOKEN = re.compile(r"\w+", re.UNICODE)


class _UnicodeTokenizer:
    """rouge-score tokenizer interface: ``tokenize(text) -> list[str]``."""

    def tokenize(self, text: str) -> list[str]:
        return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


@lru_cache(maxsize=1)
def _scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], tokenizer=_UnicodeTokenizer())


def rouge_l(reference: str, candidate: str) -> Score:
    """ROUGE-L of ``candidate`` against ``reference``: precision is the share of the candidate's
    tokens on the longest common subsequence, recall the share of the reference's."""
    s = _scorer().score(reference, candidate)["rougeL"]
    return Score(s.precision, s.recall, s.fmeasure)


@dataclass
class DedupResult:
    kept: list[Constraint]
    dropped: list[Constraint] = field(default_factory=list)
    refined_overlaps: int = 0


def dedup_constraints(
    constraints: list[Constraint], refined_instruction: str | None = None, threshold: float = THRESHOLD
) -> DedupResult:
    """Drop soft constraints that repeat another constraint of the record (see the module docstring)."""
    n = len(constraints)
    edges: dict[int, set[int]] = {i: set() for i in range(n)}
    for i in range(n):
        for j in range(i + 1, n):
            a, b = constraints[i], constraints[j]
            if a.source != "llm" and b.source != "llm":
                continue
            if rouge_l(a.text, b.text).f1 > threshold:
                edges[i].add(j)
                edges[j].add(i)
    removed: set[int] = set()
    while True:
        soft_with_edges = [i for i in range(n) if i not in removed and edges[i] and constraints[i].source == "llm"]
        if not soft_with_edges:
            break
        # most overlaps first; on a tie the later constraint goes (max over (degree, index))
        worst = max(soft_with_edges, key=lambda i: (len(edges[i]), i))
        removed.add(worst)
        for j in edges.pop(worst):
            edges[j].discard(worst)
        edges[worst] = set()
    kept = [c for i, c in enumerate(constraints) if i not in removed]
    overlaps = 0
    if refined_instruction:
        overlaps = sum(
            1 for c in kept if c.source == "llm" and rouge_l(refined_instruction, c.text).precision > threshold
        )
    return DedupResult(kept=kept, dropped=[constraints[i] for i in sorted(removed)], refined_overlaps=overlaps)


def refined_use_probability(overlaps: int) -> float:
    """Chance of using the refined instruction given how many soft constraints it overlaps."""
    return 0.5**overlaps


def use_refined(overlaps: int, rng: random.Random) -> bool:
    """Whether to use the refined instruction: always with no overlaps, else by a seeded draw."""
    return overlaps == 0 or rng.random() < refined_use_probability(overlaps)
