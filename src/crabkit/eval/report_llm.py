"""The report's LLM-stage section: usage by step, verdicts, soft-constraint types, what the judge refused.

Reads ``llm_usage.json`` (the server's ``usage`` summed per step, cache hits, failures) and the LLM
counters of ``stats.json``; absent when the run had no LLM stage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["llm_section"]

_STEPS = ("refine_soft", "refine", "soft", "judge", "rejudge")


def llm_section(
    usage: Mapping[str, Any] | None, stats: Mapping[str, Any] | None, *, table: Callable[..., str],
    barh: Callable[..., str], escape: Callable[[Any], str],
) -> str | None:  # fmt: skip
    """The section's HTML, or None when the run has no LLM stage (no usage file, no LLM counters)."""
    s = stats or {}
    if not usage and "llm_failures" not in s:
        return None
    body = ""
    if usage:
        body += f"<p>Backend <code>{escape(usage.get('backend', '?'))}</code>, model <code>{escape(usage.get('model', '?'))}</code>: "
        body += (f"{usage.get('sent', 0):,} requests sent, {usage.get('hits', 0):,} answered from the cache, "
                 f"{usage.get('failed', 0):,} failed; {usage.get('prompt_tokens', 0):,} prompt and "
                 f"{usage.get('completion_tokens', 0):,} completion tokens (as the server counted them).</p>")  # fmt: skip
        stages = usage.get("stages") or {}
        order = [k for k in _STEPS if k in stages] + sorted(k for k in stages if k not in _STEPS)
        rows = [(k, *(f"{int(stages[k].get(f, 0)):,}" for f in ("requests", "cached", "failed", "prompt_tokens",
                                                                  "completion_tokens"))) for k in order]  # fmt: skip
        if rows:
            body += "<h3>Usage by step</h3>" + table(("step", "sent", "cached", "failed", "prompt tokens",
                                                       "completion tokens"), rows)  # fmt: skip
    seeds = s.get("seeds") or 0
    soft = s.get("soft_constraints_by_type") or {}
    counts = [("records failed in the LLM stage", s.get("llm_failures", 0))]
    if seeds:
        counts.append(("accepted soft constraints per seed", f"{sum(soft.values()) / seeds:.2f}"))
    counts += [(f"refine: {k}", v) for k, v in sorted((s.get("refine") or {}).items())]
    counts += [(f"JSON repaired: {k}", v) for k, v in sorted((s.get("json_repairs") or {}).items())]
    counts += [(f"measurable claims: {k}", v) for k, v in sorted((s.get("soft_measurable") or {}).items())]
    counts += [(f"dedup: {k}", v) for k, v in sorted((s.get("soft_dedup") or {}).items())]
    body += "<h3>Counts</h3>" + table(("count", "value"), counts)
    verdicts = [(f"judge: {k}", v) for k, v in sorted((s.get("judge_verdicts") or {}).items())]
    verdicts += [(f"re-judge: {k}", v) for k, v in sorted((s.get("rejudge_verdicts") or {}).items())]
    verdicts += [(f"unreadable: {k}", v) for k, v in sorted((s.get("judge_parse_failures") or {}).items())]
    if verdicts:
        body += "<h3>Judge verdicts</h3>" + table(("verdict", "constraints"), verdicts)
    if soft:
        body += barh(soft, "Accepted soft constraints by type", "constraints")
    refused = s.get("judge_refused_examples") or []
    if refused:
        body += "<h3>Refused by the judge (examples)</h3>" + table(
            ("request", "constraint", "verdict"),
            [(r.get("request", ""), r.get("constraint", ""), r.get("verdict", "")) for r in refused],
        )
    dropped = s.get("soft_types_dropped") or {}
    if dropped:
        body += "<h3>Type names outside the vocabulary (dropped)</h3>" + table(
            ("name", "times"), sorted(dropped.items(), key=lambda kv: -kv[1])[:20]
        )
    return body
