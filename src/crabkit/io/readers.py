"""Readers: stream raw records from a file, a directory, stdin or the Hugging Face Hub.

``read_records`` picks a reader for the source, streams raw records and turns each into Seeds or
Rejects with the layout adapters. At most one record (one record batch for Parquet) is held at a
time, so memory stays flat however long the input is.

==========================  ==========================================================================
source                      read as
==========================  ==========================================================================
``x.jsonl`` ``x.ndjson``    one JSON object per line; a broken line is one Reject (``.gz`` works too)
``x.json``                  an array, an object with a list under ``data``/``records``/``rows``..., one
                            record, or JSONL under a ``.json`` name (sniffed from the first lines)
``x.parquet``               record batches via pyarrow
``dir``                     a saved HF dataset (``datasets.load_from_disk``), else its data files
``dir:split``               one split of a saved DatasetDict, or the files whose name starts with it
``org/name[:split]``        a Hub dataset, streamed (needs the ``hf`` extra and network access)
``-``                       JSONL on stdin
==========================  ==========================================================================

Origins are ``path:line`` (1-based) for line-oriented input and ``path#index`` (0-based) otherwise.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from crabkit.io.layouts import DEFAULT_MAX_CHARS, LAYOUTS, FieldMap, adapt_record
from crabkit.records import Reject, Seed

__all__ = ["ReadError", "iter_raw", "read_records"]

Raw = tuple[str, Any]

# A line longer than this is skipped unread: one record must never be able to exhaust memory.
MAX_LINE_BYTES = 64 * 2**20
_BOM = b"\xef\xbb\xbf"
_CONTAINER_KEYS = ("data", "records", "rows", "examples", "instances", "items", "train")
_RECORD_KEYS = {
    "messages", "conversations", "instruction", "prompt", "question", "query", "input", "output",
    "response", "completion", "answer",
}  # fmt: skip
_DATA_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".jsonl.gz", ".ndjson.gz", ".json.gz")
_HF_METADATA = {"dataset_info.json", "dataset_infos.json", "state.json", "dataset_dict.json"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(?::[\w.-]+)?$")


class ReadError(ValueError):
    """A source that cannot be read at all: missing, not data, or needing an optional package."""


def read_records(
    source: str | os.PathLike[str],
    *,
    layout: str = "auto",
    fields: FieldMap | None = None,
    all_turns: bool = False,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> Iterator[Seed | Reject]:
    """Seeds and Rejects from ``source``, in input order, streaming.

    Bad records never stop the stream: each becomes a Reject with its origin, field and reason.
    A source that cannot be opened at all raises ``ReadError`` here, before iteration starts.

    >>> for item in read_records("pairs.jsonl"):  # doctest: +SKIP
    ...     print(item.origin, item.id if isinstance(item, Seed) else item.reason)
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    raw = iter_raw(source)
    return _adapt(raw, layout=layout, fields=fields, all_turns=all_turns, max_chars=max_chars)


def _adapt(raw: Iterable[Raw | Reject], **options: Any) -> Iterator[Seed | Reject]:
    for item in raw:
        if isinstance(item, Reject):
            yield item
        else:
            yield from adapt_record(item[1], item[0], **options)


def iter_raw(source: str | os.PathLike[str]) -> Iterator[Raw | Reject]:
    """``(origin, record)`` pairs from any supported source; unreadable lines come as Rejects."""
    text = os.fspath(source)
    if text == "-":
        if sys.stdin is None:
            raise ReadError("'-' means stdin, but there is no standard input")
        return _jsonl_lines(sys.stdin.buffer, "<stdin>")
    path = Path(text)
    if path.is_dir():
        return _read_dir(path, None)
    if path.is_file():
        return _read_file(path)
    base, sep, split = text.rpartition(":")
    if sep and base and split and Path(base).is_dir():
        return _read_dir(Path(base), split)
    if _HUB_ID.match(text) and not text.lower().endswith(_DATA_SUFFIXES):
        return _read_hub(text)
    raise ReadError(f"{text}: no such file or directory (nor a Hub dataset id like org/name[:split])")


# --- files -------------------------------------------------------------------------------------------


def _read_file(path: Path) -> Iterator[Raw | Reject]:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return _parquet(path)
    gz = name.endswith(".gz")
    opener = functools.partial(gzip.open if gz else open, path, "rb")
    return _json_or_jsonl(path, opener, jsonl_name=name.removesuffix(".gz").endswith((".jsonl", ".ndjson")))


