"""Progress bars on stderr for ``crab generate`` (tqdm; off with ``--no-progress``)."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["Progress"]


class Progress:
    """tqdm bars on stderr: records (records/s and, where the input size is known, ETA) and, during
    an LLM stage, its requests (requests/s, failures, tokens), updated as each answer arrives."""

    def __init__(self, total: int | None, initial: int, enabled: bool):
        self.bar: Any = None
        self.requests: Any = None
        self.enabled = enabled
        self.failed = self.tokens = 0
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="rec", dynamic_ncols=True, file=sys.stderr)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def answered(self, request: Any, result: Any) -> None:
        """One LLM answer (called on the stage's event loop thread)."""
        if not self.enabled:
            return
        if self.requests is None:
            from tqdm import tqdm

            self.requests = tqdm(desc="LLM requests", unit="req", dynamic_ncols=True, file=sys.stderr, position=1)
        self.failed += not result.ok
        self.tokens += result.prompt_tokens + result.completion_tokens
        self.requests.set_postfix_str(f"failed={self.failed} tokens={self.tokens:,}", refresh=False)
        self.requests.update(1)

    def close(self) -> None:
        if self.requests is not None:
            self.requests.close()
        if self.bar is not None:
            self.bar.close()
