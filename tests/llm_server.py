"""A loopback OpenAI-protocol stub (``POST /v1/chat/completions``) for tests and benchmarks.

It binds 127.0.0.1 on a free port, answers from a function, and injects faults on demand, so the
client's retry, timeout and throttling paths run against real sockets. In tests it runs in a thread
with its own event loop::

    with StubServer(answer=lambda payload: "hi") as server:
        backend = OpenAIBackend(base_url=server.url, model="m")

For benchmarks run it in its own process (``python tests/llm_server.py --delay 0.05``; it prints
its URL on the first line of stdout) so client and server do not share one GIL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import threading
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from typing_extensions import Self

# Faults a client should retry; "400" (a rejected request that echoes the Authorization header,
# as careless servers do) is not one of them.
RETRYABLE_FAULTS = ("429", "500", "slow", "malformed", "truncated", "drop")
FAULTS = (*RETRYABLE_FAULTS, "400")

Answer = Callable[[dict[str, Any]], str]
# (payload, how many times this prompt was seen before) -> a fault name from FAULTS, or None
FaultPlan = Callable[[dict[str, Any], int], "str | None"]


def last_user_text(payload: dict[str, Any]) -> str:
    """The last user message of a chat payload: the natural key for scripted answers."""
    for message in reversed(payload.get("messages", [])):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


def echo(payload: dict[str, Any]) -> str:
    return "echo: " + last_user_text(payload)


def random_faults(rate: float, seed: int = 0, kinds: tuple[str, ...] = RETRYABLE_FAULTS) -> FaultPlan:
    """A fault plan hitting about ``rate`` of attempts, decided per (prompt, attempt) so it does not
    depend on arrival order: reruns and concurrent runs see the same faults."""

    def plan(payload: dict[str, Any], attempt: int) -> str | None:
        rng = random.Random(f"{seed}\x00{last_user_text(payload)}\x00{attempt}")
        return rng.choice(kinds) if rng.random() < rate else None

    return plan


def completion_body(payload: dict[str, Any], text: str) -> dict[str, Any]:
    prompt_chars = sum(len(str(m.get("content", ""))) for m in payload.get("messages", []))
    usage = {"prompt_tokens": prompt_chars // 4 + 1, "completion_tokens": len(text) // 4 + 1}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": payload.get("model", ""),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": usage,
    }


class StubServer:
    """OpenAI chat-completions stub on 127.0.0.1.

    ``delay``: seconds before each answer. ``faults``: a :data:`FaultPlan`. ``slow_s``: how long a
    "slow" fault stalls (set it beyond the client timeout). ``retry_after``: the Retry-After header
    sent with 429s. ``reject_json_schema``: answer 400 to ``response_format: json_schema``, as
    servers without structured output do.

    Counters: ``hits`` (every POST), ``answered`` (200s with a full body), ``seen`` (hits per prompt),
    ``payloads`` (every body received), ``auth`` (Authorization headers received), ``hit_times``,
    ``max_in_flight`` (most requests handled at once).
    """

    def __init__(
        self,
        answer: Answer = echo,
        faults: FaultPlan | None = None,
        delay: float = 0.0,
        slow_s: float = 5.0,
        retry_after: str = "0",
        reject_json_schema: bool = False,
        record: bool = True,
    ) -> None:
        self.answer, self.faults, self.delay = answer, faults, delay
        self.slow_s, self.retry_after, self.reject_json_schema = slow_s, retry_after, reject_json_schema
        self.record = record
        self.hits = 0
        self.answered = 0
        self.seen: Counter[str] = Counter()
        self.payloads: list[dict[str, Any]] = []
        self.auth: list[str] = []
        self.hit_times: list[float] = []
        self.in_flight = self.max_in_flight = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        self.hits += 1
        raw = await request.read()
        try:
            payload = json.loads(raw)
        except ValueError:
            return web.json_response({"error": {"message": "body is not JSON"}}, status=400)
        prompt = last_user_text(payload)
        attempt = self.seen[prompt]
        self.seen[prompt] += 1
        if self.record:
            self.payloads.append(payload)
            self.auth.append(request.headers.get("Authorization", ""))
            self.hit_times.append(loop.time())
        fault = self.faults(payload, attempt) if self.faults else None
        if self.delay:
            await asyncio.sleep(self.delay)
        if fault == "429":
            return web.json_response(
                {"error": {"message": "rate limited"}}, status=429, headers={"Retry-After": self.retry_after}
            )
        if fault == "400":
            msg = f"invalid credentials: {request.headers.get('Authorization', '')}"
            return web.json_response({"error": {"message": msg}}, status=400)
        if fault == "500":
            return web.json_response({"error": {"message": "internal error"}}, status=500)
        if fault is not None and fault.isdigit():  # any other status, its error echoing the key header
            msg = f"request refused ({request.headers.get('Authorization', '')})"
            return web.json_response({"error": {"message": msg}}, status=int(fault))
        if fault == "slow":
            await asyncio.sleep(self.slow_s)
        rf = payload.get("response_format") or {}
        if self.reject_json_schema and rf.get("type") == "json_schema":
            msg = "response_format json_schema is not supported by this server"
            return web.json_response({"error": {"message": msg}}, status=400)
        body = json.dumps(completion_body(payload, self.answer(payload))).encode()
        if fault == "malformed":
            return web.Response(body=b"<html>502 bad gateway</html>", content_type="application/json")
        if fault == "truncated":
            return web.Response(body=body[: len(body) // 2], content_type="application/json")
        if fault == "drop":
            # Promise the whole body, send half, hang up: the client sees a broken transfer.
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            resp.content_length = len(body)
            await resp.prepare(request)
            await resp.write(body[: len(body) // 2])
            if request.transport is not None:
                request.transport.close()
            return resp
        self.answered += 1
        return web.Response(body=body, content_type="application/json")

    # -- lifecycle: a private event loop in a daemon thread -------------------------------------

    def start(self) -> StubServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def boot() -> None:
            # Short shutdown: do not wait for handlers stalled by a "slow" fault.
            self._runner = web.AppRunner(
                self.app(), access_log=None, handle_signals=False, shutdown_timeout=0.1
            )
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = self._runner.addresses[0][1]

        def serve() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(boot())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="llm-stub", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("stub server did not start in 10 s")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
            # Handlers still stalled by a "slow" fault: cancel them so the loop closes clean.
            stalled = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in stalled:
                task.cancel()
            await asyncio.gather(*stalled, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Serve in the foreground (for benchmarks): print the URL, then answer until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--answer", default="ok", help="fixed answer text")
    parser.add_argument(
        "--loop", choices=("asyncio", "uvloop"), default="asyncio",
        help="event loop: uvloop is what production servers run on (uvicorn, so vLLM's server)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    stub = StubServer(answer=lambda _p: args.answer, delay=args.delay, record=False)

    async def run() -> None:
        runner = web.AppRunner(stub.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        stub.port = runner.addresses[0][1]
        print(stub.url, flush=True)
        await asyncio.Event().wait()

    try:
        if args.loop == "uvloop":
            import uvloop

            uvloop.run(run())
        else:
            asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
