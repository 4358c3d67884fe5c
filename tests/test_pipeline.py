"""The rules-only generation pipeline end to end: outputs, determinism, bad input, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import shared_path
from crabkit.pipeline import OUTPUT_FILES, GenerateConfig, generate

FINAL_FILES = OUTPUT_FILES + ("stats.json", "manifest.json")


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _bytes(run: Path) -> dict[str, bytes]:
    return {name: (run / name).read_bytes() for name in FINAL_FILES}


def test_demo_sample_produces_every_output_file(sample_path, tmp_path):
    result = generate(GenerateConfig(input=str(sample_path), min_words=10), tmp_path / "run", progress=False)
    for name in FINAL_FILES:
        assert (tmp_path / "run" / name).exists(), name
    train = _read_jsonl(tmp_path / "run" / "train.jsonl")
    kinds = {ex["kind"] for ex in train}
    assert kinds == {"forward", "reverse"}
    assert result.stats["verify_failures_total"] == 0
    assert result.stats["seeds"] >= 40
    for ex in train:
        roles = [m["role"] for m in ex["messages"]]
        assert roles[-2:] == ["user", "assistant"]
        assert all(isinstance(m["content"], str) and m["content"] for m in ex["messages"])


def test_forward_examples_carry_demonstrations_not_reused_as_mains(sample_path, tmp_path):
    generate(GenerateConfig(input=str(sample_path), min_words=10), tmp_path, progress=False)
    train = _read_jsonl(tmp_path / "train.jsonl")
    mains = {ex["seed_id"] for ex in train}
    demos = [d for ex in train if ex["kind"] == "forward" for d in ex["demo_seed_ids"]]
    assert demos, "about half of the forward examples should carry demonstrations"
    assert not mains & set(demos)
    with_demos = [ex for ex in train if ex.get("demo_seed_ids")]
    for ex in with_demos:  # a seed's own system message, if any, stays first, before the demonstrations
        turns = [m for m in ex["messages"] if m["role"] != "system"]
        assert len(turns) == 2 + 2 * len(ex["demo_seed_ids"])
        assert all(m["role"] == "system" for m in ex["messages"][: len(ex["messages"]) - len(turns)])


def test_every_written_constraint_holds_on_its_response(sample_path, tmp_path):
    from crabkit.verify import verify_file

    generate(GenerateConfig(input=str(sample_path), min_words=10), tmp_path, progress=False)
    for name in ("constraints.jsonl", "ifeval_ground_truth.jsonl"):
        report = verify_file(tmp_path / name)
        assert report.violations == []
    assert verify_file(tmp_path / "constraints.jsonl").checked > 100


def test_same_seed_same_bytes_other_seed_other_bytes(sample_path, tmp_path):
    cfg = GenerateConfig(input=str(sample_path), min_words=10, seed=7)
    generate(cfg, tmp_path / "a", progress=False)
    generate(cfg, tmp_path / "b", progress=False)
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    generate(GenerateConfig(input=str(sample_path), min_words=10, seed=8), tmp_path / "c", progress=False)
    assert (tmp_path / "a" / "train.jsonl").read_bytes() != (tmp_path / "c" / "train.jsonl").read_bytes()


def test_rerun_of_a_finished_run_changes_nothing(sample_path, tmp_path):
    cfg = GenerateConfig(input=str(sample_path), min_words=10)
    generate(cfg, tmp_path, progress=False)
    before = _bytes(tmp_path)
    again = generate(cfg, tmp_path, progress=False)
    assert again.already_done
    assert _bytes(tmp_path) == before


def test_changed_config_refuses_to_resume(sample_path, tmp_path):
    generate(GenerateConfig(input=str(sample_path), min_words=10), tmp_path, progress=False)
    with pytest.raises(ValueError, match="different configuration"):
        generate(GenerateConfig(input=str(sample_path), min_words=11), tmp_path, progress=False)


def _bad_input(path: Path, good: list[dict]) -> int:
    """Good records interleaved with every kind of broken one; returns the number of bad lines."""
    bad_lines = [
        b'{"instruction": "broken json", "response": ',
        json.dumps({"instruction": "no response field here"}).encode(),
        json.dumps({"instruction": 42, "response": "numbers are not instructions " * 5}).encode(),
        json.dumps({"instruction": "empty response", "response": "   "}).encode(),
        json.dumps({"instruction": "huge", "response": "word " * 1_000_000}).encode(),
        b'{"instruction": "bad utf8 \xff\xfe", "response": "text"}',
        b"[1, 2, 3]",
    ]
    lines = []
    for i, rec in enumerate(good):
        lines.append(json.dumps(rec, ensure_ascii=False).encode("utf-8"))
        if i < len(bad_lines):
            lines.append(bad_lines[i])
    path.write_bytes(b"\n".join(lines) + b"\n")
    return len(bad_lines)


def test_bad_records_go_to_rejects_and_good_ones_all_come_out(sample_path, tmp_path):
    good = [json.loads(x) for x in sample_path.read_text(encoding="utf-8").splitlines()]
    good = [r for r in good if "instruction" in r and "response" in r][:12]
    n_bad = _bad_input(tmp_path / "mixed.jsonl", good)
    cfg = GenerateConfig(input=str(tmp_path / "mixed.jsonl"), min_words=0, bypass_rate=0.0)
    result = generate(cfg, tmp_path / "run", progress=False)
    rejects = _read_jsonl(tmp_path / "run" / "rejects.jsonl")
    read_rejects = [r for r in rejects if r["stage"] == "read"]
    assert len(read_rejects) == n_bad
    assert all(r["reason"] and r["origin"] for r in read_rejects)
    seeds = _read_jsonl(tmp_path / "run" / "constraints.jsonl")
    assert [s["instruction"] for s in seeds] == [r["instruction"] for r in good]
    assert result.stats["rejects_total"] == n_bad


def test_strict_flag_exits_non_zero_on_rejects(sample_path, tmp_path):
    good = [json.loads(x) for x in sample_path.read_text(encoding="utf-8").splitlines()][:3]
    good = [r for r in good if "instruction" in r and "response" in r]
    _bad_input(tmp_path / "mixed.jsonl", good)
    cmd = [sys.executable, "-m", "crabkit.cli", "generate", str(tmp_path / "mixed.jsonl"), "--out",
           str(tmp_path / "run"), "--no-progress", "--min-words", "0"]
    assert subprocess.run(cmd, capture_output=True, check=False).returncode == 0
    strict = subprocess.run(cmd + ["--strict", "--force"], capture_output=True, text=True, check=False)
    assert strict.returncode == 1
    assert "rejected" in strict.stderr


def _many_records(sample_path: Path, path: Path, copies: int) -> None:
    recs = [json.loads(x) for x in sample_path.read_text(encoding="utf-8").splitlines()]
    recs = [r for r in recs if "instruction" in r and "response" in r]
    with open(path, "w", encoding="utf-8") as f:
        for c in range(copies):
            f.writelines(json.dumps({"instruction": f"{r['instruction']} (variant {c})",
                                    "response": r["response"]}, ensure_ascii=False) + "\n" for r in recs)


def _run_until(cmd: list[str], state: Path, min_blocks: int) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if json.loads(state.read_text())["block_index"] >= min_blocks:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def test_sigkill_at_several_points_then_resume_gives_identical_bytes(sample_path, tmp_path):
    data = tmp_path / "many.jsonl"
    _many_records(sample_path, data, copies=8)
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"block_size": 16, "min_words": 10}))
    base = [sys.executable, "-m", "crabkit.cli", "generate", str(data), "--config", str(config), "--no-progress",
            "--seed", "3"]
    subprocess.run(base + ["--out", str(tmp_path / "full")], check=True, capture_output=True)
    resumed = tmp_path / "resumed"
    for blocks in (1, 3, 6, 10):
        _run_until(base + ["--out", str(resumed)], resumed / "state.json", blocks)
    subprocess.run(base + ["--out", str(resumed)], check=True, capture_output=True)
    state = json.loads((resumed / "state.json").read_text())
    assert state["done"]
    assert _bytes(resumed) == _bytes(tmp_path / "full")


def test_shared_seed_pairs_all_constraints_hold_and_types_are_diverse(tmp_path):
    pairs = shared_path("seed_pairs", "pairs_flat.jsonl")
    result = generate(GenerateConfig(input=str(pairs)), tmp_path, progress=False)
    s = result.stats
    assert s["verify_failures_total"] == 0
    assert s["infer_errors"] == {}
    assert s["distinct_types"] >= 30, sorted(s["constraints_by_type"])
    from crabkit.verify import verify_file

    assert verify_file(tmp_path / "constraints.jsonl").violations == []
    gt = _read_jsonl(tmp_path / "ifeval_ground_truth.jsonl")
    assert len(gt) > 50
    from crabkit.eval.ifeval import score

    prompts = [{k: r[k] for k in ("key", "prompt", "instruction_id_list", "kwargs")} for r in gt]
    result = score(prompts, {r["prompt"]: r["response"] for r in gt})
    assert result.summary()["prompt_strict"] == 1.0
