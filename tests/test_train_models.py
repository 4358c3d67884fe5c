"""Model loading, chat templates with generation markers, and training config files (no training here)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

pytest.importorskip("trl")

from crabkit.config import ConfigError
from crabkit.train.config import build_trl_config, split_config
from crabkit.train.models import (
    ModelLoadError,
    clear_quantization,
    has_generation_markers,
    resolve_model,
    training_chat_template,
)
from tiny_model import CHAT_TEMPLATE, build_tokenizer

CONVERSATION = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Name a colour."},
    {"role": "assistant", "content": "Blue."},
    {"role": "user", "content": "Another one."},
    {"role": "assistant", "content": "Green, of course."},
]

# Written for these tests in the two common layouts: ChatML with a default system prompt (as the
# SmolLM2 and Qwen families do) and Llama-3 headers with trimmed content.
CHATML_WITH_DEFAULT_SYSTEM = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a kind helper.<|im_end|>\\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA3_STYLE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
UNKNOWN_LAYOUT = "{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


def _assistant_text(tok, template: str, messages: list[dict]) -> str:
    out = tok.apply_chat_template(messages, chat_template=template, return_dict=True, return_assistant_tokens_mask=True)
    assert len(out["assistant_masks"]) == len(out["input_ids"])
    return tok.decode([t for t, m in zip(out["input_ids"], out["assistant_masks"]) if m])


@pytest.mark.parametrize(
    ("original", "stop"), [(CHATML_WITH_DEFAULT_SYSTEM, "<|im_end|>"), (LLAMA3_STYLE, "<|eot_id|>")]
)
def test_markers_added_and_rendering_unchanged(tokenizer, original, stop):
    tokenizer.chat_template = original
    marked = training_chat_template(tokenizer)
    assert has_generation_markers(marked) and not has_generation_markers(original)
    for messages in (CONVERSATION, CONVERSATION[1:], CONVERSATION[1:2]):
        for gen in (False, True):
            want = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
            got = tokenizer.apply_chat_template(messages, chat_template=marked, tokenize=False, add_generation_prompt=gen)
            assert got == want
    # Only the assistant answers, each with its end-of-turn token (so the model learns to stop).
    assert _assistant_text(tokenizer, marked, CONVERSATION) == f"Blue.{stop}Green, of course.{stop}"


def test_default_system_prompt_is_kept(tokenizer):
    tokenizer.chat_template = CHATML_WITH_DEFAULT_SYSTEM
    marked = training_chat_template(tokenizer)
    text = tokenizer.apply_chat_template(CONVERSATION[1:3], chat_template=marked, tokenize=False)
    assert text.startswith("<|im_start|>system\nYou are a kind helper.<|im_end|>")


def test_template_with_markers_is_left_alone(tokenizer):
    tokenizer.chat_template = CHAT_TEMPLATE
    assert training_chat_template(tokenizer) == CHAT_TEMPLATE


def test_unknown_template_falls_back_to_chatml_with_a_warning(tokenizer, caplog):
    tokenizer.chat_template = UNKNOWN_LAYOUT
    with caplog.at_level(logging.WARNING, logger="crabkit.train.models"):
        marked = training_chat_template(tokenizer)
    assert "ChatML" in caplog.text
    assert _assistant_text(tokenizer, marked, CONVERSATION) == "Blue.<|im_end|>Green, of course.<|im_end|>"


def test_resolve_model_kinds(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert (resolve_model(str(gguf)).path, resolve_model(str(gguf)).gguf_file) == (str(tmp_path), "m.gguf")
    assert resolve_model(str(tmp_path)).gguf_file == "m.gguf"  # a directory holding only a GGUF
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct").path == "HuggingFaceTB/SmolLM2-135M-Instruct"
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ModelLoadError, match="must be a .gguf"):
        resolve_model(str(tmp_path / "notes.txt"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        resolve_model(str(empty))


def test_unreachable_hub_id_is_a_clear_error(monkeypatch):
    from crabkit.train.models import load_tokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="no-such-org/no-such-model"):
        load_tokenizer("no-such-org/no-such-model")


def test_clear_quantization_removes_gguf_marks():
    config = SimpleNamespace(quantization_config={"quant_method": "gguf"})
    model = SimpleNamespace(hf_quantizer=object(), is_quantized=True, config=config)
    clear_quantization(model)
    assert model.hf_quantizer is None and model.is_quantized is False
    assert not hasattr(config, "quantization_config")


def test_config_file_reaches_every_trl_field_and_rejects_unknown(tmp_path):
    from trl import DPOConfig, SFTConfig

    from crabkit.train._common import base_defaults

    defaults = base_defaults(tmp_path)  # no bf16 on a CPU-only host

    cfg = split_config({"learning_rate": "1e-4", "packing": True, "beta": 0.3, "lora": {"r": 4}, "model": {"dtype": "float32"}})
    assert cfg.lora.r == 4 and cfg.model.dtype == "float32"
    with pytest.raises(ConfigError, match="'beta'.*SFTConfig"):
        build_trl_config(SFTConfig, cfg.trl, defaults)
    del cfg.trl["beta"]
    sft = build_trl_config(SFTConfig, cfg.trl, defaults)
    assert sft.learning_rate == 1e-4 and sft.packing is True  # "1e-4" is a string in YAML 1.1
    import yaml

    no = build_trl_config(SFTConfig, yaml.safe_load("save_strategy: no"), defaults)  # False in YAML 1.1
    assert no.save_strategy == "no"
    dpo = build_trl_config(DPOConfig, {"beta": 0.3}, defaults)
    assert dpo.beta == 0.3
    with pytest.raises(ConfigError, match="did you mean learning_rate"):
        build_trl_config(SFTConfig, {"learning_rat": 1e-4}, defaults)
    with pytest.raises(ConfigError, match=r"lora\.rank"):
        split_config({"lora": {"rank": 4}})


def test_train_command_is_registered():
    from crabkit import cli

    assert "train" in cli._COMMAND_MODULES
