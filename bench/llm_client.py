"""Client throughput against a loopback OpenAI stub that answers after a fixed delay.

With C requests in flight and a server latency of L seconds, Little's law caps throughput at C/L
(64 / 0.05 s = 1,280 req/s): a client reaching that limit adds no overhead of its own. Even a client
that costs nothing stays under it here: all 64 workers start together, so 2,000 requests take 32
rounds of 50 ms (2000/64 = 31.25), 97.7% of the limit; a bare asyncio-protocol client measured ~94%.

The stub runs in its own process so client and server do not share one GIL. By default it is
``bench/lean_stub.py`` (a bare asyncio protocol, ~80 us CPU per request): on a 2-core machine the
stub's CPU is taken from the client, and a real engine runs elsewhere. ``--stub uvicorn`` runs the
HTTP server vLLM and SGLang answer through, ``--stub aiohttp`` the test server (aiohttp's web
framework, ~185 us per request).

Each transport sends the same requests through the same worker pool, in a fresh interpreter, after
``--warmup`` untimed requests (imports and first-call paths are not throughput); ratios are against
the openai SDK with its default transport. CPU columns give client and stub CPU time per request
(less sensitive to other load on the machine than req/s, which drops whenever another process takes
a core).

    .venv/bin/python bench/llm_client.py [--requests 2000] [--concurrency 64] [--delay 0.05] [--stub lean]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = "stub"


def default_stub_loop() -> str:
    """uvloop when installed: a production server (uvicorn, so vLLM's) runs on it, and a stub that
    spends less CPU per request leaves the client's own overhead to show."""
    import importlib.util

    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


#: The stub servers: the lean one (bench/lean_stub.py, a bare asyncio protocol), uvicorn (the HTTP
#: server of vLLM and SGLang, bench/uvicorn_stub.py) or the test server (tests/llm_server.py,
#: aiohttp's web framework, 3-4 times the lean stub's CPU per request).
STUBS = {
    "lean": ROOT / "bench" / "lean_stub.py",
    "uvicorn": ROOT / "bench" / "uvicorn_stub.py",
    "aiohttp": ROOT / "tests" / "llm_server.py",
}


def start_stub(delay: float, loop: str = "asyncio", stub: str = "lean") -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(STUBS[stub]), "--delay", str(delay), "--loop", loop],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"stub server did not start (got {url!r})")
    port = int(url.split(":")[2].split("/")[0])
    deadline = time.monotonic() + 20
    while True:  # the URL may be printed before the port listens (uvicorn)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit(f"stub server at {url} never started listening") from None
            time.sleep(0.05)
    return proc, url


def process_cpu(pid: int | None = None) -> float:
    """CPU seconds used so far by this process, or by ``pid`` (Linux /proc)."""
    if pid is None:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def messages(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Request number {i}: say ok."}]


async def pool(n: int, concurrency: int, one: Callable[[int], Awaitable[str]]) -> int:
    """Run ``one(i)`` for i < n with ``concurrency`` workers; return how many answered 'ok'."""
    it = iter(range(n))
    ok = 0

    async def worker() -> None:
        nonlocal ok
        for i in it:
            text = await one(i)  # await first: `ok += await ...` would read `ok` before suspending
            ok += text == "ok"

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok


async def run_sdk(url: str, n: int, c: int, aiohttp_transport: bool) -> int:
    import openai

    kwargs = {"http_client": openai.DefaultAioHttpClient()} if aiohttp_transport else {}
    client = openai.AsyncOpenAI(base_url=url, api_key="bench", max_retries=0, **kwargs)
    async with client:

        async def one(i: int) -> str:
            r = await client.chat.completions.create(model=MODEL, messages=messages(i))
            return r.choices[0].message.content or ""

        return await pool(n, c, one)


async def run_httpx(url: str, n: int, c: int) -> int:
    import httpx

    limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one(i: int) -> str:
            r = await client.post(f"{url}/chat/completions", json={"model": MODEL, "messages": messages(i)})
            return r.json()["choices"][0]["message"]["content"]

        return await pool(n, c, one)


async def run_aiohttp(url: str, n: int, c: int) -> int:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=c)) as session:

        async def one(i: int) -> str:
            body = {"model": MODEL, "messages": messages(i)}
            async with session.post(f"{url}/chat/completions", json=body) as r:
                return (await r.json())["choices"][0]["message"]["content"]

        return await pool(n, c, one)


def run_crabkit(url: str, n: int, c: int) -> int:
    from crabkit.llm import ChatRequest, OpenAIBackend

    backend = OpenAIBackend(base_url=url, model=MODEL, max_concurrency=c)
    results = backend.generate([ChatRequest(messages=messages(i)) for i in range(n)])
    return sum(r.text == "ok" for r in results)