def _json_or_jsonl(path: Path, opener: Callable[[], IO[bytes]], jsonl_name: bool) -> Iterator[Raw | Reject]:
    with opener() as f:
        head = _first_lines(f, 2)
    with opener() as f:
        if _is_jsonl(head, jsonl_name):
            yield from _jsonl_lines(f, str(path))
        else:
            yield from _json_document(f, path, opener)


def _first_lines(f: IO[bytes], n: int) -> list[bytes]:
    """The first ``n`` non-blank lines, stripped (bounded like any line)."""
    lines: list[bytes] = []
    while len(lines) < n:
        line = f.readline(MAX_LINE_BYTES)
        if not line:
            break
        line = line.removeprefix(_BOM).strip() if not lines else line.strip()
        if line:
            lines.append(line)
    return lines


def _is_jsonl(head: list[bytes], jsonl_name: bool) -> bool:
    """Whether a file is JSON Lines, judged from its first two non-blank lines and its name.

    A lone ``[`` or ``{`` opens a pretty-printed document; a line that is a whole JSON object on
    its own means JSONL whatever the name; one line only is a document unless named .jsonl.
    """
    if not head:
        return jsonl_name
    if head[0] in (b"[", b"{"):
        return False
    if len(head) == 1:
        return jsonl_name and not head[0].startswith(b"[")
    if any(isinstance(_loads_or_none(line), dict) for line in head):
        return True
    return jsonl_name


def _loads_or_none(line: bytes) -> Any:
    try:
        return json.loads(line.decode("utf-8", "surrogateescape"))
    except ValueError:
        return None


def _jsonl_lines(f: IO[bytes], name: str) -> Iterator[Raw | Reject]:
    """One record per line. Lines are read as bytes and decoded one by one, so invalid UTF-8 or broken
    JSON costs only its own line (undecodable bytes become lone surrogates, which the layout checks
    reject naming the field)."""
    lineno = 0
    while True:
        line = f.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        lineno += 1
        origin = f"{name}:{lineno}"
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            _skip_line(f)
            yield Reject(origin, f"too long: line is over {MAX_LINE_BYTES // 2**20} MiB; not read")
            continue
        if lineno == 1:
            line = line.removeprefix(_BOM)
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8", "surrogateescape"))
        except json.JSONDecodeError as e:
            yield Reject(origin, f"invalid JSON: {e.msg} (column {e.colno})")
            continue
        yield origin, record


def _skip_line(f: IO[bytes]) -> None:
    while True:
        chunk = f.readline(MAX_LINE_BYTES)
        if not chunk or chunk.endswith(b"\n"):
            return


def _json_document(f: IO[bytes], path: Path, opener: Callable[[], IO[bytes]]) -> Iterator[Raw | Reject]:
    """Records of one JSON document, streamed with ijson (an array's items, or a container's list)."""
    import ijson

    first = _first_byte(f)
    if not first:
        return
    if first == b"[":
        prefix = "item"
    elif first == b"{":
        with opener() as g:
            prefix = _object_prefix(g)
    else:
        yield Reject(f"{path}#0", f"not an object: the document starts with {first.decode('latin-1')!r}")
        return
    _rewind_past_bom(f)
    index = 0
    try:
        for record in ijson.items(f, prefix, use_float=True):
            yield f"{path}#{index}", record
            index += 1
    except (ijson.JSONError, UnicodeDecodeError) as e:
        # A JSON document cannot be resynchronised after an error; JSONL keeps bad lines apart.
        yield Reject(
            f"{path}#{index}", f"invalid JSON: {_first_line(e)}; the rest of {path.name} cannot be read"
        )


def _first_line(error: BaseException) -> str:
    """The first line of an error message (yajl puts the message in bytes, with a multi-line excerpt)."""
    arg = error.args[0] if error.args else ""
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(error)
    return text.strip().splitlines()[0].rstrip(".") if text.strip() else type(error).__name__


def _first_byte(f: IO[bytes]) -> bytes:
    head = f.read(len(_BOM))
    data = head[len(_BOM) :] if head == _BOM else head
    while True:
        stripped = data.lstrip()
        if stripped:
            return stripped[:1]
        data = f.read(4096)
        if not data:
            return b""


def _rewind_past_bom(f: IO[bytes]) -> None:
    f.seek(0)
    if f.read(len(_BOM)) != _BOM:
        f.seek(0)


def _object_prefix(f: IO[bytes]) -> str:
    """The ijson prefix of the records in a top-level object: its list under a container key (or its
    only list, when the object has no record fields), else ``""``, meaning the object is one record."""
    import ijson

    _rewind_past_bom(f)
    keys: list[str] = []
    lists: list[str] = []
    try:
        for prefix, event, value in ijson.parse(f):
            if prefix == "" and event == "map_key":
                keys.append(value)
            elif event == "start_array" and keys and prefix == keys[-1]:
                if keys[-1] in _CONTAINER_KEYS:
                    return f"{keys[-1]}.item"
                lists.append(keys[-1])
    except (ijson.JSONError, UnicodeDecodeError):
        return ""  # the record reader meets the same error and reports it
    if len(lists) == 1 and not _RECORD_KEYS & set(keys):
        return f"{lists[0]}.item"
    return ""


