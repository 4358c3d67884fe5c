"""``export_run``: a finished run directory -> files in the forms the training tools read, a
``datasets`` directory per configuration, and a dataset card, ready for ``push_to_hub``.

The export directory::

    README.md               dataset card (YAML header: license, task categories, size, configs)
    data/sft.parquet        SFT rows in the chosen form (or .jsonl with format="jsonl")
    data/rlvr.parquet       RLVR rows (from ifeval_ground_truth.jsonl) in the chosen form
    data/dpo.parquet        preference pairs, when a pairs file is given
    sft/, rlvr/, dpo/       the same rows as ``datasets`` directories (datasets.load_from_disk)

``load_dataset(EXPORT_DIR, "sft")`` reads the data files through the card's ``configs``, as the Hub
does once pushed. Same run, same options: the same bytes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crabkit.io.jsonl import iter_jsonl_objects
from crabkit.records import content_id, dumps

from .card import CardInfo, render_card
from .forms import JSON_COLUMNS, PAIR_FORMS, RLVR_FORMS, SFT_FORMS, FormError, pair_rows, rlvr_rows, sft_rows
from .write import FORMATS, save_to_disk, write_rows

__all__ = ["EXPORT_MARKER", "ExportConfig", "ExportError", "ExportResult", "export_run", "input_license"]

EXPORT_MARKER = ".crabkit-export"
_OURS = {EXPORT_MARKER, "README.md", "data", "sft", "rlvr", "dpo"}


class ExportError(ValueError):
    """An export that cannot be made; the message says what and where."""


@dataclass
class ExportConfig:
    """How to export. Every field is a ``crab export`` flag of the same name."""

    format: str = "parquet"
    sft_form: str = "prompt-completion"
    rlvr_form: str = "grpo"
    #: A ``crab pairs`` file to export as the ``dpo`` configuration.
    pairs: str | None = None
    pairs_form: str = "conversational"
    #: Keep only these kinds of SFT examples (forward, reverse, mix); None keeps all.
    kinds: list[str] | None = None
    #: The card's license (an SPDX-like Hub id); None: taken from the input where it says one.
    license: str | None = None
    #: Also write a ``datasets`` directory per configuration (needs the ``hf`` extra).
    save_to_disk: bool = True
    title: str | None = None

    def __post_init__(self) -> None:
        for name, value, allowed in (("format", self.format, FORMATS), ("sft_form", self.sft_form, SFT_FORMS),
                                     ("rlvr_form", self.rlvr_form, RLVR_FORMS),
                                     ("pairs_form", self.pairs_form, PAIR_FORMS)):  # fmt: skip
            if value not in allowed:
                raise ExportError(f"export {name} {value!r}: choose from {', '.join(allowed)}")


@dataclass
class ExportResult:
    out_dir: Path
    #: config name -> (data file, rows)
    configs: dict[str, tuple[Path, int]] = field(default_factory=dict)
    datasets_dirs: dict[str, Path] = field(default_factory=dict)
    card: Path | None = None
    license: str = "unknown"
    #: Ground-truth rows the RLVR form could not hold (open-instruct: rows asking IFBench types only).
    rlvr_left_out: int = 0


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    for _, row in iter_jsonl_objects(path, ExportError):
        yield row


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"{path}: unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise ExportError(f"{path}: expected a JSON object")
    return data


def input_license(source: str) -> tuple[str | None, str]:
    """The license the input states, if it does: the records' ``license`` field (one value), or a
    saved dataset's ``dataset_info.json``. Returns (license or None, a sentence for the card)."""
    if not source or source == "-":
        return None, "The input's license is not known (it was read from stdin)."
    path = Path(source)
    name = path.name or source  # the card is for others to read: the file's name, not the exporter's path
    info = path / "dataset_info.json" if path.is_dir() else None
    if info is not None and info.is_file():
        lic = str(_load_json(info).get("license") or "").strip()
        if lic:
            return lic.lower(), f"License as stated by the input dataset ({name}): {lic}."
    if not path.exists():
        return None, f"The input's license is not known ({name} is no longer there to read)."
    from crabkit.io import read_records
    from crabkit.records import Seed

    found: Counter[str] = Counter()
    try:
        for item in read_records(source, all_turns=False):
            if isinstance(item, Seed) and isinstance(item.meta.get("license"), str):
                found[item.meta["license"].strip()] += 1
    except (OSError, ValueError):
        return None, f"The input's license is not known ({name} could not be read)."
    if len(found) == 1:
        lic = next(iter(found))
        return lic.lower(), f"License as stated by every input record ({name}): {lic}."
    if found:
        listed = ", ".join(f"{k} ({v} records)" for k, v in found.most_common())
        return "other", f"The input records state several licenses: {listed}. Check each before use."
    return None, (f"The input ({name}) states no license: set one with `crab export --license`. The responses'"
                  " generators may have terms of their own.")


