"""Turn a block of back-translated records into training examples.

Composition works on blocks (chunks) of records so that demonstrations can be drawn from
neighbouring records while memory stays flat. Each block has its own rng derived from the run seed
and the block index, so a resumed run composes every block exactly as an uninterrupted one would.

Per record: a reverse example (``reverse_ratio``; canonical target, see ``reverse.py``) or a forward
one (see ``forward.py``): an edited record always asks for its edit's constraint; a record edited
with ``repeat_prompt`` gets the composed request repeated at the start of its response. Every row of
``train.jsonl`` lists its constraints (type, params, text), its prompt shape and its edit.

Ground-truth rows (``ifeval_ground_truth.jsonl``, IFEval's layout plus ``response``) list each
benchmark-typed constraint by its benchmark id: an IFEval type by its IFEval id, an IFBench type by
its IFBench id (IFBench's own data uses the same layout; ``crab ifbench score`` and crabkit's reward
read both). By ``ground_truth``:

* ``"strict"`` (the default): one per forward example whose constraints are all benchmark types, so
  the row checks everything its prompt asks (IFEval / IFBench scoring);
* ``"every"``: one per seed that has a benchmark-typed constraint. A forward example's row checks the
  benchmark-typed ones of its constraints (``other_constraints`` lists the crabkit-only rest, which
  crabkit's reward checks too); a demonstration's row is its own turn; a seed made a reverse example
  (or whose prompt asked no benchmark type) gets a request composed from its benchmark-typed
  constraints alone, with an rng of its own, so ``train.jsonl`` is byte-identical in both modes.

With the default constraint types (IFEval's suite) every benchmark type is an IFEval type.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crabkit.backtranslate.rules import Backtranslated
from crabkit.constraints import get
from crabkit.records import Constraint

from .forward import Balance, ForwardConfig, cover, forward_prompt, sample_constraints, sample_k, with_suites
from .mix import history_messages
from .reverse import canonical_constraints, reverse_prompt, reverse_target
from .templates import REVERSE_FORMATS

__all__ = ["GROUND_TRUTH_MODES", "ComposeConfig", "Composed", "benchmark_ref", "compose_block", "constraint_rows"]

REPEAT = "combination:repeat_prompt"
#: Which seeds get a row in ``ifeval_ground_truth.jsonl`` (see the module docstring).
GROUND_TRUTH_MODES = ("strict", "every")


@dataclass
class ComposeConfig:
    reverse_ratio: float = 0.3
    reverse_formats: tuple[str, ...] = tuple(REVERSE_FORMATS)
    #: Most constraints in a reverse target.
    reverse_most: int = 6
    #: Share of forward examples drawn only from benchmark-typed constraints (IFEval's, and
    #: IFBench's when inferred), so that enough rows land in ifeval_ground_truth.jsonl for scoring
    #: and RL with verifiable rewards.
    ifeval_only_rate: float = 0.25
    #: ``strict`` or ``every`` (see the module docstring).
    ground_truth: str = "strict"
    forward: ForwardConfig = field(default_factory=ForwardConfig)

    def __post_init__(self) -> None:
        for name in ("reverse_ratio", "ifeval_only_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"compose.{name} must be a number between 0 and 1, got {value!r}")
        if self.ground_truth not in GROUND_TRUTH_MODES:
            raise ValueError(
                f"compose.ground_truth must be one of {', '.join(GROUND_TRUTH_MODES)}, got {self.ground_truth!r}"
            )
        unknown = sorted(set(self.reverse_formats) - set(REVERSE_FORMATS))
        if unknown or not self.reverse_formats:
            raise ValueError(f"compose.reverse_formats: choose from {', '.join(REVERSE_FORMATS)}")


@dataclass
class Composed:
    """What one block produced: training examples and IFEval-style ground-truth rows."""

    examples: list[dict[str, Any]] = field(default_factory=list)
    ground_truth: list[dict[str, Any]] = field(default_factory=list)
    k_hist: dict[int, int] = field(default_factory=dict)
    skipped_no_constraints: int = 0
    #: Seeds used as in-context demonstrations (they get no example of their own).
    demonstrations: int = 0


def constraint_rows(constraints: Sequence[Constraint]) -> list[dict[str, Any]]:
    """What a ``train.jsonl`` row says it asks: type, params and wording of each constraint."""
    rows = []
    for c in constraints:
        row: dict[str, Any] = {"type": c.type, "params": c.params, "text": c.text, "source": c.source}
        if c.ifeval_id:
            row["ifeval_id"], row["ifeval_kwargs"] = c.ifeval_id, c.ifeval_kwargs
        rows.append(row)
    return rows


def benchmark_ref(c: Constraint) -> tuple[str, dict[str, Any] | None] | None:
    """The instruction id and kwargs a ground-truth row lists for ``c``: its IFEval id and kwargs, or
    its IFBench id and the reference's kwargs; None for crabkit-only and soft constraints."""
    if c.ifeval_id:
        return c.ifeval_id, c.ifeval_kwargs
    if c.source != "rule":
        return None
    ctype = get(c.type)
    return (ctype.ifbench_id, ctype.to_kwargs(c.params)) if ctype.ifbench_id else None


