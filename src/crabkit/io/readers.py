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
import json
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from crabkit.io.layouts import DEFAULT_MAX_CHARS, LAYOUTS, FieldMap, adapt_record
from crabkit.records import Reject, Seed

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["ReadError", "iter_raw", "read_records"]

Raw = tuple[str, Any]

# A line longer than this is skipped unread: one record must never be able to exhaust memory.
MAX_LINE_BYTES = 64 * 2**20
# A JSON array whose stream breaks is re-read whole to recover the records after the damage, up to
# this size (beyond it, the records after the damage are reported lost).
MAX_RECOVER_BYTES = 512 * 2**20
# What a damaged compressed stream raises while it is read.
_STREAM_ERRORS = (EOFError, OSError, zlib.error)
# Magic numbers of files that are not JSON text: (prefix, what it is).
_BINARY_MAGIC = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a zip archive"), (b"\x7fELF", "a program"),
    (b"SQLite format 3", "an SQLite database"), (b"BZh", "bzip2 data"), (b"\xfd7zXZ", "xz data"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
)  # fmt: skip
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
    all_turns: bool = True,
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
    try:
        with open(path, "rb") as f:
            head = f.read(8192)
    except OSError as e:
        raise ReadError(f"{path}: cannot be read ({e.strerror or e})") from None
    # What the bytes are decides, whatever the name says: gzip under .jsonl is read as gzip.
    if name.endswith((".parquet", ".pq")) or head.startswith(b"PAR1"):
        return _parquet(path)
    gz = head.startswith(b"\x1f\x8b")
    if not gz:
        what = next((kind for magic, kind in _BINARY_MAGIC if head.startswith(magic)), None)
        if what is None and b"\x00" in head:
            what = "binary data (it holds NUL bytes)"
        if what is not None:
            raise ReadError(f"{path}: not JSON or JSONL text: the file is {what}")
    opener = functools.partial(_Gunzip if gz else open, path, "rb")
    return _json_or_jsonl(path, opener, jsonl_name=name.removesuffix(".gz").endswith((".jsonl", ".ndjson")))


class _Gunzip:
    """A gzip file read as a stream that gives every byte it can decompress before it fails.

    ``gzip.open`` decompresses ahead in blocks and raises at a cut or corrupt spot before handing
    over the lines that came before it; this hands them over first, then raises ``EOFError`` (cut
    short) or ``zlib.error`` (corrupt). Concatenated members are read one after another.
    """

    # Fed in small pieces: a corrupt piece loses the output decompressed from it, no more.
    _CHUNK = 1 << 12

    def __init__(self, path: Path, mode: str = "rb") -> None:
        self._raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._buf = bytearray()
        self._error: BaseException | None = None
        self._done = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._raw.close()

    def _fill(self) -> bool:
        """Decompress one more chunk into the buffer; False when nothing more will come."""
        if self._done or self._error is not None:
            return False
        data = self._raw.read(self._CHUNK)
        try:
            if not data:
                self._done = True
                if not self._z.eof:
                    self._error = EOFError("compressed file ended before the end-of-stream marker")
                return False
            out = self._z.decompress(data)
            while self._z.eof and self._z.unused_data:  # another gzip member follows
                rest = self._z.unused_data
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                out += self._z.decompress(rest)
        except zlib.error as e:
            self._error = e
            return False
        self._buf += out
        return True

    def readline(self, limit: int = -1) -> bytes:
        while True:
            end = self._buf.find(b"\n")
            if end >= 0 and (limit < 0 or end < limit):
                return self._take(end + 1)
            if limit >= 0 and len(self._buf) >= limit:
                return self._take(limit)
            if not self._fill():
                if self._buf and self._error is None:
                    return self._take(len(self._buf))
                if self._error is not None:
                    raise self._error  # the partial line at the damage is lost with it
                return b""

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self._buf) < n) and self._fill():
            pass
        if not self._buf and self._error is not None:
            raise self._error
        return self._take(len(self._buf) if n < 0 else min(n, len(self._buf)))

    def seek(self, pos: int) -> None:
        if pos != 0:
            raise OSError("a gzip stream can only be rewound to its start")
        self._raw.seek(0)
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._buf.clear()
        self._error, self._done = None, False

    def _take(self, n: int) -> bytes:
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out


