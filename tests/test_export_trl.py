"""Each exported form, loaded with `datasets` as a user would, goes through the matching TRL trainer's
own data preparation on the tiny test model: SFT prompt/completion (loss on the completion only),
DPO conversational, GRPO with message prompts and crabkit's reward."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")

from conftest import write_pairs
from crabkit.export import ExportConfig, export_run
from tiny_model import build_tiny_model

FAST = {"logging_steps": 1, "save_strategy": "no", "report_to": "none", "seed": 0, "use_cpu": True}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = build_tiny_model(tmp_path_factory.mktemp("tiny"))
    return path, AutoTokenizer.from_pretrained(path), lambda: AutoModelForCausalLM.from_pretrained(path)


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory, ground_truth_run) -> Path:
    d = tmp_path_factory.mktemp("trl-export")
    pairs = write_pairs(ground_truth_run, d / "pairs.jsonl")  # conversational by default
    out = d / "export"
    export_run(ground_truth_run, out, ExportConfig(pairs=str(pairs)))
    return out


def _parquet(export_dir: Path, name: str):
    return datasets.load_dataset("parquet", data_files=str(export_dir / "data" / f"{name}.parquet"), split="train",
                                 cache_dir=str(export_dir.parent / "hf-cache"))  # fmt: skip


def test_sft_prompt_completion_trains_on_the_completion_only(tiny, export_dir, tmp_path):
    from trl import SFTConfig, SFTTrainer

    _, tok, model = tiny
    ds = _parquet(export_dir, "sft")
    assert {"prompt", "completion"} <= set(ds.column_names)
    args = SFTConfig(output_dir=str(tmp_path), max_length=4096, **FAST)
    trainer = SFTTrainer(model=model(), args=args, train_dataset=ds, processing_class=tok)
    # The row with the most turns before its answer: in-context demonstrations are context too.
    index = max(range(len(ds)), key=lambda i: len(ds[i]["prompt"]))
    prompt, completion = ds[index]["prompt"], ds[index]["completion"]
    assert sum(m["role"] == "assistant" for m in prompt) >= 1
    batch = trainer.data_collator([trainer.train_dataset[index]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    learned = tok.decode([t for t, lab in zip(ids, labels) if lab != -100])
    context = tok.decode([t for t, lab in zip(ids, labels) if lab == -100])
    assert learned in (completion[0]["content"] + "<|im_end|>", completion[0]["content"] + "<|im_end|>\n")
    assert all(m["content"] in context for m in prompt)


def test_dpo_conversational_pairs_are_templated_by_the_trainer(tiny, export_dir, tmp_path):
    from trl import DPOConfig, DPOTrainer

    _, tok, model = tiny
    ds = _parquet(export_dir, "dpo")
    assert isinstance(ds[0]["prompt"], list) and ds[0]["chosen"][0]["role"] == "assistant"
    args = DPOConfig(output_dir=str(tmp_path), max_length=2048, **FAST)
    trainer = DPOTrainer(model=model(), args=args, train_dataset=ds, processing_class=tok)
    row, prepared = ds[0], trainer.train_dataset[0]
    prompt_text = tok.decode(prepared["prompt_ids"])
    assert prompt_text.startswith("<|im_start|>user\n") and row["prompt"][-1]["content"] in prompt_text
    assert tok.decode(prepared["chosen_ids"]).startswith(row["chosen"][0]["content"][:40])
    assert tok.decode(prepared["rejected_ids"]).startswith(row["rejected"][0]["content"][:40])
    assert row["chosen"][0]["content"] != row["rejected"][0]["content"]


def test_grpo_rows_reach_the_reward_with_message_prompts_and_its_columns(tiny, export_dir, ground_truth_run, tmp_path):
    from trl import GRPOConfig, GRPOTrainer

    from crabkit.train.rewards import constraint_reward

    _, tok, model = tiny
    ds = _parquet(export_dir, "rlvr")
    assert isinstance(ds[0]["prompt"], list) and ds[0]["prompt"][-1]["role"] == "user"
    calls = []

    def reward(prompts, completions, **columns):
        calls.append((prompts, completions, columns))
        return constraint_reward(prompts, completions, all_or_nothing=False, min_answer_share=0, **columns)

    args = GRPOConfig(output_dir=str(tmp_path), max_steps=1, num_generations=2, per_device_train_batch_size=2,
                      max_completion_length=8, **FAST)  # fmt: skip
    trainer = GRPOTrainer(model=model(), reward_funcs=reward, args=args, train_dataset=ds, processing_class=tok)
    trainer.train()
    prompts, completions, columns = calls[0]
    assert all(isinstance(p, list) and p[-1]["role"] == "user" for p in prompts)
    assert all(isinstance(c, list) and c[0]["role"] == "assistant" for c in completions)
    assert {"instruction_id_list", "kwargs", "constraints", "reference_words"} <= set(columns)
    # The same columns score the reference answers as passing: the reward reads them right.
    truth = {json.dumps(r["prompt"]): r for r in ds}
    refs = [_reference(ground_truth_run, truth[json.dumps(p)]["id"]) for p in prompts]
    assert constraint_reward(prompts, refs, **{k: columns[k] for k in ("instruction_id_list", "kwargs",
                                                                      "constraints")}) == [1.0] * len(refs)  # fmt: skip


def _reference(run: Path, seed_id: str) -> str:
    for line in (run / "ifeval_ground_truth.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["seed_id"] == seed_id:
            return row["response"]
    raise AssertionError(seed_id)


def test_sft_messages_form_trains_on_every_assistant_turn(tiny, export_dir, ground_truth_run, tmp_path):
    from trl import SFTConfig, SFTTrainer

    _, tok, model = tiny
    out = export_dir.parent / "export-messages"
    export_run(ground_truth_run, out, ExportConfig(sft_form="messages", save_to_disk=False))
    ds = _parquet(out, "sft")
    assert "messages" in ds.column_names and "prompt" not in ds.column_names
    args = SFTConfig(output_dir=str(tmp_path), max_length=4096, assistant_only_loss=True, **FAST)
    trainer = SFTTrainer(model=model(), args=args, train_dataset=ds, processing_class=tok)
    index = max(range(len(ds)), key=lambda i: sum(m["role"] == "assistant" for m in ds[i]["messages"]))
    messages = ds[index]["messages"]
    assert sum(m["role"] == "assistant" for m in messages) >= 2
    batch = trainer.data_collator([trainer.train_dataset[index]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    learned = tok.decode([t for t, lab in zip(ids, labels) if lab != -100])
    assert learned == "".join(m["content"] + "<|im_end|>" for m in messages if m["role"] == "assistant")


def test_dpo_standard_pairs_are_prepared_as_plain_text(tiny, export_dir, ground_truth_run, tmp_path):
    from trl import DPOConfig, DPOTrainer

    _, tok, model = tiny
    out = export_dir.parent / "export-standard"
    pairs = export_dir.parent / "pairs.jsonl"
    export_run(ground_truth_run, out, ExportConfig(pairs=str(pairs), pairs_form="standard", save_to_disk=False))
    ds = _parquet(out, "dpo")
    assert isinstance(ds[0]["prompt"], str) and isinstance(ds[0]["chosen"], str)
    args = DPOConfig(output_dir=str(tmp_path), max_length=2048, **FAST)
    trainer = DPOTrainer(model=model(), args=args, train_dataset=ds, processing_class=tok)
    prepared = trainer.train_dataset[0]
    assert "<|im_start|>" not in tok.decode(prepared["prompt_ids"])  # no chat template on plain text
    assert tok.decode(prepared["chosen_ids"]).startswith(ds[0]["chosen"][:40].strip()[:20])
