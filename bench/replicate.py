"""The CRAB paper's central claim at small scale: does SFT on crabkit data beat SFT on the plain pairs?

Arms, all from the same base model (SmolLM2-135M-Instruct, the embedded GGUF, unless ``--model``) and,
for the SFT arms, the same optimizer steps, batch size, length limit, LoRA and schedule:

* ``A-base``       the base model, untouched;
* ``B-plain``      SFT on the train seeds as plain pairs (instruction -> response);
* ``C-crab``       SFT on crabkit data from the same seeds (forward + reverse, 70/30);
* ``D-crab-fwd``   SFT on crabkit forward examples only (every seed forward, no reverse);
* ``E-crab-grpo``  C, then GRPO with the checker reward;
* ``F-crab-fit``   SFT on C's examples that fit ``--max-length`` whole (none cut);
* ``G-crab-edits`` SFT on C's recipe with an answer edit tried on every seed (C: 30% of them).

Training data: the licence-OK pairs only (DeepSeek-V3 responses, MIT; human Open-Assistant
replies, Apache-2.0); a share of instructions is held out by hash (see ``bench/train_effect.py``,
which builds the same data and the arms A and C in the same directory layout).

Every arm is evaluated with ``crab eval ifeval``'s machinery (``run_ifeval``: greedy, the same
max new tokens, the four IFEval metrics with 95% bootstrap intervals, per-family table) on the
IFEval prompts -- all 541 by default, or a seeded random ``--ifeval-limit`` subset -- and with the held-out constraint eval (``evaluate_constraints``). Differences
(C - B first) come with paired bootstrap intervals: over IFEval prompts, over held-out instructions.

Resumable per arm: ``OUT/<arm>/`` holds the merged model, ``heldout/`` and ``ifeval/``, each skipped
when finished; generations are cached in ``OUT/generations.sqlite``. Seeds are fixed. Device:
CUDA when available (transformers/TRL pick it), else CPU with ``--threads`` threads.

    .venv/bin/python bench/replicate.py --out runs/bench       # the table in docs/REPLICATION.md (~1.7 h, 2 cores)
    .venv/bin/python bench/replicate.py --out runs/gpu --steps 200 --max-new-tokens 256
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_effect import (
    ARM_BASE,
    ARM_CRAB,
    ARM_EDITS,
    ARM_FWD,
    ARM_GRPO,
    ARM_MIX,
    ARM_PLAIN,
    SHARED,
    BenchConfig,
    Data,
    Stopwatch,
    add_common_args,
    arm_dir,
    config_from_args,
    eval_heldout,
    fmt_diff,
    fmt_rate,
    gen_settings,
    heldout_diff,
    log,
    make_backend,
    paired_bootstrap,
    prepare_data,
    read_jsonl,
    setup_torch,
    timing,
    train_sft_arm,
    train_stats,
    update_timing,
    write_json,
    write_jsonl,
)

DEFAULT_IFEVAL = SHARED / "ifeval" / "input_data.jsonl"
DEFAULT_SEEDS = SHARED / "seed_pairs_more" / "train_3k.jsonl"
DEFAULT_FOLLOWBENCH = SHARED / "followbench"
#: Arm F: C's examples that fit ``--max-length`` whole (C's are cut 3.7x as often as B's).
ARM_FIT = "F-crab-fit"
ARMS = {"A": ARM_BASE, "B": ARM_PLAIN, "C": ARM_CRAB, "M": ARM_MIX, "D": ARM_FWD, "E": ARM_GRPO, "F": ARM_FIT,
        "G": ARM_EDITS}
METRICS = ("prompt_strict", "instruction_strict", "prompt_loose", "instruction_loose")
#: Differences reported, (minuend, subtrahend): the paper's claim first.
DIFFS = ((ARM_CRAB, ARM_PLAIN), (ARM_MIX, ARM_PLAIN), (ARM_CRAB, ARM_FWD), (ARM_MIX, ARM_CRAB),
         (ARM_CRAB, ARM_BASE), (ARM_PLAIN, ARM_BASE), (ARM_GRPO, ARM_CRAB), (ARM_FIT, ARM_PLAIN),
         (ARM_FIT, ARM_CRAB), (ARM_EDITS, ARM_PLAIN), (ARM_EDITS, ARM_CRAB))

#: The round-2 defaults (the paper's kinds of seeds, sized for ~40 min of training per arm on 2 CPU
#: cores), and the GPU preset (full fine-tuning, one epoch over every train seed, 512 new tokens).
CPU_DEFAULTS = BenchConfig(
    pairs=str(DEFAULT_SEEDS), sources=(), max_response_chars=1600, heldout_fraction=0.15, n_train=600,
    mix_ratio=0.5, steps=100, batch_size=4, max_length=512, max_new_tokens=256, gen_batch_size=64, n_eval=150,
)  # fmt: skip
GPU_PRESET = {
    "lora_r": 0, "n_train": 0, "steps": -1, "batch_size": 16, "max_length": 1024, "max_new_tokens": 512,
    "max_response_chars": 4000, "learning_rate": 2e-5, "gen_batch_size": 128, "n_eval": 0,
}  # fmt: skip


@dataclasses.dataclass
class GRPOSettings:
    """Arm E: GRPO from C's model, rewarded by the share of constraints the checkers pass."""

    steps: int = 12
    generations: int = 4
    completion_tokens: int = 96
    learning_rate: float = 5e-5


