"""Local vs Ray engine on this machine, what Ray costs, and a measured estimate for N machines.

Rules-only `crab generate` over 10k records (the 1,872 shared seed pairs repeated, each copy made
distinct so dedup keeps it). Baseline: the local engine (one process) in the same run. Measured:

* records/s of both engines (outputs checked byte-identical);
* Ray's overhead: ``ray.init`` startup, per-task overhead (a no-op map over as many rows), bytes
  shipped per record (pickled block in, rendered shard out);
* the serial part, two ways: the driver's own work per record, wall time measured without Ray
  (read + filter + dedup, cutting and pickling blocks, writing and parsing shards, committing with
  its fsyncs: a replay engine feeding precomputed outputs), and the driver process's whole CPU
  time per record during the Ray run (its own work plus Ray Data's executor and transfers, minus
  time spent waiting on fsync);
* the parallel part: CPU per record of ``process_block`` (what a Ray task does).

From these it prints the expected throughput on N machines of C cores: pipelined (driver and
workers overlap: min of the two rates), with either serial cost, and Amdahl (no overlap: serial +
parallel/(N*C) per record, whole driver CPU), with the bytes each record moves through the
driver's network link at ``--driver-gbit`` added to the serial cost.

    python bench/engine_scaling.py [--records 10000] [--block-size 256] [--driver-gbit 10]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAIRS = REPO.parent / "shared" / "data" / "seed_pairs" / "pairs_flat.jsonl"
FILES = ("train.jsonl", "constraints.jsonl", "ifeval_ground_truth.jsonl", "rejects.jsonl", "stats.json")


def make_input(pairs: Path, n: int, out: Path) -> None:
    rows = [json.loads(x) for x in pairs.read_text(encoding="utf-8").splitlines() if x.strip()]
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            p = rows[i % len(rows)]
            copy = i // len(rows)
            instruction = p["instruction"] if copy == 0 else f"{p['instruction']} (copy {copy})"
            f.write(json.dumps({"instruction": instruction, "response": p["response"]}) + "\n")


class ReplayEngine:
    """The Ray engine's driver side without Ray: pickle each block (what is shipped), write its
    precomputed shard, parse it back and hand it to the commit."""

    def __init__(self, shards: dict[int, str]):
        self.shards = shards

    def llm_usage(self) -> None:
        return None

    def map_blocks(self, blocks, cfg, run_dir, fingerprint):
        from crabkit.pipeline import BlockOutput

        (run_dir / "shards").mkdir(exist_ok=True)
        for b in blocks:
            pickle.dumps(b, protocol=pickle.HIGHEST_PROTOCOL)
            path = run_dir / "shards" / f"block-{b.index:08d}.json"
            path.write_text(self.shards[b.index], encoding="utf-8")
            yield BlockOutput.from_json(json.loads(path.read_text(encoding="utf-8")))
            path.unlink()


def timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--block-size", type=int, default=256)
    ap.add_argument("--driver-gbit", type=float, default=10.0, help="driver network link, Gbit/s (assumed)")
    ap.add_argument("--cores", type=int, default=None, help="cores per machine for the estimate (default: here)")
    args = ap.parse_args()
    if not args.pairs.exists():
        raise SystemExit(f"seed pairs not found: {args.pairs} (see ../shared/data/README.md)")

    import ray

    from crabkit.engine import RayEngine
    from crabkit.pipeline import GenerateConfig, _blocks, _items, generate, process_block
    from crabkit.store import SeedStore

    ncpu = os.cpu_count() or 1
    cores = args.cores or ncpu
    tmp = Path(tempfile.mkdtemp(prefix="crab-engine-bench-"))
    data = tmp / "pairs.jsonl"
    make_input(args.pairs, args.records, data)
    cfg = GenerateConfig(input=str(data), block_size=args.block_size)

    # Serial part 1: the driver's read + filter + dedup, and its store (grouped by request).
    def read() -> list:
        with SeedStore() as store:
            store.extend(_items(cfg))
            return list(store.ordered())

    items, t_read, _ = timed(read)
    n_items = len(items)
    blocks = list(_blocks(items, 0, cfg.block_size))
    n_seeds = sum(len(b.seeds) for b in blocks)
    # Parallel part: process_block in this process (what each Ray task runs), one core.
    process_block(blocks[0], cfg)  # warm lazy imports and caches
    outs, t_work, _ = timed(lambda: [process_block(b, cfg) for b in blocks])
    w = t_work / n_seeds
    fp = cfg.fingerprint()
    shards = {o.index: json.dumps({"fingerprint": fp, **o.to_json()}, ensure_ascii=False) for o in outs}
    # Serial part 2: all of the driver's own work, without Ray.
    _, t_replay, _ = timed(lambda: generate(cfg, tmp / "replay", progress=False, engine=ReplayEngine(shards)))

    # Baseline: the local engine, end to end.
    _, t_local, _ = timed(lambda: generate(cfg, tmp / "local", progress=False))
    local_rate = n_items / t_local

    # Ray: startup, a cold and a warm run, the driver's CPU during the warm run.
    _, t_init, _ = timed(lambda: ray.init(num_cpus=ncpu, include_dashboard=False, log_to_driver=False))
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        cold = RayEngine(concurrency=ncpu)
        _, t_cold, _ = timed(lambda: generate(cfg, tmp / "ray-cold", progress=False, engine=cold))
        warm = RayEngine(concurrency=ncpu)
        _, t_ray, c_driver = timed(lambda: generate(cfg, tmp / "ray", progress=False, engine=warm))
        same = all((tmp / "local" / f).read_bytes() == (tmp / "ray" / f).read_bytes() for f in FILES)

        # Per-task overhead: the same number of tasks, same input payloads, doing nothing.
        payloads = [{"index": b.index, "block": pickle.dumps(b)} for b in blocks]

        def noop(row: dict) -> dict:
            return {"index": row["index"]}

        def run_noop() -> int:
            ds = ray.data.from_items(payloads, override_num_blocks=len(payloads))
            ds = ds.map(noop, compute=ray.data.TaskPoolStrategy(size=min(ncpu, len(payloads))), num_cpus=1)
            return sum(1 for _ in ds.iter_rows())

        run_noop()  # warm
        n_tasks, t_noop, _ = timed(run_noop)
    finally:
        ray.shutdown()
    per_task = t_noop * min(ncpu, n_tasks) / n_tasks  # seconds of a worker slot per task
    o = per_task / cfg.block_size
    b_in, b_out = warm.bytes_in / n_seeds, warm.bytes_out / n_seeds
    d_ray = c_driver / n_items
    d_own = t_replay / n_items
    net = (b_in + b_out) * 8 / (args.driver_gbit * 1e9)
    serial_own, serial_ray = d_own + net, d_ray + net
    parallel = w + o

    print(f"engine scaling: {n_items} records ({n_seeds} seeds), block size {cfg.block_size},"
          f" {len(blocks)} blocks, this machine: {ncpu} CPUs")
    print(f"  local engine (baseline, 1 process): {t_local:6.2f} s  {local_rate:7.0f} records/s")
    print(f"  ray engine, {ncpu} tasks, cold workers: {t_cold:6.2f} s  {n_items / t_cold:7.0f} records/s"
          f"  ({t_local / t_cold:.2f}x local)")
    print(f"  ray engine, {ncpu} tasks, warm workers: {t_ray:6.2f} s  {n_items / t_ray:7.0f} records/s"
          f"  ({t_local / t_ray:.2f}x local)  outputs byte-identical: {same}")
    print("Ray overhead")
    print(f"  ray.init (local, {ncpu} CPUs): {t_init:.2f} s (a cluster driver joining with address=auto pays less)")
    print(f"  per block task (no-op map, {n_tasks} tasks): {per_task * 1000:.1f} ms"
          f" = {o * 1e6:.1f} us/record at block size {cfg.block_size}")
    print(f"  shipped per record: {b_in:.0f} B in (pickled block) + {b_out:.0f} B out (shard)"
          f" = {(b_in + b_out) / 1024:.1f} KiB")
    print("Measured costs per record")
    print(f"  parallel: process_block {w * 1e3:.3f} ms CPU ({1 / w:.0f} records/s per core)"
          f" + task overhead {o * 1e3:.3f} ms")
    print(f"  serial (driver): own work {d_own * 1e3:.3f} ms ({1 / d_own:.0f} records/s), of which read + filter"
          f" + dedup {t_read / n_items * 1e3:.3f} ms ({n_items / t_read:.0f} records/s); whole driver CPU during"
          f" the Ray run {d_ray * 1e3:.3f} ms ({1 / d_ray:.0f} records/s); network {net * 1e3:.4f} ms at"
          f" {args.driver_gbit:g} Gbit/s")
    print(f"Estimate for N machines x {cores} cores: worker-bound until the driver saturates at"
          f" N = {parallel / (cores * serial_own):.0f} (own work) .. {parallel / (cores * serial_ray):.0f}"
          " (whole driver CPU)")
    print(f"  {'N':>4} {'pipelined, own':>15} {'x local':>8} {'pipelined, whole':>17} {'x local':>8}"
          f" {'Amdahl, whole':>14} {'x local':>8}   (records/s)")
    for n in (1, 2, 4, 8, 16, 32, 64, 128):
        workers = n * cores / parallel
        own = min(1 / serial_own, workers)
        whole = min(1 / serial_ray, workers)
        amdahl = 1 / (serial_ray + parallel / (n * cores))
        print(f"  {n:>4} {own:>15.0f} {own / local_rate:>8.1f} {whole:>17.0f} {whole / local_rate:>8.1f}"
              f" {amdahl:>14.0f} {amdahl / local_rate:>8.1f}")
    print("  (rules only; with the LLM stage the servers' tokens/s bound the run, not these CPU costs)")


if __name__ == "__main__":
    main()
