"""Batched, resumable response generation for evaluation: prompts in, one response per prompt out.

Every finished answer is appended to ``responses.jsonl`` the moment it arrives (and, with a cached
backend, stored in the response cache too), so a killed run loses at most the answers in flight.
A rerun with the same settings keeps the finished rows and asks only for the rest; rows written
under other settings, failed rows and a torn last line are dropped first.

Example::

    from crabkit.eval.generate import GenSettings, generate_responses
    rows = generate_responses(backend, [("1", "Write a haiku.")], "out/responses.jsonl", GenSettings())
    rows[0]["response"]
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crabkit.io.jsonl import iter_jsonl_lenient
from crabkit.llm.base import Backend, ChatRequest, ChatResult
from crabkit.records import content_id, dumps

__all__ = ["GenSettings", "describe_backend", "generate_responses", "read_generated"]


@dataclass
class GenSettings:
    """How the model under test is sampled. Greedy by default, as IFEval and FollowBench report it."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int | None = None
    system: str | None = None
    batch_size: int = 64

    def request(self, prompt: str) -> ChatRequest:
        messages = [{"role": "system", "content": self.system}] if self.system else []
        messages.append({"role": "user", "content": prompt})
        return ChatRequest(messages=messages, temperature=self.temperature, top_p=self.top_p,
                           max_tokens=self.max_tokens, seed=self.seed)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def fingerprint(self, model: str = "") -> str:
        """Id of everything that changes an answer (the batch size does not)."""
        d = {k: v for k, v in self.to_json().items() if k != "batch_size"}
        return content_id(dumps({**d, "model": model}))


def describe_backend(backend: Backend | None) -> dict[str, Any] | None:
    """Backend name and model, seen through a cache wrapper, for summaries."""
    if backend is None:
        return None
    inner = getattr(backend, "inner", backend)
    return {"name": getattr(inner, "name", type(inner).__name__), "model": getattr(backend, "model", "")}


def read_generated(path: str | Path, fingerprint: str | None = None) -> dict[str, dict[str, Any]]:
    """Finished rows of a ``responses.jsonl`` by key (the last row of a key wins).

    Rows with an ``error``, rows of another settings ``fingerprint`` (when given) and lines that are
    not JSON (a run killed mid-write) are left out.
    """
    rows: dict[str, dict[str, Any]] = {}
    p = Path(path)
    if not p.exists():
        return rows
    for row in iter_jsonl_lenient(p):
        if "key" not in row or row.get("error"):
            continue
        if fingerprint is not None and row.get("settings_id") != fingerprint:
            continue
        rows[str(row["key"])] = row
    return rows


def _progress(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="resp", desc="generate", dynamic_ncols=True, file=sys.stderr)


def generate_responses(
    backend: Backend,
    prompts: Sequence[tuple[str, str]],
    out_path: str | Path | None,
    settings: GenSettings | None = None,
    *,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """A response row for every ``(id, prompt)``, in the given order, generated in batches.

    Each row is ``{key, prompt, response, error, finish_reason, completion_tokens, settings_id}``
    (``key`` is the id as a string), which the IFEval scorers read as a response file. A failed
    generation has ``response == ""`` and ``error`` set; it is retried on the next run. With
    ``out_path`` rows are appended there as they arrive, finished rows there are reused, and the
    finished file is rewritten in prompt order.
    """
    settings = settings or GenSettings()
    if settings.batch_size < 1:
        raise ValueError("GenSettings.batch_size must be at least 1")
    ids = [str(i) for i, _ in prompts]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"prompt id {dup!r} appears twice")
    probe = backend.resolve(settings.request("x"))
    fingerprint = settings.fingerprint(probe.model)
    done: dict[str, dict[str, Any]] = {}
    handle = None
    if out_path is not None:
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        wanted = set(ids)
        done = {i: r for i, r in read_generated(out, fingerprint).items() if i in wanted}
        # Keep just the reusable rows, so the file never holds stale or torn lines.
        _rewrite(out, [done[i] for i in ids if i in done])
        handle = out.open("a", encoding="utf-8")
    todo = [(i, p) for i, p in zip(ids, (p for _, p in prompts)) if i not in done]
    bar = _progress(len(ids), len(ids) - len(todo), progress)
    try:
        for start in range(0, len(todo), settings.batch_size):
            batch = todo[start : start + settings.batch_size]
            written: set[int] = set()

            def keep(j: int, result: ChatResult, batch: list[tuple[str, str]] = batch,
                     written: set[int] = written) -> None:
                if j in written:
                    return
                written.add(j)
                row = _row(batch[j][0], batch[j][1], result, fingerprint)
                done[row["key"]] = row
                if handle is not None:
                    handle.write(dumps(row) + "\n")
                    handle.flush()
                if bar is not None:
                    bar.update(1)

            results = backend.generate([settings.request(p) for _, p in batch], on_result=keep)
            for j, result in enumerate(results):  # backends that ignore on_result
                keep(j, result)
    finally:
        if handle is not None:
            handle.close()
        if bar is not None:
            bar.close()
    rows = [done[i] for i in ids]
    if out_path is not None:
        _rewrite(Path(out_path), rows)
    return rows


def _rewrite(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(dumps(r) + "\n" for r in rows), encoding="utf-8")
    os.replace(tmp, path)


def _row(ident: str, prompt: str, result: ChatResult, fingerprint: str) -> dict[str, Any]:
    return {
        "key": ident,
        "prompt": prompt,
        "response": result.text if result.ok else "",
        "error": result.error,
        "finish_reason": result.finish_reason,
        "completion_tokens": result.completion_tokens,
        "settings_id": fingerprint,
    }