def ifeval_subset(path: str, limit: int, seed: int) -> tuple[list[Any], str]:
    """The IFEval prompts (a seeded random subset of ``limit`` when > 0) and a description of them."""
    from crabkit.eval.ifeval_run import load_ifeval_prompts

    prompts = load_ifeval_prompts(path)
    if limit and limit < len(prompts):
        chosen = random.Random(f"{seed}:ifeval-subset").sample(prompts, limit)
        return sorted(chosen, key=lambda p: p.key), f"{path} (random subset of {limit} of {len(prompts)}, seed {seed})"
    return prompts, f"{path} (all {len(prompts)})"


def same_prompts(a: str | None, b: str) -> bool:
    """Two ``ifeval_subset`` descriptions name the same prompts: the same file name and selection,
    wherever the file lies (so evaluations made on another machine are reused)."""

    def key(source: str) -> str:
        head, sep, tail = source.partition(" (")
        return Path(head).name + sep + tail

    return a is not None and key(a) == key(b)


def eval_ifeval(cfg: BenchConfig, out: Path, arm: str, model_dir: Path | None, prompts: list[Any],
                source: str) -> dict[str, Any]:
    """IFEval on ``prompts`` for one arm (``OUT/<arm>/ifeval/``); reused when already finished."""
    from crabkit.eval.ifeval_run import run_ifeval

    d = arm_dir(out, arm) / "ifeval"
    summary_path = d / "summary.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if (same_prompts(summary.get("prompts"), source)
                and summary["generation"].get("max_tokens") == cfg.max_new_tokens
                and summary.get("n_prompts") == len(prompts)):
            return summary
    log(f"{arm}: IFEval on {len(prompts)} prompts")
    clock = Stopwatch()
    backend = make_backend(cfg, out, model_dir)
    try:
        # Shortest prompts first: each batch then pads little.
        ordered = sorted(prompts, key=lambda p: len(p.prompt))
        summary = run_ifeval(backend, ordered, d, settings=gen_settings(cfg), seed=cfg.seed, source=source)
    finally:
        backend.close()
    update_timing(out, arm, ifeval_s=clock.wall(), ifeval_cpu_s=clock.cpu())
    log(f"{arm}: IFEval " + " ".join(f"{m} {summary[m]:.3f}" for m in METRICS) + f" ({clock.wall():.0f}s)")
    return summary


def grpo_data(cfg: BenchConfig, data: Data) -> Path:
    """GRPO prompts from the train seeds: forward-worded, with their constraints as the reward's columns."""
    from crabkit.eval.constraints_eval import build_items, heldout_seeds

    path = data.root / "grpo.jsonl"
    if not path.exists():
        rows = heldout_seeds(data.crab, n=10**9)  # every train seed with a checkable constraint
        items = build_items(rows, cfg.seed + 1)  # another draw than any eval: a different seed
        write_jsonl(path, [{"prompt": it.prompt, "constraints": [c.to_json() for c in it.constraints]}
                           for it in items])
    return path


