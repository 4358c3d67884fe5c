"""A lean OpenAI chat-completions stub for client benchmarks: HTTP/1.1 keep-alive on a bare asyncio
protocol, answering every ``POST .../chat/completions`` after a fixed delay.

The test server (``tests/llm_server.py``, aiohttp's web framework) spends 175-200 us of CPU per
request. In a benchmark on a small machine that CPU is taken from the client being measured: the
stub and the client share the cores, so a heavy stub makes every client look slow. A real engine
runs on its own machine. This stub does only what the protocol needs (read the head and the
``Content-Length`` body, parse the JSON body, answer with a completion and usage) at about a fifth
of that cost, so the bench measures the client. It prints its URL, then serves until killed.

    python bench/lean_stub.py --delay 0.05 [--loop uvloop|asyncio] [--answer ok]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

_HEAD_END = b"\r\n\r\n"


def _response(status: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("ascii") + body


def chat_answer(body: bytes, answer: str) -> tuple[int, bytes]:
    """(HTTP status, JSON body) answering a chat-completions request body with ``answer``."""
    try:
        payload = json.loads(body)
        chars = sum(len(str(m.get("content", ""))) for m in payload["messages"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return 400, b'{"error": {"message": "not a chat request"}}'
    usage = {"prompt_tokens": chars // 4 + 1, "completion_tokens": len(answer) // 4 + 1}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    completion = {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": str(payload.get("model", "")),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
        ],
        "usage": usage,
    }
    return 200, json.dumps(completion).encode()


def stub_arguments(doc: str, argv: list[str] | None) -> argparse.Namespace:
    """The command line every bench stub takes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--answer", default="ok", help="fixed answer text")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    return parser.parse_args(argv)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests are parsed as bytes arrive and answered in order."""

    def __init__(self, delay: float, answer: str) -> None:
        self.delay = delay
        self.answer = answer
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(_HEAD_END)
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            stop = end + 4 + length
            if len(self.buffer) < stop:
                return
            body, self.buffer = self.buffer[end + 4 : stop], self.buffer[stop:]
            self.loop.call_later(self.delay, self._send, self._answer(head, body))

    def _answer(self, head: str, body: bytes) -> bytes:
        method, _, rest = head.partition(" ")
        path = rest.split(" ", 1)[0]
        if method != "POST" or not path.endswith("/chat/completions"):
            return _response("404 Not Found", b'{"error": {"message": "not found"}}')
        status, out = chat_answer(body, self.answer)
        return _response("200 OK" if status == 200 else "400 Bad Request", out)

    def _send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(delay: float, answer: str) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(delay, answer), "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}/v1", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    args = stub_arguments(__doc__, argv)
    try:
        if args.loop == "uvloop":
            import uvloop

            uvloop.run(serve(args.delay, args.answer))
        else:
            asyncio.run(serve(args.delay, args.answer))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
