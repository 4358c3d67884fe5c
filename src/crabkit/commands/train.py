"""`crab train sft|dpo|grpo` and `crab pairs`.

Any TRL config field is reachable: from ``--config FILE`` (YAML/JSON, see ``crabkit.train.config``)
or ``--set KEY=VALUE`` (value parsed as YAML); the few common flags below override both.
Multi-GPU, DeepSpeed and FSDP need nothing special: put ``deepspeed: ds.json`` or ``fsdp: ...`` in
the config file and start the same command under accelerate::

    accelerate launch --config_file accel.yaml -m crabkit.cli train sft run/train.jsonl --model M --out out
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]

log = logging.getLogger(__name__)

_TRAIN_DEPS = {"torch", "transformers", "trl", "peft", "accelerate", "datasets", "gguf", "tokenizers"}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="model directory, Hub id, .gguf file, or 'embedded' (SmolLM2 GGUF)")
    p.add_argument("--out", required=True, help="output directory (model or LoRA adapter, tokenizer, crab_train.json)")
    p.add_argument("--config", help="YAML/JSON: TRL config fields, plus 'lora:' and 'model:' sections")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="one TRL config field (repeatable)")
    p.add_argument("--lora", action="store_true", help="train a LoRA adapter (PEFT) instead of all weights")
    p.add_argument("--lora-r", type=int, help="LoRA rank (default: 16)")
    p.add_argument("--lora-alpha", type=int, help="LoRA alpha (default: twice the rank)")
    p.add_argument("--lora-targets", help="comma-separated module names (default: all-linear)")
    p.add_argument("--merge", action="store_true", help="with --lora: save the merged model, not the adapter")
    p.add_argument("--lr", type=float, dest="learning_rate", help="learning rate (TRL's default unless given)")
    p.add_argument("--epochs", type=float, dest="num_train_epochs", help="training epochs (TRL's default: 3)")
    p.add_argument("--max-steps", type=int, dest="max_steps", help="stop after this many optimizer steps")
    p.add_argument("--batch-size", type=int, dest="per_device_train_batch_size", help="examples per device and step")
    p.add_argument("--seed", type=int, help="training seed (TRL's default: 42)")


def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="fine-tune a model: sft, dpo or grpo (needs crabkit[train])")
    tsub = t.add_subparsers(dest="method", metavar="METHOD")
    t.set_defaults(func=lambda args: (t.print_help(), 2)[1])

    s = tsub.add_parser("sft", help="supervised fine-tuning on train.jsonl (loss on the final answer by default)")
    s.add_argument("data", help="train.jsonl of a crab generate run (or any {messages} JSONL)")
    _common(s)
    s.add_argument("--packing", action="store_true", default=None, help="pack examples into max_length blocks")
    s.add_argument("--max-length", type=int, dest="max_length", help="tokens per example; longer ones are cut")
    s.add_argument("--loss-on", choices=["final", "assistant", "all"], default="final",
                   help="final: the last answer only, demonstrations are context (default); assistant: every "
                        "assistant turn; all: every token")
    s.add_argument("--all-tokens", action="store_const", const="all", dest="loss_on",
                   help="the same as --loss-on all")
    s.add_argument("--kind", action="append", dest="kinds", help="only rows of this kind: forward, reverse, mix")
    s.set_defaults(func=run_sft)

    d = tsub.add_parser("dpo", help="DPO on preference pairs (crab pairs output or prompt/chosen/rejected JSONL)")
    d.add_argument("data", help="preference pairs JSONL (crab pairs output, or prompt/chosen/rejected rows)")
    _common(d)
    d.add_argument("--beta", type=float, help="DPO beta (TRL's default: 0.1)")
    d.add_argument("--max-length", type=int, dest="max_length", help="tokens per pair; longer ones are cut")
    d.add_argument("--no-chat", action="store_true", help="plain-text rows for a model without a chat template")
    d.set_defaults(func=run_dpo)

    g = tsub.add_parser("grpo", help="GRPO with constraint pass rate as reward (ifeval_ground_truth.jsonl)")
    g.add_argument("data", help="ifeval_ground_truth.jsonl of a run, or rows with prompt + constraints")
    _common(g)
    g.add_argument("--num-generations", type=int, dest="num_generations", help="completions per prompt per step")
    g.add_argument("--max-completion-length", type=int, dest="max_completion_length",
                   help="most tokens per completion")
    g.add_argument("--all-or-nothing", action="store_true", default=True,
                   help="reward 1 only when every constraint holds (the default)")
    g.add_argument("--partial-credit", action="store_false", dest="all_or_nothing",
                   help="reward the fraction of constraints that hold instead (easier to game by saying little)")
    g.add_argument("--min-answer-share", type=float, default=0.2,
                   help="a completion with fewer words than this share of the row's reference answer earns 0 "
                        "(default 0.2; 0 turns the guard off)")
    g.add_argument("--no-chat", action="store_true", help="plain-text prompts for a model without a chat template")
    g.set_defaults(func=run_grpo)

    p = sub.add_parser("pairs", help="DPO pairs labelled by the checkers (several responses per instruction)")
    p.add_argument("input", help="instruction-response pairs (any layout crab generate reads); "
                   "with --policy: rows with prompt + constraints (ifeval_ground_truth.jsonl)")
    p.add_argument("--out", required=True, help="pairs JSONL to write")
    p.add_argument("--seed", type=int, default=0, help="seed of the pairing draws")
    p.add_argument("--per-chosen", type=int, default=1, help="rejected responses paired with each chosen one")
    from crabkit.commands.options import suites_arg

    p.add_argument("--types", type=suites_arg, metavar="SUITES",
                   help="which suites' constraint types tell the responses apart: ifeval (the default), ifbench, "
                        "all, or weights such as ifeval=1,ifbench=0.5 (as crab generate --types)")
    p.add_argument("--form", choices=["conversational", "standard"], default="conversational",
                   help="TRL preference form: conversational (prompt, chosen, rejected as message lists; what DPO on "
                        "a chat model uses) or standard (strings; a prompt with earlier turns stays a message list)")
    p.add_argument("--all-turns", action="store_true", default=True,
                   help="every assistant turn of a conversation is a response (the default)")
    p.add_argument("--first-turn-only", action="store_false", dest="all_turns",
                   help="only the first user -> assistant turn of each conversation")
    from crabkit.commands.options import add_backend_options

    add_backend_options(p, what="the policy to sample (instead of the input's responses)",
                        aliases={"model": ["--policy"]}, script=False)
    p.add_argument("--samples", type=int, default=4, help="samples per prompt from the policy")
    p.add_argument("--temperature", type=float, default=0.8, help="sampling temperature of the policy")
    p.add_argument("--max-tokens", type=int, default=512, help="most new tokens per sample")
    p.set_defaults(func=run_pairs)


def _fields(args: argparse.Namespace, extra: tuple[str, ...]) -> tuple[dict[str, Any], Any]:
    """TRL fields (config file < --set < flags) and the file's crabkit sections, with --lora applied."""
    import yaml

    from crabkit.config import ConfigError, load_mapping
    from crabkit.train.config import LoraOptions, split_config

    cfg = split_config(load_mapping(args.config) if args.config else {})
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        cfg.trl[key.strip()] = yaml.safe_load(value)
    for name in ("learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size", "seed", *extra):
        value = getattr(args, name, None)
        if value is not None:
            cfg.trl[name] = value
    if args.lora or args.lora_r or args.lora_alpha or args.lora_targets or args.merge:
        cfg.lora = cfg.lora or LoraOptions()
    if cfg.lora:
        if args.lora_r:
            cfg.lora.r = args.lora_r
        if args.lora_alpha:
            cfg.lora.alpha = args.lora_alpha
        if args.lora_targets:
            cfg.lora.target_modules = [m.strip() for m in args.lora_targets.split(",") if m.strip()]
        if args.merge:
            cfg.lora.merge = True
    return cfg.trl, cfg


