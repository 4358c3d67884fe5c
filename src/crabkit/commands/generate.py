"""`crab generate`, `crab verify` and `crab demo`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from importlib.resources import files
from pathlib import Path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    from crabkit.commands.options import suites_arg

    p = sub.add_parser("generate", help="back-translate constraints and compose training data")
    p.add_argument("input", help="JSON / JSONL / Parquet file, saved HF dataset dir, Hub id, or - for stdin")
    p.add_argument("--out", required=True, help="run directory (rerun the same command to resume)")
    p.add_argument("--seed", type=int, default=None, help="run seed: same seed and input, same bytes (default: 0)")
    p.add_argument("--config", help="YAML/JSON file with GenerateConfig fields")
    p.add_argument("--layout", choices=["auto", "alpaca", "sharegpt", "messages", "pair"], default=None,
                   help="input layout (default: auto, detected per record)")
    p.add_argument("--instruction-field", metavar="NAME", help="the field holding the instruction")
    p.add_argument("--response-field", metavar="NAME", help="the field holding the response")
    p.add_argument("--input-field", metavar="NAME", help="an extra input appended to the instruction (Alpaca's input)")
    p.add_argument("--messages-field", metavar="NAME", help="the field holding a conversation (messages or ShareGPT)")
    p.add_argument("--all-turns", action="store_true", default=None,
                   help="every assistant turn of a conversation is a seed, earlier turns as history (the default)")
    p.add_argument("--first-turn-only", action="store_false", dest="all_turns",
                   help="only the first user -> assistant turn of each conversation (later turns are counted)")
    p.add_argument("--min-words", type=int, metavar="N", help="reject responses shorter than N words (default: 20)")
    p.add_argument("--language", action="append", dest="languages", help="keep only this language (repeatable)")
    p.add_argument("--no-dedup", action="store_true", default=None,
                   help="keep exact duplicate instruction-response pairs")
    p.add_argument("--limit", type=int, metavar="N", help="stop after N accepted seeds")
    p.add_argument("--types", type=suites_arg, metavar="SUITES",
                   help="which suites' constraint types are inferred and asked: ifeval (IFEval's 25 and "
                        "crabkit's own IFEval-style types; the default), ifbench (IFBench's 57 checkable "
                        "types), all, or weights such as ifeval=1,ifbench=0.5 (a suite's types are asked "
                        "in proportion to its weight; 0 leaves a suite out)")
    p.add_argument("--reverse-ratio", type=float, help="share of seeds made reverse examples (default 0.3)")
    p.add_argument("--edit-rate", type=float,
                   help="share of seeds given a verified edit (P.S., quotes, all caps, JSON...; default 0.3; "
                        "0 turns edits off)")
    p.add_argument("--ground-truth", choices=["strict", "every"], default=None,
                   help="ifeval_ground_truth.jsonl rows: strict, only forward prompts whose constraints are all "
                        "IFEval (or IFBench) types (default; for IFEval / IFBench scoring); every, a row for every "
                        "seed with such a constraint (for RL with verifiable rewards; train.jsonl is unchanged)")
    p.add_argument("--mix", help="general chat data mixed into train.jsonl")
    p.add_argument("--mix-ratio", type=float, metavar="SHARE",
                   help="share of train.jsonl made of --mix examples (default: 0)")
    p.add_argument("--strict", action="store_true", default=None, help="exit 1 when any input record is rejected")
    p.add_argument("--force", action="store_true", help="start over even if the run directory has a checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    _engine_arguments(p)
    _llm_arguments(p)
    p.set_defaults(func=run_generate)

    v = sub.add_parser("verify", help="re-check every constraint of a run's constraints.jsonl, train.jsonl or ground truth")
    v.add_argument("file", help="constraints.jsonl, train.jsonl or an IFEval ground-truth / input_data file")
    v.set_defaults(func=run_verify)

    d = sub.add_parser("demo", help="run crab generate on the bundled sample and summarise")
    d.add_argument("--out", default="runs/demo", help="run directory")
    d.add_argument("--seed", type=int, default=0, help="run seed")
    d.set_defaults(func=run_demo)


def _engine_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("engine (where blocks are processed; outputs are the same bytes)")
    g.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: this process (default); ray: Ray Data tasks (pip install 'crabkit[scale]')")
    g.add_argument("--ray-address", help="Ray cluster to join: auto, ray://HEAD:10001 (default: start a local Ray)")
    g.add_argument("--ray-concurrency", type=int, help="block tasks in flight at once (default: all cluster CPUs)")
    g.add_argument("--ray-cpus-per-task", type=float, default=1.0,
                   help="CPUs reserved per block task (e.g. 0.25 when tasks mostly wait on LLM servers)")


def _engine(args: argparse.Namespace):
    if args.engine == "local":
        if args.ray_address or args.ray_concurrency:
            raise ValueError("--ray-address / --ray-concurrency need --engine ray")
        return None
    from crabkit.engine import RayEngine

    return RayEngine(args.ray_address, concurrency=args.ray_concurrency, num_cpus=args.ray_cpus_per_task)


def _llm_arguments(p: argparse.ArgumentParser) -> None:
    from crabkit.commands.options import add_backend_options

    g = add_backend_options(
        p, what="the LLM stage (refined instructions, soft constraints, judge; default none: rules only)",
        title="LLM stage (refined instruction, soft constraints, judge)",
        aliases={"backend": ["--llm"], "timeout": ["--llm-timeout"], "retries": ["--llm-retries"]},
        dests={"backend": "llm", "base-url": "base_urls", "timeout": "llm_timeout", "retries": "llm_retries",
               "header": "headers"},
        extra_choices=("none",), script=False,
    )  # fmt: skip
    g.add_argument("--llm-cache", help="response cache file (default: RUN_DIR/llm_cache.sqlite)")
    g.add_argument("--dry-run", action="store_true", help="count the LLM requests and tokens; send and write nothing")
    g.add_argument("--max-requests", type=int, help="send at most N new requests, then stop (rerun to continue)")
    g.add_argument("--llm-failures", choices=["reject", "keep"], default=None,
                   help="a record whose LLM stage failed: reject it (default) or keep its rule constraints only")
    g.add_argument("--max-llm-failures", type=float, metavar="SHARE",
                   help="exit with status 4 when more than this share of records fail in the LLM stage "
                        "(default: 0.2)")
    for stage in ("refine", "soft", "judge"):
        g.add_argument(f"--no-{stage}", action="store_true", default=None, help=f"skip the {stage} step")
    g.add_argument("--no-combine", action="store_true", default=None,
                   help="ask for the refined instruction and the soft constraints in two requests, not one")
    g.add_argument("--blocks-in-flight", type=int, metavar="N",
                   help="blocks whose LLM requests run at once (default: 4); more keeps a slow server busier")
    g.add_argument("--extra-body", metavar="JSON",
                   help='fields added to every request body, e.g. \'{"chat_template_kwargs": {"enable_thinking": false}}\'')
    g.add_argument("--max-completion-tokens", type=int, metavar="N",
                   help="max_completion_tokens for each request (reasoning models; default: not sent)")
    g.add_argument("--price-in", type=float, metavar="USD", help="with --dry-run: price per million prompt tokens")
    g.add_argument("--price-out", type=float, metavar="USD", help="with --dry-run: price per million completion tokens")
    v = p.add_argument_group("--llm vllm (the in-process engine)")
    v.add_argument("--tensor-parallel-size", type=int, metavar="N", help="GPUs per model (default: 1)")
    v.add_argument("--max-model-len", type=int, metavar="TOKENS", help="context length (default: the model's)")
    v.add_argument("--gpu-memory-utilization", type=float, metavar="SHARE",
                   help="share of GPU memory vLLM may take (default: vLLM's, 0.9)")


def _set_given(target: object, values: dict[str, object]) -> None:
    """Set the fields whose flag was given (argparse leaves the others None)."""
    for key, value in values.items():
        if value is not None:
            setattr(target, key, value)


def _apply_llm(cfg, args: argparse.Namespace) -> None:
    llm = cfg.llm
    from crabkit.commands.options import _headers

    values = {
        "backend": args.llm, "base_urls": args.base_urls, "model": args.model, "api_key_env": args.api_key_env,
        "concurrency": args.concurrency, "timeout": args.llm_timeout, "max_retries": args.llm_retries,
        "cache": args.llm_cache, "max_requests": args.max_requests, "on_failure": args.llm_failures,
        "max_failure_share": args.max_llm_failures, "blocks_in_flight": args.blocks_in_flight,
        "max_completion_tokens": args.max_completion_tokens, "tensor_parallel_size": args.tensor_parallel_size,
        "max_model_len": args.max_model_len, "gpu_memory_utilization": args.gpu_memory_utilization,
    }
    _set_given(llm, values)
    if args.no_combine:
        llm.combine = False
    if args.extra_body is not None:
        try:
            body = json.loads(args.extra_body)
        except ValueError as exc:
            raise ValueError(f"--extra-body is not JSON ({exc})") from None
        if not isinstance(body, dict):
            raise ValueError("--extra-body must be a JSON object, e.g. '{\"top_k\": 20}'")
        llm.extra_body = {**llm.extra_body, **body}
    if args.headers:
        llm.headers = {**llm.headers, **_headers(args.headers, "--header")}
    if args.dry_run:
        llm.dry_run = True
    for stage in ("refine", "soft", "judge"):
        if getattr(args, f"no_{stage}"):
            setattr(llm, stage, False)


def _config(args: argparse.Namespace):
    from crabkit.config import from_mapping, load_mapping
    from crabkit.pipeline import GenerateConfig

    cfg = GenerateConfig()
    if args.config:
        cfg = from_mapping(GenerateConfig, load_mapping(args.config), cfg)
    cfg.input = args.input
    overrides = {
        "seed": args.seed, "min_words": args.min_words, "languages": args.languages, "limit": args.limit,
        "mix": args.mix, "mix_ratio": args.mix_ratio, "strict": args.strict,
    }
    _set_given(cfg, overrides)
    if args.no_dedup:
        cfg.dedup = False
    if args.types is not None:
        cfg.rules.suites = args.types
    if args.reverse_ratio is not None:
        cfg.compose.reverse_ratio = args.reverse_ratio
    if args.ground_truth is not None:
        cfg.compose.ground_truth = args.ground_truth
    if args.edit_rate is not None:
        from crabkit.backtranslate.edits import EditConfig

        cfg.edits = EditConfig(rate=args.edit_rate, weights=cfg.edits.weights)
    _apply_llm(cfg, args)
    read = {
        "layout": args.layout, "instruction_field": args.instruction_field, "response_field": args.response_field,
        "input_field": args.input_field, "messages_field": args.messages_field, "all_turns": args.all_turns,
    }
    for key, value in read.items():
        if value is not None:
            setattr(cfg.read, key, value)
    return cfg


def _ifbench_part(stats: dict) -> str:
    """``; IFBench's: N of K types`` when the run inferred any IFBench type, else nothing."""
    from crabkit.constraints import UnknownConstraintType, get

    def is_ifbench(type_id: str) -> bool:
        try:
            return get(type_id).suite == "ifbench"
        except UnknownConstraintType:
            return False

    ifbench = {t: n for t, n in stats.get("constraints_by_type", {}).items() if is_ifbench(t)}
    return f"; IFBench's {sum(ifbench.values())} of {len(ifbench)} types" if ifbench else ""


