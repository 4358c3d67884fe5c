"""crabkit.llm.http against scripted raw-socket servers: framing, keep-alive, failures, TLS."""

from __future__ import annotations

import asyncio
import gzip
import shutil
import ssl
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import pytest

pytest.importorskip("httptools")  # the client's parser (the llm extra)

from crabkit.llm.http import HTTPClient, HTTPError, HTTPTimeout

if TYPE_CHECKING:
    from typing_extensions import Self

# (request number on this connection, request head, request body) -> bytes to send back, or None to
# close the connection without answering
Script = Callable[[int, bytes, bytes], "bytes | None"]


def ok(body: bytes = b'{"ok": true}', extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


class Server:
    """A loopback server that answers each request on each connection from a script."""

    def __init__(self, script: Script, close_after: int | None = None, tls: ssl.SSLContext | None = None):
        self.script, self.close_after, self.tls = script, close_after, tls
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []
        self.handlers: list[tuple[asyncio.Task, asyncio.StreamWriter]] = []

    async def __aenter__(self) -> Self:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        for _, writer in self.handlers:  # end the connections still open, and wait for their handlers
            writer.close()
        await asyncio.gather(*(task for task, _ in self.handlers), return_exceptions=True)

    def url(self, scheme: str = "http") -> str:
        host = "localhost" if scheme == "https" else "127.0.0.1"
        return f"{scheme}://{host}:{self.port}/v1/chat/completions"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.handlers.append((asyncio.current_task(), writer))  # type: ignore[arg-type]
        n = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
                    0,
                )
                body = await reader.readexactly(length)
                self.requests.append((head, body))
                answer = self.script(n, head, body)
                n += 1
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after is not None and n >= self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


def run(coro: Awaitable) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_keep_alive_answers_reuse_one_connection_and_send_the_fixed_headers():
    async def main():
        async with Server(lambda n, h, b: ok(b"answer %d" % n)) as server:
            async with HTTPClient({"Authorization": "Bearer k", "Content-Type": "application/json"}) as client:
                got = [await client.post(server.url(), b'{"q": %d}' % i) for i in range(5)]
            return server, got

    server, got = run(main())
    assert [r.body for r in got] == [b"answer %d" % i for i in range(5)]
    assert all(r.status == 200 and r.headers["content-length"] for r in got)
    assert server.connections == 1
    head, body = server.requests[2]
    assert head.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n") and body == b'{"q": 2}'
    assert b"\r\nHost: 127.0.0.1:%d\r\n" % server.port in head
    assert b"\r\nAuthorization: Bearer k\r\n" in head and b"\r\nContent-Length: 8\r\n" in head


def test_concurrent_posts_open_parallel_connections_then_reuse_them():
    async def main():
        async with Server(lambda n, h, b: ok()) as server:
            async with HTTPClient() as client:
                await asyncio.gather(*(client.post(server.url(), b"x") for _ in range(8)))
                first = server.connections
                await asyncio.gather(*(client.post(server.url(), b"x") for _ in range(8)))
            return first, server.connections

    first, total = run(main())
    assert 1 <= first <= 8 and total == first  # the second wave found every connection idle


def test_chunked_gzip_and_read_to_close_answers_are_decoded():
    payload = b'{"choices": [1, 2, 3]}'
    zipped = gzip.compress(payload)
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n" % (5, payload[:5])
        + b"%x\r\n%s\r\n" % (len(payload) - 5, payload[5:])
        + b"0\r\n\r\n"
    )
    answers = {
        "chunked": (chunked, None),
        "gzip": (ok(zipped, "Content-Encoding: gzip\r\n"), None),
        "to-close": (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + payload, 1),
    }

    async def main(answer, close_after):
        async with Server(lambda n, h, b: answer, close_after=close_after) as server, HTTPClient() as client:
            return await client.post(server.url(), b"x")

    for name, (answer, close_after) in answers.items():
        assert run(main(answer, close_after)).body == payload, name