def _ifeval_row(
    item: Backtranslated, prompt: str, chosen: Sequence[Constraint], response: str, subset: bool = False
) -> dict[str, Any] | None:
    """The ground-truth row of one prompt: all of ``chosen`` must be benchmark types, or, with
    ``subset``, the benchmark-typed ones are checked and the other rule constraints are listed."""
    refs = [(c, benchmark_ref(c)) for c in chosen]
    typed = [ref for _, ref in refs if ref]
    if not typed or (len(typed) < len(chosen) and not subset):
        return None
    row: dict[str, Any] = {
        "key": int(item.seed.id[:12], 16),
        "seed_id": item.seed.id,
        "prompt": prompt,
        "instruction_id_list": [instruction_id for instruction_id, _ in typed],
        "kwargs": [kwargs for _, kwargs in typed],
        "response": response,
    }
    if history := history_messages(item.seed):  # the system message and earlier turns the prompt follows
        row["history"] = history
    if subset:
        row["other_constraints"] = [c.to_json() for c, ref in refs if ref is None and c.source == "rule"]
    return row


def _composed_ifeval_row(item: Backtranslated, run_seed: int, fcfg: ForwardConfig) -> dict[str, Any] | None:
    """A ground-truth row for a seed without a forward prompt that asks a benchmark type: a request
    composed from its benchmark-typed constraints only (its own rng: the block's draws are untouched)."""
    forced = [c for c in _edit_constraint(item) if benchmark_ref(c) and c.type != REPEAT]
    pool = [c for c in item.constraints if benchmark_ref(c) and c.type != REPEAT]
    if not pool:
        return None
    rng = random.Random(f"{run_seed}:ground-truth:{item.seed.id}")
    k = max(sample_k(len(pool), fcfg, rng), len(forced))
    chosen = sample_constraints(pool, k, rng, fcfg.weights, forced=forced)
    if not chosen:
        return None
    instruction = item.refined_instruction or item.seed.instruction
    prompt = forward_prompt(instruction, chosen, rng, _shape(len(chosen), fcfg, rng))
    return _ifeval_row(item, prompt, chosen, item.response, subset=True)


def _edit_constraint(item: Backtranslated) -> list[Constraint]:
    """The constraint an edited record must ask for (its edit's target), if any."""
    if item.edit is None:
        return []
    from crabkit.backtranslate.edits import EDITS

    target = EDITS[item.edit].target
    return [c for c in item.constraints if c.type == target][:1]


def _repeat_prompt(
    item: Backtranslated, instruction: str, chosen: list[Constraint], rng: random.Random, shape: str
) -> tuple[str, str, list[Constraint]]:
    """The prompt, response and constraints of a forward example whose answer first repeats the
    request: the request is composed without the repeat sentence, put before the response, and
    every other constraint is checked again on that longer response (those that fail are dropped)."""
    from crabkit.backtranslate.rules import verify_constraint
    from crabkit.constraints import get
    from crabkit.constraints.conflicts import conflicts

    # Soft constraints (the LLM stage's) cannot be checked again by code: the global ones (style,
    # content, language) still hold with the request put before the answer, the local ones
    # (openings, paragraphs, structure) may not, so they are left out of this example.
    chosen = [c for c in chosen if c.source != "llm" or c.type.startswith("soft:global:")]
    others = [c for c in chosen if not conflicts(REPEAT, c.type, None, c.params)]
    for _ in range(len(others) + 1):
        request = forward_prompt(instruction, others, rng, shape)
        response = f"{request}\n\n{item.response}"
        kept = [c for c in others if c.source == "llm" or verify_constraint(response, c)]
        if kept == others:
            break
        others = kept
    ctype = get(REPEAT)
    params = {"prompt_to_repeat": request}
    repeat = Constraint(
        REPEAT, params, ctype.describe(params, rng), ctype.check(response, params), "rule",
        ctype.ifeval_id, ctype.to_kwargs(params),
    )  # fmt: skip
    return f"{request}\n\n{repeat.text}", response, [*others, repeat]


def _shape(n: int, cfg: ForwardConfig, rng: random.Random) -> str:
    table = cfg.shapes_few if n <= cfg.few[1] else cfg.shapes_many
    names = sorted(table)
    return rng.choices(names, weights=[table[k] for k in names])[0]


def _take_demo(queue: deque[Backtranslated], request_key: str) -> Backtranslated | None:
    """A demonstration from the far end of the queue (never an answer to the same request)."""
    for k in range(len(queue) - 1, -1, -1):
        if queue[k].seed.request_key != request_key:
            demo = queue[k]
            del queue[k]
            return demo
    return None


