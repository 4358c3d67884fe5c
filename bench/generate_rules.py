"""Rules-only generation speed and memory.

Prints, over the 1,872 shared seed pairs on one core (CPU time, so other processes on the machine
inflate it less than wall time):

* back-translation alone: records/s of ``backtranslate_rules`` (every type inferred, described and
  verified), and the types that cost most;
* the whole run: CPU per record of ``generate()`` in process (reading, filtering, grouping by
  request, back-translation, edits and the contrast choice, composition, writing);

and the peak RSS of whole runs at 10k and 100k records (the pairs repeated, each copy made distinct
so dedup keeps it). Baseline: the CRAB paper's code computes its 6 rule types at about 35
records/s on this machine; the target is 20x that with all our types, and 100k within 1.2x the RSS
of 10k.

``--baseline SRC`` also times another crabkit source tree (say ``git worktree add /tmp/base HEAD~1``
then ``--baseline /tmp/base/src``) in the same run, alternating with this one, for a before/after
of both passes; the whole run's ratio is the one the "Data that teaches" issue bounds (at most 1.5x
the tree before it, edits and sibling-aware selection included).

    python bench/generate_rules.py [--pairs PATH] [--skip-rss] [--baseline SRC] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAPER_RECORDS_PER_S = 35.0

# One timed pass of back-translation over the pairs, run in a fresh interpreter on a source tree.
_PASS = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from crabkit.backtranslate.rules import backtranslate_rules
from crabkit.constraints import all_types
from crabkit.records import Seed
pairs = [json.loads(x) for x in open(sys.argv[2], encoding="utf-8") if x.strip()]
seeds = [Seed(instruction=p["instruction"], response=p["response"]) for p in pairs]
types = list(all_types())
# Lazy imports and model loading (Punkt, langdetect's profiles), not timed; then every memo of text
# analyses is emptied, so the timed pass starts cold.
from crabkit.constraints._ifeval import clear_caches
from crabkit.text import detect_language
backtranslate_rules(seeds[0], 0, types)
detect_language("Model loading is not part of the timed pass, which starts with every memo empty.")
clear_caches()
cpu, wall = time.process_time(), time.perf_counter()
n = sum(len(backtranslate_rules(s, 0, types).constraints) for s in seeds)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
print(json.dumps({"records": len(seeds), "cpu_s": cpu, "wall_s": wall, "constraints": n, "types": len(types)}))
"""


# One timed whole run (generate() in process) on a source tree, in a fresh interpreter.
_RUN = r"""
import json, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
from crabkit.pipeline import GenerateConfig, generate
from crabkit.backtranslate.rules import backtranslate_rules
from crabkit.records import Seed
from crabkit.text import detect_language
backtranslate_rules(Seed(instruction="Warm up.", response="Lazy imports and model loading are not timed here."), 0)
detect_language("Model loading is not part of the timed pass, which starts with every memo empty.")
from crabkit.constraints._ifeval import clear_caches
clear_caches()
with tempfile.TemporaryDirectory() as out:
    cpu, wall = time.process_time(), time.perf_counter()
    result = generate(GenerateConfig(input=sys.argv[2], seed=0), out, progress=False)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
n = result.stats["items_read"]
print(json.dumps({"records": n, "cpu_s": cpu, "wall_s": wall, "constraints": result.stats["constraints_total"],
                  "types": result.stats["distinct_types"]}))
"""


def _pairs(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _timed_pass(src: Path, pairs_path: Path, code: str = _PASS) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, str(src), str(pairs_path)],
        capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _report(name: str, runs: list[dict]) -> float:
    best = min(runs, key=lambda r: r["cpu_s"])
    ms = 1000 * best["cpu_s"] / best["records"]
    rate = best["records"] / best["cpu_s"]
    each = ", ".join(f"{1000 * r['cpu_s'] / r['records']:.2f}" for r in runs)
    print(
        f"{name}: {best['types']} types, {ms:.2f} ms/record CPU ({rate:.0f} records/s; wall "
        f"{best['records'] / best['wall_s']:.0f} records/s), {best['constraints'] / best['records']:.1f} "
        f"constraints/record (best of {len(runs)} passes: {each} ms)"
    )
    return rate


