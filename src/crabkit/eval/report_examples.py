"""What the report reads from ``train.jsonl`` itself: a sample of examples to read, per kind, and the
length of every row (tokens with a tokenizer, else words). One streamed pass; memory holds the
sample and one integer per row.

The sample is stable: per kind, the rows whose id hashes lowest, so the same run always shows the
same examples, spread over the whole file rather than its first block.
"""

from __future__ import annotations

import heapq
import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crabkit.io.jsonl import iter_jsonl_lenient
from crabkit.records import content_id

__all__ = ["CATEGORIES", "TrainSample", "examples_html", "ifeval_mark", "read_train", "token_counter"]

#: The example browser's groups, in the order shown.
CATEGORIES = ("forward with demonstrations", "forward", "reverse", "mix")


@dataclass
class TrainSample:
    """Per category, the sampled rows and how many rows it has; every row's length."""

    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    lengths: list[int] = field(default_factory=list)
    unit: str = "words"


def category(row: Mapping[str, Any]) -> str:
    kind = str(row.get("kind", "?"))
    if kind == "forward" and row.get("demo_seed_ids"):
        return "forward with demonstrations"
    return kind


def token_counter(tokenizer: str | None) -> tuple[Callable[[Sequence[Mapping[str, str]]], int], str]:
    """A function giving a conversation's length, and its unit: tokens of ``tokenizer`` (anything
    ``crab train --model`` takes; the conversation rendered with its chat template where it has one),
    else words."""
    if not tokenizer:
        from crabkit.text import count_words

        return (lambda messages: sum(count_words(m.get("content") or "") for m in messages)), "words"
    try:
        from crabkit.train.models import ModelLoadError, load_tokenizer
    except ImportError:
        raise ImportError("--tokenizer needs transformers: pip install 'crabkit[train]'") from None
    here = Path(tokenizer)
    try:
        if here.is_dir() and any((here / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json")):
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(here)  # a tokenizer directory of its own (no model weights)
        else:  # what --model takes: a model directory, a .gguf, `embedded` (SmolLM2), a cached Hub id
            tok = load_tokenizer(tokenizer)
    except (ModelLoadError, OSError, ValueError) as exc:
        raise FileNotFoundError(f"--tokenizer {tokenizer}: cannot load it ({exc})") from None

    def count(messages: Sequence[Mapping[str, str]]) -> int:
        msgs = [{"role": m["role"], "content": m.get("content") or ""} for m in messages]
        if getattr(tok, "chat_template", None):
            ids = tok.apply_chat_template(msgs, tokenize=True)
            ids = ids["input_ids"] if isinstance(ids, Mapping) else ids
            return len(ids)
        return sum(len(tok.encode(m["content"], add_special_tokens=False)) for m in msgs)

    return count, f"tokens ({Path(tokenizer).name or tokenizer})"


def read_train(path: Path, per_kind: int = 3, tokenizer: str | None = None) -> TrainSample:
    """One pass over ``train.jsonl``: ``per_kind`` examples per category and every row's length."""
    count, unit = token_counter(tokenizer)
    out = TrainSample(unit=unit)
    heaps: dict[str, list[tuple[str, int, dict[str, Any]]]] = {}
    for n, row in enumerate(iter_jsonl_lenient(path)):
        messages = row.get("messages")
        if not isinstance(messages, list):
            continue
        out.lengths.append(count(messages))
        cat = category(row)
        out.totals[cat] = out.totals.get(cat, 0) + 1
        # Keep the per_kind lowest hashes: a max-heap of the kept ones, by negated hash order.
        key = content_id(str(row.get("id", n)))
        heap = heaps.setdefault(cat, [])
        item = (_neg(key), n, row)
        if len(heap) < per_kind:
            heapq.heappush(heap, item)
        elif item > heap[0]:
            heapq.heapreplace(heap, item)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    for cat in sorted(heaps, key=lambda c: (order.get(c, len(order)), c)):
        out.examples[cat] = [row for _, _, row in sorted(heaps[cat], key=lambda t: (_neg(t[0]), t[1]))]
    return out


def _neg(hex_id: str) -> str:
    """The hex id with every digit flipped, so a min-heap on it keeps the lowest ids' complements."""
    return hex_id.translate(str.maketrans("0123456789abcdef", "fedcba9876543210"))


def ifeval_mark(type_id: str) -> str:
    """``IFEval`` when the type is an IFEval instruction, ``IFBench`` when it is one of IFBench's,
    ``crabkit`` for crabkit's own, ``soft`` for LLM-judged."""
    from crabkit.constraints import UnknownConstraintType, get

    if type_id.startswith("soft:"):
        return "soft"
    try:
        ctype = get(type_id)
    except UnknownConstraintType:
        return "unknown"
    return "IFEval" if ctype.ifeval_id else "IFBench" if ctype.suite == "ifbench" else "crabkit"


def _e(value: Any) -> str:
    return html.escape(str(value))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _example(row: Mapping[str, Any], open_: bool) -> str:
    types = [str(t) for t in row.get("constraint_types") or []]
    badges = "".join(f"<span class='ct {ifeval_mark(t).lower()}'>{_e(t)}</span>" for t in types)
    meta = [_plural(len(types), "constraint")] if types else []
    for key in ("shape", "edit"):
        if row.get(key):
            meta.append(f"{key} {row[key]}")
    if row.get("demo_seed_ids"):
        meta.append(_plural(len(row["demo_seed_ids"]), "demonstration"))
    messages = row.get("messages") or []
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    turns = []
    for i, m in enumerate(messages):
        role = str(m.get("role", "?"))
        label = role if i >= last_user or role == "system" else f"{role} (earlier turn)"
        turns.append(f"<div class='msg {_e(role)}'><span class='role'>{_e(label)}</span>"
                     f"<pre>{_e(m.get('content', ''))}</pre></div>")  # fmt: skip
    summary = f"<code>{_e(row.get('id', '?'))}</code> &middot; {_e(', '.join(meta) or 'no constraints')}"
    return (f"<details class='example'{' open' if open_ else ''}><summary>{summary}</summary>"
            f"<div class='badges'>{badges}</div>{''.join(turns)}</details>")  # fmt: skip


def examples_html(sample: TrainSample) -> str:
    """The example browser: per category, its sampled rows (the first one open), every text escaped."""
    if not sample.examples:
        return "<p class='absent'>train.jsonl has no rows to show.</p>"
    parts = [("<p class='meta'>A stable sample of train.jsonl (the same rows on every report of this run). "
             "Constraint types: <span class='ct ifeval'>IFEval</span> <span class='ct ifbench'>IFBench</span> "
             "<span class='ct crabkit'>crabkit only</span>"
             " <span class='ct soft'>soft (LLM-judged)</span>. Turns before the final request are context: "
             "earlier conversation or in-context demonstrations.</p>")]  # fmt: skip
    for cat, rows in sample.examples.items():
        parts.append(f"<h3>{_e(cat)} <span class='meta'>({len(rows)} of {sample.totals.get(cat, len(rows))})</span></h3>")
        parts += [_example(row, i == 0) for i, row in enumerate(rows)]
    return "".join(parts)


def length_table(lengths: Iterable[int], unit: str) -> list[tuple[str, Any]]:
    """Rows of the length summary: median, 95th percentile, longest, and how many exceed common limits."""
    xs = sorted(lengths)
    if not xs:
        return []
    rows: list[tuple[str, Any]] = [
        ("rows", len(xs)), (f"median {unit}", xs[len(xs) // 2]),
        (f"95th percentile {unit}", xs[min(len(xs) - 1, int(0.95 * len(xs)))]), (f"longest {unit}", xs[-1]),
    ]  # fmt: skip
    for limit in (512, 1024, 2048, 4096, 8192):
        over = sum(x > limit for x in xs)
        rows.append((f"over {limit} {unit.split(' ')[0]}", f"{over} ({100 * over / len(xs):.1f}%)"))
    return rows
