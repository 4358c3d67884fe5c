"""SFT, DPO and GRPO end to end on a tiny random Llama, from the files `crab generate` writes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("peft")

from crabkit.train._common import DataError
from tiny_model import build_tiny_model, run_cli

FAST = {"logging_steps": 1, "save_strategy": "no", "per_device_train_batch_size": 2, "max_length": 512,
        "learning_rate": 1e-2, "seed": 0}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory, sample_path) -> Path:
    from crabkit.pipeline import GenerateConfig, generate

    out = tmp_path_factory.mktemp("run")
    generate(GenerateConfig(input=str(sample_path), min_words=10), out, progress=False)
    return out


@pytest.fixture(scope="session")
def pairs_file(tmp_path_factory, run_dir) -> Path:
    """`crab pairs` output. The sample has one response per instruction, so each instruction also gets
    the next record's response as a second candidate: the checkers then tell the two apart."""
    rows = [json.loads(line) for line in (run_dir / "constraints.jsonl").read_text().splitlines()]
    d = tmp_path_factory.mktemp("pairs")
    seeds = d / "seeds.jsonl"
    lines = [
        json.dumps({"instruction": row["instruction"], "response": response}) + "\n"
        for i, row in enumerate(rows[:12])
        for response in (row["response"], rows[(i + 1) % len(rows)]["response"])
    ]
    seeds.write_text("".join(lines))
    out = d / "pairs.jsonl"
    assert run_cli(["pairs", str(seeds), "--out", str(out)]) == 0
    return out


def _finite_and_moving(losses: list[float]) -> None:
    assert len(losses) >= 2
    assert all(math.isfinite(x) for x in losses)
    assert max(losses) - min(losses) > 1e-6, f"loss did not change: {losses}"


# ------------------------------------------------------------------------------------------------ SFT


