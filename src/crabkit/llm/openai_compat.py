"""Client for any OpenAI-compatible ``/v1/chat/completions`` endpoint (vLLM, SGLang, llama.cpp, hosted).

The protocol is one POST, so the transport is :mod:`crabkit.llm.http`, a small keep-alive HTTP/1.1
client (httptools parses the answers). Against a loopback stub answering after 50 ms with 64
requests in flight (``bench/llm_client.py``) it needs ~170 us of client CPU per request where plain
aiohttp needs ~270 and the openai SDK ~2,000, which keeps one event loop at ~93% of the Little's-law
limit instead of ~89%. (pyreqwest, a Rust client, was as fast but aborted the interpreter at exit in
a third of short runs.) Proxy variables are not read; TLS trusts the system's certificates or
``SSL_CERT_FILE``.

Requests run on a pool of workers under an adaptive in-flight limit (AIMD: halve on throttling, grow
by one per window of successes). Each attempt goes to the next base URL round-robin; 429, 408, 5xx,
timeouts, dropped connections and unreadable bodies are retried with exponential backoff and full
jitter, honouring ``Retry-After``. The API key is read from an environment variable and is redacted
from every message this module produces.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
import logging
import os
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crabkit.llm.base import Backend, ChatRequest, ChatResult, OnResult, schema_instruction
from crabkit.llm.http import HTTPClient, HTTPError, HTTPTimeout, split_url

__all__ = ["AIMDLimiter", "OpenAIBackend", "OpenAIConfig", "parse_retry_after"]

log = logging.getLogger("crabkit.llm")

_RETRY_STATUS = {408, 409, 429}
# Ways to ask for JSON, strongest first; a server that rejects one gets the next.
_SCHEMA_MODES = ("json_schema", "json_object", "prompt")


@dataclass
class OpenAIConfig:
    """Settings of :class:`OpenAIBackend`. ``base_url`` may name several servers, as a list or
    comma-separated (a fleet of vLLM servers), used round-robin. ``api_key_env`` names the environment
    variable holding the key; the key itself is never stored in the config."""

    base_url: str | list[str] = "http://127.0.0.1:8000/v1"
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    max_concurrency: int = 64
    timeout_s: float = 300.0
    max_retries: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 60.0
    adaptive: bool = True
    seed: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    def urls(self) -> list[str]:
        urls = self.base_url.split(",") if isinstance(self.base_url, str) else list(self.base_url)
        urls = [u.strip() for u in urls if u.strip()]
        if not urls:
            raise ValueError("OpenAIConfig.base_url: give at least one URL")
        for url in urls:
            try:
                split_url(url)
            except ValueError as e:
                raise ValueError(f"OpenAIConfig.base_url: {e}") from None
        return [u.rstrip("/") for u in urls]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class AIMDLimiter:
    """An in-flight cap that halves when the server throttles and creeps back up on successes.

    Only one cut per window: a throttle reported by a request that started before the last cut does
    not cut again, so a burst of 429s from one wave of requests halves the limit once, not 64 times.
    """

    def __init__(self, max_limit: int, adaptive: bool = True) -> None:
        if max_limit < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_limit}")
        self.max_limit, self.adaptive = max_limit, adaptive
        self.limit = float(max_limit)
        self.lowest = max_limit
        self.in_flight = 0
        self.epoch = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> int:
        """Wait for a free slot; return the epoch to pass to :meth:`throttled`."""
        while self.in_flight >= int(self.limit):
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            await fut
        self.in_flight += 1
        return self.epoch

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def throttled(self, epoch: int) -> None:
        if self.adaptive and epoch == self.epoch:
            self.limit = max(1.0, self.limit / 2)
            self.lowest = min(self.lowest, int(self.limit))
            self.epoch += 1

    def succeeded(self) -> None:
        if self.adaptive and self.limit < self.max_limit:
            self.limit = min(float(self.max_limit), self.limit + 1 / self.limit)
            self._wake()

    def _wake(self) -> None:
        free = int(self.limit) - self.in_flight
        while free > 0 and self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                free -= 1


@dataclass
class _Attempt:
    result: ChatResult | None = None
    error: str = ""
    retry: bool = False
    throttled: bool = False
    retry_after: float | None = None
    schema_rejected: bool = False
    mode: int = 0


class OpenAIBackend(Backend):
    """Async client for OpenAI-compatible servers.

    >>> backend = OpenAIBackend(base_url="http://127.0.0.1:8000/v1", model="Qwen/Qwen2.5-7B-Instruct")
    >>> backend.generate([ChatRequest(messages=[{"role": "user", "content": "Hi"}])])  # doctest: +SKIP
    """

    name = "openai"

    def __init__(self, config: OpenAIConfig | None = None, **overrides: Any) -> None:
        if config is None:
            config = OpenAIConfig(**overrides)
        elif overrides:
            raise TypeError("pass either an OpenAIConfig or keyword settings, not both")
        self.config = config
        self.model = config.model
        self._urls = itertools.cycle([url + "/chat/completions" for url in config.urls()])
        self._api_key = os.environ.get(config.api_key_env, "")
        self._rng = random.Random(config.seed)
        self._schema_mode = 0  # index into _SCHEMA_MODES, lowered when a server rejects a mode
        self.limiter: AIMDLimiter | None = None  # the last batch's limiter, for inspection

    def __repr__(self) -> str:
        c = self.config
        return (
            f"OpenAIBackend(base_url={c.base_url!r}, model={c.model!r}, "
            f"api_key_env={c.api_key_env!r}, max_concurrency={c.max_concurrency})"
        )

    def redact(self, text: str) -> str:
        """``text`` with the API key blanked out: applied to every message leaving this class."""
        return text.replace(self._api_key, "[REDACTED]") if self._api_key else text

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", **self.config.headers}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def payload(self, request: ChatRequest, schema_mode: int | None = None) -> dict[str, Any]:
        """The JSON body for ``request``; ``schema_mode`` indexes the ways to ask for JSON (default:
        the strongest this server has not rejected)."""
        body: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        for name in ("max_tokens", "seed", "stop"):
            if getattr(request, name) is not None:
                body[name] = getattr(request, name)
        if request.json_schema is not None:
            mode = _SCHEMA_MODES[self._schema_mode if schema_mode is None else schema_mode]
            if mode == "json_schema":
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "response", "schema": request.json_schema},
                }
            else:
                if mode == "json_object":
                    body["response_format"] = {"type": "json_object"}
                system = {"role": "system", "content": schema_instruction(request.json_schema)}
                body["messages"] = [system, *request.messages]
        body.update(request.extra)
        return body

    async def agenerate(
        self, requests: Sequence[ChatRequest], on_result: OnResult | None = None
    ) -> list[ChatResult]:
        requests = [self.resolve(r) for r in requests]
        results: list[ChatResult | None] = [None] * len(requests)
        limiter = self.limiter = AIMDLimiter(self.config.max_concurrency, self.config.adaptive)
        indices = iter(range(len(requests)))

        async def worker(session: HTTPClient) -> None:
            for i in indices:
                results[i] = result = await self._complete(session, limiter, requests[i])
                if on_result is not None:
                    on_result(i, result)

        async with HTTPClient(self._headers(), self.config.timeout_s) as session:  # timeout: per request
            n_workers = min(len(requests), self.config.max_concurrency)
            await asyncio.gather(*(worker(session) for _ in range(n_workers)))

        done = [r if r is not None else ChatResult.failure(q, "no result") for r, q in zip(results, requests)]
        failed = [r for r in done if r.error]
        if failed:
            log.warning("%d of %d requests failed; first error: %s", len(failed), len(done), failed[0].error)
        return done

    async def _complete(self, session: HTTPClient, limiter: AIMDLimiter, request: ChatRequest) -> ChatResult:
        key = request.cache_key()
        if not request.model:
            return ChatResult(error="request has no model and the backend has no default model", key=key)
        attempt = 0
        while True:
            epoch = await limiter.acquire()
            try:
                outcome = await self._attempt(session, request)
            except Exception as e:  # noqa: BLE001 - a bug or an odd transport failure must not sink the whole batch
                outcome = _Attempt(error=f"unexpected {type(e).__name__}: {e}")
            finally:
                limiter.release()
            if outcome.result is not None:
                limiter.succeeded()
                outcome.result.key = key
                return outcome.result
            if outcome.throttled:
                limiter.throttled(epoch)
            if outcome.schema_rejected:
                # The server cannot do this kind of structured output: step down once (concurrent
                # rejections of the same mode count once) and resend at once.
                if self._schema_mode == outcome.mode:
                    self._schema_mode += 1
                    log.warning(
                        "server rejected %s output; using %s",
                        _SCHEMA_MODES[outcome.mode],
                        _SCHEMA_MODES[self._schema_mode],
                    )
                continue
            if not outcome.retry or attempt >= self.config.max_retries:
                tries = f" after {attempt + 1} attempts" if attempt else ""
                return ChatResult(error=self.redact(outcome.error + tries), key=key)
            delay = self._backoff(attempt, outcome.retry_after)
            log.debug("retrying %s in %.2fs: %s", key[:12], delay, self.redact(outcome.error))
            await asyncio.sleep(delay)
            attempt += 1

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        cap = self.config.backoff_max_s
        if retry_after is not None:
            # The server named a time: wait that long, plus a little jitter to spread the herd.
            return min(cap, retry_after + self._rng.uniform(0, self.config.backoff_base_s / 4))
        return self._rng.uniform(0, min(cap, self.config.backoff_base_s * 2**attempt))

    async def _attempt(self, session: HTTPClient, request: ChatRequest) -> _Attempt:
        url = next(self._urls)
        mode = self._schema_mode
        body = json.dumps(self.payload(request, mode), ensure_ascii=False).encode()
        try:
            response = await session.post(url, body)
        except HTTPTimeout:
            return _Attempt(error=f"timeout after {self.config.timeout_s:g}s", retry=True)
        except HTTPError as e:
            return _Attempt(error=f"connection error: {e}", retry=True)
        status, raw = response.status, response.body
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if status == 200:
            return self._parse(raw)
        snippet = raw[:300].decode("utf-8", "replace")
        error = f"HTTP {status}: {snippet}"
        asked_format = request.json_schema is not None and _SCHEMA_MODES[mode] != "prompt"
        if status == 400 and asked_format and ("response_format" in snippet or "json_schema" in snippet):
            return _Attempt(error=error, schema_rejected=True, mode=mode)
        retry = status in _RETRY_STATUS or status >= 500
        return _Attempt(error=error, retry=retry, throttled=status == 429, retry_after=retry_after)

    @staticmethod
    def _parse(raw: bytes) -> _Attempt:
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as e:
            # A 200 with a body we cannot read is a transport fault (proxy page, cut transfer): retry.
            return _Attempt(error=f"unreadable response body ({type(e).__name__}): {raw[:120]!r}", retry=True)
        if not isinstance(text, str):
            return _Attempt(error=f"answer has no text content (finish_reason={choice.get('finish_reason')})")
        usage = data.get("usage") or {}
        return _Attempt(
            result=ChatResult(
                text=text,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                finish_reason=choice.get("finish_reason"),
            )
        )
