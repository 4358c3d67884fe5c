"""Direct preference optimisation with TRL's DPOTrainer, on ``crab pairs`` output or any preference data.

Accepted rows (JSONL), each field a string or a list of ``{role, content}`` messages:

* explicit prompt: ``{prompt, chosen, rejected}`` (crab pairs, UltraFeedback-style, TRL's format);
* implicit prompt: ``{chosen, rejected}`` as two full conversations sharing their opening turns.

With ``chat=True`` (the default) every row becomes conversational (a string prompt is one user
turn, a string answer one assistant turn), so the model's chat template frames them; ``chat=False``
keeps plain strings for a base model without a template. Other columns are ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

__all__ = ["dpo_config", "load_preference_dataset", "train_dpo"]


def _as_messages(value: Any, where: str, field: str, role: str) -> list[dict[str, str]]:
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    return check_messages(value, where, field)


def _split_implicit(chosen: list[dict], rejected: list[dict], where: str) -> tuple[list, list, list]:
    n = 0
    while n < min(len(chosen), len(rejected)) - 1 and chosen[n] == rejected[n]:
        n += 1
    if n == 0 or chosen[n - 1]["role"] == "assistant":
        raise DataError(f"{where}: without a 'prompt' field, 'chosen' and 'rejected' must share their opening turns")
    return chosen[:n], chosen[n:], rejected[n:]


def _row(row: dict[str, Any], where: str, chat: bool) -> dict[str, Any]:
    for key in ("chosen", "rejected"):
        if key not in row:
            raise DataError(f"{where}: missing field {key!r} (preference rows need chosen and rejected)")
    if not chat:
        for key in ("prompt", "chosen", "rejected"):
            if not isinstance(row.get(key), str):
                raise DataError(f"{where}: field {key!r} must be a string when chat is off")
        return {k: row[k] for k in ("prompt", "chosen", "rejected")}
    chosen = _as_messages(row["chosen"], where, "chosen", "assistant")
    rejected = _as_messages(row["rejected"], where, "rejected", "assistant")
    if "prompt" in row and row["prompt"] is not None:
        prompt = _as_messages(row["prompt"], where, "prompt", "user")
    else:
        prompt, chosen, rejected = _split_implicit(chosen, rejected, where)
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def load_preference_dataset(path: str | Path, chat: bool = True) -> Any:
    """A ``datasets.Dataset`` with ``prompt``, ``chosen`` and ``rejected`` columns (see the module docstring)."""
    from datasets import Dataset

    rows = [_row(row, where, chat) for where, row in read_jsonl(path)]
    if not rows:
        raise DataError(f"{path}: no preference pairs")
    return Dataset.from_list(rows)


def dpo_config(out_dir: str | Path, fields: dict[str, Any] | None = None) -> Any:
    """A ``DPOConfig`` with crabkit's defaults (output dir, no bf16 on CPU) updated with ``fields``."""
    from trl import DPOConfig

    return build_trl_config(DPOConfig, fields or {}, base_defaults(out_dir))


def train_dpo(
    data: str | Path,
    model: str,
    out_dir: str | Path,
    *,
    trl_fields: dict[str, Any] | None = None,
    lora: LoraOptions | None = None,
    model_options: ModelOptions | None = None,
    chat: bool = True,
) -> TrainResult:
    """DPO-train ``model`` on the pairs in ``data``; save the model (or LoRA adapter) to ``out_dir``.

    Without LoRA, TRL keeps a frozen copy of the model as the reference; with LoRA the reference is
    the base model with the adapter switched off, so no second copy is held in memory.
    """
    from trl import DPOTrainer

    args = dpo_config(out_dir, trl_fields)
    dataset = load_preference_dataset(data, chat)
    lm, tokenizer = load_for_training(model, model_options or ModelOptions(), assistant_masks=False)
    trainer = DPOTrainer(
        model=lm,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora.peft_config() if lora else None,
    )
    trainer.train()
    return finish(trainer, out_dir, lora=lora, meta=meta("dpo", data, model, lora, args))
