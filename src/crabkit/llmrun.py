"""The driver's side of the LLM stage: the backend a run uses, several blocks in flight in the local
engine, ``llm_usage.json``, and the dry run (``crab generate --dry-run``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from crabkit.backtranslate.rules import Backtranslated
from crabkit.blocks import Block, BlockOutput, cut_blocks, finish_block, prepare
from crabkit.pipeline import LLM_USAGE, GenerateConfig, _atomic_write, _items
from crabkit.store import SeedStore

__all__ = ["llm_backend", "pipelined", "plan_llm_requests", "write_llm_usage"]


def llm_backend(cfg: GenerateConfig, out: Path, backend: Any) -> Any:
    from crabkit.llm import CachedBackend
    from crabkit.llmstage import build_backend

    if backend is None:
        return build_backend(cfg.llm, out)
    if isinstance(backend, CachedBackend):
        return backend
    return CachedBackend(backend, cfg.llm.cache_path(out), max_requests=cfg.llm.max_requests)


def pipelined(blocks: Iterable[Block], cfg: GenerateConfig, backend: Any, bar: Any) -> Iterator[BlockOutput]:
    """The local engine with an LLM stage: ``blocks_in_flight`` blocks' requests run at once (the
    rules of the next block run while the server answers), outputs yielded in block order.

    A block that is done waits for the blocks before it (outputs go out in order) without holding
    back new work: the next block is started as soon as fewer than ``blocks_in_flight`` are still
    running, up to four times that many held in memory.
    """
    import concurrent.futures
    from collections import deque

    from crabkit.llmstage import StageRunner

    running_cap, held_cap = cfg.llm.blocks_in_flight, 4 * cfg.llm.blocks_in_flight
    runner = StageRunner(backend, cfg.llm, cfg.seed, on_answer=bar.answered)
    window: deque[tuple[Block, list[Backtranslated], Any]] = deque()

    def ready() -> Iterator[BlockOutput]:
        while window and window[0][2].done():
            done, results, future = window.popleft()
            yield finish_block(done, cfg, results, future.result())

    def wait_for_room() -> Iterator[BlockOutput]:
        while True:
            yield from ready()
            running = [f for _, _, f in window if not f.done()]
            if len(running) < running_cap and len(window) < held_cap:
                return
            concurrent.futures.wait(running or [window[0][2]], return_when=concurrent.futures.FIRST_COMPLETED)

    try:
        # The next block's rules run while the running blocks wait on the server, so it is ready
        # the moment there is room for it.
        upcoming = iter(blocks)
        block = next(upcoming, None)
        results = prepare(block, cfg) if block is not None else []
        while block is not None:
            yield from wait_for_room()
            window.append((block, results, runner.submit(results)))
            block = next(upcoming, None)
            results = prepare(block, cfg) if block is not None else []
        while window:
            concurrent.futures.wait([window[0][2]])
            yield from ready()
    finally:
        runner.close()


def write_llm_usage(out: Path, backend: Any) -> None:
    inner = getattr(backend, "inner", backend)
    usage = {"backend": inner.name, "model": inner.model, **backend.stats.to_json()}
    _atomic_write(out / LLM_USAGE, json.dumps(usage, indent=2, sort_keys=True) + "\n")


def plan_llm_requests(
    cfg: GenerateConfig, out_dir: str | Path, *, price_in: float | None = None, price_out: float | None = None
) -> dict[str, Any]:
    """What the LLM stage of this run would send, per step, without sending anything or writing
    outputs (see :mod:`crabkit.llmstage.plan`); with prices per million tokens, what it would cost."""
    from crabkit.llmstage import build_backend
    from crabkit.llmstage.plan import plan_stage

    cfg.llm.validate()
    if not cfg.llm.enabled:
        raise ValueError("--dry-run needs an LLM backend (--llm openai|local|vllm|scripted)")
    backend = build_backend(cfg.llm, out_dir, dry_run=True)  # sends nothing; its cache is the run's

    def cached(request: Any) -> bool:
        return backend.cache.get(backend.resolve(request).cache_key()) is not None

    def prepared() -> Iterator[Backtranslated]:
        with SeedStore() as store:
            store.extend(_items(cfg))
            for block in cut_blocks(store.ordered(), 0, cfg.block_size):
                # The same rules and edits as the run, so the first requests are the ones it would send.
                yield from prepare(block, cfg)

    try:
        plan = plan_stage(prepared(), cfg.llm, cfg.seed, cached)
    finally:
        backend.close()
    return plan.to_json(price_in, price_out)
