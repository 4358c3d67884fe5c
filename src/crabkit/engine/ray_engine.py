"""Run :func:`crabkit.pipeline.process_block` on Ray Data: same blocks, same bytes, many machines.

The driver (``crab generate`` on the head node) still reads and filters the input (dedup is global)
and cuts it into the local engine's blocks. A window of blocks at a time becomes a Ray dataset
with one row per block (``ray.data.from_items``, one Ray block per row) and
``Dataset.map(_run_block)`` runs them on the cluster. Each finished block comes back to the driver
as its rendered output, which the driver writes to ``RUN_DIR/shards/block-NNNNNNNN.json``
(atomically) and then commits in block order exactly as the local engine would. So:

* outputs are byte-identical to ``--engine local`` (the same ``process_block``, the same block
  indices, the same commit code, mix step included);
* a rerun after a crash resumes from ``state.json`` like a local run, and blocks whose shard
  survived are not run again (a shard carries the run's fingerprint; a stale one is ignored).
  Shards are deleted once their block is committed (``keep_shards=True`` keeps them);
* outputs travel task -> driver through Ray's object store, so RUN_DIR only needs to be on the
  driver's disk. The LLM response caches are written by the tasks: one SQLite file per block,
  ``RUN_DIR/llm_cache/block-NNNNNNNN.sqlite`` (one writer each, so safe even on NFS), or the
  ``--llm-cache`` file if given (then keep it on local disk of a single node: SQLite locking is not
  reliable on network file systems). For a crashed multi-node job to reuse answers of blocks that
  were in flight, RUN_DIR must be on storage every node sees; otherwise they are asked again.

``--max-requests`` is refused: each task has its own backend, so a run-wide cap would need a
shared counter. The openai backend spreads each task's requests over all ``--base-url`` servers.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

from crabkit.llm.cache import add_usage
from crabkit.pipeline import Block, BlockOutput, GenerateConfig, process_block

__all__ = ["RayEngine", "shard_path"]

SHARDS = "shards"
LLM_CACHE_DIR = "llm_cache"


def shard_path(run_dir: Path, index: int) -> Path:
    return run_dir / SHARDS / f"block-{index:08d}.json"


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # the data extra, not only ray core
    except ImportError as exc:
        raise ImportError(
            f"--engine ray needs Ray Data: pip install 'crabkit[scale]' ({exc})"
        ) from None
    return ray


def _run_block(row: dict[str, Any], cfg: GenerateConfig, run_dir: str, fingerprint: str) -> dict[str, Any]:
    """The Ray task: one pipeline block in, its shard text (and LLM usage) out."""
    block: Block = pickle.loads(row["block"])
    backend = None
    if cfg.llm.enabled:
        from crabkit.llmstage import build_backend

        cache = cfg.llm.cache or str(Path(run_dir) / LLM_CACHE_DIR / f"block-{block.index:08d}.sqlite")
        backend = build_backend(dataclasses.replace(cfg.llm, cache=cache), run_dir)
    try:
        out = process_block(block, cfg, backend)
    finally:
        if backend is not None:
            backend.close()
    usage = backend.stats.to_json() if backend is not None else {}
    shard = json.dumps({"fingerprint": fingerprint, **out.to_json()}, ensure_ascii=False)
    return {"index": block.index, "shard": shard, "usage": json.dumps(usage)}


def _write_atomic(path: Path, text: str) -> None:
    # No fsync: a shard cut short by a power loss fails to parse and its block is simply run
    # again, while an fsync per block would sit on the driver's serial path.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class RayEngine:
    """Process blocks on a Ray cluster (``address``: ``"auto"``, ``"ray://head:10001"``, or None
    to join the current Ray session or start a local one).

    ``concurrency``: block tasks in flight at once (default: as many as the cluster has CPUs).
    ``num_cpus``: CPUs reserved per task (lower it, e.g. 0.25, when the LLM stage dominates and
    tasks mostly wait on servers). ``window_blocks``: blocks handed to Ray per dataset, which bounds
    the driver's memory (about ``window_blocks * block_size`` seeds).
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        concurrency: int | None = None,
        num_cpus: float = 1.0,
        window_blocks: int = 256,
        keep_shards: bool = False,
    ) -> None:
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"ray concurrency must be >= 1, got {concurrency}")
        if window_blocks < 1:
            raise ValueError(f"window_blocks must be >= 1, got {window_blocks}")
        self.address = address
        self.concurrency = concurrency
        self.num_cpus = num_cpus
        self.window_blocks = window_blocks
        self.keep_shards = keep_shards
        # What the last map_blocks did (for summaries, tests and benchmarks).
        self.blocks_run = 0
        self.blocks_reused = 0
        self.bytes_in = 0  # pickled blocks shipped to tasks
        self.bytes_out = 0  # shard text shipped back
        self._usage: dict[str, Any] = {}

    def llm_usage(self) -> dict[str, Any] | None:
        """LLM request counters summed over the blocks run by this engine (None: no LLM stage)."""
        return dict(self._usage) if self._usage else None

    def _connect(self, ray: Any) -> bool:
        """Join or start Ray; True when this engine started it (and so shuts it down)."""
        if ray.is_initialized():
            return False
        ray.init(address=self.address, include_dashboard=False, log_to_driver=True)
        return True

    def map_blocks(
        self, blocks: Iterable[Block], cfg: GenerateConfig, run_dir: Path, fingerprint: str
    ) -> Iterator[BlockOutput]:
        """Yield each block's output in block order; run on Ray what no valid shard holds."""
        if cfg.llm.enabled and cfg.llm.max_requests is not None:
            raise ValueError("--max-requests is not supported with --engine ray (each block task has its own backend)")
        if cfg.llm.enabled and cfg.llm.backend in ("local", "vllm"):
            raise ValueError(
                f"--llm {cfg.llm.backend} would load a model in every block task; with --engine ray serve the model "
                "with vLLM and use --llm openai --base-url http://NODE:8000/v1 (repeatable)"
            )
        ray = _import_ray()
        (run_dir / SHARDS).mkdir(parents=True, exist_ok=True)
        self.blocks_run = self.blocks_reused = self.bytes_in = self.bytes_out = 0
        self._usage = {}
        started = self._connect(ray)
        # The next window is read (and filtered, deduped) in a thread while Ray runs this one, so
        # the driver's serial reading overlaps the cluster's work instead of adding to it.
        pool = ThreadPoolExecutor(1, thread_name_prefix="crab-read")
        try:
            it = iter(blocks)

            def next_window() -> list[Block]:
                return list(islice(it, self.window_blocks))

            ahead = pool.submit(next_window)
            while window := ahead.result():
                ahead = pool.submit(next_window)
                yield from self._window(ray, window, cfg, run_dir, fingerprint)
            if not self.keep_shards:
                try:
                    (run_dir / SHARDS).rmdir()
                except OSError:
                    pass  # not empty: a shard of another configuration, left for the user to judge
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if started:
                ray.shutdown()

    def _load(self, run_dir: Path, index: int, fingerprint: str) -> BlockOutput | None:
        path = shard_path(run_dir, index)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing, or cut short by a crash: run the block again
        if d.get("fingerprint") != fingerprint or d.get("index") != index:
            return None
        return BlockOutput.from_json(d)

    def _window(
        self, ray: Any, window: list[Block], cfg: GenerateConfig, run_dir: Path, fingerprint: str
    ) -> Iterator[BlockOutput]:
        todo = [b for b in window if self._load(run_dir, b.index, fingerprint) is None]
        self.blocks_reused += len(window) - len(todo)
        done = {b.index for b in window} - {b.index for b in todo}
        order = [b.index for b in window]
        pos = 0
        fresh: dict[int, BlockOutput] = {}  # a block received next in order: committed without re-reading

        def drain() -> Iterator[BlockOutput]:
            # Blocks finish in any order; they are committed in block order, from their shards.
            nonlocal pos
            while pos < len(order) and order[pos] in done:
                out = fresh.pop(order[pos], None) or self._load(run_dir, order[pos], fingerprint)
                if out is None:
                    raise RuntimeError(f"shard of block {order[pos]} vanished from {run_dir / SHARDS}")
                yield out  # the driver commits and checkpoints before this generator resumes
                if not self.keep_shards:
                    shard_path(run_dir, order[pos]).unlink(missing_ok=True)
                pos += 1

        yield from drain()
        if todo:
            for row in self._dataset(ray, todo, cfg, run_dir, fingerprint).iter_rows():
                index = int(row["index"])
                _write_atomic(shard_path(run_dir, index), row["shard"])
                if index == order[pos]:
                    fresh[index] = BlockOutput.from_json(json.loads(row["shard"]))
                self.bytes_out += len(row["shard"].encode("utf-8"))
                add_usage(self._usage, json.loads(row["usage"]))
                self.blocks_run += 1
                done.add(index)
                yield from drain()
        if pos != len(order):
            raise RuntimeError(f"Ray returned {pos} of {len(order)} blocks of a window")

    def _dataset(self, ray: Any, todo: list[Block], cfg: GenerateConfig, run_dir: Path, fingerprint: str) -> Any:
        items = [{"index": b.index, "block": pickle.dumps(b, protocol=pickle.HIGHEST_PROTOCOL)} for b in todo]
        self.bytes_in += sum(len(i["block"]) for i in items)
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # the driver shows its own records/s bar
        size = min(self.concurrency, len(items)) if self.concurrency else None
        compute = ray.data.TaskPoolStrategy(size=size) if size else None
        # One Ray block per pipeline block, so every pipeline block is its own task.
        ds = ray.data.from_items(items, override_num_blocks=len(items))
        return ds.map(
            _run_block,
            fn_kwargs={"cfg": cfg, "run_dir": str(run_dir), "fingerprint": fingerprint},
            compute=compute,
            num_cpus=self.num_cpus,
        )
