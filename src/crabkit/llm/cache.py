"""An SQLite response cache and the backend wrapper that uses it, so no request is paid for twice.

:class:`CachedBackend` looks every request up by :meth:`ChatRequest.cache_key`, sends only the
missing ones (each distinct request once), and stores the answers as they arrive (:meth:`generate`:
each at once; :meth:`CachedBackend.session`: in transactions of up to 64 answers or half a second),
so a run killed mid-batch keeps what was finished, and the rerun sends only the rest. Only successful
answers are stored, so failures are retried on the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import math
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crabkit.llm.base import Backend, ChatRequest, ChatResult, Complete, OnResult

__all__ = ["CacheStats", "CachedBackend", "ResponseCache", "add_usage"]

# Stay under SQLite's bound-parameter limit (999 on old builds).
_CHUNK = 500


class ResponseCache:
    """Key -> successful :class:`ChatResult`, in one SQLite file (WAL, safe for several processes).

    >>> cache = ResponseCache(":memory:")
    >>> cache.put("k", ChatResult(text="hi"))
    >>> cache.get("k").text
    'hi'
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: every put is durable on its own, so a kill loses at most the answer in flight.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, result TEXT NOT NULL, created REAL NOT NULL)"
        )

    def get_many(self, keys: Iterable[str]) -> dict[str, ChatResult]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, ChatResult] = {}
        with self._lock:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, result FROM responses WHERE key IN ({marks})", chunk)
                for key, blob in rows:
                    found[key] = ChatResult.from_json({**json.loads(blob), "cached": True, "key": key})
        return found

    def get(self, key: str) -> ChatResult | None:
        return self.get_many([key]).get(key)

    def put(self, key: str, result: ChatResult) -> bool:
        """Store ``result`` under ``key`` if it succeeded; return whether it was stored."""
        if not result.ok:
            return False
        blob = {k: v for k, v in result.to_json().items() if k not in ("cached", "key", "error")}
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, result, created) VALUES (?, ?, ?)",
                (key, json.dumps(blob, ensure_ascii=False), time.time()),
            )
        return True

    def put_many(self, items: Sequence[tuple[str, ChatResult]]) -> int:
        """Store the successful results of ``items`` in one transaction; return how many."""
        rows = [
            (key, json.dumps({k: v for k, v in r.to_json().items() if k not in ("cached", "key", "error")},
                             ensure_ascii=False), time.time())
            for key, r in items if r.ok
        ]  # fmt: skip
        if rows:
            with self._lock:
                self._db.execute("BEGIN")
                try:
                    self._db.executemany("INSERT OR REPLACE INTO responses (key, result, created) VALUES (?, ?, ?)", rows)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
        return len(rows)

    def keys(self) -> set[str]:
        """Every key held (what a session checks first, so a miss costs no query)."""
        with self._lock:
            return {k for (k,) in self._db.execute("SELECT key FROM responses")}

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass
class CacheStats:
    """What a :class:`CachedBackend` did. ``misses`` counts requests not in the cache; ``sent`` the
    distinct ones handed to the inner backend; ``est_prompt_tokens`` (chars/4) covers what was sent,
    or in a dry run what would have been."""

    hits: int = 0
    misses: int = 0
    sent: int = 0
    failed: int = 0
    capped: int = 0
    est_prompt_tokens: int = 0
    #: Per request label (the stage's step): requests sent, answered from the cache, failed, and
    #: the server's ``usage`` summed over the answers sent (``est_prompt_tokens``: chars/4).
    stages: dict[str, dict[str, int]] = field(default_factory=dict)

    def stage(self, label: str) -> dict[str, int]:
        return self.stages.setdefault(label or "other", dict.fromkeys(STAGE_FIELDS, 0))

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["stages"] = {k: dict(v) for k, v in sorted(self.stages.items())}
        d["prompt_tokens"] = sum(v["prompt_tokens"] for v in self.stages.values())
        d["completion_tokens"] = sum(v["completion_tokens"] for v in self.stages.values())
        return d