def _labelled(tiny_model, run_dir, loss_on):
    """(messages, learned text, prompt-only text) of the row with the most assistant turns."""
    from trl import SFTTrainer

    from crabkit.train._common import load_for_training
    from crabkit.train.config import ModelOptions
    from crabkit.train.sft import load_sft_dataset, sft_config

    dataset = load_sft_dataset(run_dir / "train.jsonl", loss_on=loss_on)
    model, tok = load_for_training(str(tiny_model), ModelOptions(), assistant_masks=loss_on == "assistant")
    args = sft_config(run_dir / "unused", {**FAST, "max_length": 4096}, loss_on)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tok)

    def conversation(i):
        row = dataset[i]
        return row["messages"] if "messages" in row else row["prompt"] + row["completion"]

    index = max(range(len(dataset)), key=lambda i: sum(m["role"] == "assistant" for m in conversation(i)))
    batch = trainer.data_collator([trainer.train_dataset[index]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    learned = tok.decode([t for t, lab in zip(ids, labels) if lab != -100])
    prompt_only = tok.decode([t for t, lab in zip(ids, labels) if lab == -100])
    return conversation(index), learned, prompt_only


def test_sft_loss_is_on_the_final_answer_only_by_default(tiny_model, run_dir):
    messages, learned, prompt_only = _labelled(tiny_model, run_dir, "final")
    assert sum(m["role"] == "assistant" for m in messages) >= 2  # a row with demonstrations
    assert learned.strip().startswith(messages[-1]["content"].strip()[:40])
    for m in messages[:-1]:  # demonstrations' answers and every prompt are context
        assert m["content"][:40] not in learned
        assert m["content"] in prompt_only


def test_sft_loss_on_every_assistant_turn_when_asked(tiny_model, run_dir):
    from trl import SFTTrainer

    from crabkit.train._common import load_for_training
    from crabkit.train.config import ModelOptions
    from crabkit.train.sft import load_sft_dataset, sft_config

    dataset = load_sft_dataset(run_dir / "train.jsonl", loss_on="assistant")
    model, tok = load_for_training(str(tiny_model), ModelOptions(), assistant_masks=True)
    args = sft_config(run_dir / "unused", {**FAST, "max_length": 4096}, "assistant")
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tok)
    # The demonstrations make some rows multi-turn: pick one with two assistant answers if there is one.
    index = max(range(len(dataset)), key=lambda i: sum(m["role"] == "assistant" for m in dataset[i]["messages"]))
    messages = dataset[index]["messages"]
    batch = trainer.data_collator([trainer.train_dataset[index]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    learned = tok.decode([t for t, lab in zip(ids, labels) if lab != -100])
    expected = "".join(m["content"] + "<|im_end|>" for m in messages if m["role"] == "assistant")
    assert learned == expected
    prompt_only = tok.decode([t for t, lab in zip(ids, labels) if lab == -100])
    assert all(m["content"] in prompt_only for m in messages if m["role"] == "user")


def test_sft_full_finetune_trains_and_reloads(tiny_model, run_dir, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from crabkit.train.sft import train_sft

    out = tmp_path / "sft"
    result = train_sft(run_dir / "train.jsonl", str(tiny_model), out, trl_fields={**FAST, "max_steps": 3})
    _finite_and_moving(result.losses)
    assert result.steps == 3
    before = AutoModelForCausalLM.from_pretrained(tiny_model)
    after = AutoModelForCausalLM.from_pretrained(out)
    assert not torch.equal(before.model.embed_tokens.weight, after.model.embed_tokens.weight)
    assert "{% generation %}" in AutoTokenizer.from_pretrained(out).chat_template
    summary = json.loads((out / "crab_train.json").read_text())
    assert summary["method"] == "sft" and summary["losses"] == result.losses


def test_sft_lora_with_packing_from_the_command_line(tiny_model, run_dir, tmp_path):
    from peft import AutoPeftModelForCausalLM

    config = tmp_path / "sft.yaml"
    config.write_text("learning_rate: 1e-2\nlogging_steps: 1\nsave_strategy: 'no'\nmax_length: 256\n"
                      "lora: {r: 4, alpha: 8, target_modules: [q_proj, v_proj]}\n")
    out = tmp_path / "lora"
    code = run_cli(["train", "sft", str(run_dir / "train.jsonl"), "--model", str(tiny_model), "--out", str(out),
                    "--config", str(config), "--packing", "--max-steps", "2", "--batch-size", "2"])
    assert code == 0
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and set(adapter["target_modules"]) == {"q_proj", "v_proj"}
    model = AutoPeftModelForCausalLM.from_pretrained(out)
    assert model.peft_config["default"].r == 4
    summary = json.loads((out / "crab_train.json").read_text())
    assert summary["config"]["packing"] is True and len(summary["losses"]) == 2


def test_sft_bad_rows_and_keys_are_clean_errors(tiny_model, tmp_path, capsys):
    bad = tmp_path / "train.jsonl"
    bad.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n"
                   + json.dumps({"messages": [{"role": "robot", "content": "x"}]}) + "\n")
    code = run_cli(["train", "sft", str(bad), "--model", str(tiny_model), "--out", str(tmp_path / "o")])
    assert code == 2 and "train.jsonl:1" in capsys.readouterr().err
    code = run_cli(["train", "sft", str(bad), "--model", str(tiny_model), "--out", str(tmp_path / "o"),
                    "--set", "learning_rat=0.1"])
    assert code == 2 and "did you mean learning_rate" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ DPO


def test_dpo_on_crab_pairs_trains_and_reloads(tiny_model, pairs_file, tmp_path):
    from transformers import AutoModelForCausalLM

    from crabkit.train.dpo import train_dpo

    out = tmp_path / "dpo"
    result = train_dpo(pairs_file, str(tiny_model), out, trl_fields={**FAST, "max_steps": 3})
    _finite_and_moving(result.losses)
    assert math.isclose(result.losses[0], math.log(2), rel_tol=1e-3)  # policy == reference at step 1
    assert AutoModelForCausalLM.from_pretrained(out).config.vocab_size > 0


def test_preference_data_in_every_layout(tmp_path):
    from crabkit.train.dpo import load_preference_dataset

    user = {"role": "user", "content": "Say hi."}
    rows = [
        {"prompt": "Say hi.", "chosen": "hi", "rejected": "HELLO"},
        {"prompt": [user], "chosen": [{"role": "assistant", "content": "hi"}], "rejected": "HELLO"},
        {"chosen": [user, {"role": "assistant", "content": "hi"}],
         "rejected": [user, {"role": "assistant", "content": "HELLO"}], "score": 3},
    ]
    path = tmp_path / "prefs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ds = load_preference_dataset(path)
    assert ds.column_names == ["prompt", "chosen", "rejected"]
    for row in ds:
        assert row["prompt"] == [user]
        assert row["chosen"] == [{"role": "assistant", "content": "hi"}]
        assert row["rejected"] == [{"role": "assistant", "content": "HELLO"}]
    plain_path = tmp_path / "plain.jsonl"
    plain_path.write_text(json.dumps(rows[0]) + "\n")
    plain = load_preference_dataset(plain_path, chat=False)  # for a base model without a chat template
    assert plain[0] == {"prompt": "Say hi.", "chosen": "hi", "rejected": "HELLO"}


def test_preference_data_errors_name_the_line(tmp_path):
    from crabkit.train.dpo import load_preference_dataset

    path = tmp_path / "prefs.jsonl"
    path.write_text(json.dumps({"prompt": "p", "chosen": "a"}) + "\n")
    with pytest.raises(DataError, match=r"prefs.jsonl:1: missing field 'rejected'"):
        load_preference_dataset(path)
    path.write_text(json.dumps({"prompt": "p", "chosen": [{"role": "assistant"}], "rejected": "b"}) + "\n")
    with pytest.raises(DataError, match=r"prefs.jsonl:1: chosen\[0\]"):
        load_preference_dataset(path)


# ----------------------------------------------------------------------------------------------- GRPO


def test_grpo_with_constraint_reward_trains_and_reloads(tiny_model, pairs_file, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from crabkit.train.grpo import train_grpo

    out = tmp_path / "grpo"
    fields = {**FAST, "max_steps": 2, "num_generations": 4, "per_device_train_batch_size": 4,
              "max_completion_length": 8}
    fields.pop("max_length")
    # Partial credit and no length guard: 8 random tokens of a tiny model earn nothing otherwise.
    result = train_grpo(pairs_file, str(tiny_model), out, trl_fields=fields, all_or_nothing=False, min_answer_share=0)
    steps = [h for h in result.log_history if "reward" in h]
    assert len(steps) == 2
    for h in steps:
        assert 0.0 <= h["rewards/constraint_reward/mean"] <= 1.0
        assert math.isfinite(h["loss"])
    # Samples scored differently at some step, so advantages were non-zero and the weights moved.
    assert min(h["frac_reward_zero_std"] for h in steps) < 1.0
    before = AutoModelForCausalLM.from_pretrained(tiny_model).state_dict()
    after = AutoModelForCausalLM.from_pretrained(out).state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_ground_truth_loads_for_grpo_and_rewards_its_own_responses(tmp_path_factory, sample_path):
    from crabkit.backtranslate.rules import RuleConfig
    from crabkit.constraints import all_types
    from crabkit.pipeline import GenerateConfig, generate
    from crabkit.train.grpo import load_grpo_dataset
    from crabkit.train.rewards import constraint_reward

    out = tmp_path_factory.mktemp("ifeval-run")
    ifeval_types = [t.id for t in all_types() if t.ifeval_id]
    generate(GenerateConfig(input=str(sample_path), min_words=10, rules=RuleConfig(include=ifeval_types)), out,
             progress=False)
    truth = out / "ifeval_ground_truth.jsonl"
    rows = [json.loads(line) for line in truth.read_text().splitlines()]
    if not rows:
        pytest.skip("no IFEval-typed constraint was inferred on the sample (IFEval infer not available yet)")
    ds = load_grpo_dataset(truth)
    assert ds.num_rows == len(rows)
    assert ds[0]["prompt"] == [{"role": "user", "content": rows[0]["prompt"]}]
    # Every ground-truth response satisfies its own constraints by construction.
    rewards = constraint_reward(
        ds["prompt"], [r["response"] for r in rows], instruction_id_list=ds["instruction_id_list"], kwargs=ds["kwargs"]
    )
    assert rewards == [1.0] * len(rows)


def test_grpo_rejects_unknown_constraint_ids_before_training(tmp_path):
    from crabkit.train.grpo import load_grpo_dataset

    path = tmp_path / "gt.jsonl"
    path.write_text(json.dumps({"prompt": "p", "instruction_id_list": ["nope:nothing"], "kwargs": [{}]}) + "\n")
    with pytest.raises(DataError, match=r"gt.jsonl:1: .*nope:nothing"):
        load_grpo_dataset(path)


def test_policy_pairs_from_sampling_the_tiny_model(tiny_model, tmp_path, capsys):
    from crabkit.train.rewards import constraint_reward

    truth = tmp_path / "gt.jsonl"
    rows = [{"prompt": f"Write {i} words.", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}
            for i in range(6)]
    truth.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "policy_pairs.jsonl"
    code = run_cli(["pairs", str(truth), "--out", str(out), "--policy", str(tiny_model), "--samples", "4",
                    "--max-tokens", "12", "--temperature", "1.0"])
    assert code == 0
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert f"wrote {len(pairs)} pairs" in capsys.readouterr().out
    assert pairs, "random 12-token samples should differ on commas for some prompt"
    for p in pairs:
        chosen, rejected = constraint_reward(
            None, [p["chosen"], p["rejected"]], instruction_id_list=[p["instruction_id_list"]] * 2,
            kwargs=[p["kwargs"]] * 2,
        )
        assert (chosen, rejected) == (p["chosen_score"], p["rejected_score"]) == (1.0, 0.0)
