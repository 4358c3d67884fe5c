"""The filtered input on disk, read back with every request's answers side by side.

Siblings (other answers to the same instruction) are what shows which constraints single out an
answer, and inputs rarely keep them together: a file per model, concatenated. ``SeedStore`` takes
the items in input order (an embedded SQLite file in a temporary directory, so memory stays flat
however large the input) and gives them back ordered by the first appearance of their request,
then by input position: a request's answers come together, where its first answer was. Rejects keep
their own place.
"""

from __future__ import annotations

import hashlib
import pickle
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from crabkit.records import Reject, Seed

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["SeedStore"]

_BATCH = 2048


class SeedStore:
    """Seeds and rejects written once in input order, read in request order (see the module doc).

    >>> with SeedStore() as store:  # doctest: +SKIP
    ...     store.extend(items)
    ...     for item in store.ordered(skip=0): ...
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="crab-seeds-", dir=directory))
        # One reader at a time, but maybe not the creating thread (the Ray engine reads ahead in one).
        self._db = sqlite3.connect(self._dir / "seeds.sqlite", isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE items (pos INTEGER PRIMARY KEY, request TEXT NOT NULL, data BLOB NOT NULL)")
        self._pending: list[tuple[int, str, bytes]] = []
        self._count = 0
        self._sealed = False
        self._digest = hashlib.sha256()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self._count

    @property
    def digest(self) -> str:
        """What the items are, as a hash of their content in input order: a resume checks that the
        input it reads again is the one the run started with."""
        return self._digest.hexdigest()[:32]

    def add(self, item: Seed | Reject) -> None:
        if self._sealed:
            raise RuntimeError("SeedStore is read-only once ordered() was called")
        pos = self._count
        key = item.request_key if isinstance(item, Seed) else f"reject:{pos}"
        # Pickle: this process's own scratch file, read back by this process only.
        data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        self._digest.update(len(data).to_bytes(8, "little") + data)
        self._pending.append((pos, key, data))
        self._count += 1
        if len(self._pending) >= _BATCH:
            self._flush()

    def extend(self, items: Iterable[Seed | Reject]) -> None:
        for item in items:
            self.add(item)

    def _flush(self) -> None:
        if self._pending:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO items VALUES (?, ?, ?)", self._pending)
            self._db.execute("COMMIT")
            self._pending.clear()

    def _seal(self) -> None:
        if self._sealed:
            return
        self._flush()
        self._db.execute("CREATE TABLE firsts AS SELECT request, MIN(pos) AS first FROM items GROUP BY request")
        self._db.execute("CREATE INDEX firsts_request ON firsts (request)")
        self._sealed = True

    def ordered(self, skip: int = 0) -> Iterator[Seed | Reject]:
        """Every item in request order, the first ``skip`` left out (a checkpoint's consumed items)."""
        self._seal()
        rows = self._db.execute(
            "SELECT items.data FROM items JOIN firsts USING (request)"
            " ORDER BY firsts.first, items.pos LIMIT -1 OFFSET ?",
            (skip,),
        )
        for (data,) in rows:
            yield pickle.loads(data)

    def close(self) -> None:
        try:
            self._db.close()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