def _summary(result, elapsed: float | None = None) -> str:
    s = result.stats
    ex = s.get("examples", {})
    took = f"  ({_duration(elapsed)})" if elapsed is not None else ""
    own = sum(v for k, v in ex.items() if k != "mix")
    demos = s.get("demonstrations", 0)
    gt_share = f" ({s['ground_truth_rows'] / s['seeds']:.0%} of seeds)" if s.get("seeds") else ""
    ifbench = _ifbench_part(s)
    truth = "ground-truth rows (IFEval and IFBench ids)" if ifbench else "IFEval ground-truth rows"
    lines = [
        f"run directory: {result.out_dir}{took}",
        f"  seeds {s['seeds']}  rejected {s['rejects_total']}  without constraints {s['no_constraints']}",
        (f"  constraints {s['constraints_total']} of {s['distinct_types']} types{ifbench}"
         f"  (verify failures {s['verify_failures_total']})"),
        "  examples " + ", ".join(f"{k} {v}" for k, v in sorted(ex.items()))
        + f"; {truth} {s['ground_truth_rows']}{gt_share}",
        (f"  {own} seeds became examples of their own and {demos} were used as in-context demonstrations "
        "inside forward prompts (compose.forward.demo_rate)"),
    ]
    if s.get("seeds") and s["ground_truth_rows"] < 0.5 * s["seeds"]:
        typed = "IFEval- or IFBench-typed" if ifbench else "IFEval-typed"
        lines.append(f"  (--ground-truth every writes a ground-truth row for every seed with an {typed} constraint)")
    if s.get("rejects"):
        top = sorted(s["rejects"].items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append("  rejected by reason: " + ", ".join(f"{k} {v}" for k, v in top[:6])
                     + (f", {len(top) - 6} more reasons" if len(top) > 6 else "") + " (rejects.jsonl)")  # fmt: skip
    if s.get("turns_not_used"):
        lines.append(f"  warning: {s['turns_not_used']} later assistant turns of multi-turn conversations were "
                     "not used (--first-turn-only); without it every turn is a seed")  # fmt: skip
    if s.get("edits"):
        lines.append(f"  edited answers {sum(s['edits'].values())}: "
                     + ", ".join(f"{k} {v}" for k, v in sorted(s["edits"].items())))  # fmt: skip
    if "llm_failures" in s:
        soft = sum(s.get("soft_constraints_by_type", {}).values())
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(s.get("judge_verdicts", {}).items())) or "none"
        lines.append(f"  LLM: soft constraints {soft}, failures {s['llm_failures']}, judge verdicts: {verdicts}")
    out = result.out_dir
    lines += [
        "  files: " + ", ".join(sorted(p.name for p in Path(out).iterdir() if p.suffix in {".jsonl", ".json"})),
        f"  next: crab report {out}         a page to audit the data by",
        f"        crab export {out}         TRL / open-instruct / IFEval forms, Parquet, a dataset card, the Hub",
        f"        crab train sft {out}/train.jsonl --model MODEL --out OUT",
    ]
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _print_plan(plan: dict) -> None:
    cost = f", about ${plan['cost']:,.2f}" if "cost" in plan else ""
    print(f"dry run: {plan['records']} records, about {plan['requests']:,} requests to send "
          f"({plan['requests_per_seed']} per seed; {plan['cached']} already cached), "
          f"{plan['prompt_tokens']:,} prompt + {plan['completion_tokens']:,} completion tokens{cost}")  # fmt: skip
    for step, s in plan["steps"].items():
        print(f"  {step:<12} {s['requests']:>8,} requests {s['prompt_tokens']:>12,} prompt {s['completion_tokens']:>10,} completion")
    a = plan["assumed"]
    print(f"  first requests counted exactly; judge and re-judge estimated ({a['soft_per_seed']:g} soft constraints "
          f"per seed, {a['rewrite_share']:.0%} rewritten by the judge)")  # fmt: skip
    print("  nothing was sent and no training data was written")


