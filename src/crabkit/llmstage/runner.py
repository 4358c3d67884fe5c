"""The stage runner: each seed's requests as its own flow, many seeds and blocks in flight at once.

Per seed (one coroutine each, no seed waits for another):

1. one request for the refined instruction and the soft constraints together (``combine``; or one
   request each, or soft constraints only when the instruction is too long to refine);
2. the measurable claims among the constraints checked by code (free), then one judge request with
   every remaining constraint of the seed, a verdict each;
3. when the judge rewrote some, one more judge request for the rewrites, accepted only if satisfied.

A seed's second request goes out the moment its first answer is read, so a server always has work
while any seed of any block in flight has some: with a concurrency of 64 and blocks of 256 seeds, a
server waits only for the last seeds of the run. Results are read by seed, never by arrival order,
and every request is deterministic (temperature 0 unless configured, the run seed in the request), so
the output does not depend on timing or on how many blocks are in flight.

:func:`run_llm_stage` runs one block to the end (the Ray engine's workers, tests);
:class:`StageRunner` keeps several blocks in flight on one event loop in a thread (the local engine).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import heapq
import itertools
import random
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crabkit import text as _text
from crabkit.backtranslate.rules import Backtranslated
from crabkit.llm.base import Backend, ChatRequest, ChatResult, Complete, run_sync
from crabkit.records import Constraint

from .config import BudgetExhausted, LLMConfig
from .dedup import dedup_constraints, use_refined
from .judge import Verdict, judge_request, parse_verdicts
from .measurable import check_measurable
from .prompts import load_json
from .refine import parse_refined, refine_request, refined_from
from .soft import SoftParse, parse_soft, refine_soft_request, soft_from, soft_request
from .soft_types import type_id

__all__ = ["CAP_ERROR", "StageResult", "StageRunner", "arun_block", "first_requests", "run_llm_stage"]

#: What the CachedBackend answers once ``max_requests`` is used up.
CAP_ERROR = "max_requests reached"

OnAnswer = Callable[[ChatRequest, ChatResult], None]


@dataclass
class StageResult:
    """Per record: the failure reason (None: the stage succeeded); and counters for stats.json.

    The answers are read on the event loop; applying them to the records (dedup, the refined
    instruction) is CPU work left to :meth:`finalize`, which the caller runs in its own thread, so
    the loop only sends and reads. ``run_llm_stage`` returns results already finalized.
    """

    failures: list[str | None]
    stats: dict[str, Any]
    _seeds: list[Any] = field(default_factory=list, repr=False)

    def finalize(self) -> StageResult:
        """Apply the accepted constraints and refinements to the records (once; idempotent)."""
        refused = [r for s in self._seeds for r in s.refused][:3]  # a few per block, in seed order
        if refused:
            self.stats["judge_refused_examples"] = refused
        for s in self._seeds:
            if s.failure is None:
                s.finish()
        self._seeds = []
        return self


def _bump(stats: dict[str, Any], group: str, key: str, n: int = 1) -> None:
    bucket = stats.setdefault(group, {})
    bucket[key] = bucket.get(key, 0) + n


def _squash(s: str) -> str:
    return " ".join(s.split())


def _refinable(item: Backtranslated, cfg: LLMConfig) -> bool:
    return cfg.refine and _text.count_words(item.seed.instruction) <= cfg.refine_max_words


def first_requests(item: Backtranslated, cfg: LLMConfig, run_seed: int) -> list[ChatRequest]:
    """The requests a seed starts with (what the dry run counts exactly)."""
    instruction, response = item.seed.instruction, item.response
    refine = _refinable(item, cfg)
    if refine and cfg.soft and cfg.combine:
        return [refine_soft_request(instruction, response, cfg, run_seed)]
    out = []
    if refine:
        out.append(refine_request(instruction, response, cfg, run_seed))
    if cfg.soft:
        out.append(soft_request(instruction, response, cfg, run_seed))
    return out


class _Seed:
    """One seed's flow through the stage."""

    def __init__(self, item: Backtranslated, cfg: LLMConfig, run_seed: int, stats: dict[str, Any], ask: Any):
        self.item, self.cfg, self.run_seed, self.stats, self.ask = item, cfg, run_seed, stats, ask
        self.failure: str | None = None
        self.refined: str | None = None
        self.candidates: list[tuple[str, str]] = []
        self.accepted: list[tuple[str, str]] = []
        self.refused: list[dict[str, str]] = []  # what the judge turned down, for the report

    def fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason

    def _read_soft(self, soft: SoftParse) -> None:
        if soft.repaired:
            _bump(self.stats, "json_repairs", "soft")
        if soft.error:
            self.fail(f"soft constraints: {soft.error}")
            return
        for name in soft.unknown:
            _bump(self.stats, "soft_types_dropped", name)
        for m in soft.mapped:
            _bump(self.stats, "soft_types_mapped", m)
        if soft.invalid:
            _bump(self.stats, "soft_items_invalid", "items", len(soft.invalid))
        self.candidates = soft.constraints

    def _read_refined(self, ref: Any) -> None:
        self.refined = ref.instruction
        if ref.repaired:
            _bump(self.stats, "json_repairs", "refine")
        if ref.reason:
            _bump(self.stats, "refine", f"rejected: {ref.reason}")

    async def first(self) -> None:
        cfg, item = self.cfg, self.item
        instruction = item.seed.instruction
        if cfg.refine and not _refinable(item, cfg):
            _bump(self.stats, "refine", "skipped: long instruction")
        requests = first_requests(item, cfg, self.run_seed)
        results = await asyncio.gather(*(self.ask(r) for r in requests))
        for request, res in zip(requests, results):
            what = {"refine_soft": "refine and soft constraints", "refine": "refine", "soft": "soft"}[request.label]
            if not res.ok:
                self.fail(f"{what} request failed: {res.error}")
                continue
            if request.label == "refine":
                self._read_refined(parse_refined(instruction, res.text))
            elif request.label == "soft":
                self._read_soft(parse_soft(res.text))
            else:
                try:
                    value, repaired = load_json(res.text)
                except ValueError as exc:
                    self._read_soft(SoftParse(error=f"unreadable answer: {exc}"))
                    continue
                if repaired:
                    _bump(self.stats, "json_repairs", "refine_soft")
                self._read_refined(refined_from(instruction, value))
                if isinstance(value, dict):
                    value = {k: v for k, v in value.items() if k != "refined_instruction"}
                self._read_soft(soft_from(value))

    def measurable_ok(self, text: str) -> bool:
        verdict = check_measurable(text, self.item.response)
        if verdict is not None:
            _bump(self.stats, "soft_measurable", "passed" if verdict else "failed")
        return verdict is not False

    async def judged(self, entries: list[tuple[str, str]], label: str) -> list[tuple[str, str, Verdict]]:
        """One request judging every (type, text) of ``entries``; the readable verdicts."""
        if not entries:
            return []
        item = self.item
        request = judge_request(item.seed.instruction, item.response, [t for _, t in entries], self.cfg,
                                self.run_seed, label)  # fmt: skip
        res = await self.ask(request)
        stat = "judge_verdicts" if label == "judge" else "rejudge_verdicts"
        if not res.ok:
            self.fail(f"{'judge' if label == 'judge' else 're-judge'} request failed: {res.error}")
            return []
        verdicts, repaired = parse_verdicts(res.text, len(entries))
        if repaired:
            _bump(self.stats, "json_repairs", label)
        out = []
        for (name, t), v in zip(entries, verdicts):
            _bump(self.stats, stat, v.label)
            if v.verdict is not None and v.label in ("not_satisfied", "not_a_restriction"):
                request = " ".join(item.seed.instruction.split())[:120]
                self.refused.append({"request": request, "constraint": t, "verdict": f"{label}: {v.label}"})
            if v.verdict is None:
                _bump(self.stats, "judge_parse_failures", v.error or "unreadable")
            out.append((name, t, v))
        return out

    async def run(self) -> None:
        await self.first()
        if self.failure is not None:
            return
        pending = [(name, t) for name, t in self.candidates if self.measurable_ok(t)]
        if not self.cfg.judge:
            self.accepted = pending
            return
        rewrites = []
        for name, t, v in await self.judged(pending, "judge"):
            if v.verdict == "satisfied":
                self.accepted.append((name, t))
            elif v.modified and _squash(v.modified) != t and self.measurable_ok(v.modified):
                rewrites.append((name, _squash(v.modified)))
        for name, t, v in await self.judged(rewrites, "rejudge"):
            if v.verdict == "satisfied":
                self.accepted.append((name, t))

    def finish(self) -> None:
        """Constraints, dedup, and whether to use the refined instruction (after :meth:`run`)."""
        it, cfg = self.item, self.cfg
        order = {name: n for n, (name, _) in enumerate(self.candidates)}
        soft = [
            Constraint(type=type_id(name), params={}, text=t, verified=cfg.judge, source="llm")
            for name, t in sorted(self.accepted, key=lambda nt: order.get(nt[0], 0))
        ]
        result = dedup_constraints(it.constraints + soft, self.refined, cfg.rouge_threshold)
        if result.dropped:
            _bump(self.stats, "soft_dedup", "dropped", len(result.dropped))
        it.constraints = result.kept
        for c in result.kept:
            if c.source == "llm":
                _bump(self.stats, "soft_constraints_by_type", c.type)
        if self.refined is not None:
            rng = random.Random(f"{self.run_seed}:{it.seed.id}:refined")
            if use_refined(result.refined_overlaps, rng):
                it.refined_instruction = self.refined
                _bump(self.stats, "refine", "used")
            else:
                _bump(self.stats, "refine", "not used: overlaps soft constraints")


