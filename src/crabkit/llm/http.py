"""A small HTTP/1.1 client for one job: POST a body and read the whole answer, over keep-alive
connections, on the running asyncio loop.

Why not aiohttp: it spends ~195 us of CPU per request on a loopback server here, and an OpenAI
client pushing 64 requests at once through one event loop spends most of its time there; this
client spends about a third of that (``bench/llm_client.py``). It does only what a chat-completions
call needs: HTTP and HTTPS (stdlib ``ssl``), a pool of keep-alive connections per server, a
deadline per request, ``Content-Length``, chunked and gzip/deflate answers. Responses are parsed
by httptools (llhttp, the parser uvicorn runs on). No proxies, redirects, cookies or HTTP/2.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.parse
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

try:
    import httptools
except ImportError:  # pragma: no cover - depends on the install; HTTPClient() says what to do
    httptools = None

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["HTTPClient", "HTTPError", "HTTPTimeout", "Response", "split_url"]


class HTTPError(Exception):
    """The exchange failed below HTTP status level: connection refused, reset or closed early, or an
    answer that is not HTTP."""


class HTTPTimeout(HTTPError):
    """No complete answer before the deadline."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased; a repeated header keeps its last value
    body: bytes


@dataclass(frozen=True)
class _Target:
    """Where a URL points, parsed once: pool key, ``Host`` header and the request line's path."""

    scheme: str
    host: str
    port: int
    head: bytes  # "POST <path> HTTP/1.1" + Host + the client's fixed headers


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one exchange at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Response] | None = None
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.got_bytes = False  # any byte of the current answer arrived
        self.headers_done = False
        self.reusable = False

    # -- asyncio.Protocol --
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # bytes nobody asked for: the connection cannot be trusted any more
            self.fail(HTTPError("unexpected bytes on an idle connection"))
            return
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as e:
            self.fail(HTTPError(f"not an HTTP answer: {e}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if exc is None and self.headers_done and self._ends_at_close():
            self.on_message_complete()  # an answer with neither a length nor chunks ends here
            return
        reason = f": {exc}" if exc else ""
        self._settle(error=HTTPError(f"connection closed before the answer was complete{reason}"))

    def _ends_at_close(self) -> bool:
        h = self.headers
        return "content-length" not in h and "chunked" not in h.get("transfer-encoding", "").lower()

    # -- httptools callbacks --
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.reusable = self.parser.should_keep_alive()
        body = b"".join(self.body)
        encoding = self.headers.get("content-encoding", "").lower()
        if encoding in ("gzip", "deflate"):
            try:
                body = zlib.decompress(body, 47)  # 47: gzip or zlib header, detected
            except zlib.error as e:
                self.fail(HTTPError(f"answer claims {encoding} but does not decode: {e}"))
                return
        self._settle(Response(self.parser.get_status_code(), self.headers, body))

    # -- use --
    @property
    def open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def exchange(self, request: bytes) -> asyncio.Future[Response]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.headers, self.body, self.got_bytes, self.headers_done, self.reusable = {}, [], False, False, False
        self.transport.write(request)
        return self.waiter

    def fail(self, error: HTTPError) -> None:
        """End the current exchange with ``error`` and drop the connection (its state is unknown)."""
        self._settle(error=error)
        if self.transport is not None:
            self.transport.abort()

    def _settle(self, response: Response | None = None, error: HTTPError | None = None) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            if error is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(response)  # type: ignore[arg-type]


def split_url(url: str) -> urllib.parse.SplitResult:
    """``url``'s parts; ValueError unless it is an http:// or https:// URL with a host."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    return parts


class HTTPClient:
    """POST bodies to HTTP(S) URLs over pooled keep-alive connections.

    ``headers`` go on every request (values must not hold line breaks); ``timeout_s`` bounds each
    request from connecting to the last byte. Use as ``async with HTTPClient(...) as client``.
    """

    def __init__(self, headers: Mapping[str, str] | None = None, timeout_s: float = 300.0) -> None:
        if httptools is None:  # pragma: no cover - depends on the install
            raise ImportError("the openai backend needs httptools: pip install 'crabkit[llm]'")
        lines = []
        for name, value in (headers or {}).items():  # the value may be a secret: never echo it
            line = f"{name}: {value}\r\n"
            if any(c in line[:-2] for c in "\r\n\0") or ":" in name or not line.isascii():
                raise ValueError(f"HTTP header {name!r}: names and values must be ASCII without CR, LF, NUL (and no ':' in names)")
            lines.append(line)
        self._fixed = "".join(lines).encode("ascii")
        self.timeout_s = timeout_s
        self._targets: dict[str, _Target] = {}
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._ssl: ssl.SSLContext | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                if conn.transport is not None:
                    conn.transport.close()
        self._idle.clear()

    async def post(self, url: str, body: bytes) -> Response:
        """The server's answer to ``body`` POSTed to ``url``; :class:`HTTPError` when there is none."""
        target = self._targets.get(url) or self._target(url)
        request = b"%sContent-Length: %d\r\n\r\n%s" % (target.head, len(body), body)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        idle = self._idle.setdefault((target.scheme, target.host, target.port), [])
        while True:
            conn = idle.pop() if idle else None
            reused = conn is not None and conn.open
            if not reused:
                conn = await self._connect(target, deadline)
            try:
                response = await self._exchange(conn, request, deadline)
            except HTTPTimeout:
                raise
            except HTTPError:
                # A kept-alive connection the server closed meanwhile fails before any answer: try
                # a fresh one (as browsers do) instead of spending one of the caller's retries.
                if reused and not conn.got_bytes:
                    continue
                raise
            if conn.reusable and conn.open:
                idle.append(conn)
            elif conn.transport is not None:
                conn.transport.close()
            return response

    async def _exchange(self, conn: _Connection, request: bytes, deadline: float) -> Response:
        timer = asyncio.get_running_loop().call_at(deadline, self._time_out, conn)
        try:
            return await conn.exchange(request)
        except asyncio.CancelledError:
            conn.fail(HTTPError("cancelled"))  # half an exchange: the connection cannot be reused
            raise
        finally:
            timer.cancel()

    def _time_out(self, conn: _Connection) -> None:
        conn.fail(HTTPTimeout(f"no answer within {self.timeout_s:g}s"))

    async def _connect(self, target: _Target, deadline: float) -> _Connection:
        loop = asyncio.get_running_loop()
        context = None
        if target.scheme == "https":
            context = self._ssl = self._ssl or ssl.create_default_context()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(_Connection, target.host, target.port, ssl=context),
                max(0.0, deadline - loop.time()),
            )
        except asyncio.TimeoutError:
            raise HTTPTimeout(f"could not connect to {target.host}:{target.port} within {self.timeout_s:g}s") from None
        except (OSError, ssl.SSLError) as e:
            raise HTTPError(f"cannot connect to {target.host}:{target.port}: {e}") from None
        return conn

    def _target(self, url: str) -> _Target:
        parts = split_url(url)
        assert parts.hostname is not None
        default_port = 443 if parts.scheme == "https" else 80
        port = parts.port or default_port
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        host_header = host if port == default_port else f"{host}:{port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = f"POST {path} HTTP/1.1\r\nHost: {host_header}\r\n".encode("latin-1") + self._fixed
        target = _Target(parts.scheme, parts.hostname, port, head)
        self._targets[url] = target
        return target