def compose_block(
    items: Sequence[Backtranslated],
    block_index: int,
    run_seed: int,
    cfg: ComposeConfig,
    suites: Mapping[str, float] | None = None,
) -> Composed:
    """Compose forward and reverse examples for one block; demonstration records are used once.

    ``suites``: a factor per constraint suite on its types' sampling weights (see
    ``RuleConfig.suite_multipliers``); None or all 1 leaves the weights as ``cfg`` has them."""
    rng = random.Random(f"{run_seed}:compose:{block_index}")
    out = Composed()
    queue = deque(it for it in items if it.constraints)
    out.skipped_no_constraints = len(items) - len(queue)
    fcfg = cfg.forward
    fcfg = with_suites(fcfg, suites)
    balance = Balance.of([it.constraints for it in queue], fcfg.most_share)
    every = cfg.ground_truth == "every"
    while queue:
        item = queue.popleft()
        instruction = item.refined_instruction or item.seed.instruction
        forced = _edit_constraint(item)
        if item.edit != "repeat_prompt" and rng.random() < cfg.reverse_ratio:
            fmt = rng.choice(cfg.reverse_formats)
            chosen = canonical_constraints(item.constraints, cfg.reverse_most, forced)
            user = reverse_prompt(item.seed.instruction, item.response, fmt, rng)
            target = reverse_target(chosen, fmt, item.refined_instruction)
            out.examples.append(
                {
                    "id": f"{item.seed.id}-rev",
                    "kind": "reverse",
                    "seed_id": item.seed.id,
                    "constraint_types": [c.type for c in chosen],
                    "constraints": constraint_rows(chosen),
                    "edit": item.edit,
                    "messages": [*history_messages(item.seed), {"role": "user", "content": user},
                                 {"role": "assistant", "content": target}],
                }
            )  # fmt: skip
            if every and (row := _composed_ifeval_row(item, run_seed, fcfg)):
                out.ground_truth.append(row)
            continue
        pool = item.constraints
        if not forced and rng.random() < cfg.ifeval_only_rate:
            pool = [c for c in pool if benchmark_ref(c)] or pool
        k = max(sample_k(len(pool), fcfg, rng), len(forced))
        few = k <= fcfg.few[1]
        chosen = sample_constraints(pool, k, rng, fcfg.weights, forced=forced, balance=balance)
        most = fcfg.few[1] if few else fcfg.many[1]
        chosen = cover(chosen, pool, item.passed_by, item.contrast_size, most, forced, fcfg.weights, balance)
        shape = _shape(len(chosen) + (item.edit == "repeat_prompt"), fcfg, rng)
        response = item.response
        if item.edit == "repeat_prompt":
            prompt, response, chosen = _repeat_prompt(item, instruction, chosen, rng, shape)
        else:
            prompt = forward_prompt(instruction, chosen, rng, shape)
        balance.record(chosen)
        out.k_hist[len(chosen)] = out.k_hist.get(len(chosen), 0) + 1
        messages = history_messages(item.seed)
        n_demos = rng.randint(*fcfg.demos) if rng.random() < fcfg.demo_rate else 0
        demo_ids = []
        demo_rows: list[dict[str, Any]] = []
        for _ in range(n_demos):
            demo = _take_demo(queue, item.seed.request_key)  # never also a main example
            if demo is None:
                break
            demo_forced = [] if demo.edit == "repeat_prompt" else _edit_constraint(demo)
            k_demo = rng.randint(1, max(1, min(len(demo.constraints), len(chosen) - 1)))
            demo_chosen = sample_constraints(
                demo.constraints, max(k_demo, len(demo_forced)), rng, fcfg.weights, forced=demo_forced
            )
            demo_instr = demo.refined_instruction or demo.seed.instruction
            demo_prompt = forward_prompt(demo_instr, demo_chosen, rng, _shape(len(demo_chosen), fcfg, rng))
            messages.append({"role": "user", "content": demo_prompt})
            messages.append({"role": "assistant", "content": demo.response})
            demo_ids.append(demo.seed.id)
            out.demonstrations += 1
            if every:
                row = _ifeval_row(demo, demo_prompt, demo_chosen, demo.response, subset=True)
                if row or (row := _composed_ifeval_row(demo, run_seed, fcfg)):
                    demo_rows.append(row)
        messages.append({"role": "user", "content": prompt})
        messages.append({"role": "assistant", "content": response})
        out.examples.append(
            {
                "id": f"{item.seed.id}-fwd",
                "kind": "forward",
                "seed_id": item.seed.id,
                "demo_seed_ids": demo_ids,
                "constraint_types": [c.type for c in chosen],
                "constraints": constraint_rows(chosen),
                "shape": shape,
                "edit": item.edit,
                "messages": messages,
            }
        )
        row = _ifeval_row(item, prompt, chosen, response, subset=every)
        if every and row is None:
            row = _composed_ifeval_row(item, run_seed, fcfg)
        if row:
            out.ground_truth.append(row)
        out.ground_truth.extend(demo_rows)
    return out