def _json_or_jsonl(path: Path, opener: Callable[[], IO[bytes]], jsonl_name: bool) -> Iterator[Raw | Reject]:
    try:
        with opener() as f:
            head = _first_lines(f, 2)
    except _STREAM_ERRORS as e:
        yield Reject(f"{path}:1", f"unreadable: {_stream_error(e)}; nothing of {path.name} could be read")
        return
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
        try:
            line = f.readline(MAX_LINE_BYTES + 1)
        except _STREAM_ERRORS as e:
            # A cut or corrupt compressed stream: what was read before stands, nothing after can be read.
            yield Reject(f"{name}:{lineno + 1}", f"unreadable from here: {_stream_error(e)}; the lines "
                         f"before were read, the rest of {name} cannot be")  # fmt: skip
            return
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
        except RecursionError:
            yield Reject(origin, "invalid JSON: nested too deeply to read")
            continue
        yield origin, record


def _stream_error(e: BaseException) -> str:
    if isinstance(e, EOFError):
        return "the compressed file is cut short"
    return f"corrupt data ({type(e).__name__}: {e})"


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
    except (ijson.JSONError, UnicodeDecodeError, RecursionError, *_STREAM_ERRORS) as e:
        if prefix == "item" and not isinstance(e, _STREAM_ERRORS):
            # An array's items can be found again after a broken one: re-read it item by item.
            yield from _recover_array(path, opener, index, _first_line(e))
            return
        yield Reject(
            f"{path}#{index}", f"invalid JSON: {_first_line(e)}; the rest of {path.name} cannot be read"
        )


# A JSON token that matters for finding an array's items: a string, a bracket, a comma.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]')


def _array_items(text: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each item of the top-level array in ``text``, found by bracket depth
    (strings skipped), so a malformed item does not hide the ones after it."""
    depth, start = 0, None
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth == 2 and start is None:
                start = m.start()
        elif token in "]}":
            if depth == 1 and start is None and token == "]":
                return
            depth -= 1
            if depth == 1 and start is not None:
                yield start, m.end()
                start = None
            elif depth == 0:
                return
        elif token == "," and depth == 1:
            if start is not None:  # an item with a missing bracket: it ends at the comma
                yield start, m.start()
                start = None
        elif depth == 1 and start is None and token.startswith('"'):
            start = m.start()  # a bare string item


def _recover_array(path: Path, opener: Callable[[], IO[bytes]], done: int, error: str) -> Iterator[Raw | Reject]:
    """The items of a JSON array after the first ``done``, each parsed on its own; a broken one is a
    Reject with its index and the parser's message."""
    with opener() as f:
        data = f.read(MAX_RECOVER_BYTES + 1)
    if len(data) > MAX_RECOVER_BYTES:
        yield Reject(f"{path}#{done}", f"invalid JSON: {error}; the rest of {path.name} (over "
                     f"{MAX_RECOVER_BYTES // 2**20} MiB) cannot be read")  # fmt: skip
        return
    text = data.removeprefix(_BOM).decode("utf-8", "surrogateescape")
    first = text.find("[")
    for index, (start, end) in enumerate(_array_items(text[first:] if first >= 0 else text)):
        if index < done:
            continue
        piece = text[first + start : first + end]
        try:
            yield f"{path}#{index}", json.loads(piece)
        except json.JSONDecodeError as e:
            yield Reject(f"{path}#{index}", f"invalid JSON: {e.msg} (item {index}, column {e.colno})")
        except RecursionError:
            yield Reject(f"{path}#{index}", "invalid JSON: nested too deeply to read")


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


def _parquet_rows(pf: Any, path: Path) -> Iterator[Raw | Reject]:
    """Rows row group by row group, so damage to one group costs only the rows it holds."""
    import pyarrow as pa

    index = 0
    with pf:
        for group in range(pf.num_row_groups):
            size = pf.metadata.row_group(group).num_rows
            end = index + size
            try:
                # Small batches: a batch of long responses is what bounds memory here.
                for batch in pf.iter_batches(batch_size=256, row_groups=[group]):
                    for row in batch.to_pylist():
                        yield f"{path}#{index}", row
                        index += 1
            except (pa.ArrowException, OSError) as e:
                yield Reject(f"{path}#{index}", f"unreadable Parquet data: rows {index}-{end - 1} (row group "
                             f"{group}) are damaged and cannot be read ({_first_line(e)})")  # fmt: skip
            index = end


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
