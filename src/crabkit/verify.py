"""`crab verify`: re-check every constraint in a constraints.jsonl, train.jsonl or IFEval ground-truth file.

A ``train.jsonl`` row is checked against its final assistant message (the answer the constraints of
a forward example ask for); reverse examples, whose target *is* a list of constraints, are counted
and left to ``constraints.jsonl``, where the same constraints are checked on their response.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crabkit.constraints import UnknownConstraintType, get, get_by_benchmark_id

__all__ = ["VerifyReport", "verify_file", "verify_row"]


@dataclass
class VerifyReport:
    rows: int = 0
    checked: int = 0
    soft_skipped: int = 0
    reverse_skipped: int = 0
    violations: list[str] = field(default_factory=list)
    by_type: Counter = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "constraints_checked": self.checked,
            "soft_constraints_skipped": self.soft_skipped,
            "reverse_rows_skipped": self.reverse_skipped,
            "violations": len(self.violations),
            "violations_by_type": dict(sorted(self.by_type.items())),
        }


def _check(type_id: str, response: str, params: dict[str, Any], by_ifeval: bool) -> bool:
    ctype = get_by_benchmark_id(type_id) if by_ifeval else get(type_id)
    if by_ifeval or ctype.ifeval_id:  # a benchmark type's params are its kwargs, under one policy
        params = ctype.from_kwargs(params or {})
    return bool(ctype.check(response, params))


def verify_row(row: dict[str, Any], where: str, report: VerifyReport) -> None:
    """Check one row (constraints.jsonl or ground-truth layout), adding to ``report``."""
    report.rows += 1
    if not isinstance(row, dict):
        report.violations.append(f"{where}: not a JSON object (a {type(row).__name__}); skipped")
        return
    response = row.get("response")
    if response is None and isinstance(row.get("messages"), list):  # a train.jsonl row
        if row.get("kind") == "reverse":
            report.reverse_skipped += 1
            return
        answers = [m for m in row["messages"] if isinstance(m, dict) and m.get("role") == "assistant"]
        response = answers[-1].get("content") if answers else None
        if "constraints" not in row:
            report.violations.append(f"{where}: train row lists no 'constraints' (a run of an older crabkit?)")
            return
    if not isinstance(response, str):
        report.violations.append(f"{where}: field 'response' missing or not a string")
        return
    if "constraints" in row:
        listed = row["constraints"] if isinstance(row["constraints"], list) else None
        if listed is None or not all(isinstance(c, dict) for c in listed):
            report.violations.append(f"{where}: field 'constraints' must be a list of objects")
            return
        pairs = [(str(c.get("type", "")), c.get("params") or {}, False) for c in listed]
    elif "instruction_id_list" in row:
        ids, kwargs = row["instruction_id_list"], row.get("kwargs")
        if not isinstance(ids, list) or (kwargs is not None and not isinstance(kwargs, list)):
            report.violations.append(f"{where}: fields 'instruction_id_list' and 'kwargs' must be lists")
            return
        kwargs = kwargs or [{}] * len(ids)
        pairs = [(str(t), k, True) for t, k in zip(ids, kwargs)]
        others = row.get("other_constraints") or []  # --ground-truth every: the crabkit-only ones asked too
        if not isinstance(others, list) or not all(isinstance(c, dict) for c in others):
            report.violations.append(f"{where}: field 'other_constraints' must be a list of objects")
            return
        pairs += [(str(c.get("type", "")), c.get("params") or {}, False) for c in others]
    else:
        report.violations.append(f"{where}: neither 'constraints' nor 'instruction_id_list' present")
        return
    for type_id, params, by_ifeval in pairs:
        if type_id.startswith("soft:"):
            report.soft_skipped += 1
            continue
        report.checked += 1
        try:
            ok = _check(type_id, response, params, by_ifeval)
        except UnknownConstraintType as exc:
            ok = False
            type_id = f"{type_id} ({exc})"
        except (ValueError, TypeError, AttributeError) as exc:  # bad params: this constraint, not the file
            ok = False
            type_id = f"{type_id} (bad params: {exc})"
        if not ok:
            report.by_type[type_id] += 1
            report.violations.append(f"{where}: {type_id} {json.dumps(params, ensure_ascii=False)[:200]}")


def verify_file(path: str | Path) -> VerifyReport:
    report = VerifyReport()
    p = Path(path)
    with open(p, encoding="utf-8", errors="replace") as f:  # a bad byte costs its row, not the file
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                report.violations.append(f"{p}:{n}: not valid JSON ({exc.msg})")
                continue
            except RecursionError:
                report.violations.append(f"{p}:{n}: not valid JSON (nested too deeply)")
                continue
            verify_row(row, f"{p}:{n}", report)
    return report
