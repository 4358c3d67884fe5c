"""Client for any OpenAI-compatible ``/v1/chat/completions`` endpoint (vLLM, SGLang, llama.cpp, hosted).

The transport is aiohttp, a well-kept client: ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` are
honoured (read once per server with the standard library, as aiohttp's ``trust_env`` reads them),
TLS trusts the system's certificates (or ``SSL_CERT_FILE``), extra headers go on every request (``headers``: an ``api-key`` header, an organisation id...), and a base URL's
query string is kept (``https://host/openai/deployments/d?api-version=2024-06-01``). A hand-written
HTTP/1.1 client once saved ~100 us of CPU per request here; the servers bound real runs, not the
client, and it could not go through a proxy, so it is gone.

Requests run on a pool of workers under an adaptive in-flight limit (AIMD: halve on throttling, grow
by one per window of successes). Each attempt goes to the next base URL round-robin; 429, 408, 5xx,
timeouts, dropped connections and unreadable bodies are retried with exponential backoff and full
jitter, honouring ``Retry-After``. The API key is read from an environment variable and is redacted
from every message this module produces (before any message is cut short).

Errors no retry can fix stop the batch at once with :class:`BackendUnavailable`: the server refuses
the key (401/403) or does not know the model (404), or no server can be reached at all while none
has ever answered. A plain rerun then continues where the run stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import itertools
import json
import logging
import os
import random
import time
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from crabkit.llm.base import (
    Backend,
    BackendUnavailable,
    ChatRequest,
    ChatResult,
    Complete,
    OnResult,
    schema_instruction,
)

__all__ = ["AIMDLimiter", "OpenAIBackend", "OpenAIConfig", "chat_url", "check_headers", "parse_retry_after"]

log = logging.getLogger("crabkit.llm")

_RETRY_STATUS = {408, 409, 429}
_FATAL_STATUS = {401: "the server refused the API key", 403: "the server refused access"}
_SNIPPET = 300


def split_url(url: str) -> urllib.parse.SplitResult:
    """``url``'s parts; ValueError unless it is an http:// or https:// URL with a host."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    return parts


def chat_url(base_url: str) -> str:
    """The chat-completions URL under ``base_url``, its query string kept.

    >>> chat_url("https://h/openai/deployments/d?api-version=1")
    'https://h/openai/deployments/d/chat/completions?api-version=1'
    """
    parts = split_url(base_url)
    return urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/chat/completions"))


