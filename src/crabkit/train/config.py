"""Training config files: every TRL config field at the top level, plus crabkit's ``lora`` and ``model``.

A config file (YAML or JSON) is one mapping. Its keys are the fields of the trainer's TRL config
(``SFTConfig``, ``DPOConfig`` or ``GRPOConfig``, which include all of transformers'
``TrainingArguments``: ``learning_rate``, ``deepspeed``, ``fsdp``, ``gradient_checkpointing``...),
except two sections that crabkit reads itself::

    learning_rate: 2.0e-5
    num_train_epochs: 2
    max_length: 2048
    lora: {r: 16, alpha: 32, target_modules: all-linear}   # LoRA via PEFT (also: --lora)
    model: {dtype: bfloat16, chat_template: my_template.jinja}

An unknown key is an error naming the key and the closest field names.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from dataclasses import dataclass, field
from typing import Any

from crabkit.config import ConfigError, from_mapping

__all__ = ["ConfigError", "LoraOptions", "ModelOptions", "TrainFileConfig", "build_trl_config", "split_config"]


@dataclass
class LoraOptions:
    """LoRA adapter settings, passed to ``peft.LoraConfig``."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    #: ``all-linear`` (PEFT picks every linear layer but the output head) or a list of module names.
    target_modules: str | list[str] = "all-linear"
    modules_to_save: list[str] | None = None
    #: Save the base model with the adapter merged in (a plain model directory) instead of the adapter.
    merge: bool = False

    def peft_config(self) -> Any:
        from peft import LoraConfig

        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=self.target_modules,
            modules_to_save=self.modules_to_save,
            task_type="CAUSAL_LM",
        )


@dataclass
class ModelOptions:
    """How the model is loaded (see ``crabkit.train.models.load_model``)."""

    #: ``auto`` (the checkpoint's dtype), ``float32``, ``bfloat16``, ``float16``.
    dtype: str = "auto"
    revision: str | None = None
    trust_remote_code: bool = False
    #: A Jinja chat template (file path or the template text) used instead of the model's own.
    chat_template: str | None = None
    attn_implementation: str | None = None


@dataclass
class TrainFileConfig:
    """A parsed config file: TRL fields (unchecked here) and crabkit's sections."""

    trl: dict[str, Any] = field(default_factory=dict)
    lora: LoraOptions | None = None
    model: ModelOptions = field(default_factory=ModelOptions)


def split_config(data: dict[str, Any]) -> TrainFileConfig:
    """Separate the ``lora`` and ``model`` sections from the TRL fields of a config mapping."""
    data = dict(data)
    out = TrainFileConfig()
    lora = data.pop("lora", None)
    if lora is True or isinstance(lora, dict):
        out.lora = from_mapping(LoraOptions, lora if isinstance(lora, dict) else {}, where="lora.")
    elif lora not in (None, False):
        raise ConfigError(f"config key 'lora' must be a mapping, true or false, not {lora!r}")
    model = data.pop("model", None)
    if model is not None:
        if not isinstance(model, dict):
            raise ConfigError("config key 'model' must be a mapping (dtype, revision, chat_template, ...)")
        out.model = from_mapping(ModelOptions, model, where="model.")
    out.trl = data
    return out


def _coerce(name: str, value: Any, hint: Any) -> Any:
    args = typing.get_args(hint) or (hint,)
    # YAML 1.1 reads `save_strategy: no` as False: give a string field its word back.
    if isinstance(value, bool) and bool not in args and str in args:
        return "yes" if value else "no"
    # YAML 1.1 reads "1e-4" (no dot) as a string; TrainingArguments would then fail deep inside.
    if isinstance(value, str):
        for target in (int, float):
            if target in args and str not in args:
                try:
                    return target(value)
                except ValueError:
                    raise ConfigError(f"config key {name!r} must be a number, not {value!r}") from None
    return value


def build_trl_config(cls: type, fields: dict[str, Any], defaults: dict[str, Any] | None = None) -> Any:
    """An instance of the TRL config ``cls`` from ``defaults`` updated with ``fields``.

    Unknown keys raise ``ConfigError`` naming the key, the class and the nearest field names; a
    value the class rejects raises ``ConfigError`` with its message.
    """
    known = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    for key in fields:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"unknown config key {key!r}: not a {cls.__name__} field nor a crabkit section (lora, model){hint}"
            )
    merged = {**(defaults or {}), **{k: _coerce(k, v, hints.get(k)) for k, v in fields.items()}}
    try:
        return cls(**merged)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid {cls.__name__} settings: {exc}") from None
