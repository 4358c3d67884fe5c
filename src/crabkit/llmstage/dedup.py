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
constraints are compared too. The longest common subsequence is computed bit-parallel (Allison and
Dix 1986; Hyyro 2004: one big-integer step per token of the candidate), not with rouge-score's
Python table, which was a third of the LLM stage's CPU; ``tests/test_backtranslate_llm.py`` checks
that both give the same scores.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field

from crabkit.records import Constraint

__all__ = ["DedupResult", "Score", "dedup_constraints", "refined_use_probability", "rouge_l", "use_refined"]

THRESHOLD = 0.6
_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    """The words ROUGE-L compares: lower-cased Unicode ``\\w+`` runs."""
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two token lists (bit-parallel, exact)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, t in enumerate(a):
        masks[t] = masks.get(t, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for t in b:
        u = v & masks.get(t, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l(reference: str, candidate: str) -> Score:
    """ROUGE-L of ``candidate`` against ``reference``: precision is the share of the candidate's
    tokens on the longest common subsequence, recall the share of the reference's."""
    ref, cand = tokens(reference), tokens(candidate)
    if not ref or not cand:
        return Score(0.0, 0.0, 0.0)
    lcs = lcs_length(ref, cand)
    precision, recall = lcs / len(cand), lcs / len(ref)
    f1 = 0.0 if lcs == 0 else 2 * precision * recall / (precision + recall)
    return Score(precision, recall, f1)


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
    # ROUGE-L F1 = 2 LCS / (|a| + |b|), and the LCS is at most the tokens the two share: pairs whose
    # shared tokens cannot reach the threshold are skipped without computing it (same result).
    bags = [Counter(tokens(c.text)) for c in constraints]
    sizes = [sum(b.values()) for b in bags]
    for i in range(n):
        for j in range(i + 1, n):
            a, b = constraints[i], constraints[j]
            if a.source != "llm" and b.source != "llm":
                continue
            total = sizes[i] + sizes[j]
            if not total or 2 * sum((bags[i] & bags[j]).values()) / total <= threshold:
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
