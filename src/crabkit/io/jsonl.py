"""JSONL reading for files crabkit itself wrote or a user hands to a command (not ingest).

Ingest (``read_records``) turns bad lines into rejects and carries on; commands that read a prompt,
result or training file instead stop at the first bad line with a message naming file and line
(``iter_jsonl_objects``). Files crabkit appends to as it works, which a killed run can leave with a
half-written last line, are read with ``iter_jsonl_lenient``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["iter_jsonl_lenient", "iter_jsonl_objects"]


def iter_jsonl_objects(path: str | Path, error: type[Exception] = ValueError) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, object)`` for each non-blank line; ``where`` is ``"<path>:<line>"``.

    Raises ``error`` (a ValueError subclass of the caller's choosing) for an unreadable file, a line
    that is not JSON, a line that is not an object, or text that is not UTF-8.
    """
    p = Path(path)
    try:
        handle = p.open(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {p}: {exc.strerror or exc}") from None
    with handle:
        try:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                where = f"{p}:{number}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise error(f"{where}: not valid JSON ({exc.msg})") from None
                if not isinstance(obj, dict):
                    raise error(f"{where}: expected a JSON object, got {type(obj).__name__}")
                yield where, obj
        except UnicodeDecodeError as exc:
            raise error(f"{p}: not UTF-8 text ({exc.reason})") from None


def iter_jsonl_lenient(path: str | Path) -> Iterator[dict[str, Any]]:
    """Each line of ``path`` that is a JSON object; anything else (a line cut by a kill, bytes that
    are not UTF-8) is passed over. The file must exist."""
    with Path(path).open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                yield obj
