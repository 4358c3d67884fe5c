"""LLM backends behind one protocol, and the response cache in front of them.

>>> from crabkit.llm import ChatRequest, make_backend
>>> backend = make_backend("scripted", script=lambda request: "ok")
>>> backend.generate([ChatRequest(messages=[{"role": "user", "content": "Say ok"}])])[0].text
'ok'

Heavy dependencies (aiohttp, torch, transformers, vLLM) are imported only when a backend runs.
"""

from crabkit.llm.base import Backend, BackendUnavailable, ChatRequest, ChatResult, OnResult
from crabkit.llm.cache import CachedBackend, CacheStats, ResponseCache
from crabkit.llm.factory import make_backend
from crabkit.llm.local import LocalBackend, LocalConfig, find_embedded_gguf
from crabkit.llm.openai_compat import OpenAIBackend, OpenAIConfig
from crabkit.llm.scripted import ScriptedBackend
from crabkit.llm.vllm_backend import VLLMBackend, VLLMConfig

__all__ = [
    "Backend",
    "BackendUnavailable",
    "CacheStats",
    "CachedBackend",
    "ChatRequest",
    "ChatResult",
    "LocalBackend",
    "LocalConfig",
    "OnResult",
    "OpenAIBackend",
    "OpenAIConfig",
    "ResponseCache",
    "ScriptedBackend",
    "VLLMBackend",
    "VLLMConfig",
    "find_embedded_gguf",
    "make_backend",
]
