"""GRPO with TRL's GRPOTrainer, rewarded by crabkit's checkers (``constraint_reward``).

Input rows: ``prompt`` (string or messages) or ``instruction``, plus the constraints as IFEval
columns (``instruction_id_list``, ``kwargs``) or crabkit ``constraints`` (either may be JSON text) --
so a run's ``ifeval_ground_truth.jsonl`` (its ``other_constraints`` too), ``constraints.jsonl``,
``crab pairs`` output and ``crab export --rlvr-form grpo`` files train as-is.
Every constraint id is resolved when the file is read, so a typo fails before any training step.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from crabkit.constraints import UnknownConstraintType
from crabkit.text import count_words

from ._common import (
    DataError,
    TrainResult,
    base_defaults,
    check_messages,
    finish,
    load_for_training,
    meta,
    read_jsonl,
)
from .config import LoraOptions, ModelOptions, build_trl_config
from .rewards import MIN_ANSWER_SHARE, checks_for_row, constraint_reward

__all__ = ["grpo_config", "load_grpo_dataset", "train_grpo"]

log = logging.getLogger(__name__)


def _prompt(row: dict[str, Any], where: str, chat: bool) -> Any:
    prompt = row.get("prompt", row.get("instruction"))
    if isinstance(prompt, str) and prompt.strip():
        if not chat:
            return prompt
        history = check_messages(row["history"], where, "history") if row.get("history") else []
        return [*history, {"role": "user", "content": prompt}]  # a ground-truth row's system message and turns
    if isinstance(prompt, list) and chat:
        return check_messages(prompt, where, "prompt")
    raise DataError(f"{where}: field 'prompt' must be a non-empty string" + (" or messages" if chat else ""))


def load_grpo_dataset(path: str | Path, chat: bool = True) -> Any:
    """A ``datasets.Dataset`` with ``prompt`` and the constraint columns ``constraint_reward`` reads.

    The constraint columns are stored as JSON text: IFEval kwargs differ in keys from row to row,
    which Arrow would widen into sparse structs. Rows without a verifiable constraint are dropped.
    """
    from datasets import Dataset

    rows, skipped = [], 0
    for where, row in read_jsonl(path):
        ids, kwargs, constraints = row.get("instruction_id_list"), row.get("kwargs"), row.get("constraints")
        try:  # `crab export --rlvr-form grpo` rows hold these columns as JSON text already
            kwargs, constraints = (json.loads(v) if isinstance(v, str) else v for v in (kwargs, constraints))
        except ValueError as exc:
            raise DataError(f"{where}: 'kwargs' or 'constraints' is text that is not JSON ({exc})") from None
        if constraints is None and isinstance(row.get("other_constraints"), list):
            constraints = row["other_constraints"]  # --ground-truth every: the crabkit-only constraints asked too
        try:
            checks = checks_for_row(ids, kwargs, constraints)
        except (UnknownConstraintType, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise DataError(f"{where}: bad constraint columns: {exc}") from None
        if not checks:
            skipped += 1
            continue
        reference = row.get("response")
        if reference is None and isinstance(row.get("reference_words"), int):
            reference_words = row["reference_words"]
        else:
            reference_words = count_words(reference) if isinstance(reference, str) else -1
        rows.append(
            {
                "prompt": _prompt(row, where, chat),
                "instruction_id_list": list(ids or []),
                "kwargs": json.dumps(kwargs or []),
                "constraints": json.dumps(constraints or []),
                # The reward's length guard (see rewards.py); -1: no reference answer in the row.
                "reference_words": reference_words,
            }
        )
    if skipped:
        log.info("%s: %d rows without a verifiable constraint skipped", path, skipped)
    if not rows:
        raise DataError(f"{path}: no rows with verifiable constraints")
    return Dataset.from_list(rows)


def grpo_config(out_dir: str | Path, fields: dict[str, Any] | None = None) -> Any:
    """A ``GRPOConfig`` with crabkit's defaults (output dir, no bf16 on CPU) updated with ``fields``."""
    from trl import GRPOConfig

    return build_trl_config(GRPOConfig, fields or {}, base_defaults(out_dir))


def train_grpo(
    data: str | Path,
    model: str,
    out_dir: str | Path,
    *,
    trl_fields: dict[str, Any] | None = None,
    lora: LoraOptions | None = None,
    model_options: ModelOptions | None = None,
    chat: bool = True,
    all_or_nothing: bool = True,
    min_answer_share: float = MIN_ANSWER_SHARE,
) -> TrainResult:
    """GRPO-train ``model`` on the prompts in ``data`` with ``constraint_reward``.

    ``all_or_nothing`` (the default) rewards 1 only when every constraint holds (IFEval's strict
    prompt level); False gives partial credit, the fraction that holds. A completion shorter than
    ``min_answer_share`` of its row's reference answer (in words) earns 0 (0 turns the guard off).
    """
    import functools

    from trl import GRPOTrainer

    args = grpo_config(out_dir, trl_fields)
    dataset = load_grpo_dataset(data, chat)
    lm, tokenizer = load_for_training(model, model_options or ModelOptions(), assistant_masks=False)
    # A partial keeps TRL's name for the reward ("constraint_reward") in its logs.
    reward = functools.update_wrapper(functools.partial(constraint_reward, all_or_nothing=all_or_nothing, min_answer_share=min_answer_share), constraint_reward)
    trainer = GRPOTrainer(
        model=lm,
        reward_funcs=reward,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora.peft_config() if lora else None,
    )
    trainer.train()
    return finish(trainer, out_dir, lora=lora, meta=meta("grpo", data, model, lora, args))
