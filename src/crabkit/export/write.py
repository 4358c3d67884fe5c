"""Writing rows as JSONL or Parquet (same rows, same values), and as a ``datasets`` directory."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from crabkit.records import dumps

__all__ = ["FORMATS", "read_parquet_rows", "save_to_disk", "write_rows"]

FORMATS = ("parquet", "jsonl")


def _to_arrow(rows: Sequence[dict[str, Any]], json_columns: Sequence[str]) -> Any:
    import pyarrow as pa

    if json_columns:
        rows = [
            {k: (json.dumps(v, ensure_ascii=False, sort_keys=True) if k in json_columns else v) for k, v in r.items()}
            for r in rows
        ]
    try:
        return pa.Table.from_pylist(list(rows))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        from .forms import FormError

        raise FormError(
            f"the rows do not make one table ({exc}); a column mixes kinds of values, e.g. standard pairs whose "
            "prompts are sometimes a conversation: use the conversational form"
        ) from None


def write_rows(rows: Iterable[dict[str, Any]], path: Path, fmt: str, json_columns: Sequence[str] = ()) -> int:
    """Write ``rows`` to ``path`` as ``fmt`` (``jsonl``: one canonical JSON object a line; ``parquet``:
    the same rows, ``json_columns`` as JSON text); returns how many. Written to a temporary name and
    renamed, so a killed export never leaves half a file under the final name."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    rows = list(rows)
    if fmt == "jsonl":
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(dumps(r) + "\n" for r in rows)
    else:
        import pyarrow.parquet as pq

        pq.write_table(_to_arrow(rows, json_columns), tmp, compression="zstd")
    os.replace(tmp, path)
    return len(rows)


def read_parquet_rows(path: Path, json_columns: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The rows of a Parquet file :func:`write_rows` wrote, ``json_columns`` decoded again."""
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    for r in rows:
        for k in json_columns:
            if isinstance(r.get(k), str):
                r[k] = json.loads(r[k])
    return rows


def save_to_disk(rows: Sequence[dict[str, Any]], path: Path, json_columns: Sequence[str], fingerprint: str) -> None:
    """``rows`` as a ``datasets`` directory (``datasets.load_from_disk(path)`` reads it).

    The fingerprint is given (the rows' content id), not drawn at random, so the same rows give
    the same bytes."""
    import shutil

    import datasets

    table = _to_arrow(rows, json_columns)
    ds = datasets.Dataset(table, fingerprint=fingerprint)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        ds.save_to_disk(str(tmp))
    finally:
        if enabled:
            datasets.enable_progress_bars()
    shutil.rmtree(path, ignore_errors=True)
    os.replace(tmp, path)
