"""An OpenAI chat-completions stub on uvicorn, the server vLLM and SGLang answer through.

A bare ASGI app (no framework) that reads the JSON body, waits ``--delay`` seconds and answers with
a completion and usage. Next to ``bench/lean_stub.py`` it shows how a client fares against a
production HTTP stack (uvicorn's httptools protocol on uvloop). It prints its URL, then serves
until killed. Needs uvicorn (the dev extra).

    python bench/uvicorn_stub.py --delay 0.05 [--loop uvloop|asyncio] [--answer ok]
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import sys
from typing import Any

from lean_stub import chat_answer, stub_arguments


def make_app(delay: float, answer: str) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, out = chat_answer(body, answer)
        if status == 200:
            await asyncio.sleep(delay)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    return app


def main(argv: list[str] | None = None) -> int:
    args = stub_arguments(__doc__, argv)
    import uvicorn

    # Bind the socket here and hand it to uvicorn: a probed-then-closed port can be taken by another
    # process before uvicorn binds it again (seen in CI under load).
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"  # h11: uvicorn's pure-Python parser
    config = uvicorn.Config(
        make_app(args.delay, args.answer), loop=args.loop, http=http, log_level="error",
        access_log=False, backlog=1024,
    )  # fmt: skip
    print(f"http://127.0.0.1:{port}/v1", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
