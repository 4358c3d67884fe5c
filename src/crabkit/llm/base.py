"""The backend protocol: a chat request, its result, and the tiny abstract class backends implement.

A backend turns a batch of :class:`ChatRequest` into one :class:`ChatResult` per request, in order.
Per-request failures never raise: the result carries ``error`` instead, so a batch always comes back
whole, unless the backend cannot work at all (:class:`BackendUnavailable`). Backends override either :meth:`Backend.generate` (sync engines) or :meth:`Backend.agenerate`
(network clients); the base class derives the other.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import dataclasses
import hashlib
from abc import ABC
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from crabkit.records import Message, dumps

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "Backend", "BackendUnavailable", "ChatRequest", "ChatResult", "Complete", "OnResult", "run_sync",
    "schema_instruction",
]  # fmt: skip


class BackendUnavailable(RuntimeError):
    """A failure no retry can fix (a refused key, an unknown model, no server reachable at all): the
    batch stops and the caller stops the run, which a plain rerun continues once it is fixed."""

# Bump when the meaning of a cached answer changes (request fields, normalisation).
_KEY_VERSION = "crabkit-chat-v1"

OnResult = Callable[[int, "ChatResult"], None]
#: What :meth:`Backend.session` yields: answers one request (awaited), as soon as it can.
Complete = Callable[["ChatRequest"], Awaitable["ChatResult"]]
"""Called once per request as soon as its result is final: ``on_result(index, result)``."""

T = TypeVar("T")


def _message_dict(m: Any, i: int) -> dict[str, str]:
    if isinstance(m, Message):
        return {"role": m.role, "content": m.content}
    if isinstance(m, Mapping) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str):
        return {"role": m["role"], "content": m["content"]}
    raise ValueError(f"ChatRequest.messages[{i}]: expected {{'role': str, 'content': str}}, got {m!r:.80}")


@dataclass
class ChatRequest:
    """One chat completion to make. Every field that can change the answer is part of :meth:`cache_key`.

    ``messages`` takes dicts with ``role`` and ``content`` (or :class:`~crabkit.records.Message`).
    ``model`` may be left empty for the backend to fill in. ``json_schema`` asks for JSON matching a
    schema; ``extra`` holds server-specific sampling options (``top_k``, ``repetition_penalty``...).
    """

    messages: list[dict[str, str]]
    model: str = ""
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int | None = None
    seed: int | None = None
    stop: list[str] | None = None
    json_schema: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: What the request is for (a pipeline step: usage is counted per label). Not sent, not part
    #: of the cache key: equal requests share an answer whatever they are labelled.
    label: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.messages, (str, bytes)) or not self.messages:
            raise ValueError("ChatRequest.messages: expected a non-empty list of messages")
        self.messages = [_message_dict(m, i) for i, m in enumerate(self.messages)]
        # 0 and 0.0 must give the same key
        self.temperature, self.top_p = float(self.temperature), float(self.top_p)
        if isinstance(self.stop, str):
            self.stop = [self.stop]

    def to_json(self) -> dict[str, Any]:
        # Shallow on purpose: asdict() deep-copies, which was a tenth of the client's CPU per request.
        return {name: getattr(self, name) for name in _REQUEST_FIELDS}

    def cache_key(self) -> str:
        """sha256 of the canonical JSON of the request: equal requests share one cached answer.

        Where the request is sent (base URL, API key) is deliberately not part of it.
        """
        memo = self.__dict__.get("_key_memo")
        if memo is not None and memo[0] == self.model:  # computed once per request (and model)
            return memo[1]
        key = hashlib.sha256(f"{_KEY_VERSION}\n{dumps(self.to_json())}".encode()).hexdigest()
        self.__dict__["_key_memo"] = (self.model, key)
        return key

    def prompt_chars(self) -> int:
        return sum(len(m["content"]) for m in self.messages)


_REQUEST_FIELDS = tuple(f.name for f in dataclasses.fields(ChatRequest) if f.name != "label")


@dataclass
class ChatResult:
    """The answer to one request, or why there is none (``error`` set, ``text`` empty)."""

    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    error: str | None = None
    cached: bool = False
    key: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ChatResult:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def failure(cls, request: ChatRequest, error: str) -> ChatResult:
        return cls(error=error, key=request.cache_key())


def schema_instruction(schema: Mapping[str, Any]) -> str:
    """A system-prompt line asking for JSON, for engines that cannot constrain decoding to a schema."""
    return "Answer with a single JSON object, and nothing else, that matches this JSON schema:\n" + dumps(
        schema
    )


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when the caller already runs an event loop
    (a notebook): then it runs on a private loop in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Backend(ABC):
    """The extension point: override :meth:`generate` or :meth:`agenerate` (or both).

    ``model`` is filled into requests that leave it empty (see :meth:`resolve`), before cache keys
    are taken, so answers of different models never share a key.
    """

    name: str = "backend"
    model: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.generate is Backend.generate and cls.agenerate is Backend.agenerate:
            raise TypeError(f"{cls.__name__} must override generate() or agenerate()")

    def resolve(self, request: ChatRequest) -> ChatRequest:
        if request.model or not self.model:
            return request
        # A shallow copy, not dataclasses.replace: the request is already normalised, and running
        # __post_init__ again was most of this call's cost.
        resolved = copy.copy(request)
        resolved.model = self.model
        return resolved

    def generate(
        self, requests: Sequence[ChatRequest], on_result: OnResult | None = None
    ) -> list[ChatResult]:
        """Answer ``requests`` in order; ``on_result`` sees each result as it completes."""
        return run_sync(self.agenerate(requests, on_result))

    async def agenerate(
        self, requests: Sequence[ChatRequest], on_result: OnResult | None = None
    ) -> list[ChatResult]:
        """Async form of :meth:`generate`."""
        return await asyncio.to_thread(self.generate, requests, on_result)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Complete]:
        """Answer requests one by one as callers await them, on the running event loop.

        Callers (one coroutine per seed) need not wait for each other: a server backend overrides
        this to keep its connections busy. This default gathers the requests that arrive while a
        batch runs into the next :meth:`agenerate` batch, one batch at a time, so in-process models
        still decode in batches and are never entered twice at once.
        """
        batcher = _Batcher(self)
        try:
            yield batcher.complete
        finally:
            await batcher.drain()

    def close(self) -> None:
        """Release models, connections or files. Safe to call twice."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Batcher:
    """Requests awaited one at a time, answered in batches by ``backend.agenerate``, one batch at once."""

    def __init__(self, backend: Backend, max_batch: int = 256) -> None:
        self.backend, self.max_batch = backend, max_batch
        self.pending: list[tuple[ChatRequest, asyncio.Future[ChatResult]]] = []
        self.task: asyncio.Task[None] | None = None

    async def complete(self, request: ChatRequest) -> ChatResult:
        future: asyncio.Future[ChatResult] = asyncio.get_running_loop().create_future()
        self.pending.append((request, future))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        await asyncio.sleep(0)  # the callers woken with this one add their requests first
        while self.pending:
            batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
            try:
                results = await self.backend.agenerate([r for r, _ in batch])
                if len(results) != len(batch):  # a backend bug: never shift answers onto other requests
                    raise RuntimeError(f"{self.backend!r} returned {len(results)} results for {len(batch)} requests")
            except BaseException as e:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(e)
                if not isinstance(e, Exception):
                    raise
                continue
            for (_, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)

    async def drain(self) -> None:
        if self.task is not None and not self.task.done():
            await asyncio.gather(self.task, return_exceptions=True)