def _claim(out: Path, run: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out} is a file, not a directory")
    if out.resolve() == run.resolve():
        raise ExportError(f"--out {out} is the run directory itself: give a directory of its own (default RUN_DIR/export)")
    if out.is_dir():
        names = sorted(p.name for p in out.iterdir())
        if names and (EXPORT_MARKER not in names or set(names) - _OURS - {n + ".tmp" for n in _OURS}):
            raise ExportError(
                f"{out} is not empty and is not a crab export ({', '.join(names[:5])}); give another --out"
            )
    out.mkdir(parents=True, exist_ok=True)
    import shutil

    for name in _OURS - {EXPORT_MARKER, "README.md"}:  # a previous export's configurations
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
    (out / EXPORT_MARKER).write_text("crab export writes here; do not add files of your own.\n", encoding="utf-8")


def export_run(run_dir: str | Path, out_dir: str | Path | None = None, cfg: ExportConfig | None = None,
               repo: str | None = None) -> ExportResult:  # fmt: skip
    """Export the finished run in ``run_dir`` to ``out_dir`` (default ``run_dir/export``).

    ``repo``: the Hub repository the card's usage example names (default: the export directory).

    >>> export_run("runs/mine", "runs/mine-hf")  # doctest: +SKIP
    """
    cfg = cfg or ExportConfig()
    run = Path(run_dir)
    for name in ("manifest.json", "stats.json", "train.jsonl"):
        if not (run / name).is_file():
            raise ExportError(f"{run} has no {name}: export a finished `crab generate` run directory")
    state = run / "state.json"
    if state.is_file() and not _load_json(state).get("done", False):
        raise ExportError(f"{run} is a run still in progress (or stopped): finish it first (rerun crab generate)")
    manifest, stats = _load_json(run / "manifest.json"), _load_json(run / "stats.json")
    out = Path(out_dir) if out_dir is not None else run / "export"
    _claim(out, run)
    ext = "parquet" if cfg.format == "parquet" else "jsonl"
    try:
        train = [r for r in _rows(run / "train.jsonl") if not cfg.kinds or r.get("kind") in cfg.kinds]
        tables: dict[str, tuple[list[dict[str, Any]], str, tuple[str, ...]]] = {
            "sft": (list(sft_rows(train, cfg.sft_form)), cfg.sft_form, JSON_COLUMNS.get(cfg.sft_form, ()))
        }
        truth = run / "ifeval_ground_truth.jsonl"
        truth_rows = list(_rows(truth)) if truth.is_file() else []
        rlvr = list(rlvr_rows(truth_rows, cfg.rlvr_form))
        if rlvr:
            tables["rlvr"] = (rlvr, cfg.rlvr_form, JSON_COLUMNS.get(cfg.rlvr_form, ()))
        if cfg.pairs:
            pairs = list(pair_rows(_rows(Path(cfg.pairs)), cfg.pairs_form))
            if pairs:
                tables["dpo"] = (pairs, cfg.pairs_form, JSON_COLUMNS.get(cfg.pairs_form, ()))
    except FormError as exc:
        raise ExportError(str(exc)) from None
    if not tables["sft"][0]:
        raise ExportError(f"{run}/train.jsonl has no rows" + (f" of kind {', '.join(cfg.kinds)}" if cfg.kinds else ""))
    result = ExportResult(out, rlvr_left_out=len(truth_rows) - len(rlvr))
    for name, (rows, _, json_cols) in tables.items():
        path = out / "data" / f"{name}.{ext}"
        try:
            result.configs[name] = (path, write_rows(rows, path, cfg.format, json_cols if ext == "parquet" else ()))
            if cfg.save_to_disk:
                fingerprint = content_id(*(dumps(r) for r in rows))
                save_to_disk(rows, out / name, json_cols, fingerprint)
                result.datasets_dirs[name] = out / name
        except FormError as exc:
            raise ExportError(f"{name}: {exc}") from None
    lic, note = (cfg.license, f"License: {cfg.license} (set by the exporter).") if cfg.license else input_license(
        str((manifest.get("config") or {}).get("input", ""))
    )
    result.license = lic or "unknown"
    info = CardInfo(
        title=cfg.title or f"crabkit data: {run.resolve().name}",
        license=result.license,
        license_note=note,
        configs={name: (f"data/{name}.{ext}", len(rows), form) for name, (rows, form, _) in tables.items()},
        manifest=manifest,
        stats=stats,
        types_asked=Counter(t for r in train for t in r.get("constraint_types") or []),
        kinds=Counter(str(r.get("kind")) for r in train),
    )
    result.card = out / "README.md"
    result.card.write_text(render_card(info, repo or out.as_posix()), encoding="utf-8")
    return result
