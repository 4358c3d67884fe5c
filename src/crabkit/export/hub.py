"""Pushing an export directory to the Hugging Face Hub (``huggingface_hub``, the ``hf`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["HUB_FILES", "push_to_hub"]

#: What goes to the Hub: the card and the data files (the ``datasets`` directories stay local:
#: the Hub serves the data files through the card's ``configs``).
HUB_FILES = ["README.md", "data/*"]


def push_to_hub(export_dir: str | Path, repo_id: str, *, private: bool = False, token: str | None = None,
                commit_message: str | None = None) -> Any:  # fmt: skip
    """Create the dataset repository ``repo_id`` if needed and upload the card and data files in one
    commit. The token comes from ``token``, else from ``HF_TOKEN`` / the login cache, as
    ``huggingface_hub`` finds it; it is never printed. Returns the commit info."""
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise ImportError("--push-to-hub needs huggingface_hub: pip install 'crabkit[hf]'") from None
    folder = Path(export_dir)
    if not (folder / "README.md").is_file():
        raise FileNotFoundError(f"{folder} has no README.md: push a `crab export` directory")
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    return api.upload_folder(
        repo_id=repo_id,
        folder_path=str(folder),
        repo_type="dataset",
        allow_patterns=HUB_FILES,
        commit_message=commit_message or "crab export: dataset card and data files",
    )