def check_headers(headers: dict[str, str]) -> None:
    """ValueError naming a header (never its value, which may be a secret) that HTTP cannot carry."""
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValueError(f"HTTP header {name!r}: names and values must be strings")  # noqa: TRY004
        if not name or any(c in name for c in ":\r\n\0 ") or not name.isascii():
            raise ValueError(f"HTTP header {name!r}: not a valid header name")
        if any(c in value for c in "\r\n\0") or not value.isascii():
            raise ValueError(f"HTTP header {name!r}: its value must be ASCII on one line")
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
    timeout_s: float = 120.0
    max_retries: int = 3
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
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

    def __post_init__(self) -> None:
        self.urls()
        check_headers(self.headers)


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
        self._all_urls = [chat_url(url) for url in config.urls()]
        self._urls = itertools.cycle(self._all_urls)
        self._proxies: dict[str, str | None] = {}
        self._api_key = os.environ.get(config.api_key_env, "")
        self._answered = 0  # requests any server answered over this backend's life
        self._unreachable: set[str] = set()  # URLs that refused or failed a connection
        self._fatal: str | None = None
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
        """``text`` with the API key blanked out: applied to every message leaving this class, before
        any message is cut short (a cut key would no longer match)."""
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
                # After the prompt, not before it: requests about one seed keep their shared prefix
                # (a server's prefix cache) whatever schema each asks for.
                *head, last = request.messages
                asked = {**last, "content": f"{last['content']}\n\n{schema_instruction(request.json_schema)}"}
                body["messages"] = [*head, asked]
        body.update(request.extra)
        return body

    async def agenerate(
        self, requests: Sequence[ChatRequest], on_result: OnResult | None = None
    ) -> list[ChatResult]:
        import aiohttp

        requests = [self.resolve(r) for r in requests]
        results: list[ChatResult | None] = [None] * len(requests)
        limiter = self.limiter = AIMDLimiter(self.config.max_concurrency, self.config.adaptive)
        indices = iter(range(len(requests)))

        async def worker(session: aiohttp.ClientSession) -> None:
            for i in indices:
                if self._fatal is not None:
                    return
                result = await self._complete(session, limiter, requests[i])
                if self._fatal is not None and not result.ok:
                    return  # not an answer: the batch stops, and a rerun asks again
                results[i] = result
                if on_result is not None:
                    on_result(i, result)

        async with self._client() as session:
            n_workers = min(len(requests), self.config.max_concurrency)
            await asyncio.gather(*(worker(session) for _ in range(n_workers)))
        if self._fatal is not None:
            raise BackendUnavailable(self._fatal)

        done = [r if r is not None else ChatResult.failure(q, "no result") for r, q in zip(results, requests)]
        failed = [r for r in done if r.error]
        if failed:
            log.warning("%d of %d requests failed; first error: %s", len(failed), len(done), failed[0].error)
        return done

    def _client(self) -> Any:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=self.config.timeout_s)  # per request, connecting included
        connector = aiohttp.TCPConnector(limit=self.config.max_concurrency)
        # The environment's proxy settings are read once per server (see _proxy), not on every request:
        # with trust_env aiohttp also looks for ~/.netrc in a worker thread per request.
        return aiohttp.ClientSession(headers=self._headers(), timeout=timeout, connector=connector)

    def _proxy(self, url: str) -> str | None:
        """The proxy for ``url`` from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY (the standard
        library's reading of them, as aiohttp's trust_env does); credentials may sit in its URL."""
        if url not in self._proxies:
            parts = split_url(url)
            found = urllib.request.getproxies()
            proxy = found.get(parts.scheme) or found.get("all")
            if proxy and urllib.request.proxy_bypass(parts.hostname or ""):
                proxy = None
            self._proxies[url] = proxy
        return self._proxies[url]

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Complete]:
        """One connection pool and one concurrency limit for every request awaited through it, so
        callers that each wait for their own answers keep ``max_concurrency`` requests in flight."""
        limiter = self.limiter = AIMDLimiter(self.config.max_concurrency, self.config.adaptive)

        async with self._client() as http:

            async def complete(request: ChatRequest) -> ChatResult:
                if self._fatal is not None:
                    raise BackendUnavailable(self._fatal)
                result = await self._complete(http, limiter, self.resolve(request))
                if self._fatal is not None and not result.ok:
                    raise BackendUnavailable(self._fatal)
                return result

            yield complete

    async def _complete(self, session: Any, limiter: AIMDLimiter, request: ChatRequest) -> ChatResult:
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
                self._answered += 1
                outcome.result.key = key
                return outcome.result
            if self._fatal is not None:
                return ChatResult(error=self._fatal, key=key)
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

    async def _attempt(self, session: Any, request: ChatRequest) -> _Attempt:
        import aiohttp

        url = next(self._urls)
        mode = self._schema_mode
        body = json.dumps(self.payload(request, mode), ensure_ascii=False).encode()
        try:
            async with session.post(url, data=body, proxy=self._proxy(url)) as response:
                status, raw = response.status, await response.read()
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
        except asyncio.TimeoutError:
            return _Attempt(error=f"timeout after {self.config.timeout_s:g}s", retry=True)
        except aiohttp.ClientConnectorError as e:
            self._unreachable.add(url)
            if not self._answered and self._unreachable >= set(self._all_urls):
                self._fatal = f"cannot reach the server at {_where(url)}: {_reason(e)}"
            return _Attempt(error=f"connection error: {_reason(e)}", retry=True)
        except aiohttp.ClientError as e:
            return _Attempt(error=f"connection error: {_reason(e)}", retry=True)
        if status == 200:
            return self._parse(raw)
        # Redacted first, then cut: an error page echoing the Authorization header keeps no part of the key.
        snippet = self.redact(raw.decode("utf-8", "replace"))[:_SNIPPET]
        error = f"HTTP {status}: {snippet}"
        if status in _FATAL_STATUS or (status == 404 and "model" in snippet.lower()):
            why = _FATAL_STATUS.get(status, "the server does not know the model")
            hint = (f" (the key is read from ${self.config.api_key_env}, which is "
                    f"{'set' if self._api_key else 'not set'})") if status in (401, 403) else ""  # fmt: skip
            self._fatal = f"{why}: HTTP {status} from {_where(url)}{hint}: {snippet}"
            return _Attempt(error=error)
        asked_format = request.json_schema is not None and _SCHEMA_MODES[mode] != "prompt"
        if status == 400 and asked_format and ("response_format" in snippet or "json_schema" in snippet):
            return _Attempt(error=error, schema_rejected=True, mode=mode)
        retry = status in _RETRY_STATUS or status >= 500
        return _Attempt(error=error, retry=retry, throttled=status == 429, retry_after=retry_after)

    def _parse(self, raw: bytes) -> _Attempt:
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as e:
            # A 200 with a body we cannot read is a transport fault (proxy page, cut transfer): retry.
            text = self.redact(raw.decode("utf-8", "replace"))[:120]
            return _Attempt(error=f"unreadable response body ({type(e).__name__}): {text!r}", retry=True)
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


def _where(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _reason(e: BaseException) -> str:
    """One line for a transport error (aiohttp's messages can run over several)."""
    text = str(getattr(e, "os_error", None) or e) or type(e).__name__
    return text.strip().splitlines()[0]
