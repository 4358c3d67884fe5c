"""An OpenAI chat-completions stub that answers the LLM stage's prompts, for ``bench/llm_stage.py``.

Each request waits a latency drawn from a lognormal distribution (default mean 200 ms, p99 about
2 s, a server's long tail), then gets an answer that parses: refine / soft-constraint JSON for the
first requests, a verdict per constraint for the judge (most satisfied, some rewritten, some called
no restriction), the same for the paper-style one-constraint judge prompt. Answers depend only on
the prompt (a hash), never on arrival order, so two runs get the same answers. The stub counts
requests, prompt tokens (characters / 4, as its ``usage`` says) and completion tokens, and keeps the
time integral of requests in flight: ``GET /stats`` returns them, ``POST /reset`` zeroes them.
It also counts the prompt tokens a server with a prefix cache (vLLM's automatic prefix caching)
would compute: each prompt is cut into blocks of ``BLOCK`` characters chained by hash, and the
blocks some earlier request already began with are not computed again (an unbounded cache: the
most such a server saves).

    python bench/stage_stub.py [--mean 0.2] [--p99 2.0] [--seed 0]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import random
import re
import sys
import time

from lean_stub import _HEAD_END, _Connection, _response

TONES = ["Keep a calm, practical tone from start to finish.", "Write in a warm and encouraging voice.",
         "Use a formal, precise register suited to a professional reader.",
         "Keep the wording plain and friendly, as if talking to a neighbour."]  # fmt: skip
# One or two wordings per soft type (not the language or output-format ones, which depend on the text).
OTHERS = [
    ("semantic_elements", "Explain the reason behind each recommendation you make."),
    ("semantic_elements", "Mention at least one common mistake and how to avoid it."),
    ("morphological_prohibitions", "Avoid slang and overly casual expressions."),
    ("literary_devices", "Use one everyday comparison to make the main idea concrete."),
    ("grammatical_structure", "Address the reader directly in the second person."),
    ("grammatical_structure", "Prefer short, active sentences over long passive ones."),
    ("hierarchical_structure", "Move from the general idea to the specific details."),
    ("paragraphs_and_separators", "Give each main idea its own paragraph."),
    ("start_end_sentence", "Open with a sentence that states the main point directly."),
    ("start_end_sentence", "Close with a short practical takeaway the reader can act on."),
    ("key_formatting", "Put the key terms in bold where they first appear."),
    ("item_listing", "Keep each listed item focused on a single idea."),
]
#: Soft constraints per answer: CRAB's own sample (Llama-3-70B) has 9.5 per example; our prompt asks
#: for at most one per type, so the stub writes the tone and six more (fewer when picks collide).
PICKS = 6


#: Characters per prefix-cache block (vLLM's default is 16 tokens; at characters / 4, 64 characters).
BLOCK = 64


def uncached_chars(text: str, seen: set[bytes]) -> int:
    """Characters of ``text`` after its longest prefix of whole blocks already in ``seen`` (block
    hashes chained from the start, as a prefix cache keys them); adds this text's blocks to ``seen``."""
    h = hashlib.blake2b(digest_size=16)
    cached, hit = 0, True
    for start in range(0, len(text) - len(text) % BLOCK, BLOCK):
        h.update(text[start:start + BLOCK].encode())
        key = h.copy().digest()
        if hit and key in seen:
            cached = start + BLOCK
        else:
            hit = False
            seen.add(key)
    return len(text) - cached


def _hash(*parts: str) -> int:
    return int(hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12], 16)


def _tag(prompt: str, tag: str) -> str | None:
    m = re.search(rf"<{tag}>\n(.*?)\n</{tag}>", prompt, re.DOTALL)
    return m.group(1) if m else None


def _verdict(answer: str, constraint: str, again: bool) -> dict[str, str]:
    h = _hash(answer[:400], constraint) % 100
    if again or h < 80:
        return {"reason": "The answer does this throughout.", "verdict": "satisfied", "modified_constraint": ""}
    if h < 93:
        return {"reason": "Only partly; a narrower wording holds.", "verdict": "not_satisfied",
                "modified_constraint": f"{constraint.rstrip('.')} in at least part of the answer."}  # fmt: skip
    return {"reason": "Any answer would meet this.", "verdict": "not_a_restriction", "modified_constraint": ""}


def answer_for(prompt: str) -> str:
    """The stub's answer to one of the stage's prompts (this crabkit's, or the paper-style ones)."""
    answer = _tag(prompt, "answer") or _tag(prompt, "response") or ""
    listed = _tag(prompt, "constraints")
    if listed is not None:  # one request judging all of a seed's constraints
        items = [line.split(". ", 1) for line in listed.splitlines() if ". " in line]
        again = "in at least part of the answer" in listed
        verdicts = [{"n": int(n), **_verdict(answer, text, again)} for n, text in items]
        return json.dumps({"verdicts": verdicts})
    single = _tag(prompt, "constraint")
    if single is not None:  # one request per constraint
        return json.dumps(_verdict(answer, single, "in at least part of the answer" in single))
    out: dict[str, object] = {}
    if '"refined_instruction"' in prompt:
        request = _tag(prompt, "request") or _tag(prompt, "instruction") or ""
        out["refined_instruction"] = f"{request.rstrip()} Keep it useful for someone planning this in a short amount of time."
    if '"constraints"' in prompt:
        h = _hash(answer[:400])
        picks = [OTHERS[(h >> (4 * i)) % len(OTHERS)] for i in range(PICKS + 3)]
        found = [{"type": "writing_style", "constraint": TONES[h % len(TONES)]}]
        for kind, text in picks:
            if len(found) <= PICKS and all(f["type"] != kind for f in found):
                found.append({"type": kind, "constraint": text})
        out["constraints"] = found
    return json.dumps(out)


