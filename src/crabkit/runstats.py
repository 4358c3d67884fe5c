"""The run's counters: the empty tally, adding one block's counts, the final figures in ``stats.json``."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["add", "empty_stats", "final_stats", "merge"]


def empty_stats(llm: bool = False) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if llm:
        extra = {
            "llm_failures": 0,
            "soft_constraints_by_type": {},
            "judge_verdicts": {},
            "json_repairs": {},
            "soft_types_dropped": {},
            "refine": {},
        }
    return {
        **extra,
        "items_read": 0,
        "seeds": 0,
        "rejects": {},
        "constraints_by_type": {},
        "constraints_by_family": {},
        "constraints_per_instruction": {},
        "examples": {},
        "ground_truth_rows": 0,
        "demonstrations": 0,
        "no_constraints": 0,
        "infer_errors": {},
        "verify_failures": {},
    }


def add(counter: dict, key: Any, n: int = 1) -> None:
    key = str(key)
    counter[key] = counter.get(key, 0) + n



#: Lists in stats (examples to read) keep at most this many entries, the first in block order.
_MAX_EXAMPLES = 20


def merge(stats: dict[str, Any], delta: dict[str, Any]) -> None:
    for key, value in delta.items():
        if isinstance(value, list):
            stats[key] = (stats.get(key, []) + value)[:_MAX_EXAMPLES]
        elif isinstance(value, dict):
            bucket = stats.setdefault(key, {})
            for k, v in value.items():
                add(bucket, k, v)
        else:
            stats[key] = stats.get(key, 0) + value


def final_stats(stats: dict[str, Any]) -> dict[str, Any]:
    s = json.loads(json.dumps(stats))
    s["distinct_types"] = len(s["constraints_by_type"])
    s["constraints_total"] = sum(s["constraints_by_type"].values())
    s["rejects_total"] = sum(s["rejects"].values())
    s["constraints_per_instruction"] = dict(
        sorted(s["constraints_per_instruction"].items(), key=lambda kv: int(kv[0]))
    )
    s["verify_failures_total"] = sum(s["verify_failures"].values())
    return s