def test_connection_close_is_not_reused_and_a_stale_idle_connection_is_replaced_silently():
    async def main(script, close_after):
        async with Server(script, close_after=close_after) as server:
            async with HTTPClient() as client:
                bodies = []
                for _ in range(3):
                    bodies.append((await client.post(server.url(), b"x")).body)
                    await asyncio.sleep(0.01)  # let the server's close arrive
            return bodies, server.connections

    # the server says it closes
    bodies, conns = run(main(lambda n, h, b: ok(extra="Connection: close\r\n"), None))
    assert bodies == [b'{"ok": true}'] * 3 and conns == 3
    # the server closes an idle kept-alive connection without saying so
    bodies, conns = run(main(lambda n, h, b: ok(), 1))
    assert bodies == [b'{"ok": true}'] * 3 and conns == 3


def test_a_kept_alive_connection_dropped_just_before_reuse_is_retried_once_on_a_fresh_one():
    async def main():
        # the first connection answers once, then drops the next request without answering
        async with Server(lambda n, h, b: ok() if n == 0 else None) as server:
            async with HTTPClient() as client:
                await client.post(server.url(), b"x")
                second = await client.post(server.url(), b"y")
            return second, server.connections, len(server.requests)

    second, conns, requests = run(main())
    assert second.status == 200 and conns == 2 and requests == 3


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"cut", "closed before the answer was complete"),
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP answer"),
        (None, "closed before the answer was complete"),
    ],
)
def test_broken_answers_on_fresh_connections_are_errors(answer, message):
    async def main():
        async with Server(lambda n, h, b: answer, close_after=1) as server:
            async with HTTPClient() as client:
                with pytest.raises(HTTPError, match=message) as caught:
                    await client.post(server.url(), b"x")
            return caught.value

    assert not isinstance(run(main()), HTTPTimeout)


def test_no_answer_before_the_deadline_is_a_timeout_and_the_connection_is_dropped():
    async def main():
        dropped = asyncio.Event()

        async def hang(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            await reader.read()  # never answers; returns when the client drops the connection
            dropped.set()

        server = await asyncio.start_server(hang, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with HTTPClient(timeout_s=0.2) as client:
            start = time.monotonic()
            with pytest.raises(HTTPTimeout, match="0.2s"):
                await client.post(f"http://127.0.0.1:{port}/v1", b"x")
            elapsed = time.monotonic() - start
            idle = sum(len(v) for v in client._idle.values())
            await asyncio.wait_for(dropped.wait(), 2)
        server.close()
        return elapsed, idle

    elapsed, idle = run(main())
    assert 0.15 < elapsed < 2 and idle == 0


def test_a_cancelled_request_closes_its_connection():
    async def main():
        closed = asyncio.Event()

        async def hang(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            await reader.read()  # until the client closes
            closed.set()

        server = await asyncio.start_server(hang, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with HTTPClient() as client:
            task = asyncio.ensure_future(client.post(f"http://127.0.0.1:{port}/v1", b"x"))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.wait_for(closed.wait(), 2)
            idle = sum(len(v) for v in client._idle.values())
        server.close()
        return idle

    assert run(main()) == 0


def test_refused_connections_and_bad_urls_and_headers_fail_clearly():
    async def main():
        async with HTTPClient() as client:
            with pytest.raises(HTTPError, match="cannot connect to 127.0.0.1:9"):
                await client.post("http://127.0.0.1:9/v1", b"x")
            with pytest.raises(ValueError, match="not an http"):
                await client.post("ftp://example.com/x", b"x")

    run(main())
    for bad in ({"X-Key": "a\r\nInjected: yes"}, {"X-Key": "caf\u00e9-secret"}, {"X:Key": "a"}):
        with pytest.raises(ValueError, match="X.Key") as caught:
            HTTPClient(bad)
        assert "secret" not in str(caught.value) and "Injected" not in str(caught.value)


def test_https_with_a_certificate_from_ssl_cert_file(tmp_path, monkeypatch):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)

    async def main():
        async with Server(lambda n, h, b: ok(b"secret " + b), tls=tls) as server:
            async with HTTPClient() as client:
                with pytest.raises(HTTPError, match="cannot connect"):  # not trusted yet
                    await client.post(server.url("https"), b"x")
            monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what the default context trusts
            async with HTTPClient() as client:
                return await client.post(server.url("https"), b"hi")

    assert run(main()).body == b"secret hi"
