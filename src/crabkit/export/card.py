"""The dataset card (``README.md``) of an export: a YAML header the Hub and ``datasets`` read, and a
body that says what the data is and how it was made."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CardInfo", "render_card", "size_category"]

_SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
          (10_000_000, "1M<n<10M"))  # fmt: skip


def size_category(n: int) -> str:
    """The Hub's size bin for ``n`` rows."""
    for limit, name in _SIZES:
        if n < limit:
            return name
    return "10M<n<100M"


@dataclass
class CardInfo:
    """What the card says. ``configs``: config name -> (data file in the export, rows, form)."""

    title: str
    license: str
    license_note: str
    configs: dict[str, tuple[str, int, str]]
    manifest: Mapping[str, Any]
    stats: Mapping[str, Any]
    types_asked: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)


def _header(info: CardInfo) -> str:
    total = sum(n for _, n, _ in info.configs.values())
    meta = {
        "license": info.license,
        "pretty_name": info.title,
        "task_categories": ["text-generation"],
        "tags": ["instruction-following", "constraints", "synthetic", "crabkit", "back-translation"],
        "size_categories": [size_category(total)],
        "configs": [
            {"config_name": name, "data_files": [{"split": "train", "path": path}]}
            for name, (path, _, _) in info.configs.items()
        ],
    }
    languages = (info.manifest.get("config") or {}).get("languages")
    if languages:
        meta["language"] = list(languages)
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _type_rows(types: Counter[str]) -> list[tuple[str, str, int]]:
    from crabkit.constraints import UnknownConstraintType, get

    rows = []
    for type_id, n in sorted(types.items(), key=lambda kv: (-kv[1], kv[0])):
        try:
            ctype = get(type_id)
            ifeval_id = ctype.ifeval_id
            if ifeval_id is None:
                mark = "IFBench" if ctype.suite == "ifbench" else "crabkit only"
            else:
                mark = "IFEval" if ifeval_id == type_id else f"IFEval `{ifeval_id}`"
        except UnknownConstraintType:
            mark = "soft (LLM-judged)" if type_id.startswith("soft:") else "unknown"
        rows.append((f"`{type_id}`", mark, n))
    return rows


_USAGE = """```python
from datasets import load_dataset

sft = load_dataset("{repo}", "sft", split="train")     # TRL SFTTrainer reads it as is
rlvr = load_dataset("{repo}", "rlvr", split="train")   # {rlvr_use}
```
"""

_RLVR_USE = {
    "grpo": "TRL GRPOTrainer with crabkit.train.rewards.constraint_reward",
    "open-instruct": "open-instruct RLVR (messages, ground_truth, dataset='ifeval')",
    "ifeval": "IFEval input_data layout plus the reference response",
}


def render_card(info: CardInfo, repo: str = "REPO") -> str:
    """The card's text: YAML header, then the body."""
    m, s = info.manifest, info.stats
    cfg = m.get("config") or {}
    compose = cfg.get("compose") or {}
    llm = cfg.get("llm") or {}
    parts = [_header(info), f"\n# {info.title}\n\n"]
    parts.append(
        "Complex-instruction training data made by constraint back-translation (CRAB; Qi et al. 2024, "
        "arXiv 2410.24175) with crabkit "
        f"{(m.get('versions') or {}).get('crabkit', '')}: for each instruction-response pair, the constraints "
        "the response already satisfies were found and each one verified by its checker, then composed "
        "into forward examples (instruction + constraints -> the response, some with in-context "
        "demonstrations) and reverse examples (instruction + response -> its constraints).\n"
    )
    parts.append("\n## Configurations\n\n")
    parts.append(_md_table(("config", "file", "rows", "form"),
                           [(k, f"`{p}`", n, f) for k, (p, n, f) in info.configs.items()]))  # fmt: skip
    rlvr_form = info.configs.get("rlvr", ("", 0, "grpo"))[2]
    parts.append("\n" + _USAGE.format(repo=repo, rlvr_use=_RLVR_USE.get(rlvr_form, rlvr_form)))
    parts.append("\n## How it was made\n\n")
    made = [
        # The file's name, not its path: a card pushed to the Hub must not show the exporter's directories.
        ("input", Path(str(cfg.get("input") or "?")).name or "?"),
        ("run seed", m.get("seed", "?")),
        ("config fingerprint", m.get("fingerprint", "?")),
        ("LLM stage", f"{llm.get('backend')} {llm.get('model') or ''}".strip() if llm.get("backend") not in (None, "none") else "none (rules only)"),
        ("reverse share", compose.get("reverse_ratio", "?")),
        ("ground-truth rows", compose.get("ground_truth", "strict")),
        ("edit rate", (cfg.get("edits") or {}).get("rate", "?")),
    ]  # fmt: skip
    parts.append(_md_table(("setting", "value"), made))
    parts.append("\n## Counts\n\n")
    counts = [
        ("input records read", s.get("items_read", "?")),
        ("seeds (accepted pairs)", s.get("seeds", "?")),
        ("rejected records", s.get("rejects_total", "?")),
        ("verified constraints", s.get("constraints_total", "?")),
        ("seeds used as in-context demonstrations", s.get("demonstrations", "?")),
        ("IFEval ground-truth rows", s.get("ground_truth_rows", "?")),
    ]
    counts += [(f"{k} examples", v) for k, v in sorted(info.kinds.items())]
    parts.append(_md_table(("what", "count"), counts))
    parts.append("\n## Constraint types asked in the SFT prompts\n\n")
    parts.append("`IFEval`: the type is an IFEval instruction with the reference semantics; `IFBench`: one of "
                 "IFBench's (Pyatkin et al. 2025) out-of-distribution types, checked as its reference does; "
                 "`crabkit only` types have neither counterpart (they are checked by crabkit's own checkers)."
                 "\n\n")  # fmt: skip
    parts.append(_md_table(("type", "suite", "examples"), _type_rows(info.types_asked)))
    parts.append("\n## License\n\n")
    parts.append(info.license_note + "\n")
    return "".join(parts)
