"""The ideal-schedule bound that bench/llm_stage.py prints beside the measured busy share."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from llm_stage import chains_from_usage, ideal_busy
from stage_stub import lognormal


def test_chains_come_from_the_per_stage_request_counts():
    usage = {"stages": {"refine_soft": {"requests": 10}, "judge": {"requests": 7}, "rejudge": {"requests": 2}}}
    chains = chains_from_usage(usage, seeds=10)
    assert sorted(chains) == [1, 1, 1, 2, 2, 2, 2, 2, 3, 3]
    assert sum(chains) == 19


def test_a_fixed_latency_keeps_every_slot_busy_and_a_long_tail_does_not():
    fixed = ideal_busy([2] * 6400, 64, mu=-1.6, sigma=0.0)
    assert fixed > 0.99
    mu, sigma = lognormal(0.2, 2.0)
    small = sum(ideal_busy([3, 2, 2, 1] * 500, 64, mu, sigma, seed) for seed in range(5)) / 5
    large = sum(ideal_busy([3, 2, 2, 1] * 12500, 64, mu, sigma, seed) for seed in range(2)) / 2
    assert small < 0.9 < large  # the tail's share shrinks as the run grows
    assert ideal_busy([3, 2, 2, 1] * 500, 64, mu, sigma, 1) == ideal_busy([3, 2, 2, 1] * 500, 64, mu, sigma, 1)


def test_the_stub_counts_what_a_prefix_cache_would_not_compute_again():
    from stage_stub import BLOCK, uncached_chars

    seen: set[bytes] = set()
    shared = "r" * (10 * BLOCK)
    assert uncached_chars(shared + "judge this", seen) == len(shared) + 10  # nothing cached yet
    assert uncached_chars(shared + "judge that rewrite", seen) == 18  # the shared blocks are cached
    assert uncached_chars("x" + shared, seen) == len(shared) + 1  # a prefix, not any shared text
    partial = shared[: BLOCK + 5] + "other"
    assert uncached_chars(partial, seen) == len(partial) - BLOCK  # only whole blocks are cached