def _parquet(path: Path) -> Iterator[Raw | Reject]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise ReadError(f"{path}: not a readable Parquet file ({e})") from e
    return _parquet_rows(pf, path)


def _parquet_rows(pf: Any, path: Path) -> Iterator[Raw]:
    index = 0
    with pf:
        # Small batches: a batch of long responses is what bounds memory here.
        for batch in pf.iter_batches(batch_size=256):
            for row in batch.to_pylist():
                yield f"{path}#{index}", row
                index += 1


# --- directories and Hugging Face datasets -----------------------------------------------------------


def _read_dir(path: Path, split: str | None) -> Iterator[Raw | Reject]:
    # Both files, since a plain state.json is common (crab run directories have one).
    saved_split = (path / "state.json").is_file() and (path / "dataset_info.json").is_file()
    if (path / "dataset_dict.json").is_file() or saved_split:
        return _saved_dataset(path, split)
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.name.lower().endswith(_DATA_SUFFIXES)
        and p.name not in _HF_METADATA
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    if split:
        files = [p for p in files if _in_split(p.relative_to(path), split)]
    if not files:
        which = f" for split {split!r}" if split else ""
        raise ReadError(f"{path}: no .jsonl, .json or .parquet files{which}, and not a saved dataset")
    return _concat(files)


def _in_split(rel: Path, split: str) -> bool:
    """Hub layouts name the split as a folder (``train/``) or a file prefix (``train-00000-of-00002``)."""
    boundary = re.compile(rf"{re.escape(split)}(?![A-Za-z0-9])")
    return split in rel.parts[:-1] or bool(boundary.match(rel.name))


def _concat(files: list[Path]) -> Iterator[Raw | Reject]:
    for p in files:  # opened one at a time, so many shards never mean many open files
        yield from _read_file(p)


def _need_datasets(what: str) -> Any:
    try:
        import datasets
    except ImportError as e:
        raise ReadError(f"reading {what} needs the 'datasets' package: pip install 'crabkit[hf]'") from e
    return datasets


def _saved_dataset(path: Path, split: str | None) -> Iterator[Raw]:
    datasets = _need_datasets(f"the saved dataset {path}")
    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as e:  # datasets raises many types here; all mean the same to the user
        raise ReadError(f"{path}: cannot load the saved dataset ({e})") from e
    name = str(path)
    if isinstance(ds, datasets.DatasetDict):
        split = _pick_split(list(ds), split, name)
        ds, name = ds[split], f"{path}:{split}"
    elif split:
        raise ReadError(f"{path} is a single saved split; drop ':{split}'")
    return _rows(ds, name)


def _pick_split(available: list[str], split: str | None, name: str) -> str:
    if split:
        if split not in available:
            raise ReadError(f"{name} has no split {split!r}; it has {', '.join(available)}")
        return split
    if "train" in available:
        return "train"
    if len(available) == 1:
        return available[0]
    raise ReadError(f"{name} has splits {', '.join(available)}; pick one as {name}:SPLIT")


def _rows(rows: Iterable[Any], name: str) -> Iterator[Raw]:
    for index, row in enumerate(rows):
        yield f"{name}#{index}", row


def _read_hub(spec: str) -> Iterator[Raw]:
    name, _, split = spec.partition(":")
    split = split or "train"
    datasets = _need_datasets(f"the Hub dataset {name}")
    try:
        ds = datasets.load_dataset(name, split=split, streaming=True)
    except Exception as e:  # offline, unknown name, gated, bad split: the message says which
        raise ReadError(
            f"cannot open Hub dataset {name!r} (split {split!r}): {_first_line(e)}. Reading from the Hub needs "
            "network access (HF_HUB_OFFLINE unset); a downloaded copy can be read as a saved "
            "dataset dir or as its data files"
        ) from e
    return _hub_rows(ds, f"{name}:{split}")


def _hub_rows(ds: Iterable[Any], name: str) -> Iterator[Raw]:
    index = 0
    try:
        for row in ds:
            yield f"{name}#{index}", row
            index += 1
    except Exception as e:  # a dropped connection mid-stream: say where, not a datasets traceback
        raise ReadError(f"{name}#{index}: reading from the Hub failed ({e})") from e
