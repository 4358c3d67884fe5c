"""Ingest: read instruction-response records from files, directories, stdin or the Hub as Seeds.

>>> from crabkit.io import read_records
>>> seeds = [x for x in read_records("data.jsonl") if isinstance(x, Seed)]  # doctest: +SKIP
"""

from crabkit.io.layouts import DEFAULT_MAX_CHARS, LAYOUTS, FieldMap, adapt_record, detect_layout
from crabkit.io.readers import ReadError, iter_raw, read_records

__all__ = [
    "DEFAULT_MAX_CHARS",
    "LAYOUTS",
    "FieldMap",
    "ReadError",
    "adapt_record",
    "detect_layout",
    "iter_raw",
    "read_records",
]
