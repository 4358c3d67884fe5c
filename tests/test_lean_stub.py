"""The bench stubs (bench/lean_stub.py, bench/uvicorn_stub.py) speak enough of the OpenAI protocol for
the client bench to measure something real."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

aiohttp = pytest.importorskip("aiohttp")

from crabkit.llm import ChatRequest, OpenAIBackend

BENCH = Path(__file__).resolve().parents[1] / "bench"


def serve(script: str):
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / script), "--delay", "0.01", "--answer", "fine"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        port, deadline = int(url.split(":")[2].split("/")[0]), time.monotonic() + 20
        while True:  # uvicorn prints the URL before it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, f"{script} never listened"
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module", params=["lean_stub.py", "uvicorn_stub.py"])
def stub_url(request):
    if request.param == "uvicorn_stub.py" and importlib.util.find_spec("uvicorn") is None:
        pytest.skip("uvicorn is not installed (the dev extra)")
    yield from serve(request.param)


@pytest.fixture(scope="module")
def lean_url():
    yield from serve("lean_stub.py")


def test_backend_gets_every_answer_with_usage_over_kept_alive_connections(stub_url):
    backend = OpenAIBackend(base_url=stub_url, model="m", max_concurrency=4, max_retries=0)
    requests = [
        ChatRequest(messages=[{"role": "user", "content": f"question {i} " * (i + 1)}]) for i in range(24)
    ]
    results = backend.generate(requests)
    assert [r.text for r in results] == ["fine"] * 24
    assert not any(r.error for r in results)
    # Usage follows the prompt's length, so the body was read and parsed, not ignored.
    assert results[-1].prompt_tokens > results[0].prompt_tokens > 0
    assert all(r.finish_reason == "stop" for r in results)


def test_bad_requests_get_http_errors_not_answers(lean_url):
    async def go() -> list[tuple[int, bytes]]:
        async with aiohttp.ClientSession() as session:
            out = []
            for method, path, body in (
                ("POST", "/chat/completions", b"{not json"),
                ("POST", "/chat/completions", b'{"model": "m"}'),
                ("GET", "/models", b""),
            ):
                async with session.request(method, lean_url + path, data=body) as r:
                    out.append((r.status, await r.read()))
            return out

    statuses = [status for status, _ in asyncio.run(go())]
    assert statuses == [400, 400, 404]
