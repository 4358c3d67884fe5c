"""A pipeline block: what the driver cuts from the input, and the one pure function that turns it into
output text (back-translation by rules, the LLM stage's result applied, composition, rendering).

:func:`process_block` is what any engine runs (this process, Ray Data workers); :func:`prepare` and
:func:`finish_block` are its two halves, between which the local engine runs the LLM stage of
several blocks at once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crabkit.backtranslate.prepare import prepare_block
from crabkit.backtranslate.rules import Backtranslated
from crabkit.compose.plan import compose_block
from crabkit.records import Reject, Seed, dumps
from crabkit.runstats import add as _add
from crabkit.runstats import merge as _merge

if TYPE_CHECKING:
    from crabkit.pipeline import GenerateConfig

__all__ = ["Block", "BlockOutput", "apply_stage", "cut_blocks", "finish_block", "prepare", "process_block"]

log = logging.getLogger("crabkit.pipeline")


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


def cut_blocks(items: Iterable[Seed | Reject], block_index: int, block_size: int) -> Iterator[Block]:
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
    results = prepare(block, cfg)
    stage = None
    if backend is not None:
        from crabkit.llmstage import run_llm_stage

        stage = run_llm_stage(results, backend, cfg.llm, cfg.seed)
    return finish_block(block, cfg, results, stage)


def prepare(block: Block, cfg: GenerateConfig) -> list[Backtranslated]:
    return prepare_block(block.seeds, cfg.seed, cfg.rules.types(), cfg.edits, cfg.contrast)


def finish_block(block: Block, cfg: GenerateConfig, results: list[Backtranslated], stage: Any = None) -> BlockOutput:
    """Compose and render a back-translated block (``stage``: its LLM stage's result, if any)."""
    stats: dict[str, Any] = {}
    rejects = block.rejects
    if stage is not None:
        results, rejects = apply_stage(results, rejects, stage, cfg, stats)
    composed = compose_block(results, block.index, cfg.seed, cfg.compose, cfg.rules.suite_multipliers())
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


def apply_stage(
    results: list[Backtranslated], rejects: list[Reject], stage: Any, cfg: GenerateConfig, stats: dict[str, Any]
) -> tuple[list[Backtranslated], list[Reject]]:
    """A block's LLM stage result applied: failed records become rejects (or stay, rules only, with
    ``on_failure="keep"``). Returns the records to compose and the block's rejects."""
    stage.finalize()
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
