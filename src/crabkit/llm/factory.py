"""Build a backend from a name and plain settings (what a config file or the CLI holds)."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

from crabkit.llm.base import Backend
from crabkit.llm.cache import CachedBackend

__all__ = ["BACKENDS", "make_backend"]

# name -> (module, backend class, config class or None); imported on demand to keep imports light.
BACKENDS: dict[str, tuple[str, str, str | None]] = {
    "openai": ("crabkit.llm.openai_compat", "OpenAIBackend", "OpenAIConfig"),
    "local": ("crabkit.llm.local", "LocalBackend", "LocalConfig"),
    "vllm": ("crabkit.llm.vllm_backend", "VLLMBackend", "VLLMConfig"),
    "scripted": ("crabkit.llm.scripted", "ScriptedBackend", None),
}


def make_backend(
    name: str,
    *,
    cache: str | Path | None = None,
    dry_run: bool = False,
    max_requests: int | None = None,
    **settings: Any,
) -> Backend:
    """A backend by name (``openai``, ``local``, ``vllm``, ``scripted``) with its settings.

    ``cache`` (an SQLite path), ``dry_run`` and ``max_requests`` wrap it in a :class:`CachedBackend`.

    >>> make_backend("openai", base_url="http://127.0.0.1:8000/v1", model="m", cache="run/llm.sqlite")
    ... # doctest: +SKIP
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown LLM backend {name!r}; choose one of: {', '.join(sorted(BACKENDS))}")
    module_name, class_name, config_name = BACKENDS[name]
    module = importlib.import_module(module_name)
    if config_name is not None:
        config_cls = getattr(module, config_name)
        known = {f.name for f in dataclasses.fields(config_cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(
                f"unknown setting(s) {', '.join(unknown)} for the {name} backend; known: {', '.join(sorted(known))}"
            )
        backend = getattr(module, class_name)(config_cls(**settings))
    else:
        backend = getattr(module, class_name)(**settings)
    if cache is not None or dry_run or max_requests is not None:
        backend = CachedBackend(backend, cache, dry_run=dry_run, max_requests=max_requests)
    return backend
