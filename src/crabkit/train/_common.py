"""What the three trainers share: reading JSONL with located errors, model setup, the run's end."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from crabkit.io.jsonl import iter_jsonl_objects

from .config import LoraOptions, ModelOptions

log = logging.getLogger(__name__)


class DataError(ValueError):
    """A training record that cannot be used; the message names the file, line and field."""


def read_jsonl(path: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, row)`` for each non-blank line; ``where`` names the file and line for error messages."""
    return iter_jsonl_objects(path, DataError)


ROLES = ("system", "user", "assistant", "tool")


def check_messages(value: Any, where: str, field_name: str = "messages") -> list[dict[str, str]]:
    """A clean ``[{role, content}]`` list, or DataError naming the record and field."""
    if not isinstance(value, list) or not value:
        raise DataError(f"{where}: field {field_name!r} must be a non-empty list of {{role, content}} messages")
    out = []
    for i, m in enumerate(value):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise DataError(
                f"{where}: {field_name}[{i}] must be {{role: {'|'.join(ROLES)}, content: string}}, got {m!r:.80}"
            )
        out.append({"role": m["role"], "content": m["content"]})
    return out


def on_cpu() -> bool:
    import torch

    return not torch.cuda.is_available()


def base_defaults(out_dir: str | Path) -> dict[str, Any]:
    """Defaults crabkit sets before the config file: output dir, and no bf16 autocast on CPU-only hosts."""
    d: dict[str, Any] = {"output_dir": str(out_dir), "report_to": "none"}
    if on_cpu():
        d.update(bf16=False, fp16=False)
    return d


@dataclass
class TrainResult:
    """What a run left behind: where, the logged training losses, and the final metrics."""

    out_dir: Path
    losses: list[float] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    steps: int = 0
    log_history: list[dict[str, Any]] = field(default_factory=list)


def load_for_training(
    model: str, options: ModelOptions, *, assistant_masks: bool
) -> tuple[Any, Any]:
    """Model and tokenizer from a ``--model`` value, the tokenizer's template ready for training."""
    from .models import load_model, load_tokenizer, prepare_tokenizer, resolve_model

    source = resolve_model(model)
    tokenizer = prepare_tokenizer(load_tokenizer(source, options), options, assistant_masks=assistant_masks)
    return load_model(source, options), tokenizer


def finish(
    trainer: Any,
    out_dir: str | Path,
    *,
    lora: LoraOptions | None,
    meta: dict[str, Any],
) -> TrainResult:
    """Save the model (adapter, or merged with ``lora.merge``) and tokenizer; return the losses."""
    from .models import clear_quantization

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = trainer.model
    tokenizer = trainer.processing_class
    if lora is not None and lora.merge:
        model = model.merge_and_unload()
        clear_quantization(model)
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
    else:
        trainer.save_model(str(out))
        if lora is not None and meta.get("gguf_file"):
            log.warning(
                "saved a LoRA adapter whose base is a GGUF file (%s); transformers cannot load that base by path "
                "alone: pass the GGUF again when loading, or train with --merge for a standalone model",
                meta["gguf_file"],
            )
    history = list(trainer.state.log_history)
    losses = [float(h["loss"]) for h in history if "loss" in h and isinstance(h["loss"], (int, float))]
    final = next((h for h in reversed(history) if "train_runtime" in h), {})
    result = TrainResult(out, losses, dict(final), int(trainer.state.global_step), history)
    summary = {**meta, "steps": result.steps, "losses": losses, "metrics": result.metrics}
    (out / "crab_train.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    if losses and not all(math.isfinite(x) for x in losses):
        log.warning("training loss was not finite at some step: %s", losses)
    return result


def meta(kind: str, data: str | Path, model: str, lora: LoraOptions | None, trl_config: Any) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    def ver(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "missing"

    from .models import resolve_model

    return {
        "method": kind,
        "data": str(data),
        "model": model,
        "gguf_file": resolve_model(model).gguf_file,
        "lora": asdict(lora) if lora else None,
        "config": {k: v for k, v in trl_config.to_dict().items() if not k.startswith("_")},
        "versions": {p: ver(p) for p in ("crabkit", "torch", "transformers", "trl", "peft")},
    }