class _Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = self.prompt_tokens = self.completion_tokens = 0
        self.computed_prompt_tokens = 0  # what a prefix-caching server computes (see uncached_chars)
        self.prefix_blocks: set[bytes] = set()
        self.in_flight = self.max_in_flight = 0
        self.area = 0.0  # integral of in-flight over time
        self.first = self.last = self.mark = 0.0
        self.last_arrival = self.area_at_last_arrival = 0.0
        self.series: list[int] = []  # in flight, every 0.25 s from the first request
        self.last_full = self.area_at_last_full = 0.0  # the last time in flight reached its maximum

    def change(self, delta: int) -> None:
        now = time.monotonic()
        if self.requests == 0 and delta > 0 and self.first == 0.0:
            self.first = self.mark = now
        self.area += self.in_flight * (now - self.mark)
        self.mark = now
        self.in_flight += delta
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if delta < 0:
            self.last = now
        else:
            self.last_arrival, self.area_at_last_arrival = now, self.area
            if self.in_flight >= self.max_in_flight:
                self.last_full, self.area_at_last_full = now, self.area

    def to_json(self) -> dict[str, float]:
        span = self.last - self.first
        return {"requests": self.requests, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "computed_prompt_tokens": self.computed_prompt_tokens, "max_in_flight": self.max_in_flight,
                "span_s": round(span, 3), "mean_in_flight": round(self.area / span, 2) if span > 0 else 0.0,
                "drain_s": round(self.last - self.last_arrival, 3), "series": self.series,
                "tail_s": round(self.last - self.last_full, 3),
                "mean_in_flight_until_tail": round(self.area_at_last_full / (self.last_full - self.first), 2)
                if self.last_full > self.first else 0.0,
                "mean_in_flight_before_drain": round(self.area_at_last_arrival / (self.last_arrival - self.first), 2)
                if self.last_arrival > self.first else 0.0}  # fmt: skip


STATS = _Stats()


class _StageConnection(_Connection):
    rng: random.Random
    mu = sigma = 0.0

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
            self._handle(head, body)

    def _handle(self, head: str, body: bytes) -> None:
        method, _, rest = head.partition(" ")
        path = rest.split(" ", 1)[0]
        if path.endswith("/stats"):
            self._send(_response("200 OK", json.dumps(STATS.to_json()).encode()))
            return
        if path.endswith("/reset"):
            STATS.reset()
            self._send(_response("200 OK", b"{}"))
            return
        if method != "POST" or not path.endswith("/chat/completions"):
            self._send(_response("404 Not Found", b'{"error": {"message": "not found"}}'))
            return
        payload = json.loads(body)
        prompt = payload["messages"][-1]["content"]
        chars = sum(len(str(m.get("content", ""))) for m in payload["messages"])
        text = answer_for(prompt)
        usage = {"prompt_tokens": math.ceil(chars / 4), "completion_tokens": math.ceil(len(text) / 4)}
        STATS.change(+1)
        STATS.requests += 1
        STATS.prompt_tokens += usage["prompt_tokens"]
        STATS.completion_tokens += usage["completion_tokens"]
        STATS.computed_prompt_tokens += math.ceil(
            uncached_chars("".join(str(m.get("content", "")) for m in payload["messages"]), STATS.prefix_blocks) / 4
        )
        completion = {"id": "chatcmpl-stage", "object": "chat.completion", "created": 0, "model": payload.get("model", ""),
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                      "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}}  # fmt: skip
        delay = min(30.0, self.rng.lognormvariate(self.mu, self.sigma))
        self.loop.call_later(delay, self._done, _response("200 OK", json.dumps(completion).encode()))

    def _done(self, data: bytes) -> None:
        STATS.change(-1)
        self._send(data)


def lognormal(mean: float, p99: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with this mean and 99th percentile (the narrower solution)."""
    z = 2.3263
    # ln p99 = mu + z s; ln mean = mu + s^2 / 2  =>  s^2 / 2 - z s + ln(p99 / mean) = 0
    c = math.log(p99 / mean)
    sigma = z - math.sqrt(z * z - 2 * c)
    return math.log(mean) - sigma * sigma / 2, sigma


async def serve(args: argparse.Namespace) -> None:
    _StageConnection.rng = random.Random(args.seed)
    _StageConnection.mu, _StageConnection.sigma = lognormal(args.mean, args.p99)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _StageConnection(0.0, ""), "127.0.0.1", 0, backlog=1024)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1", flush=True)
    async def sample() -> None:
        while True:
            await asyncio.sleep(0.25)
            if STATS.first and (STATS.in_flight or not STATS.last):
                STATS.series.append(STATS.in_flight)

    task = asyncio.ensure_future(sample())
    async with server:
        await server.serve_forever()
    task.cancel()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mean", type=float, default=0.2, help="mean latency in seconds")
    parser.add_argument("--p99", type=float, default=2.0, help="99th percentile latency in seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