TRANSPORTS: dict[str, Callable[[str, int, int], int]] = {
    "openai SDK (default httpx2)": lambda u, n, c: asyncio.run(run_sdk(u, n, c, False)),
    "openai SDK + aiohttp": lambda u, n, c: asyncio.run(run_sdk(u, n, c, True)),
    "plain httpx": lambda u, n, c: asyncio.run(run_httpx(u, n, c)),
    "plain aiohttp": lambda u, n, c: asyncio.run(run_aiohttp(u, n, c)),
    "crabkit OpenAIBackend": run_crabkit,
}


def measure(name: str, url: str, stub_pid: int, args: argparse.Namespace) -> list[tuple[float, float, float]]:
    """``args.repeats`` timed runs of one transport after an untimed warm-up: (req/s, client us/req,
    stub us/req) each."""
    run = TRANSPORTS[name]
    run(url, args.warmup, args.concurrency)  # imports, first-call paths: not throughput
    runs = []
    for _ in range(args.repeats):
        c0, s0, t0 = process_cpu(), process_cpu(stub_pid), time.perf_counter()
        ok = run(url, args.requests, args.concurrency)
        wall = time.perf_counter() - t0
        c1, s1 = process_cpu(), process_cpu(stub_pid)
        if ok != args.requests:
            raise SystemExit(f"{name}: only {ok}/{args.requests} requests answered")
        per = 1e6 / args.requests
        runs.append((args.requests / wall, (c1 - c0) * per, (s1 - s0) * per))
    return runs


def measure_apart(name: str, url: str, stub_pid: int, argv: list[str]) -> list[tuple[float, float, float]]:
    """:func:`measure` in a fresh interpreter: what one client leaves behind (the SDK's threads, a
    large heap for the collector to walk) must not slow the next one down."""
    child = [sys.executable, __file__, *argv, "--child", name, "--url", url, "--stub-pid", str(stub_pid)]
    done = subprocess.run(child, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name}: {done.stderr.strip()[-2000:]}")
    return [tuple(r) for r in json.loads(done.stdout.splitlines()[-1])]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--delay", type=float, default=0.05, help="stub latency in seconds")
    parser.add_argument("--repeats", type=int, default=3, help="runs per transport; the median is shown")
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests per transport first")
    parser.add_argument("--only", nargs="*", help="substrings selecting transports")
    parser.add_argument(
        "--stub-loop", choices=("asyncio", "uvloop"), default=default_stub_loop(),
        help="the stub server's event loop (default: uvloop when installed)",
    )  # fmt: skip
    parser.add_argument(
        "--stub", choices=tuple(STUBS), default="lean",
        help="lean: a bare-protocol stub that leaves the cores to the client (default); uvicorn: vLLM's HTTP "
        "server (needs uvicorn); aiohttp: the test server",
    )  # fmt: skip
    parser.add_argument("--child", choices=tuple(TRANSPORTS), help=argparse.SUPPRESS)  # measure_apart's
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--stub-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.url, args.stub_pid, args)))
        return 0
    limit = args.concurrency / args.delay
    proc, url = start_stub(args.delay, args.stub_loop, args.stub)
    print(
        f"{args.requests} requests, {args.concurrency} in flight, stub latency {args.delay * 1000:.0f} ms "
        f"({args.stub} stub on {args.stub_loop}), Little's-law limit {limit:,.0f} req/s, {os.cpu_count()} CPUs, "
        f"each transport in its own process"
    )
    rows: dict[str, tuple[float, ...]] = {}  # name -> (req/s, client us/req, stub us/req)
    try:
        for name in TRANSPORTS:
            if args.only and not any(s.lower() in name.lower() for s in args.only):
                continue
            runs = measure_apart(name, url, proc.pid, argv)
            rows[name] = tuple(statistics.median(col) for col in zip(*runs))
    finally:
        proc.terminate()
        proc.wait(10)
    base = rows.get("openai SDK (default httpx2)", (0.0,))[0]
    load = os.getloadavg()[0]
    print(f"load average while measuring: {load:.2f} (a core lent to other work lowers req/s)")
    print(
        f"{'transport':30} {'req/s':>8} {'of limit':>9} {'vs SDK':>7} {'client us/req':>14} {'stub us/req':>12}"
    )
    for name, (rate, client_us, stub_us) in rows.items():
        ratio = f"{rate / base:6.2f}x" if base else "      -"
        print(f"{name:30} {rate:8,.0f} {rate / limit:8.1%} {ratio} {client_us:14,.0f} {stub_us:12,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
