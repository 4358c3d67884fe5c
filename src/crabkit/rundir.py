"""The run directory: only crab writes there, one run at a time, and a resume is of the same input.

``RunDir.claim(path, inputs)`` is the first thing ``crab generate`` does with ``--out``:

* the path must be a directory crab can write (created if missing), not a file;
* a directory crab did not make (no ``.crabkit`` marker) must be empty: crab never writes over
  files of the user's that happen to have an output's name (``train.jsonl``...); a marked one must
  hold nothing but crab's own files;
* no input may lie inside it (its outputs would be read back, or the input truncated);
* an exclusive lock (``fcntl.flock`` on ``.crabkit``) is held until the run ends, so a second
  ``crab generate`` on the same directory is refused at once instead of writing every record twice.

Every refusal is a :class:`RunDirError` whose message names the problem and what to do.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["CRAB_FILES", "MARKER", "RunDir", "RunDirError"]

MARKER = ".crabkit"
#: What crab itself writes into a run directory (files, and directories ending in "/").
CRAB_FILES = frozenset(
    {
        MARKER, "train.jsonl", "constraints.jsonl", "ifeval_ground_truth.jsonl", "rejects.jsonl",
        "state.json", "stats.json", "manifest.json", "llm_usage.json", "llm_cache.sqlite",
        "llm_cache.sqlite-journal", "llm_cache.sqlite-wal", "llm_cache.sqlite-shm", "shards/",
        "llm_cache/", "report.html", "export/",
    }
)  # fmt: skip


class RunDirError(ValueError):
    """A run directory crab must not write: the message says why and what to do."""


def _crab_entry(entry: os.DirEntry[str]) -> bool:
    name = entry.name + ("/" if entry.is_dir() else "")
    return name in CRAB_FILES or entry.name.endswith(".tmp")


def _within(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
    except ValueError:
        return False
    return True


class RunDir:
    """A claimed run directory (see the module docstring); ``release`` (or leaving the ``with``)
    lets the next run in."""

    def __init__(self, path: Path, lock: IO[str]) -> None:
        self.path = path
        self._lock = lock

    @classmethod
    def claim(cls, path: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = ()) -> Self:
        out = Path(path)
        if out.exists() and not out.is_dir():
            raise RunDirError(f"--out {out} is a file, not a directory: give a directory for the run")
        where = out.resolve()
        for source in inputs:
            text = os.fspath(source)
            if text == "-" or not Path(text).exists():
                continue
            src = Path(text).resolve()
            if _within(src, where) or src == where:
                raise RunDirError(
                    f"the input {text} is inside the run directory {out}: its outputs would be read back or "
                    "overwritten; put the run in another directory (--out)"
                )
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunDirError(f"cannot create the run directory {out}: {e.strerror or e}") from None
        marked = (out / MARKER).is_file()
        with os.scandir(out) as entries:
            listing = list(entries)
        if not marked and (out / "state.json").is_file() and all(_crab_entry(e) for e in listing):
            marked = True  # a run of a crab from before the marker: nothing but crab's own files
        names = sorted(e.name for e in listing if not (marked and _crab_entry(e)))
        if marked:
            if names:
                raise RunDirError(
                    f"{out} holds files crab did not write ({', '.join(names[:5])}); move them out, or use "
                    "another directory (--out)"
                )
        elif names:
            raise RunDirError(
                f"{out} is not empty and is not a crab run directory ({', '.join(names[:5])}"
                f"{', ...' if len(names) > 5 else ''}); crab writes only into an empty directory or one of "
                "its own runs: give another --out"
            )
        try:
            lock = open(out / MARKER, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run, closed in release()
        except OSError as e:
            raise RunDirError(f"cannot write to the run directory {out}: {e.strerror or e}") from None
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - not POSIX: no lock, as before
            pass
        except OSError as e:
            lock.close()
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise RunDirError(
                    f"another crab run is writing {out} right now; wait for it to finish, or use another --out"
                ) from None
            raise RunDirError(f"cannot lock the run directory {out}: {e.strerror or e}") from None
        if lock.tell() == 0:
            lock.write("crab run directory: crab generate writes here; do not add files of your own.\n")
            lock.flush()
        return cls(out, lock)

    def release(self) -> None:
        self._lock.close()  # closing the file drops the lock

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