def add_usage(total: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    """Add one :meth:`CacheStats.to_json` into ``total`` (counters and per-stage counters summed)."""
    for key, value in usage.items():
        if isinstance(value, dict):
            add_usage(total.setdefault(key, {}), value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            total[key] = total.get(key, 0) + value
    return total


STAGE_FIELDS = ("requests", "cached", "failed", "prompt_tokens", "completion_tokens", "est_prompt_tokens")


class CachedBackend(Backend):
    """Wraps a backend with a :class:`ResponseCache`.

    ``dry_run``: send nothing; count what would be sent (results carry an error saying so).
    ``max_requests``: send at most this many new requests over the wrapper's life; the rest get the
    error ``"max_requests reached"``.
    """

    name = "cached"

    def __init__(
        self,
        inner: Backend,
        cache: ResponseCache | str | Path | None = None,
        *,
        dry_run: bool = False,
        max_requests: int | None = None,
    ) -> None:
        self.inner = inner
        self.model = inner.model
        self.cache = cache if isinstance(cache, ResponseCache) else ResponseCache(cache or ":memory:")
        self.dry_run, self.max_requests = dry_run, max_requests
        self.stats = CacheStats()

    def __repr__(self) -> str:
        return f"CachedBackend({self.inner!r}, cache={self.cache.path!r}, dry_run={self.dry_run})"

    def resolve(self, request: ChatRequest) -> ChatRequest:
        return self.inner.resolve(request)

    def generate(
        self, requests: Sequence[ChatRequest], on_result: OnResult | None = None
    ) -> list[ChatResult]:
        requests = [self.resolve(r) for r in requests]
        keys = [r.cache_key() for r in requests]
        results: list[ChatResult | None] = [None] * len(requests)

        def finish(i: int, result: ChatResult) -> None:
            results[i] = result
            if on_result is not None:
                on_result(i, result)

        found = self.cache.get_many(keys)
        waiting: dict[str, list[int]] = {}  # key -> indices of the requests that want its answer
        for i, key in enumerate(keys):
            if key in found:
                self.stats.hits += 1
                self.stats.stage(requests[i].label)["cached"] += 1
                finish(i, found[key])
            else:
                self.stats.misses += 1
                waiting.setdefault(key, []).append(i)

        to_send = list(waiting)
        if self.max_requests is not None:
            room = max(0, self.max_requests - self.stats.sent)
            for key in to_send[room:]:
                self.stats.capped += len(waiting[key])
                for i in waiting[key]:
                    finish(i, ChatResult(error="max_requests reached", key=key))
            to_send = to_send[:room]

        batch = [requests[waiting[key][0]] for key in to_send]
        for r in batch:
            self._estimate(r)
        if self.dry_run:
            for key in to_send:
                for i in waiting[key]:
                    finish(i, ChatResult(error="dry run: not sent", key=key))
            return [r for r in results if r is not None]  # all filled by now

        def store(j: int, result: ChatResult) -> None:
            key = to_send[j]
            self._store(batch[j], key, result)
            for n, i in enumerate(waiting[key]):
                finish(i, result if n == 0 else dataclasses.replace(result))

        self.stats.sent += len(batch)
        for r in batch:
            self.stats.stage(r.label)["requests"] += 1
        if batch:
            answered = self.inner.generate(batch, on_result=store)
            # Backends that ignore on_result still get their answers stored.
            for j, result in enumerate(answered):
                if results[waiting[to_send[j]][0]] is None:
                    store(j, result)
        return [r if r is not None else ChatResult(error="no result", key=k) for r, k in zip(results, keys)]

    def _estimate(self, request: ChatRequest) -> None:
        estimate = math.ceil(request.prompt_chars() / 4)
        self.stats.est_prompt_tokens += estimate
        self.stats.stage(request.label)["est_prompt_tokens"] += estimate

    def _store(self, request: ChatRequest, key: str, result: ChatResult) -> None:
        result.key = key
        self.cache.put(key, result)
        self._count(request, result)

    def _count(self, request: ChatRequest, result: ChatResult) -> None:
        stage = self.stats.stage(request.label)
        if not result.ok:
            self.stats.failed += 1
            stage["failed"] += 1
        stage["prompt_tokens"] += result.prompt_tokens
        stage["completion_tokens"] += result.completion_tokens

    #: A session writes answers in batches of this many (or every ``FLUSH_S`` seconds), one
    #: transaction each: a kill loses at most that much (asked again on the rerun).
    FLUSH_EVERY, FLUSH_S = 64, 0.5

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Complete]:
        """The cache in front of the inner backend's session: each request is looked up (the keys
        held are read once, so a miss costs no query), equal requests in flight at once are sent
        once, answers are stored as they arrive (in small transactions, see ``FLUSH_EVERY``)."""
        in_flight: dict[str, asyncio.Future[ChatResult]] = {}
        known = self.cache.keys()
        unsaved: dict[str, tuple[ChatRequest, ChatResult]] = {}
        last_flush = time.monotonic()

        def flush() -> None:
            nonlocal last_flush
            last_flush = time.monotonic()
            if not unsaved:
                return
            items = list(unsaved.items())
            self.cache.put_many([(k, r) for k, (_, r) in items])
            known.update(k for k, _ in items)
            unsaved.clear()

        def lookup(key: str) -> ChatResult | None:
            if key in unsaved and unsaved[key][1].ok:
                return dataclasses.replace(unsaved[key][1], cached=True)
            return self.cache.get(key) if key in known else None

        async def answer(inner: Complete | None, request: ChatRequest) -> ChatResult:
            request = self.resolve(request)
            key = request.cache_key()
            if key in in_flight:
                self.stats.hits += 1
                self.stats.stage(request.label)["cached"] += 1
                return dataclasses.replace(await asyncio.shield(in_flight[key]))
            found = lookup(key)
            if found is not None:
                self.stats.hits += 1
                self.stats.stage(request.label)["cached"] += 1
                return found
            self.stats.misses += 1
            if self.max_requests is not None and self.stats.sent >= self.max_requests:
                self.stats.capped += 1
                return ChatResult(error="max_requests reached", key=key)
            self._estimate(request)
            if inner is None:
                return ChatResult(error="dry run: not sent", key=key)
            self.stats.sent += 1
            self.stats.stage(request.label)["requests"] += 1
            future: asyncio.Future[ChatResult] = asyncio.get_running_loop().create_future()
            in_flight[key] = future
            try:
                result = await inner(request)
            except BaseException as e:
                future.set_exception(e)
                future.exception()  # retrieved: waiters re-raise it, nobody else needs to
                raise
            finally:
                in_flight.pop(key, None)
            self._count(request, result)
            result.key = key
            if result.ok:
                unsaved[key] = (request, result)
                if len(unsaved) >= self.FLUSH_EVERY or time.monotonic() - last_flush > self.FLUSH_S:
                    flush()
            future.set_result(result)
            return result

        if self.dry_run:

            async def dry(request: ChatRequest) -> ChatResult:
                return await answer(None, request)

            yield dry
            return
        try:
            async with self.inner.session() as inner:

                async def complete(request: ChatRequest) -> ChatResult:
                    return await answer(inner, request)

                yield complete
        finally:
            flush()

    def close(self) -> None:
        self.inner.close()
        self.cache.close()
