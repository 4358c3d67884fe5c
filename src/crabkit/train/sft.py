"""Supervised fine-tuning on ``train.jsonl`` (forward + reverse + mix conversations) with TRL's SFTTrainer.

Where the loss goes is ``loss_on``:

* ``"final"`` (the default): the last assistant turn only. Each row becomes TRL's conversational
  prompt/completion form (every turn before the last answer is the prompt), and TRL puts the loss on
  the completion. The constraints and the in-context demonstrations (earlier user/assistant turns
  of a forward example) are context, not targets.
* ``"assistant"``: every assistant turn (``assistant_only_loss``), demonstrations' answers included;
  the model's chat template gets ``{% generation %}`` markers where it lacks them (see
  ``crabkit.train.models``), and the tokenizer is saved with that template.
* ``"all"``: every token, prompts included.
"""

from __future__ import annotations

import logging
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

__all__ = ["LOSS_ON", "load_sft_dataset", "sft_config", "train_sft"]

#: Where the SFT loss goes (see the module docstring).
LOSS_ON = ("final", "assistant", "all")

log = logging.getLogger(__name__)


def load_sft_dataset(path: str | Path, kinds: list[str] | None = None, loss_on: str = "final") -> Any:
    """A ``datasets.Dataset`` from a ``train.jsonl`` (or any messages JSONL, or conversational
    prompt/completion rows such as ``crab export`` writes): conversational
    ``prompt``/``completion`` columns (``loss_on="final"``), else one ``messages`` column.

    ``kinds`` keeps only rows whose ``kind`` is listed (``forward``, ``reverse``, ``mix``).
    """
    from datasets import Dataset

    if loss_on not in LOSS_ON:
        raise DataError(f"loss_on must be one of {', '.join(LOSS_ON)}, got {loss_on!r}")
    rows = []
    for where, row in read_jsonl(path):
        if kinds and row.get("kind") not in kinds:
            continue
        if "messages" not in row and isinstance(row.get("prompt"), list) and isinstance(row.get("completion"), list):
            row = {**row, "messages": row["prompt"] + row["completion"]}  # `crab export` prompt/completion rows
        messages = check_messages(row.get("messages"), where)
        if not any(m["role"] == "assistant" and m["content"] for m in messages):
            raise DataError(f"{where}: field 'messages' has no assistant turn to learn from")
        if loss_on == "final":
            if messages[-1]["role"] != "assistant" or len(messages) < 2:
                raise DataError(f"{where}: field 'messages' must end with the assistant's answer")
            rows.append({"prompt": messages[:-1], "completion": messages[-1:]})
        else:
            rows.append({"messages": messages})
    if not rows:
        raise DataError(f"{path}: no training rows" + (f" of kind {', '.join(kinds)}" if kinds else ""))
    return Dataset.from_list(rows)


def sft_config(out_dir: str | Path, fields: dict[str, Any] | None = None, loss_on: str = "final") -> Any:
    """An ``SFTConfig``: crabkit's defaults (the loss where ``loss_on`` says, output dir) updated with ``fields``."""
    from trl import SFTConfig

    defaults = {
        **base_defaults(out_dir),
        "assistant_only_loss": loss_on == "assistant",
        "completion_only_loss": loss_on == "final",
    }
    return build_trl_config(SFTConfig, fields or {}, defaults)


def train_sft(
    data: str | Path,
    model: str,
    out_dir: str | Path,
    *,
    trl_fields: dict[str, Any] | None = None,
    lora: LoraOptions | None = None,
    model_options: ModelOptions | None = None,
    kinds: list[str] | None = None,
    loss_on: str = "final",
) -> TrainResult:
    """Fine-tune ``model`` on the conversations in ``data`` and save it (or its LoRA adapter) to ``out_dir``.

    ``trl_fields`` are ``SFTConfig`` fields (a config file's top level); ``lora`` turns on PEFT LoRA;
    ``loss_on`` says where the loss goes (see the module docstring).

    >>> train_sft("runs/demo/train.jsonl", "embedded", "runs/sft", lora=LoraOptions())  # doctest: +SKIP
    """
    from trl import SFTTrainer

    args = sft_config(out_dir, trl_fields, loss_on)
    dataset = load_sft_dataset(data, kinds, loss_on)
    model_options = model_options or ModelOptions()
    lm, tokenizer = load_for_training(model, model_options, assistant_masks=args.assistant_only_loss)
    trainer = SFTTrainer(
        model=lm,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora.peft_config() if lora else None,
    )
    trainer.train()
    return finish(trainer, out_dir, lora=lora, meta=meta("sft", data, model, lora, args))
