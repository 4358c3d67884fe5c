"""vLLM's offline engine in-process (``vllm.LLM``): the fastest path on a GPU box, no server.

vLLM is imported on first use only. The request translation (:func:`sampling_kwargs`) is a plain
function so it is tested without vLLM installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crabkit.llm.base import Backend, ChatRequest, ChatResult, OnResult

__all__ = ["VLLMBackend", "VLLMConfig", "sampling_kwargs", "structured_output_kwargs"]


def sampling_kwargs(request: ChatRequest, default_max_tokens: int = 1024) -> dict[str, Any]:
    """``SamplingParams`` keyword arguments for ``request`` (without structured output)."""
    kwargs: dict[str, Any] = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens or default_max_tokens,
    }
    if request.seed is not None:
        kwargs["seed"] = request.seed
    if request.stop:
        kwargs["stop"] = list(request.stop)
    # Server-style extras (top_k, repetition_penalty, min_p...) are SamplingParams fields too.
    kwargs.update(request.extra)
    return kwargs


def structured_output_kwargs(schema: dict[str, Any], vllm_sampling: Any) -> dict[str, Any]:
    """Guided-JSON keyword arguments for the installed vLLM: ``structured_outputs`` since v0.11,
    ``guided_decoding`` before. ``vllm_sampling`` is the ``vllm.sampling_params`` module."""
    if hasattr(vllm_sampling, "StructuredOutputsParams"):
        return {"structured_outputs": vllm_sampling.StructuredOutputsParams(json=schema)}
    if hasattr(vllm_sampling, "GuidedDecodingParams"):
        return {"guided_decoding": vllm_sampling.GuidedDecodingParams(json=schema)}
    raise RuntimeError("this vLLM has neither StructuredOutputsParams nor GuidedDecodingParams")


@dataclass
class VLLMConfig:
    """Engine settings; ``engine_kwargs`` go to ``vllm.LLM`` unchanged (quantization, enforce_eager...)."""

    model: str = ""
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    dtype: str = "auto"
    seed: int = 0
    max_tokens: int = 1024
    engine_kwargs: dict[str, Any] = field(default_factory=dict)


class VLLMBackend(Backend):
    """Batched chat generation with ``vllm.LLM.chat``; the engine starts on the first batch."""

    name = "vllm"

    def __init__(self, config: VLLMConfig | None = None, **overrides: Any) -> None:
        self.config = config or VLLMConfig(**overrides)
        if not self.config.model:
            raise ValueError("the vllm backend needs model=<hub id or directory>")
        self.model = self.config.model
        self._llm: Any = None

    def _engine(self) -> Any:
        if self._llm is None:
            try:
                from vllm import LLM
            except ImportError as e:
                raise ImportError("the vllm backend needs vLLM: pip install vllm (on a CUDA machine)") from e
            c = self.config
            self._llm = LLM(
                model=c.model,
                tensor_parallel_size=c.tensor_parallel_size,
                gpu_memory_utilization=c.gpu_memory_utilization,
                max_model_len=c.max_model_len,
                dtype=c.dtype,
                seed=c.seed,
                **c.engine_kwargs,
            )
        return self._llm

    def _params(self, request: ChatRequest) -> Any:
        from vllm import SamplingParams
        from vllm import sampling_params as vllm_sampling

        kwargs = sampling_kwargs(request, self.config.max_tokens)
        if request.json_schema is not None:
            kwargs.update(structured_output_kwargs(request.json_schema, vllm_sampling))
        return SamplingParams(**kwargs)

    def _run(self, requests: list[ChatRequest]) -> list[ChatResult]:
        outputs = self._engine().chat(
            [r.messages for r in requests],
            sampling_params=[self._params(r) for r in requests],
            use_tqdm=False,
        )
        results = []
        for request, out in zip(requests, outputs):
            best = out.outputs[0]
            results.append(
                ChatResult(
                    text=best.text,
                    prompt_tokens=len(out.prompt_token_ids or ()),
                    completion_tokens=len(best.token_ids),
                    finish_reason=best.finish_reason,
                    key=request.cache_key(),
                )
            )
        return results

    def generate(
        self, requests: Sequence[ChatRequest], on_result: OnResult | None = None
    ) -> list[ChatResult]:
        requests = [self.resolve(r) for r in requests]
        if not requests:
            return []
        self._engine()  # a broken install or config should raise, not become per-request errors
        try:
            results = self._run(requests)
        except Exception:  # noqa: BLE001 - retried one by one below
            # One bad request (too long, bad schema) fails the whole batch call: isolate it.
            results = []
            for r in requests:
                try:
                    results.extend(self._run([r]))
                except Exception as e:  # noqa: BLE001 - becomes this request's error
                    results.append(ChatResult.failure(r, f"vllm: {type(e).__name__}: {e}"))
        if on_result is not None:
            for i, result in enumerate(results):
                on_result(i, result)
        return results

    def close(self) -> None:
        self._llm = None
