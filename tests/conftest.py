from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    p = SHARED.joinpath("data", *parts)
    if not p.exists():
        pytest.skip(f"shared test data not present: {p} (see ../shared/data/README.md)")
    return p


@pytest.fixture(scope="session")
def sample_path() -> Path:
    from importlib.resources import files

    return Path(str(files("crabkit") / "data" / "sample_pairs.jsonl"))