def _guarded(run: Any, args: argparse.Namespace) -> int:
    """Run a command; a user error becomes one line on stderr and exit code 2, never a traceback."""
    from crabkit.config import ConfigError
    from crabkit.constraints import UnknownConstraintType

    errors: tuple[type[BaseException], ...] = (ConfigError, UnknownConstraintType, FileNotFoundError)
    try:
        from crabkit.train._common import DataError
        from crabkit.train.models import ModelLoadError

        errors += (DataError, ModelLoadError)
        return run(args)
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in _TRAIN_DEPS:
            raise
        print(f"crab: {exc}; install the training extra: pip install 'crabkit[train]'", file=sys.stderr)
        return 2
    except errors as exc:
        print(f"crab: error: {exc}", file=sys.stderr)
        return 2


def _report(kind: str, result: Any) -> None:
    losses = result.losses
    if losses:
        tail = f"loss {losses[0]:.4f} -> {losses[-1]:.4f}"
    else:  # fewer steps than logging_steps: only the run's mean loss was logged
        tail = f"mean loss {result.metrics.get('train_loss', float('nan')):.4f}"
    print(f"{kind}: {result.steps} steps, {tail}; saved to {result.out_dir}")


def run_sft(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        from crabkit.train.sft import train_sft

        trl, cfg = _fields(args, ("max_length", "packing"))
        result = train_sft(args.data, args.model, args.out, trl_fields=trl, lora=cfg.lora,
                           model_options=cfg.model, kinds=args.kinds, loss_on=args.loss_on)
        _report("sft", result)
        return 0

    return _guarded(run, args)


def run_dpo(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        from crabkit.train.dpo import train_dpo

        trl, cfg = _fields(args, ("beta", "max_length"))
        result = train_dpo(args.data, args.model, args.out, trl_fields=trl, lora=cfg.lora,
                           model_options=cfg.model, chat=not args.no_chat)
        _report("dpo", result)
        return 0

    return _guarded(run, args)


def run_grpo(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        from crabkit.train.grpo import train_grpo

        trl, cfg = _fields(args, ("num_generations", "max_completion_length"))
        result = train_grpo(args.data, args.model, args.out, trl_fields=trl, lora=cfg.lora,
                            model_options=cfg.model, chat=not args.no_chat, all_or_nothing=args.all_or_nothing,
                            min_answer_share=args.min_answer_share)
        _report("grpo", result)
        return 0

    return _guarded(run, args)


def _policy_backend(args: argparse.Namespace) -> Any:
    from crabkit.commands.options import backend_settings
    from crabkit.llm import make_backend

    if args.backend is None:
        args.backend = "local"
    if args.backend != "local":
        kind, settings = backend_settings(args)
        return make_backend(kind, **settings)
    backend_settings(args)  # refuses network options for a local policy
    from crabkit.train.models import EMBEDDED, resolve_model

    if args.model in EMBEDDED:
        return make_backend("local", max_new_tokens=args.max_tokens)
    source = resolve_model(args.model)
    return make_backend("local", model=source.path, gguf_file=source.gguf_file, max_new_tokens=args.max_tokens)


def run_pairs(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        from crabkit.config import ConfigError
        from crabkit.records import Seed, dumps
        from crabkit.train.pairs import PairsConfig, backend_sampler, policy_pairs, verifier_pairs

        if args.model or args.backend:
            if not args.model:
                raise ConfigError("a policy needs --model (or --policy): the model to sample")
            if args.types:
                raise ConfigError("--types chooses the types that tell an input's responses apart; with --policy "
                                  "the rows' own constraints are checked")
            from crabkit.train._common import read_jsonl

            rows = (row for _, row in read_jsonl(args.input))
            sampler = backend_sampler(_policy_backend(args), temperature=args.temperature,
                                      max_tokens=args.max_tokens, seed=args.seed)
            pairs = policy_pairs(rows, sampler, n=args.samples)
            rejects = 0
        else:
            from crabkit.io import read_records

            items = list(read_records(args.input, all_turns=args.all_turns))
            seeds = [s for s in items if isinstance(s, Seed)]
            rejects = len(items) - len(seeds)
            dropped = sum(int(s.meta.get("later_turns", 0)) for s in seeds)
            if dropped:
                print(f"warning: {dropped} later assistant turns of multi-turn conversations were not used "
                      "(--first-turn-only)", file=sys.stderr)  # fmt: skip
            from crabkit.backtranslate.rules import RuleConfig

            rules = RuleConfig(suites=args.types) if args.types else RuleConfig()
            pairs = verifier_pairs(seeds, PairsConfig(seed=args.seed, rejected_per_chosen=args.per_chosen, rules=rules))
        from crabkit.export.forms import pair_rows

        pairs = pair_rows(pairs, args.form)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        n = 0
        with open(out, "w", encoding="utf-8") as f:
            for pair in pairs:
                f.write(dumps(pair) + "\n")
                n += 1
        note = f" ({rejects} unreadable input records skipped)" if rejects else ""
        print(f"pairs: wrote {n} pairs to {out}{note}")
        if n == 0:
            print("pairs: no instruction had two responses that the checkers tell apart", file=sys.stderr)
        return 0

    def guarded(args: argparse.Namespace) -> int:
        from crabkit.io.readers import ReadError

        try:
            return run(args)
        except ReadError as exc:
            print(f"crab: error: {exc}", file=sys.stderr)
            return 2

    return _guarded(guarded, args)