#: Admission order: the round with the most rounds still to follow first (first requests, then
#: judge, then re-judge), oldest first within a round. A seed's chain of requests is then never
#: the last thing started: the run ends on short chains, not on whole ones started at the end.
_PRIORITY = {"judge": 1, "rejudge": 2}


class _Gate:
    """At most ``limit`` requests out at once, admitted by round (see ``_PRIORITY``), then in order."""

    def __init__(self, complete: Complete, limit: int) -> None:
        self.inner, self.free = complete, limit
        self.waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self.order = itertools.count()

    async def __call__(self, request: ChatRequest) -> ChatResult:
        if self.free > 0 and not self.waiting:
            self.free -= 1
        else:
            ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self.waiting, (_PRIORITY.get(request.label, 0), next(self.order), ticket))
            try:
                await ticket
            except asyncio.CancelledError:
                if ticket.done() and not ticket.cancelled():
                    self._release()  # admitted and cancelled at once: hand the slot on
                raise
        try:
            return await self.inner(request)
        finally:
            self._release()

    def _release(self) -> None:
        while self.waiting:
            _, _, ticket = heapq.heappop(self.waiting)
            if not ticket.done():
                ticket.set_result(None)
                return
        self.free += 1


def _limit(cfg: LLMConfig) -> int:
    """Requests out at once: a server's concurrency; in-process engines batch what is waiting."""
    return cfg.concurrency if cfg.backend == "openai" else 1 << 16


