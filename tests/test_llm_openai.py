"""The OpenAI-compatible client against a loopback stub server with injected faults."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("aiohttp")  # the stub server
pytest.importorskip("aiohttp")  # the client

from crabkit.llm import BackendUnavailable, CachedBackend, ChatRequest, OpenAIBackend, ResponseCache
from crabkit.llm.openai_compat import AIMDLimiter, parse_retry_after
from llm_server import StubServer, random_faults

SECRET = "sk-test-9f8e7d6c5b4a-DO-NOT-LEAK"


def req(text: str, **kw) -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text}], **kw)


def client(url, **kw) -> OpenAIBackend:
    settings = {"model": "stub-model", "timeout_s": 2.0, "backoff_base_s": 0.01, "backoff_max_s": 0.05}
    return OpenAIBackend(base_url=url, **{**settings, **kw})


def fault_on_first(kind: str, attempts: int = 1):
    return lambda payload, attempt: kind if attempt < attempts else None


# -- the happy path ----------------------------------------------------------------------------


def test_answers_come_back_in_order_with_usage_and_keys():
    with StubServer() as server:
        out = client(server.url).generate([req(f"q{i}") for i in range(20)])
    assert [r.text for r in out] == [f"echo: q{i}" for i in range(20)]
    assert all(r.ok and r.finish_reason == "stop" and r.prompt_tokens > 0 for r in out)
    assert out[3].key == req("q3", model="stub-model").cache_key()
    assert all(p["model"] == "stub-model" for p in server.payloads)  # the default model, filled in


def test_request_fields_are_sent_in_the_payload():
    with StubServer() as server:
        client(server.url).generate(
            [req("q", temperature=0.5, max_tokens=7, seed=1, stop=["X"], extra={"top_k": 3}, model="other")]
        )
    p = server.payloads[0]
    assert (p["model"], p["temperature"], p["max_tokens"], p["seed"], p["stop"], p["top_k"]) == (
        "other",
        0.5,
        7,
        1,
        ["X"],
        3,
    )


def test_in_flight_requests_never_exceed_the_concurrency_limit():
    with StubServer(delay=0.02) as server:
        out = client(server.url, max_concurrency=4).generate([req(str(i)) for i in range(40)])
    assert all(r.ok for r in out)
    assert server.max_in_flight == 4


@pytest.mark.parametrize("as_list", [True, False])
def test_several_base_urls_share_the_load_round_robin(as_list):
    with StubServer() as a, StubServer() as b:
        urls = [a.url, b.url] if as_list else f"{a.url}, {b.url}"
        out = client(urls).generate([req(str(i)) for i in range(20)])
    assert all(r.ok for r in out) and (a.hits, b.hits) == (10, 10)


def test_a_request_without_a_model_fails_cleanly():
    with StubServer() as server:
        out = OpenAIBackend(base_url=server.url).generate([req("q")])
    assert "no model" in out[0].error and server.hits == 0


# -- structured output -------------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def test_json_schema_is_sent_as_response_format():
    with StubServer() as server:
        client(server.url).generate([req("q", json_schema=SCHEMA)])
    rf = server.payloads[0]["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["schema"] == SCHEMA


def test_a_server_rejecting_json_schema_gets_json_object_and_the_schema_in_the_prompt():
    with StubServer(reject_json_schema=True) as server:
        out = client(server.url, max_concurrency=1).generate(
            [req(f"q{i}", json_schema=SCHEMA) for i in range(5)]
        )
    assert all(r.ok for r in out)
    assert server.hits == 6  # one rejection, then the fallback is remembered
    last = server.payloads[-1]
    assert last["response_format"] == {"type": "json_object"}
    # The schema follows the prompt (the user turn), so requests about one seed share their prefix.
    assert [m["role"] for m in last["messages"]] == ["user"]
    assert last["messages"][0]["content"].startswith("q4\n\n") and '"required":["answer"]' in last["messages"][0]["content"]


# -- retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["429", "500", "malformed", "truncated", "drop"])
def test_transient_faults_are_retried_until_answered(fault):
    with StubServer(faults=fault_on_first(fault, attempts=2)) as server:
        out = client(server.url).generate([req("a"), req("b")])
    assert [r.text for r in out] == ["echo: a", "echo: b"]
    assert server.hits == 6


def test_answers_slower_than_the_timeout_are_abandoned_and_retried():
    with StubServer(faults=fault_on_first("slow"), slow_s=3.0) as server:
        t0 = time.monotonic()
        out = client(server.url, timeout_s=0.3).generate([req("a")])
        elapsed = time.monotonic() - t0
    assert out[0].text == "echo: a" and server.hits == 2
    assert elapsed < 2.0


def test_a_fault_that_persists_ends_in_an_explicit_error_after_the_retries():
    with StubServer(faults=lambda p, a: "500") as server:
        out = client(server.url, max_retries=3).generate([req("a")])
    assert out[0].text == "" and out[0].error.startswith("HTTP 500") and "after 4 attempts" in out[0].error
    assert server.hits == 4


def test_timeouts_that_persist_end_in_a_timeout_error():
    with StubServer(faults=lambda p, a: "slow", slow_s=2.0) as server:
        out = client(server.url, timeout_s=0.2, max_retries=1).generate([req("a")])
    assert "timeout after 0.2s" in out[0].error and server.hits == 2


def test_client_errors_are_not_retried():
    with StubServer(faults=lambda p, a: "400") as server:
        out = client(server.url).generate([req("a")])
    assert out[0].error.startswith("HTTP 400") and server.hits == 1


@pytest.mark.parametrize("url", ["localhost:8000/v1", "ftp://host/v1", "http:///v1", " , "])
def test_base_urls_that_are_not_http_fail_when_the_backend_is_made(url):
    with pytest.raises(ValueError, match="OpenAIConfig.base_url"):
        OpenAIBackend(base_url=url, model="m")


def test_a_server_nobody_can_reach_stops_the_batch_at_once():
    with StubServer() as server:
        url = server.url
    start = time.perf_counter()
    with pytest.raises(BackendUnavailable, match="cannot reach the server"):
        client(url, max_retries=6, backoff_base_s=0.5).generate([req(str(i)) for i in range(50)])
    assert time.perf_counter() - start < 5


def test_a_server_that_answered_before_and_goes_down_gives_per_request_errors():
    backend = client("http://127.0.0.1:1", max_retries=1)
    with StubServer() as server:
        backend = client(server.url, max_retries=1)
        assert backend.generate([req("a")])[0].ok
    out = backend.generate([req("b")])  # the same server, gone: maybe a restart, so no fatal error
    assert "connection error" in out[0].error


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_stops_the_batch_and_says_where_the_key_comes_from(status, monkeypatch):
    monkeypatch.setenv("CRAB_TEST_KEY", SECRET)

    def refuse(payload, attempt):
        return str(status)

    with StubServer(faults=refuse) as server, pytest.raises(BackendUnavailable) as info:
        client(server.url, api_key_env="CRAB_TEST_KEY").generate([req(str(i)) for i in range(30)])
    message = str(info.value)
    assert f"HTTP {status}" in message and "$CRAB_TEST_KEY" in message and "is set" in message
    assert SECRET[8:16] not in message
    assert max(server.seen.values()) == 1  # no request was tried twice: stopped, not 30 x 7 attempts


def test_retry_after_is_honoured():
    with StubServer(faults=fault_on_first("429"), retry_after="1") as server:
        out = client(server.url, backoff_max_s=5).generate([req("a")])
    assert out[0].ok
    assert server.hit_times[1] - server.hit_times[0] >= 1.0


def test_retry_after_parses_seconds_and_http_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("-3") == 0.0
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after(date, now=1_000_000) == pytest.approx(30)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# -- adaptive concurrency ----------------------------------------------------------------------


def test_limiter_halves_once_per_window_and_creeps_back_up():
    limiter = AIMDLimiter(64)

    async def wave():
        return [await limiter.acquire() for _ in range(10)]

    epochs = asyncio.run(wave())
    for e in epochs:  # ten 429s from one wave of requests
        limiter.throttled(e)
    assert limiter.limit == 32
    limiter.throttled(limiter.epoch)  # a request sent after the cut
    assert limiter.limit == 16
    for _ in range(16):
        limiter.succeeded()
    assert limiter.limit == pytest.approx(17, abs=0.1)


def test_repeated_429s_lower_the_in_flight_limit_and_everything_still_completes():
    throttle = lambda payload, attempt: "429" if attempt < 3 else None
    with StubServer(faults=throttle, delay=0.01) as server:
        backend = client(server.url, max_concurrency=32, max_retries=8)
        out = backend.generate([req(str(i)) for i in range(64)])
    assert all(r.ok for r in out)
    assert backend.limiter.lowest <= 8


def test_fixed_concurrency_when_adaptation_is_off():
    with StubServer(faults=fault_on_first("429")) as server:
        backend = client(server.url, max_concurrency=16, adaptive=False)
        backend.generate([req(str(i)) for i in range(32)])
    assert backend.limiter.lowest == 16


# -- the whole batch under faults --------------------------------------------------------------


def test_with_20_percent_faults_every_request_ends_answered_or_with_an_explicit_error():
    n = 300
    with StubServer(faults=random_faults(0.2, seed=7), slow_s=2.0) as server:
        out = client(server.url, timeout_s=0.5, max_retries=4).generate([req(f"q{i}") for i in range(n)])
    assert len(out) == n
    for i, r in enumerate(out):
        assert (r.ok and r.text == f"echo: q{i}") or (not r.ok and r.error and r.text == "")
    assert sum(r.ok for r in out) == n  # 0.2**5 per request: all should get through
    assert server.hits > n * 1.15  # the faults really happened


def test_kill_and_rerun_resends_only_the_uncached_requests(tmp_path):
    """Kill a client process mid-batch with SIGKILL; the rerun sends exactly the missing requests."""
    db = tmp_path / "llm.sqlite"
    n = 60
    script = textwrap.dedent(
        f"""
        from crabkit.llm import CachedBackend, ChatRequest, OpenAIBackend
        backend = CachedBackend(OpenAIBackend(base_url=URL, model="stub-model", max_concurrency=2), {str(db)!r})
        backend.generate([ChatRequest(messages=[{{"role": "user", "content": f"q{{i}}"}}]) for i in range({n})])
        """
    )
    with StubServer(delay=0.05) as server:
        proc = subprocess.Popen(
            [sys.executable, "-c", f"URL = {server.url!r}\n{script}"],
            env={**os.environ, "PYTHONPATH": _src()},
        )
        deadline = time.monotonic() + 30
        while _rows(db) < 10 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        kept = _rows(db)
        assert 10 <= kept < n, "the kill should land mid-batch"
        hits_before = server.hits
        backend = CachedBackend(client(server.url), db)
        out = backend.generate([req(f"q{i}") for i in range(n)])
        assert server.hits - hits_before == n - kept
    assert [r.text for r in out] == [f"echo: q{i}" for i in range(n)]
    assert sum(r.cached for r in out) == kept == backend.stats.hits


def _src() -> str:
    return str(Path(__file__).resolve().parents[1] / "src")


def _rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet
        return 0


# -- the API key -------------------------------------------------------------------------------


def test_the_api_key_is_sent_but_never_logged_cached_or_returned(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("CRAB_TEST_KEY", SECRET)
    caplog.set_level(logging.DEBUG, logger="crabkit")
    # "400" echoes the Authorization header in its error body, as careless servers do.
    plan = lambda payload, attempt: (
        "400" if "leak" in payload["messages"][-1]["content"] else ("500" if attempt == 0 else None)
    )
    db = tmp_path / "llm.sqlite"
    with StubServer(faults=plan) as server:
        inner = client(server.url, api_key_env="CRAB_TEST_KEY")
        backend = CachedBackend(inner, db)
        out = backend.generate([req("fine"), req("leak please")])
        backend.close()
    assert server.auth[0] == f"Bearer {SECRET}"  # it was sent
    assert out[0].ok and "[REDACTED]" in out[1].error
    assert "retrying" in caplog.text and "[REDACTED]" in caplog.text  # the logs did see the echo
    texts = [
        repr(inner),
        repr(backend),
        caplog.text,
        *(repr(r) for r in out),
        *(str(r.to_json()) for r in out),
    ]
    assert not any(SECRET in t for t in texts)
    for path in tmp_path.iterdir():  # the db and any WAL/SHM files
        assert SECRET.encode() not in path.read_bytes()
    assert len(ResponseCache(db)) == 1
