"""`crab generate --engine ray`: the same blocks through Ray Data give the same bytes as the local
engine, resume from shards, and spread the LLM stage over several OpenAI-compatible endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from crabkit.cli import main
from crabkit.engine import RayEngine
from crabkit.engine.ray_engine import SHARDS
from crabkit.llm import ChatRequest
from crabkit.llmstage import LLMConfig, demo_script
from crabkit.pipeline import OUTPUT_FILES, GenerateConfig, generate
from crabkit.rundir import MARKER

FILES = (*OUTPUT_FILES, "stats.json", "state.json", "manifest.json")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def data(sample_path, tmp_path_factory) -> Path:
    """300 distinct records (the sample's 50 pairs in six variants), plus a duplicate and a too-short record
    so that blocks carry read rejects too."""
    recs = [json.loads(x) for x in sample_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    recs = [r for r in recs if "instruction" in r and "response" in r]
    rows = []
    for k in range(6):
        for r in recs:
            rows.append({"id": f"{r.get('id', '')}-v{k}", "instruction": f"{r['instruction']} (variant {k})",
                         "response": r["response"]})
    rows.insert(77, dict(rows[10]))
    rows.insert(150, {"instruction": "Hi", "response": "Too short."})
    path = tmp_path_factory.mktemp("data") / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _cfg(path: Path, **kw) -> GenerateConfig:
    return GenerateConfig(input=str(path), min_words=10, block_size=32, **kw)


def _bytes(run: Path, files: tuple[str, ...] = FILES) -> dict[str, bytes]:
    return {name: (run / name).read_bytes() for name in files}


# The manifest records the server URLs, which differ between the two LLM runs.
LLM_FILES = tuple(f for f in FILES if f != "manifest.json")


def _ray_run(cfg: GenerateConfig, run: Path, **engine_kw) -> RayEngine:
    engine = RayEngine(concurrency=2, **engine_kw)
    generate(cfg, run, progress=False, engine=engine)
    return engine


@pytest.fixture(scope="module")
def local_run(data, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("local") / "run"
    generate(_cfg(data, mix=str(data), mix_ratio=0.1), run, progress=False)
    return run


def test_ray_engine_writes_the_same_bytes_as_the_local_engine(data, local_run, tmp_path):
    engine = _ray_run(_cfg(data, mix=str(data), mix_ratio=0.1), tmp_path)
    assert _bytes(tmp_path) == _bytes(local_run)
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["seeds"] == 300 and stats["rejects_total"] == 2 and stats["examples"]["mix"] > 0
    assert engine.blocks_run == 10 and engine.blocks_reused == 0  # ceil(300 / 32) blocks, all on Ray
    assert engine.bytes_in > 0 and engine.bytes_out > 0
    assert not (tmp_path / SHARDS).exists()  # shards are dropped once committed


def test_a_rerun_runs_only_the_blocks_whose_shards_are_missing(data, local_run, tmp_path):
    cfg = _cfg(data, mix=str(data), mix_ratio=0.1)
    _ray_run(cfg, tmp_path, keep_shards=True)
    shards = sorted((tmp_path / SHARDS).glob("block-*.json"))
    assert len(shards) == 10
    # As if the driver died before committing anything: only shards are left, three of them lost.
    for name in FILES:
        (tmp_path / name).unlink()
    for i in (0, 4, 9):
        shards[i].unlink()
    engine = _ray_run(cfg, tmp_path)
    assert (engine.blocks_run, engine.blocks_reused) == (3, 7)
    assert _bytes(tmp_path) == _bytes(local_run)


def test_a_shard_of_another_configuration_is_not_reused(data, tmp_path):
    _ray_run(_cfg(data, seed=1), tmp_path / "other", keep_shards=True)
    (tmp_path / "run").mkdir()
    (tmp_path / "other" / SHARDS).rename(tmp_path / "run" / SHARDS)
    (tmp_path / "other" / MARKER).rename(tmp_path / "run" / MARKER)  # a crab run dir with stale shards
    engine = _ray_run(_cfg(data), tmp_path / "run", keep_shards=True)
    assert (engine.blocks_run, engine.blocks_reused) == (10, 0)
    ref = tmp_path / "ref"
    generate(_cfg(data), ref, progress=False)
    assert _bytes(tmp_path / "run") == _bytes(ref)


class _DriverKilled(Exception):
    pass


class _CrashingEngine(RayEngine):
    """Dies (like a killed driver) after committing ``after`` blocks."""

    def __init__(self, after: int, **kw):
        super().__init__(**kw)
        self.after = after

    def map_blocks(self, *args):
        for n, out in enumerate(super().map_blocks(*args)):
            if n == self.after:
                raise _DriverKilled
            yield out


def test_a_crashed_run_resumes_from_its_checkpoint_to_the_same_bytes(data, local_run, tmp_path):
    cfg = _cfg(data, mix=str(data), mix_ratio=0.1)
    with pytest.raises(_DriverKilled):
        generate(cfg, tmp_path, progress=False, engine=_CrashingEngine(3, concurrency=2))
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["block_index"] == 3 and not state["done"]
    engine = _ray_run(cfg, tmp_path)
    assert engine.blocks_run + engine.blocks_reused == 7  # committed blocks are not touched again
    assert _bytes(tmp_path) == _bytes(local_run)


def test_cli_engine_ray_matches_the_local_engine(data, tmp_path, capsys):
    args = ["generate", str(data), "--min-words", "10", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    assert main([*args, "--out", str(tmp_path / "ray"), "--engine", "ray", "--ray-concurrency", "2"]) == 0
    assert "ray: 2 blocks run, 0 reused from shards" in capsys.readouterr().out
    assert _bytes(tmp_path / "ray") == _bytes(tmp_path / "local")


def test_cli_refuses_ray_options_without_the_ray_engine_and_request_caps_with_it(data, tmp_path, capsys):
    assert main(["generate", str(data), "--out", str(tmp_path / "a"), "--ray-address", "auto"]) == 2
    assert "need --engine ray" in capsys.readouterr().err
    args = ["generate", str(data), "--out", str(tmp_path / "b"), "--engine", "ray", "--llm", "scripted",
            "--max-requests", "5", "--no-progress"]
    assert main(args) == 2
    assert "--max-requests is not supported with --engine ray" in capsys.readouterr().err


# -- the LLM stage over two loopback OpenAI-compatible servers -----------------------------------


def _answer(payload: dict) -> str:
    return demo_script(ChatRequest(messages=payload["messages"]))


def test_llm_stage_spreads_over_two_endpoints_and_a_rerun_pays_nothing(sample_path, tmp_path):
    pytest.importorskip("aiohttp")
    pytest.importorskip("aiohttp")
    from llm_server import StubServer

    def cfg(*urls: str) -> GenerateConfig:
        llm = LLMConfig(backend="openai", base_urls=list(urls), model="stub", concurrency=4, timeout=10,
                        backoff_s=0.01)
        return GenerateConfig(input=str(sample_path), min_words=10, block_size=16, llm=llm)

    with StubServer(answer=_answer) as ref_server:
        generate(cfg(ref_server.url), tmp_path / "local", progress=False)
    with StubServer(answer=_answer) as a, StubServer(answer=_answer) as b:
        engine = _ray_run(cfg(a.url, b.url), tmp_path / "ray")
        sent = a.hits + b.hits
        assert a.hits > 0 and b.hits > 0 and sent == ref_server.hits
        assert _bytes(tmp_path / "ray", LLM_FILES) == _bytes(tmp_path / "local", LLM_FILES)
        assert engine.llm_usage()["sent"] == sent
        usage = json.loads((tmp_path / "ray" / "llm_usage.json").read_text())
        assert usage["sent"] == sent and usage["hits"] == 0
        caches = sorted(p.name for p in (tmp_path / "ray" / "llm_cache").iterdir() if p.suffix == ".sqlite")
        assert caches == [f"block-{i:08d}.sqlite" for i in range(4)]
        # Starting over on the same run directory answers everything from the per-block caches.
        again = RayEngine(concurrency=2)
        generate(cfg(a.url, b.url), tmp_path / "ray", progress=False, force=True, engine=again)
        assert a.hits + b.hits == sent
        assert again.llm_usage()["hits"] == usage["misses"] and again.llm_usage()["sent"] == 0
    assert _bytes(tmp_path / "ray", LLM_FILES) == _bytes(tmp_path / "local", LLM_FILES)