def fit_data(cfg: BenchConfig, data: Data) -> Path:
    """Arm F's data: C's examples whose chat-formatted tokens fit ``max_length``, none cut."""
    path = data.root / f"crab_fit_{cfg.max_length}.jsonl"
    if path.exists():
        return path
    from crabkit.train.models import load_tokenizer

    tokenizer = load_tokenizer(cfg.model)

    def n_tokens(messages: list[dict[str, str]]) -> int:
        encoded = tokenizer.apply_chat_template(messages, tokenize=True)
        return len(encoded["input_ids"] if hasattr(encoded, "keys") else encoded)

    rows = read_jsonl(data.crab / "train.jsonl")
    kept = [r for r in rows if n_tokens(r["messages"]) <= cfg.max_length]
    write_jsonl(path, kept)
    kinds = {k: sum(r["kind"] == k for r in kept) for k in ("forward", "reverse")}
    log(f"{ARM_FIT}: {len(kept)} of {len(rows)} crab examples fit {cfg.max_length} tokens ({kinds})")
    return path


def train_grpo_arm(cfg: BenchConfig, g: GRPOSettings, out: Path, data: Data, start_model: Path) -> Path:
    model_dir = arm_dir(out, ARM_GRPO) / "model"
    if (model_dir / "crab_train.json").exists():
        return model_dir
    from crabkit.train import LoraOptions, train_grpo

    log(f"{ARM_GRPO}: GRPO {g.steps} steps from {start_model}")
    clock = Stopwatch()
    fields = {
        "max_steps": g.steps,
        "per_device_train_batch_size": g.generations,
        "num_generations": g.generations,
        "max_completion_length": g.completion_tokens,
        "learning_rate": g.learning_rate,
        "logging_steps": 1,
        "save_strategy": "no",
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "dataloader_num_workers": 0,
        "disable_tqdm": True,
        "gradient_checkpointing": False,
    }
    result = train_grpo(grpo_data(cfg, data), str(start_model), model_dir, trl_fields=fields,
                        lora=LoraOptions(r=cfg.lora_r, alpha=2 * cfg.lora_r, merge=True))
    update_timing(out, ARM_GRPO, train_s=clock.wall(), train_cpu_s=clock.cpu())
    write_json(model_dir / "train_log.json", result.log_history)
    log(f"{ARM_GRPO}: trained {result.steps} steps in {clock.wall():.0f}s")
    return model_dir


def ifeval_per_prompt(out: Path, arm: str) -> dict[str, dict[str, tuple[int, int]]]:
    """Per metric, per IFEval key: (successes, trials)."""
    table: dict[str, dict[str, tuple[int, int]]] = {m: {} for m in METRICS}
    for r in read_jsonl(out / arm / "ifeval" / "results.jsonl"):
        k = str(r["key"])
        table["prompt_strict"][k] = (int(all(r["strict"])), 1)
        table["prompt_loose"][k] = (int(all(r["loose"])), 1)
        table["instruction_strict"][k] = (sum(r["strict"]), len(r["strict"]))
        table["instruction_loose"][k] = (sum(r["loose"]), len(r["loose"]))
    return table


def cap_share(out: Path, arm: str, max_tokens: int) -> float | None:
    """The share of the arm's IFEval answers that stopped at the new-token cap (cut short)."""
    path = out / arm / "ifeval" / "responses.jsonl"
    if not path.exists():
        return None
    rows = read_jsonl(path)
    capped = sum(1 for r in rows if r.get("finish_reason") == "length" or (r.get("completion_tokens") or 0) >= max_tokens)
    return capped / len(rows) if rows else None


def eval_followbench_rules(cfg: BenchConfig, out: Path, arm: str, model_dir: Path | None, data_dir: str) -> Any:
    """FollowBench's rule-scored items (no judge needed): HSR/SSR by level, ``OUT/<arm>/followbench/``."""
    from crabkit.eval.followbench import run_followbench

    d = arm_dir(out, arm) / "followbench"
    if (d / "summary.json").exists():
        return json.loads((d / "summary.json").read_text(encoding="utf-8"))
    clock = Stopwatch()
    backend = make_backend(cfg, out, model_dir)
    try:
        report = run_followbench(backend, data_dir, None, d, gen_params=gen_settings(cfg))
    finally:
        backend.close()
    update_timing(out, arm, followbench_s=clock.wall())
    return report.summary


