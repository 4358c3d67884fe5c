"""bench/train_effect.py and bench/replicate.py end to end on a tiny random Llama, with minimal sizes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("peft")

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import replicate
import train_effect as te

from tiny_model import build_tiny_model

# Written for this test: each prompt asks for something the tiny model's output can be scored on.
IFEVAL_ROWS = [
    {"key": 1, "prompt": "Describe a river in all lowercase letters.",
     "instruction_id_list": ["change_case:english_lowercase"], "kwargs": [{}]},
    {"key": 2, "prompt": "List three fruits without using any commas.",
     "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]},
    {"key": 3, "prompt": "Write a short poem with a title in double angular brackets, like <<title>>.",
     "instruction_id_list": ["detectable_format:title"], "kwargs": [{}]},
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="module")
def pairs(tmp_path_factory, sample_path) -> Path:
    """The package's sample pairs, labelled alternately as licence-OK and GPT-4 output."""
    rows = [json.loads(line) for line in sample_path.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if "response" in r]
    path = tmp_path_factory.mktemp("pairs") / "pairs.jsonl"
    labels = ["human (OASST)", "deepseek-v3-0324", "human (OASST)", "gpt-4"]
    path.write_text("".join(
        json.dumps({"instruction": r["instruction"], "response": r["response"], "model": labels[i % 4]}) + "\n"
        for i, r in enumerate(rows)
    ), encoding="utf-8")
    return path


def _cfg(tiny: Path, pairs: Path) -> te.BenchConfig:
    return te.BenchConfig(model=str(tiny), pairs=str(pairs), max_response_chars=5000, heldout_fraction=0.4,
                          steps=2, batch_size=2, max_length=256, max_new_tokens=4, gen_batch_size=8, min_words=5)


def test_split_keeps_licensed_pairs_and_holds_out_whole_instructions(tmp_path, tiny, pairs):
    data = te.prepare_data(_cfg(tiny, pairs), tmp_path)
    source = [json.loads(line) for line in pairs.read_text().splitlines()]
    gpt4 = {r["response"] for r in source if r["model"] == "gpt-4"}
    train = te.read_jsonl(data.root / "seeds_train.jsonl")
    held = te.read_jsonl(data.root / "seeds_heldout.jsonl")
    assert train and held
    assert not gpt4 & {r["response"] for r in train + held}
    assert len(train) + len(held) == sum(r["model"] != "gpt-4" for r in source)
    assert not {r["instruction"] for r in train} & {r["instruction"] for r in held}
    # The crab examples and the plain pairs come from the train side only.
    held_instr = {r["instruction"] for r in held}
    for path in (data.crab / "train.jsonl", data.crab_fwd / "train.jsonl", data.plain):
        for row in te.read_jsonl(path):
            assert not any(m["content"].startswith(tuple(held_instr)) for m in row["messages"] if m["role"] == "user")
    assert {r["kind"] for r in te.read_jsonl(data.crab_fwd / "train.jsonl")} == {"forward"}


def test_arm_g_data_edits_more_answers_than_c_from_the_same_seeds(tmp_path, tiny, pairs):
    data = te.prepare_data(_cfg(tiny, pairs), tmp_path, edits=True)
    assert data.crab_edits is not None and data.crab_edits.name == "crab_edits"

    def edited(run: Path) -> tuple[int, set[str]]:
        records = te.read_jsonl(run / "constraints.jsonl")
        return sum(1 for r in records if r.get("edit")), {r["instruction"] for r in records}

    (n_c, seeds_c), (n_g, seeds_g) = edited(data.crab), edited(data.crab_edits)
    assert seeds_g == seeds_c
    assert n_g > n_c
    assert (tmp_path / "data" / "crab_edits.data_quality.txt").exists()


def test_paired_bootstrap_reports_the_difference_of_the_second_minus_the_first():
    a = {str(i): (0, 1) for i in range(20)}
    b = {str(i): (1 if i < 10 else 0, 1) for i in range(20)}
    d = te.paired_bootstrap(a, b, n_boot=500)
    assert d["diff"] == pytest.approx(0.5)
    assert 0.2 < d["ci95"][0] < 0.5 < d["ci95"][1] < 0.8
    assert d["p_le_0"] == 0.0
    same = te.paired_bootstrap(a, a, n_boot=200)
    assert same["diff"] == 0.0 and same["ci95"] == [0.0, 0.0]


def test_paired_bootstrap_resamples_clusters_not_prompts():
    a = {str(i): (0, 1) for i in range(20)}
    b = {str(i): (1 if i < 10 else 0, 1) for i in range(20)}
    # Two clusters that differ completely: the resampled difference is 0, 0.5 or 1.
    clusters = {str(i): "first" if i < 10 else "second" for i in range(20)}
    d = te.paired_bootstrap(a, b, clusters, n_boot=500)
    assert d["clusters"] == 2
    assert d["ci95"] == [0.0, 1.0]


