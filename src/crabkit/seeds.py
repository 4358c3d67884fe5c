"""Seed filtering: drop duplicates, too-short responses and unwanted languages, and stop at a limit.

Filtered-out seeds come out as Rejects with ``stage="filter"`` (reasons read ``"<kind>: <detail>"``)
so a run can count them; Rejects from reading pass through unchanged. Checks run cheapest first:
duplicate, length, language.

As in the CRAB paper, a share of too-short responses is let through anyway for diversity; which
ones is decided by the caller's seeded ``random.Random``, so a rerun makes the same choices.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from crabkit.records import Reject, Seed
from crabkit.text import count_words, detect_language

__all__ = ["SeedFilter", "filter_seeds"]

# Code and math read as Danish or Catalan to langdetect; only the prose says the language.
_NOT_PROSE = re.compile(
    r"```.*?(?:```|\Z)"  # fenced code, possibly cut off
    r"|`[^`\n]*`"  # inline code
    r"|\$\$.*?\$\$|\$[^$\n]*\$"  # display and inline math
    r"|\\begin\{(\w+\*?)\}.*?(?:\\end\{\1\}|\Z)"  # LaTeX environments
    r"|\\[A-Za-z]+",  # stray LaTeX commands
    re.DOTALL,
)


@dataclass
class SeedFilter:
    """What ``filter_seeds`` keeps.

    ``min_words``: responses with fewer words are rejected, except for a ``bypass_rate`` share of
    them. ``languages``: ISO 639-1 codes to keep (None keeps all), detected on the first
    ``language_prefix_chars`` characters of the response. ``dedup``: drop seeds whose id (content)
    was seen before. ``limit``: stop after this many accepted seeds.
    """

    min_words: int = 20
    bypass_rate: float = 0.1
    languages: list[str] | None = None
    dedup: bool = True
    limit: int | None = None
    language_prefix_chars: int = 1000

    def __post_init__(self) -> None:
        if not 0.0 <= self.bypass_rate <= 1.0:
            raise ValueError(f"bypass_rate must be between 0 and 1, got {self.bypass_rate}")
        if self.min_words < 0:
            raise ValueError(f"min_words must be 0 or more, got {self.min_words}")
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"limit must be 0 or more, got {self.limit}")
        if self.languages is not None:
            self.languages = [code.strip().lower() for code in self.languages]


def filter_seeds(
    seeds: Iterable[Seed | Reject], cfg: SeedFilter, rng: random.Random
) -> Iterator[Seed | Reject]:
    """Seeds that pass ``cfg`` and Rejects for those that do not, in input order.

    Stops reading ``seeds`` once ``cfg.limit`` seeds have been accepted.

    >>> kept = filter_seeds(read_records("pairs.jsonl"), SeedFilter(), random.Random(0))  # doctest: +SKIP
    """
    if cfg.limit == 0:
        return
    # First origin of each id, keyed by the id as an int: the seeds themselves are never kept.
    seen: dict[int | str, str] = {}
    accepted = 0
    for item in seeds:
        if isinstance(item, Reject):
            yield item
            continue
        reason = _duplicate(item, seen) if cfg.dedup else None
        reason = reason or _too_short(item, cfg, rng) or _wrong_language(item, cfg)
        if reason:
            yield Reject(item.origin, reason, "response", stage="filter")
            continue
        yield item
        accepted += 1
        if cfg.limit is not None and accepted >= cfg.limit:
            return


def _duplicate(seed: Seed, seen: dict[int, str]) -> str | None:
    try:
        key: int | str = int(seed.id, 16)  # an int is half the size of the hex string
    except ValueError:
        key = seed.id
    if key not in seen:
        seen[key] = seed.origin
        return None
    return f"duplicate: same instruction and response as the record at {seen[key] or 'an earlier record'}"


def _too_short(seed: Seed, cfg: SeedFilter, rng: random.Random) -> str | None:
    n = count_words(seed.response)
    if n >= cfg.min_words:
        return None
    # The rng is drawn only for short responses, so the choices depend on the input alone.
    if rng.random() < cfg.bypass_rate:
        return None
    return f"too short: response has {n} words, fewer than {cfg.min_words}"


def _prose(text: str) -> str:
    return _NOT_PROSE.sub(" ", text)


def _wrong_language(seed: Seed, cfg: SeedFilter) -> str | None:
    if cfg.languages is None:
        return None
    lang = detect_language(
        _prose(seed.response[: cfg.language_prefix_chars * 4])[: cfg.language_prefix_chars]
    )
    if lang is None:
        return "unknown language: the response language could not be detected"
    if lang not in cfg.languages and lang.split("-")[0] not in cfg.languages:
        return f"wrong language: response is in {lang!r}, not {', '.join(cfg.languages)}"
    return None