#: What ``--archive`` keeps of an arm: its evaluations and training record, never the model weights.
ARCHIVED = ("timing.json", "model/crab_train.json", "model/train_log.json", "heldout", "ifeval", "followbench_rules")


def archive_arm(out: Path, arm: str, archive: Path) -> None:
    """Copy an arm's small results (``ARCHIVED``) into ``archive/<arm>/``, where a later run finds them."""
    import shutil

    for rel in ARCHIVED:
        src, dst = out / arm / rel, archive / arm / rel
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)


def restore_arms(out: Path, archive: Path) -> list[str]:
    """Copy archived arms into ``out`` where ``out`` lacks them; the arms restored."""
    import shutil

    restored = []
    for src in sorted(p for p in archive.iterdir() if p.is_dir()) if archive.is_dir() else []:
        if not (out / src.name).exists():
            shutil.copytree(src, out / src.name)
            restored.append(src.name)
    return restored


def evaluated(cfg: BenchConfig, out: Path, arm: str, n_prompts: int, source: str) -> bool:
    """Both evaluations of ``arm`` finished under these settings (so its model is not needed)."""
    paths = [out / arm / "heldout" / "summary.json", out / arm / "ifeval" / "summary.json"]
    if not all(p.exists() for p in paths):
        return False
    heldout, ifeval = (json.loads(p.read_text(encoding="utf-8")) for p in paths)
    return (heldout["generation"]["max_tokens"] == cfg.max_new_tokens == ifeval["generation"].get("max_tokens")
            and same_prompts(ifeval.get("prompts"), source) and ifeval.get("n_prompts") == n_prompts)


def run(cfg: BenchConfig, out: Path, arms: list[str], ifeval_path: str, ifeval_limit: int,
        grpo: GRPOSettings, followbench: str | None = None, archive: Path | None = None) -> dict[str, Any]:
    if archive is not None:
        restored = restore_arms(out, archive)
        if restored:
            log(f"restored from {archive}: {', '.join(restored)}")
    data = prepare_data(cfg, out, mix=ARM_MIX in arms, edits=ARM_EDITS in arms)
    prompts, source = ifeval_subset(ifeval_path, ifeval_limit, cfg.seed)
    sft_data = {ARM_PLAIN: data.plain, ARM_CRAB: data.crab / "train.jsonl", ARM_FWD: data.crab_fwd / "train.jsonl"}
    if data.crab_mix is not None:
        sft_data[ARM_MIX] = data.crab_mix / "train.jsonl"
    if data.crab_edits is not None:
        sft_data[ARM_EDITS] = data.crab_edits / "train.jsonl"
    if ARM_FIT in arms:
        sft_data[ARM_FIT] = fit_data(cfg, data)
    results: dict[str, Any] = {}
    for arm in arms:
        start = time.time()
        model_dir: Path | None = None
        if arm != ARM_BASE and evaluated(cfg, out, arm, len(prompts), source) and not followbench:
            model_dir = arm_dir(out, arm) / "model"  # evaluated already (perhaps restored): no training
        elif arm in sft_data:
            model_dir = train_sft_arm(cfg, out, arm, sft_data[arm])
        elif arm == ARM_GRPO:
            crab_model = train_sft_arm(cfg, out, ARM_CRAB, sft_data[ARM_CRAB])
            model_dir = train_grpo_arm(cfg, grpo, out, data, crab_model)
        heldout = eval_heldout(cfg, out, arm, data, model_dir)
        ifeval = eval_ifeval(cfg, out, arm, model_dir, prompts, source)
        results[arm] = {
            "ifeval": {m: ifeval[m] for m in (*METRICS, "aggregate", "ci95", "by_family", "n_prompts",
                                                "n_instructions", "generation_errors")},
            "ifeval_cap_share": cap_share(out, arm, cfg.max_new_tokens),
            "heldout": {k: heldout[k] for k in ("prompt_level", "constraint_level", "by_family",
                                                "generation_errors")},
            "training": train_stats(model_dir) if model_dir else None,
            "timing": timing(out, arm),
        }
        if followbench:
            results[arm]["followbench_rules"] = eval_followbench_rules(cfg, out, arm, model_dir, followbench)
        log(f"{arm}: finished ({time.time() - start:.0f}s in this process)")
        if archive is not None:
            archive_arm(out, arm, archive)
        # Written after every arm, so a run stopped part-way still leaves its table.
        report = _report(cfg, out, data, source, arms, grpo, results)
        write_json(out / "results.json", report)
    print(format_report(report))
    return report