def test_length_sorted_backend_answers_each_request_in_its_own_slot():
    from crabkit.llm import ChatRequest, ScriptedBackend

    seen = []

    def script(request):
        seen.append(request.messages[-1]["content"])
        return request.messages[-1]["content"].upper()

    prompts = ["a much longer prompt here", "short", "medium one"]
    backend = te.LengthSorted(ScriptedBackend(script))
    got = []
    results = backend.generate([ChatRequest(messages=[{"role": "user", "content": p}]) for p in prompts],
                               on_result=lambda i, r: got.append((i, r.text)))
    assert [r.text for r in results] == [p.upper() for p in prompts]
    assert seen == sorted(prompts, key=len)
    assert sorted(got) == [(i, p.upper()) for i, p in enumerate(prompts)]


def test_train_effect_then_replicate_run_end_to_end_and_resume(tmp_path, tiny, pairs):
    cfg = _cfg(tiny, pairs)
    out = tmp_path / "bench"
    report = te.run(cfg, out, echo=lambda _: None)
    n_held = te.heldout_count(te.prepare_data(cfg, out))
    assert report["heldout_prompts"] == n_held > 0
    assert set(report["arms"]) == {te.ARM_BASE, te.ARM_CRAB}
    assert report["training"]["steps"] == 2
    assert report["diff_tuned_minus_base"]["prompt_level"]["n"] == n_held
    crab_model = out / te.ARM_CRAB / "model" / "model.safetensors"
    trained_at = crab_model.stat().st_mtime_ns

    ifeval = tmp_path / "ifeval.jsonl"
    ifeval.write_text("".join(json.dumps(r) + "\n" for r in IFEVAL_ROWS), encoding="utf-8")
    arms = [te.ARM_BASE, te.ARM_PLAIN, te.ARM_CRAB]
    archive = tmp_path / "archive"
    result = replicate.run(cfg, out, arms, str(ifeval), 0, replicate.GRPOSettings(), archive=archive)
    assert crab_model.stat().st_mtime_ns == trained_at  # C was reused, not trained again
    # The archive holds each arm's evaluations and training record, no weights; a fresh --out
    # restored from it rebuilds the same table without training or generating again.
    assert not list(archive.rglob("*.safetensors"))
    assert (archive / te.ARM_PLAIN / "model" / "crab_train.json").exists()
    moved = tmp_path / "other-machine" / "ifeval.jsonl"  # the same prompts at another path
    moved.parent.mkdir()
    moved.write_bytes(ifeval.read_bytes())
    again = replicate.run(cfg, tmp_path / "elsewhere", arms, str(moved), 0, replicate.GRPOSettings(),
                          archive=archive)  # fmt: skip
    assert not (tmp_path / "elsewhere" / te.ARM_PLAIN / "model" / "model.safetensors").exists()
    assert again["arms"] == result["arms"] and again["diffs"] == result["diffs"]
    assert replicate.same_prompts("/a/input_data.jsonl (all 541)", "/b/input_data.jsonl (all 541)")
    assert not replicate.same_prompts("/a/input_data.jsonl (all 541)", "/a/input_data.jsonl (random subset of 100 of 541, seed 0)")
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(result, default=str))
    for arm in arms:
        r = result["arms"][arm]
        assert r["ifeval"]["n_prompts"] == len(IFEVAL_ROWS)
        assert set(r["ifeval"]["ci95"]) >= set(replicate.METRICS)
        assert r["heldout"]["prompt_level"]["n"] == n_held
    for arm in (te.ARM_PLAIN, te.ARM_CRAB):
        assert result["arms"][arm]["training"]["steps"] == 2
        assert "train_s" in result["arms"][arm]["timing"]
    diff = result["diffs"]["C-crab - B-plain"]
    assert diff["ifeval"]["prompt_strict"]["n"] == len(IFEVAL_ROWS)
    assert diff["heldout"]["prompt_level"]["n"] == n_held


def test_fit_arm_keeps_exactly_the_crab_examples_that_fit_the_token_budget(tmp_path, tiny, pairs):
    import dataclasses

    from crabkit.train.models import load_tokenizer

    tokenizer = load_tokenizer(str(tiny))

    def n_tokens(row: dict) -> int:
        encoded = tokenizer.apply_chat_template(row["messages"], tokenize=True)
        return len(encoded["input_ids"] if hasattr(encoded, "keys") else encoded)

    data = te.prepare_data(_cfg(tiny, pairs), tmp_path)
    rows = te.read_jsonl(data.crab / "train.jsonl")
    sizes = sorted(n_tokens(r) for r in rows)
    cfg = dataclasses.replace(_cfg(tiny, pairs), max_length=sizes[len(sizes) // 2])  # a budget some exceed
    kept = te.read_jsonl(replicate.fit_data(cfg, data))
    assert kept == [r for r in rows if n_tokens(r) <= cfg.max_length]
    assert 0 < len(kept) < len(rows), "the budget should cut some examples and keep others"
