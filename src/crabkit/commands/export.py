"""`crab export RUN_DIR`: the run's data in the forms TRL, open-instruct and the Hub read."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]

EPILOG = """forms (see README "Exports"):
  SFT     prompt-completion: TRL conversational prompt/completion, loss on the final answer (default)
          messages: the whole conversation in one `messages` column
  RLVR    grpo: TRL GRPO rows, prompt as messages + constraint_reward's columns (default)
          open-instruct: messages + ground_truth + dataset ("ifeval"), for open-instruct's IFEval verifier
          ifeval: IFEval's input_data layout (key, prompt, instruction_id_list, kwargs) + response
  pairs   conversational: message lists (default); standard: strings

examples:
  crab export runs/mine                                   Parquet + datasets dirs + card in runs/mine/export
  crab export runs/mine --out hf/mine --format jsonl --sft-form messages --rlvr-form open-instruct
  crab export runs/mine --pairs out/pairs.jsonl --push-to-hub me/crab-data --private   (HF_TOKEN from the env)"""


def register(sub: argparse._SubParsersAction) -> None:
    from crabkit.export.forms import PAIR_FORMS, RLVR_FORMS, SFT_FORMS
    from crabkit.export.write import FORMATS

    p = sub.add_parser(
        "export", help="a run's data as TRL / open-instruct / IFEval files, datasets dirs and a dataset card",
        description="Write a finished `crab generate` run as training files in the chosen forms, one `datasets` "
        "directory per configuration (datasets.load_from_disk) and a dataset card (README.md); "
        "optionally push the card and data files to the Hugging Face Hub.",
        epilog=EPILOG,
    )  # fmt: skip
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished crab generate run directory")
    p.add_argument("--out", help="export directory (default: RUN_DIR/export)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="data file format")
    p.add_argument("--sft-form", choices=SFT_FORMS, default="prompt-completion", help="form of the sft rows")
    p.add_argument("--rlvr-form", choices=RLVR_FORMS, default="grpo",
                   help="form of the rlvr rows (from ifeval_ground_truth.jsonl)")
    p.add_argument("--pairs", metavar="FILE", help="a crab pairs file to export as the dpo configuration")
    p.add_argument("--pairs-form", choices=PAIR_FORMS, default="conversational", help="form of the dpo rows")
    p.add_argument("--kind", action="append", dest="kinds", choices=["forward", "reverse", "mix"],
                   help="only SFT rows of this kind (repeatable; default: all)")
    p.add_argument("--license", help="the card's license, a Hub license id (default: what the input states, "
                   "else unknown)")
    p.add_argument("--title", help="the card's title (default: 'crabkit data: RUN_DIR name')")
    p.add_argument("--no-save-to-disk", action="store_true",
                   help="skip the datasets directories (they need the hf extra; data files and card are written)")
    p.add_argument("--push-to-hub", metavar="REPO", help="upload the card and data files to this Hub dataset repo "
                   "(token from HF_TOKEN or `hf auth login`; never printed)")
    p.add_argument("--private", action="store_true", help="create the Hub repository as private")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from crabkit.export import ExportConfig, ExportError, export_run, push_to_hub

    try:
        cfg = ExportConfig(
            format=args.format, sft_form=args.sft_form, rlvr_form=args.rlvr_form, pairs=args.pairs,
            pairs_form=args.pairs_form, kinds=args.kinds, license=args.license, title=args.title,
            save_to_disk=not args.no_save_to_disk,
        )  # fmt: skip
        result = export_run(args.run_dir, args.out, cfg, repo=args.push_to_hub)
    except ImportError as exc:
        print(f"crab export: {exc}; pip install 'crabkit[hf]' (or pass --no-save-to-disk)", file=sys.stderr)
        return 2
    except (ExportError, OSError) as exc:
        print(f"crab export: {exc}", file=sys.stderr)
        return 2
    print(f"exported {result.out_dir} (license {result.license})")
    for name, (path, n) in result.configs.items():
        where = f", datasets dir {result.datasets_dirs[name]}" if name in result.datasets_dirs else ""
        print(f"  {name}: {n} rows in {path}{where}")
    if result.rlvr_left_out:
        print(f"  rlvr: {result.rlvr_left_out} ground-truth rows left out: they ask only IFBench types, which "
              f"the {args.rlvr_form} form's verifier does not know")
    print(f"  card: {result.card}")
    if args.push_to_hub:
        try:
            info = push_to_hub(result.out_dir, args.push_to_hub, private=args.private)
        except Exception as exc:  # noqa: BLE001 - the Hub client's errors are many; one line, no traceback
            print(f"crab export: push to {args.push_to_hub} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        print(f"  pushed to https://huggingface.co/datasets/{args.push_to_hub} ({getattr(info, 'oid', '') or 'done'})")
    return 0