def _report(cfg: BenchConfig, out: Path, data: Data, source: str, arms: list[str], grpo: GRPOSettings,
            results: dict[str, Any]) -> dict[str, Any]:
    diffs = {}
    for a, b in DIFFS:
        if a in results and b in results:
            per_a, per_b = ifeval_per_prompt(out, a), ifeval_per_prompt(out, b)
            diffs[f"{a} - {b}"] = {  # paired_bootstrap(x, y) is y - x
                "ifeval": {m: paired_bootstrap(per_b[m], per_a[m], seed=cfg.seed) for m in METRICS},
                "heldout": heldout_diff(out, data, b, a, cfg.seed),
            }
    return {
        "complete": set(results) == set(arms),
        "config": dataclasses.asdict(cfg),
        "grpo": dataclasses.asdict(grpo) if ARM_GRPO in arms else None,
        "split": data.split,
        "ifeval_prompts": source,
        "device": _device(),
        "arms": dict(sorted(results.items())),  # A, B, C... whatever the run order
        "diffs": diffs,
    }


def _device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def format_report(report: dict[str, Any]) -> str:
    arms = report["arms"]
    any_arm = next(iter(arms.values()))
    lines = [
        (f"IFEval: {report['ifeval_prompts']}; held-out: {any_arm['heldout']['prompt_level']['n']} prompts "
        f"from {report['split']['heldout_instructions']} instructions never trained on; device {report['device']}"),
        "",
        (f"{'arm':<12} {'IFEval P-strict':<22} {'I-strict':<22} {'P-loose':<22} {'I-loose':<22} "
        f"{'held-out prompt':<22} {'held-out constraint':<22} wall s (train/heldout/ifeval)"),
    ]
    for arm, r in arms.items():
        i, h, t = r["ifeval"], r["heldout"], r["timing"]
        cells = [fmt_rate(i[m], i["ci95"][m]) for m in METRICS]
        cells += [fmt_rate(h[k]["rate"], h[k]["ci95"]) for k in ("prompt_level", "constraint_level")]
        wall = "/".join(str(t.get(k, "-")) for k in ("train_s", "heldout_eval_s", "ifeval_s"))
        capped = r.get("ifeval_cap_share")
        capped = f" capped {capped:.0%}" if capped is not None else ""
        lines.append(f"{arm:<12} " + " ".join(f"{c:<22}" for c in cells) + f" {wall}{capped}")
    lines.append("")
    for name, d in report["diffs"].items():
        cells = [fmt_diff(d["ifeval"][m]) for m in METRICS]
        cells += [fmt_diff(d["heldout"][k]) for k in ("prompt_level", "constraint_level")]
        lines.append(f"{name:<24} " + " ".join(f"{c:<22}" for c in cells))
    lines.append("")
    families = sorted({f for r in arms.values() for f in r["ifeval"]["by_family"]})
    lines.append(f"{'IFEval family (strict)':<24} " + " ".join(f"{a:<12}" for a in arms))
    for fam in families:
        row = []
        for r in arms.values():
            cell = r["ifeval"]["by_family"].get(fam)
            row.append(f"{cell['strict']:.2f} (n={cell['n']})" if cell else "-")
        lines.append(f"{fam:<24} " + " ".join(f"{c:<12}" for c in row))
    return "\n".join(lines)