def throughput(pairs_path: Path, baseline: Path | None, rounds: int) -> None:
    trees = [("this tree", REPO / "src")] + ([("baseline", baseline)] if baseline else [])
    runs: dict[str, list[dict]] = {name: [] for name, _ in trees}
    whole: dict[str, list[dict]] = {name: [] for name, _ in trees}
    for _ in range(rounds):  # alternate, so load from other processes hits both alike
        for name, src in trees:
            runs[name].append(_timed_pass(src, pairs_path))
            whole[name].append(_timed_pass(src, pairs_path, _RUN))
    print("back-translation alone (backtranslate_rules, every type):")
    rate = _report("  this tree", runs["this tree"])
    print(f"    vs the paper's code ({PAPER_RECORDS_PER_S:.0f} records/s, 6 types): {rate / PAPER_RECORDS_PER_S:.1f}x"
          f" (target 20x)")  # fmt: skip
    if baseline:
        base = _report("  baseline", runs["baseline"])
        print(f"    this tree vs baseline: {rate / base:.2f}x the records/s")
    print("whole run (generate(): read, group, back-translate, edit, choose, compose, write):")
    mine = _report("  this tree", whole["this tree"])
    if baseline:
        base = _report("  baseline", whole["baseline"])
        print(f"    CPU per record, this tree / baseline: {base / mine:.2f}x (target <= 1.5x)")


def per_type(pairs: list[dict]) -> None:
    """CPU per type inside one real pass (shared analyses count for the first type that asks)."""
    from crabkit.backtranslate.rules import backtranslate_rules
    from crabkit.constraints import all_types
    from crabkit.constraints._ifeval import clear_caches
    from crabkit.records import Seed
    from crabkit.text import detect_language

    seeds = [Seed(instruction=p["instruction"], response=p["response"]) for p in pairs]
    types = list(all_types())
    backtranslate_rules(seeds[0], 0, types)
    detect_language("Model loading is not part of the timed pass, which starts with every memo empty.")
    clear_caches()
    timings: dict[str, float] = {}
    emitted: dict[str, int] = {}
    failures = 0
    for s in seeds:
        result = backtranslate_rules(s, 0, types, timings=timings)
        failures += len(result.verify_failures) + len(result.infer_errors)
        for c in result.constraints:
            emitted[c.type] = emitted.get(c.type, 0) + 1
    total = sum(timings.values())
    print(f"  {len(emitted)} distinct types emitted, {failures} verify failures or infer errors")
    print("  costliest types (ms/record CPU, infer + describe + verify; share of all):")
    for tid, secs in sorted(timings.items(), key=lambda kv: -kv[1])[:10]:
        print(
            f"    {tid:50s} {1000 * secs / len(seeds):.3f}  {secs / total:5.1%}  emitted {emitted.get(tid, 0)}"
        )


def _write_copies(pairs: list[dict], n: int, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            p = pairs[i % len(pairs)]
            f.write(
                json.dumps(
                    {"instruction": f"{p['instruction']} [{i}]", "response": p["response"]},
                    ensure_ascii=False,
                )
                + "\n"
            )


def _child_rss(n: int, pairs: list[dict], tmp: Path) -> tuple[float, float]:
    data = tmp / f"in_{n}.jsonl"
    _write_copies(pairs, n, data)
    code = (
        "import resource, sys, time\n"
        "from crabkit.pipeline import GenerateConfig, generate\n"
        "t = time.perf_counter()\n"
        f"generate(GenerateConfig(input={str(data)!r}), {str(tmp / f'run_{n}')!r}, progress=False)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - t)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    rss_kb, secs = out.stdout.split()
    return int(rss_kb) / 1024, float(secs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--pairs", default=str(REPO.parent / "shared" / "data" / "seed_pairs" / "pairs_flat.jsonl")
    )
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--baseline", type=Path, help="another crabkit source tree (its src/) to time alongside")
    ap.add_argument("--rounds", type=int, default=2, help="timed passes per tree (the best one is reported)")
    args = ap.parse_args()
    start = time.perf_counter()
    pairs = _pairs(Path(args.pairs))
    throughput(Path(args.pairs), args.baseline, args.rounds)
    per_type(pairs)
    if args.skip_rss:
        return
    with tempfile.TemporaryDirectory() as d:
        rss10, s10 = _child_rss(10_000, pairs, Path(d))
        print(f"whole run, 10k records: peak RSS {rss10:.0f} MiB, {10_000 / s10:.0f} records/s")
        rss100, s100 = _child_rss(100_000, pairs, Path(d))
        print(f"whole run, 100k records: peak RSS {rss100:.0f} MiB, {100_000 / s100:.0f} records/s")
        print(f"  RSS ratio 100k/10k: {rss100 / rss10:.2f} (target <= 1.2)")
    print(f"(bench took {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
