"""Does a run's data teach? Measured from the run directory's files alone.

    python bench/data_quality.py RUN_DIR [--examples 20] [--others 5] [--seed 0] [--ifbench] [--json OUT]

Prints, for the forward examples of ``RUN_DIR/train.jsonl``:

* coverage: the share of prompts asking each of IFEval's 25 instruction types (and every other
  type), how many IFEval types reach 1%, and the largest share of any one type;
* IFBench coverage (when any prompt asks an IFBench type, or with ``--ifbench``): how many of
  IFBench's 58 instruction types are asked (the one crabkit cannot check counts as not asked), and
  each one's share and count of prompts;
* informativeness: the mean share of an example's constraints that its *siblings* (other answers to
  the same request, from ``constraints.jsonl``; original responses) satisfy, and the share of
  siblings that satisfy all of them; the same against ``--others`` answers to other requests;
* shape: the histogram of constraints per prompt and the share of prompts whose constraints sit
  inside the request as plain sentences (no list, no heading);
* wording: glitches (``crabkit.compose.wording``) over every constraint text, and every constraint
  checked again on the example's final answer;
* ``--examples`` random forward prompts to read.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any


def _rows(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _key(instruction: str) -> str:
    return " ".join(instruction.split()).casefold()


def _holds(checks: list[tuple[Any, dict]], response: str) -> list[bool]:
    out = []
    for ctype, params in checks:
        try:
            out.append(bool(ctype.check(response, params)))
        except Exception:  # noqa: BLE001  (a checker raising on another answer: that answer fails it)
            out.append(False)
    return out


def _contrast(examples: list[dict], checks: dict[str, list], answers_of: dict[str, list[str]]) -> dict[str, float]:
    """Mean share of constraints satisfied, and share of answers satisfying all, over ``answers_of``."""
    shares, alls, n_examples = [], [], 0
    for ex in examples:
        answers = answers_of.get(ex["id"], [])
        if not answers or not checks[ex["id"]]:
            continue
        n_examples += 1
        per_answer = [_holds(checks[ex["id"]], a) for a in answers]
        shares.append(sum(sum(p) / len(p) for p in per_answer) / len(per_answer))
        alls.extend(all(p) for p in per_answer)
    return {
        "examples": n_examples,
        "answers": len(alls),
        "mean_share_satisfied": sum(shares) / len(shares) if shares else float("nan"),
        "share_satisfying_all": sum(alls) / len(alls) if alls else float("nan"),
    }


def measure(run_dir: Path, n_others: int = 5, seed: int = 0) -> dict[str, Any]:
    from crabkit.compose.templates import prompt_shape
    from crabkit.compose.wording import glitches
    from crabkit.constraints import all_types, get
    try:
        from crabkit.constraints.ifbench_unsupported import UNSUPPORTED
        from crabkit.constraints.suites import ifbench_instruction_ids
    except ImportError:  # a generator from before IFBench (replication rounds pin one): no IFBench types
        UNSUPPORTED = {}

        def ifbench_instruction_ids() -> list[str]:
            return []

    train = _rows(run_dir / "train.jsonl")
    records = _rows(run_dir / "constraints.jsonl")
    forward = [r for r in train if r.get("kind") == "forward"]
    if not forward:
        raise SystemExit(f"{run_dir}/train.jsonl has no forward examples")
    if any("constraints" not in r for r in forward):
        raise SystemExit(f"{run_dir}/train.jsonl rows do not list their constraints (a run of an older crabkit)")

    by_id = {r["id"]: r for r in records}
    groups: dict[str, list[str]] = defaultdict(list)
    for r in records:
        groups[_key(r["instruction"])].append(r["id"])
    original = {r["id"]: r.get("original_response", r["response"]) for r in records}

    checks: dict[str, list] = {}
    failures = []
    for ex in forward:
        rule = [c for c in ex["constraints"] if not c["type"].startswith("soft:")]
        checks[ex["id"]] = [(get(c["type"]), c["params"]) for c in rule]
        answer = ex["messages"][-1]["content"]
        for (ctype, params), ok in zip(checks[ex["id"]], _holds(checks[ex["id"]], answer)):
            if not ok:
                failures.append(f"{ex['id']}: {ctype.id} {json.dumps(params)[:120]}")

    rng = random.Random(seed)
    siblings: dict[str, list[str]] = {}
    others: dict[str, list[str]] = {}
    all_ids = [r["id"] for r in records]
    for ex in forward:
        rec = by_id.get(ex["seed_id"])
        if rec is None:
            continue
        mine = {original[ex["seed_id"]], ex["messages"][-1]["content"]}
        group = groups[_key(rec["instruction"])]
        siblings[ex["id"]] = [original[i] for i in group if i != ex["seed_id"] and original[i] not in mine]
        pool = [i for i in rng.sample(all_ids, min(len(all_ids), 4 * n_others + 8))
                if _key(by_id[i]["instruction"]) != _key(rec["instruction"])]  # fmt: skip
        others[ex["id"]] = [original[i] for i in pool[:n_others]]

    n = len(forward)
    asked = Counter(t for ex in forward for t in {c["type"] for c in ex["constraints"]})
    ifeval_ids = sorted(t.id for t in all_types() if t.ifeval_id)
    ifeval_share = {t: asked.get(t, 0) / n for t in ifeval_ids}
    ifbench_ids = ifbench_instruction_ids()
    ifbench_count = {t: asked.get(t, 0) for t in ifbench_ids}
    k_hist = Counter(len(ex["constraints"]) for ex in forward)
    shapes = Counter(ex.get("shape") or prompt_shape(ex["messages"][-2]["content"], [c["text"] for c in ex["constraints"]])
                     for ex in forward)  # fmt: skip
    texts = [c["text"] for ex in forward for c in ex["constraints"]]
    found_glitches = [(g, t) for t in texts for g in glitches(t)]
    edits = Counter(ex.get("edit") for ex in forward if ex.get("edit"))
    return {
        "run_dir": str(run_dir),
        "forward_examples": n,
        "ifeval_type_share": ifeval_share,
        "ifeval_types_present": sum(1 for v in ifeval_share.values() if v > 0),
        "ifeval_types_at_least_1pct": sum(1 for v in ifeval_share.values() if v >= 0.01),
        "largest_type_share": max(asked.values()) / n,
        "largest_type": max(asked, key=lambda t: asked[t]),
        "ifbench_types": len(ifbench_ids),
        "ifbench_types_present": sum(1 for v in ifbench_count.values() if v > 0),
        "ifbench_unchecked": sorted(UNSUPPORTED),
        "ifbench_type_count": ifbench_count,
        "ifbench_type_share": {t: v / n for t, v in ifbench_count.items()},
        "ifbench_prompt_share": sum(1 for ex in forward if any(c["type"] in ifbench_count for c in ex["constraints"])) / n,
        "other_type_share": {t: v / n for t, v in sorted(asked.items()) if t not in ifeval_share and t not in ifbench_count},
        "siblings": _contrast(forward, checks, siblings),
        "others": _contrast(forward, checks, others),
        "constraints_per_prompt": dict(sorted(k_hist.items())),
        "shapes": {k: v / n for k, v in sorted(shapes.items(), key=lambda kv: str(kv[0]))},
        "inside_request_share": sum(v for k, v in shapes.items() if k in ("inline", "paragraph")) / n,
        "edited_share": sum(edits.values()) / n,
        "edits": dict(sorted(edits.items())),
        "glitches": len(found_glitches),
        "glitch_examples": found_glitches[:10],
        "verify_failures": len(failures),
        "verify_failure_examples": failures[:10],
    }


def _print_ifbench(report: dict[str, Any]) -> None:
    count, share = report["ifbench_type_count"], report["ifbench_type_share"]
    at_1pct = sum(1 for v in share.values() if v >= 0.01)
    print(f"\nIFBench types asked ({report['ifbench_types_present']}/{report['ifbench_types']} present, "
          f"{at_1pct} in >= 1% of prompts; {report['ifbench_prompt_share']:.1%} of prompts ask at least one):")
    for t in sorted((t for t in count if count[t]), key=lambda t: (-count[t], t)):
        print(f"  {share[t]:6.1%} {count[t]:6d}  {t}")
    absent = sorted(t for t in count if not count[t])
    if absent:
        unchecked = set(report["ifbench_unchecked"])
        print(f"  not asked ({len(absent)}; * crabkit cannot check it): "
              + ", ".join(t + ("*" if t in unchecked else "") for t in absent))


def _print(report: dict[str, Any], forward: list[dict], n_examples: int, seed: int, ifbench: bool = False) -> None:
    n = report["forward_examples"]
    print(f"run {report['run_dir']}: {n} forward examples")
    print(f"\nIFEval types asked ({report['ifeval_types_present']}/25 present, "
          f"{report['ifeval_types_at_least_1pct']} in >= 1% of prompts; largest share of any type "
          f"{report['largest_type_share']:.1%}, {report['largest_type']}):")  # fmt: skip
    for t, v in sorted(report["ifeval_type_share"].items(), key=lambda kv: -kv[1]):
        print(f"  {v:6.1%}  {t}")
    if ifbench or report["ifbench_types_present"]:
        _print_ifbench(report)
    print("other types asked:")
    for t, v in sorted(report["other_type_share"].items(), key=lambda kv: -kv[1]):
        print(f"  {v:6.1%}  {t}")
    for name, label in (("siblings", "sibling answers (same request)"), ("others", "answers to other requests")):
        m = report[name]
        print(f"\nagainst {label}: {m['examples']} examples, {m['answers']} answers")
        print(f"  mean share of an example's constraints they satisfy: {m['mean_share_satisfied']:.3f}")
        print(f"  share of them satisfying all of an example's constraints: {m['share_satisfying_all']:.3f}")
    print("\nconstraints per prompt: " + ", ".join(f"{k}: {v}" for k, v in report["constraints_per_prompt"].items()))
    print("prompt shapes: " + ", ".join(f"{k} {v:.1%}" for k, v in report["shapes"].items()))
    print(f"constraints inside the request as plain sentences: {report['inside_request_share']:.1%}")
    print(f"edited answers: {report['edited_share']:.1%} of prompts: "
          + ", ".join(f"{k} {v}" for k, v in report["edits"].items()))  # fmt: skip
    print(f"glitches in constraint wording: {report['glitches']}")
    for g, t in report["glitch_examples"]:
        print(f"  {g}: {t}")
    print(f"constraints failing on their own answer: {report['verify_failures']}")
    for f in report["verify_failure_examples"]:
        print(f"  {f}")
    if n_examples:
        print(f"\n{n_examples} random forward examples:")
        for ex in random.Random(seed).sample(forward, min(n_examples, len(forward))):
            answer = ex["messages"][-1]["content"]
            print("-" * 100)
            print(ex["messages"][-2]["content"])
            print(f"  [{ex.get('shape')}; edit {ex.get('edit')}; answer {len(answer.split())} words: "
                  f"{answer[:160]!r}...]")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--examples", type=int, default=20, help="random forward examples to print")
    ap.add_argument("--others", type=int, default=5, help="answers to other requests per example")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ifbench", action="store_true",
                    help="print IFBench's 58 types even when no prompt asks one (crab generate --types)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    if not (args.run_dir / "train.jsonl").is_file():
        print(f"data_quality: {args.run_dir} has no train.jsonl (run crab generate first)", file=sys.stderr)
        return 2
    report = measure(args.run_dir, args.others, args.seed)
    forward = [r for r in _rows(args.run_dir / "train.jsonl") if r.get("kind") == "forward"]
    _print(report, forward, args.examples, args.seed, args.ifbench)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
