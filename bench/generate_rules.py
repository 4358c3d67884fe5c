"""Rules-only generation speed and memory.

Prints records/s over the 1,872 shared seed pairs on one core, the per-type inference cost, and the
peak RSS of whole runs at 10k and 100k records (the pairs repeated, each copy made distinct so
dedup keeps it). Baseline: the CRAB paper's code computes its 6 rule types at about 35 records/s
on this machine; the target is 20x that with all our types, and 100k within 1.2x the RSS of 10k.

    python bench/generate_rules.py [--pairs PATH] [--skip-rss]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAPER_RECORDS_PER_S = 35.0


def _pairs(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def throughput(pairs: list[dict]) -> None:
    from crabkit.backtranslate.rules import backtranslate_rules
    from crabkit.constraints import all_types
    from crabkit.records import Seed

    seeds = [Seed(instruction=p["instruction"], response=p["response"]) for p in pairs]
    types = list(all_types())
    backtranslate_rules(seeds[0], 0, types)  # warm caches and lazy imports
    t0 = time.perf_counter()
    n_constraints = sum(len(backtranslate_rules(s, 0, types).constraints) for s in seeds)
    dt = time.perf_counter() - t0
    rate = len(seeds) / dt
    print(f"back-translation (infer + describe + verify, {len(types)} types): {len(seeds)} records in {dt:.2f} s")
    print(f"  {rate:.0f} records/s, {n_constraints / len(seeds):.1f} constraints/record")
    print(f"  vs the paper's code ({PAPER_RECORDS_PER_S:.0f} records/s, 6 types): {rate / PAPER_RECORDS_PER_S:.1f}x"
          f" (target 20x)")
    per_type = {}
    for t in types:
        rng = random.Random(0)
        t1 = time.perf_counter()
        for s in seeds[:400]:
            params = t.infer(s.response, rng, s.instruction)
            if params is not None:
                t.check(s.response, params)
        per_type[t.id] = (time.perf_counter() - t1) / 400 * 1000
    print("  slowest types (ms/record, infer + check):")
    for tid, ms in sorted(per_type.items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {tid:50s} {ms:.3f}")


def _write_copies(pairs: list[dict], n: int, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            p = pairs[i % len(pairs)]
            f.write(json.dumps({"instruction": f"{p['instruction']} [{i}]", "response": p["response"]},
                               ensure_ascii=False) + "\n")


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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    rss_kb, secs = out.stdout.split()
    return int(rss_kb) / 1024, float(secs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", default=str(REPO.parent / "shared" / "data" / "seed_pairs" / "pairs_flat.jsonl"))
    ap.add_argument("--skip-rss", action="store_true")
    args = ap.parse_args()
    pairs = _pairs(Path(args.pairs))
    throughput(pairs)
    if args.skip_rss:
        return
    with tempfile.TemporaryDirectory() as d:
        rss10, s10 = _child_rss(10_000, pairs, Path(d))
        print(f"whole run, 10k records: peak RSS {rss10:.0f} MiB, {10_000 / s10:.0f} records/s")
        rss100, s100 = _child_rss(100_000, pairs, Path(d))
        print(f"whole run, 100k records: peak RSS {rss100:.0f} MiB, {100_000 / s100:.0f} records/s")
        print(f"  RSS ratio 100k/10k: {rss100 / rss10:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