def format_markdown(report: dict[str, Any]) -> str:
    """The arms, the paired differences and the wall times of ``results.json`` as Markdown tables
    (what docs/REPLICATION.md shows)."""
    arms, out = report["arms"], []
    out.append("| arm | IFEval prompt strict | instruction strict | prompt loose | instruction loose | capped | "
               "held-out prompt | held-out constraint | tokens seen in training |")  # fmt: skip
    out.append("|---|---|---|---|---|---|---|---|---|")
    for arm, r in arms.items():
        i, h = r["ifeval"], r["heldout"]
        cells = [fmt_rate(i[m], i["ci95"][m]) for m in METRICS]
        capped = r.get("ifeval_cap_share")
        cells.append(f"{capped:.0%}" if capped is not None else "-")
        cells += [fmt_rate(h[k]["rate"], h[k]["ci95"]) for k in ("prompt_level", "constraint_level")]
        tokens = (r.get("training") or {}).get("num_tokens")
        cells.append(f"{int(float(tokens)):,}" if tokens else "-")
        out.append(f"| {arm} | " + " | ".join(cells) + " |")
    if report["diffs"]:
        head = ("| difference | prompt strict | instruction strict | prompt loose | instruction loose | "
                "held-out prompt | held-out constraint |")
        out += ["", head, "|---|---|---|---|---|---|---|"]
        for name, d in report["diffs"].items():
            cells = [fmt_diff(d["ifeval"][m]) for m in METRICS]
            cells += [fmt_diff(d["heldout"][k]) for k in ("prompt_level", "constraint_level")]
            out.append(f"| {name} | " + " | ".join(cells) + " |")
    out += ["", "| arm | train s | held-out eval s | IFEval s |", "|---|---|---|---|"]
    for arm, r in arms.items():
        t = r["timing"]
        out.append(f"| {arm} | " + " | ".join(str(t.get(k, "-")) for k in ("train_s", "heldout_eval_s", "ifeval_s"))
                   + " |")  # fmt: skip
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(p, CPU_DEFAULTS)
    p.add_argument("--arms", default="A,C,B,M,D,G",
                   help="letters of the arms to run, in this order (M: C mixed with plain chat of other seeds; "
                        "E: GRPO on C; F: C's examples that fit --max-length; G: C with an edit tried on every seed)")
    p.add_argument("--preset", choices=["cpu", "gpu"], default="cpu",
                   help="gpu: full fine-tuning, one epoch over every train seed, 512 new tokens, FollowBench rules")
    p.add_argument("--followbench", help="also score FollowBench's rule-scored items from this directory")
    p.add_argument("--ifeval", default=str(DEFAULT_IFEVAL), help="IFEval input_data.jsonl (or a Hub id)")
    p.add_argument("--ifeval-limit", type=int, default=0,
                   help="a seeded random subset of this many IFEval prompts per arm (default 0: all 541)")
    p.add_argument("--archive", type=Path,
                   help="copy each finished arm's evaluations (no weights) here, and restore arms found here "
                        "into --out first: a later run, on another machine, resumes from them")
    p.add_argument("--grpo-steps", type=int, default=GRPOSettings.steps)
    p.add_argument("--grpo-generations", type=int, default=GRPOSettings.generations)
    p.add_argument("--grpo-completion-tokens", type=int, default=GRPOSettings.completion_tokens)
    p.add_argument("--grpo-lr", type=float, default=GRPOSettings.learning_rate)
    p.add_argument("--markdown", action="store_true",
                   help="print OUT/results.json (as far as it got) as the Markdown tables of docs/REPLICATION.md, "
                        "run nothing")
    args = p.parse_args(argv)
    if args.markdown:
        print(format_markdown(json.loads((Path(args.out) / "results.json").read_text(encoding="utf-8"))))
        return 0
    letters = [a.strip().upper() for a in args.arms.split(",") if a.strip()]
    unknown = [a for a in letters if a not in ARMS]
    if not letters:
        p.error("--arms: name at least one arm")
    if unknown:
        p.error(f"unknown arm(s) {', '.join(unknown)}; choose from {', '.join(ARMS)}")
    setup_torch(args.threads)
    cfg = config_from_args(args)
    followbench = args.followbench
    if args.preset == "gpu":
        cfg = dataclasses.replace(cfg, **GPU_PRESET)
        followbench = followbench or str(DEFAULT_FOLLOWBENCH)
    grpo = GRPOSettings(args.grpo_steps, args.grpo_generations, args.grpo_completion_tokens, args.grpo_lr)
    out = Path(args.out)
    start = time.time()
    run(cfg, out, [ARMS[a] for a in letters], args.ifeval, args.ifeval_limit, grpo, followbench, args.archive)
    log(f"done in {time.time() - start:.0f}s; results in {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