#: Exit statuses of ``crab generate`` (the README lists them).
EXIT_OK, EXIT_REJECTS, EXIT_CANNOT_RUN, EXIT_BUDGET, EXIT_NOTHING, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


def run_generate(args: argparse.Namespace) -> int:
    from crabkit.config import ConfigError
    from crabkit.llm import BackendUnavailable
    from crabkit.llmstage import BudgetExhausted
    from crabkit.pipeline import generate, plan_llm_requests

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        cfg = _config(args)
        if cfg.llm.dry_run:
            _print_plan(plan_llm_requests(cfg, args.out, price_in=args.price_in, price_out=args.price_out))
            return EXIT_OK
        engine = _engine(args)
        started = time.monotonic()
        result = generate(cfg, args.out, progress=not args.no_progress, force=args.force, engine=engine)
        elapsed = time.monotonic() - started
    except BudgetExhausted as exc:
        print(f"crab generate: stopped: {exc}", file=sys.stderr)
        return EXIT_BUDGET
    except BackendUnavailable as exc:
        print(f"crab generate: the LLM stage cannot run: {exc}. Nothing of the unfinished block was kept; "
              "fix it and rerun the same command to continue.", file=sys.stderr)  # fmt: skip
        return EXIT_NOTHING
    except KeyboardInterrupt:
        print("crab generate: interrupted; rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ConfigError, ValueError, ImportError, RuntimeError) as exc:
        print(f"crab generate: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except OSError as exc:  # a full disk, a read-only directory...: what the system said, and where
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"crab generate: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    if result.already_done:
        print(f"{args.out} is already complete (delete it or pass --force to start over)")
    print(_summary(result, None if result.already_done else elapsed))
    if engine is not None and not result.already_done:
        print(f"  ray: {engine.blocks_run} blocks run, {engine.blocks_reused} reused from shards")
    s = result.stats
    failed = _llm_failure_share(s)
    if failed is not None and failed > cfg.llm.max_failure_share:
        print(f"crab generate: the LLM stage failed for {failed:.0%} of the records (more than "
              f"--max-llm-failures {cfg.llm.max_failure_share:.0%}); see rejects.jsonl", file=sys.stderr)  # fmt: skip
        return EXIT_NOTHING
    if not sum(s.get("examples", {}).values()):
        print(f"crab generate: the run produced no training examples ({s['items_read']} records read, "
              f"{s['rejects_total']} rejected: see {args.out}/rejects.jsonl)", file=sys.stderr)  # fmt: skip
        return EXIT_NOTHING
    if cfg.strict and s["rejects_total"]:
        print(f"crab generate: {s['rejects_total']} input records rejected (--strict); see rejects.jsonl",
              file=sys.stderr)
        return EXIT_REJECTS
    return EXIT_OK


def _llm_failure_share(stats: dict) -> float | None:
    if "llm_failures" not in stats or not stats.get("seeds"):
        return None
    return stats["llm_failures"] / stats["seeds"]


def run_verify(args: argparse.Namespace) -> int:
    from crabkit.verify import verify_file

    try:
        report = verify_file(args.file)
    except (OSError, ValueError) as exc:
        print(f"crab verify: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.summary(), indent=2))
    for v in report.violations[:20]:
        print(f"  violation: {v}")
    return 1 if report.violations else 0


def run_demo(args: argparse.Namespace) -> int:
    from crabkit.pipeline import GenerateConfig, generate

    sample = files("crabkit") / "data" / "sample_pairs.jsonl"
    cfg = GenerateConfig(input=str(sample), seed=args.seed, min_words=10)
    result = generate(cfg, args.out, progress=False, force=True)
    print("crab demo: rules-only back-translation of the bundled sample (no LLM, no network)")
    print(_summary(result))
    with open(Path(args.out) / "train.jsonl", encoding="utf-8") as f:
        for line in f:
            ex = json.loads(line)
            if ex["kind"] == "forward" and len(ex["constraint_types"]) >= 4:
                print("\nexample forward prompt:\n" + ex["messages"][-2]["content"])
                break
    return 0
