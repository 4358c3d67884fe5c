"""The LLM stage's settings, and the one place a backend is built from them.

``LLMConfig`` says what the stage does (which steps, the sampling, the failure policy) and where it
sends requests. :func:`backend_settings` maps it onto the chosen backend's own settings
(``OpenAIConfig``, ``VLLMConfig``...): the CLI, both engines and the dry run all build through
:func:`build_backend`, so a setting has one name and one route.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crabkit.llm.base import Backend

from .prompts import PROMPTS

__all__ = ["BACKEND_NAMES", "FAILURE_MODES", "BudgetExhausted", "LLMConfig", "backend_settings", "build_backend"]

FAILURE_MODES = ("reject", "keep")


def _backend_names() -> tuple[str, ...]:
    from crabkit.llm.factory import BACKENDS

    return ("none", *sorted(BACKENDS))


BACKEND_NAMES = _backend_names()


class BudgetExhausted(RuntimeError):
    """``max_requests`` ran out inside a block: the block is not written, so a rerun redoes it
    (its answered requests come from the cache)."""


@dataclass
class LLMConfig:
    """The LLM stage of ``crab generate``. ``backend="none"`` (the default) turns it off.

    Only the fields that change what is generated enter the run fingerprint (see
    :meth:`fingerprint_fields`): a resumed run may point at other servers, use another concurrency,
    timeout, request cap or number of blocks in flight. ``api_key_env`` names the environment
    variable holding the key; the key itself is never stored. ``cache`` defaults to
    ``RUN_DIR/llm_cache.sqlite``.

    ``combine``: refine and soft constraints in one request per seed (one copy of the answer sent
    instead of two). ``blocks_in_flight``: blocks whose LLM requests run at once in the local engine
    (with a server backend; in-process models take one block at a time). ``extra_body``: fields
    added to every request body (vLLM's ``chat_template_kwargs``, ``top_k``...);
    ``max_completion_tokens``: for reasoning models that want it instead of ``max_tokens``.
    ``tensor_parallel_size``, ``max_model_len``, ``gpu_memory_utilization``: the ``vllm`` engine's.
    """

    backend: str = "none"
    base_urls: list[str] = field(default_factory=list)
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    headers: dict[str, str] = field(default_factory=dict)
    concurrency: int = 16
    timeout: float = 120.0
    max_retries: int = 3
    backoff_s: float = 0.5
    temperature: float = 0.0
    max_tokens: int = 1024
    max_completion_tokens: int | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    tensor_parallel_size: int = 1
    max_model_len: int | None = None
    gpu_memory_utilization: float | None = None
    cache: str | None = None
    dry_run: bool = False
    max_requests: int | None = None
    on_failure: str = "reject"
    #: Above this share of records failing in the LLM stage, the run ends with exit status 4.
    max_failure_share: float = 0.2
    refine: bool = True
    soft: bool = True
    judge: bool = True
    combine: bool = True
    blocks_in_flight: int = 4
    refine_max_words: int = 300
    rouge_threshold: float = 0.6

    @property
    def enabled(self) -> bool:
        return self.backend != "none" and (self.refine or self.soft)

    def validate(self) -> None:
        if self.backend not in BACKEND_NAMES:
            raise ValueError(f"llm.backend: {self.backend!r} is not one of {', '.join(BACKEND_NAMES)}")
        if self.on_failure not in FAILURE_MODES:
            raise ValueError(f"llm.on_failure: {self.on_failure!r} is not one of {', '.join(FAILURE_MODES)}")
        if self.concurrency < 1:
            raise ValueError(f"llm.concurrency must be >= 1, got {self.concurrency}")
        if self.blocks_in_flight < 1:
            raise ValueError(f"llm.blocks_in_flight must be >= 1, got {self.blocks_in_flight}")
        if self.max_requests is not None and self.max_requests < 0:
            raise ValueError(f"llm.max_requests must be >= 0, got {self.max_requests}")
        if not 0 <= self.max_failure_share <= 1:
            raise ValueError(f"llm.max_failure_share must be between 0 and 1, got {self.max_failure_share}")
        if self.max_completion_tokens is not None and self.max_completion_tokens < 1:
            raise ValueError(f"llm.max_completion_tokens must be >= 1, got {self.max_completion_tokens}")

    def fingerprint_fields(self) -> dict[str, Any]:
        """The settings that decide the output (prompt versions included)."""
        keep = ("backend", "model", "temperature", "max_tokens", "on_failure", "refine", "soft", "judge",
                "refine_max_words", "rouge_threshold", "combine", "extra_body", "max_completion_tokens")
        return {**{k: getattr(self, k) for k in keep}, "prompts": dict(PROMPTS)}

    def cache_path(self, run_dir: str | Path) -> Path:
        return Path(self.cache) if self.cache else Path(run_dir) / "llm_cache.sqlite"


def backend_settings(cfg: LLMConfig) -> dict[str, Any]:
    """The chosen backend's own settings for ``cfg`` (what ``make_backend`` takes)."""
    if cfg.backend == "openai":
        settings: dict[str, Any] = {
            "model": cfg.model, "api_key_env": cfg.api_key_env, "max_concurrency": cfg.concurrency,
            "timeout_s": cfg.timeout, "max_retries": cfg.max_retries, "backoff_base_s": cfg.backoff_s,
            "headers": dict(cfg.headers),
        }  # fmt: skip
        if cfg.base_urls:
            settings["base_url"] = list(cfg.base_urls)
        return settings
    if cfg.backend == "local":
        return {"model": cfg.model, "max_new_tokens": cfg.max_tokens}
    if cfg.backend == "vllm":
        settings = {"model": cfg.model, "max_tokens": cfg.max_tokens, "tensor_parallel_size": cfg.tensor_parallel_size,
                    "max_model_len": cfg.max_model_len}  # fmt: skip
        if cfg.gpu_memory_utilization is not None:
            settings["gpu_memory_utilization"] = cfg.gpu_memory_utilization
        return settings
    if cfg.backend == "scripted":
        from .scripted import demo_script

        return {"script": demo_script, "model": cfg.model or "scripted-demo"}
    raise ValueError("the LLM stage is off (llm.backend is 'none')")


def build_backend(cfg: LLMConfig, run_dir: str | Path, *, dry_run: bool | None = None) -> Backend:
    """The configured backend wrapped in its response cache (a ``CachedBackend``)."""
    from crabkit.llm import make_backend

    cfg.validate()
    settings = backend_settings(cfg)
    dry = cfg.dry_run if dry_run is None else dry_run
    cache: str | Path = cfg.cache_path(run_dir)
    if dry and not Path(cache).exists():
        cache = ":memory:"  # a dry run writes nothing
    return make_backend(cfg.backend, cache=cache, dry_run=dry, max_requests=cfg.max_requests, **settings)