async def arun_block(
    items: list[Backtranslated], complete: Complete, cfg: LLMConfig, run_seed: int, on_answer: OnAnswer | None = None
) -> StageResult:
    """The stage for one block, every seed's flow at once through ``complete`` (a backend session).

    Once :meth:`StageResult.finalize` has run, successful records have their soft constraints
    appended to ``constraints`` and, when used, ``refined_instruction`` set; failed records are left
    untouched. Raises ``BudgetExhausted`` when
    ``max_requests`` ran out (nothing of the block is kept then; its answers are in the cache).
    """
    stats: dict[str, Any] = {}
    capped = False

    async def ask(request: ChatRequest) -> ChatResult:
        nonlocal capped
        result = await complete(request)
        if result.error == CAP_ERROR:
            capped = True
        if on_answer is not None:
            on_answer(request, result)
        return result

    seeds = [_Seed(it, cfg, run_seed, stats, ask) for it in items]
    tasks = [asyncio.ensure_future(s.run()) for s in seeds]
    try:
        await asyncio.gather(*tasks)
    except BaseException:  # one seed's fatal error (a dead server) or a cancel: stop the others too
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    if capped:
        raise BudgetExhausted("--max-requests reached; rerun with a higher cap to continue (answers are cached)")
    failures = [s.failure for s in seeds]
    stats["llm_failures"] = sum(f is not None for f in failures)
    return StageResult(failures, stats, seeds)


def run_llm_stage(items: list[Backtranslated], backend: Backend, cfg: LLMConfig, run_seed: int) -> StageResult:
    """Refine, soft constraints, judge, re-judge and dedup for one block, to the end."""

    async def go() -> StageResult:
        async with backend.session() as complete:
            return await arun_block(items, _Gate(complete, _limit(cfg)), cfg, run_seed)

    return run_sync(go()).finalize()


class StageRunner:
    """Blocks' LLM stages in flight at once, on one event loop (in a thread) and one backend session.

    :meth:`submit` returns a future per block; the caller takes them in block order and bounds how
    many are out (``LLMConfig.blocks_in_flight``), which bounds memory. :meth:`close` cancels what
    is still running and closes the session.
    """

    def __init__(self, backend: Backend, cfg: LLMConfig, run_seed: int, on_answer: OnAnswer | None = None) -> None:
        self.cfg, self.run_seed, self.on_answer = cfg, run_seed, on_answer
        # The caller's thread does CPU work (the rules of the next blocks) while this loop waits on
        # sockets; a shorter GIL switch interval (5 ms by default) lets the loop answer each socket
        # within a fraction of a millisecond instead of up to 5, which is what keeps a server busy.
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch, 0.0005))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="crab-llm-stage", daemon=True)
        self.thread.start()
        self._session = backend.session()
        self._futures: list[concurrent.futures.Future[StageResult]] = []
        try:
            self.complete: Complete = self._call(self._enter(backend, _limit(cfg)))
        except BaseException:
            self._stop()
            raise

    async def _enter(self, backend: Backend, limit: int) -> Complete:
        return _Gate(await self._session.__aenter__(), limit)

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def submit(self, items: list[Backtranslated]) -> concurrent.futures.Future[StageResult]:
        future = asyncio.run_coroutine_threadsafe(
            arun_block(items, self.complete, self.cfg, self.run_seed, self.on_answer), self.loop
        )
        self._futures = [f for f in self._futures if not f.done()] + [future]
        return future

    def _stop(self) -> None:
        async def cancel_the_rest() -> None:
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in rest:
                t.cancel()
            await asyncio.gather(*rest, return_exceptions=True)
            await self.loop.shutdown_asyncgens()

        try:
            asyncio.run_coroutine_threadsafe(cancel_the_rest(), self.loop).result(timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join()
            self.loop.close()
            sys.setswitchinterval(self._switch)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        for f in self._futures:
            f.cancel()
        try:
            concurrent.futures.wait(self._futures, timeout=30)
            self._call(self._session.__aexit__(None, None, None))
        finally:
            self._stop()
