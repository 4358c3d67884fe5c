"""A backend that answers from a script: unit tests of LLM stages without a model or a network.

>>> backend = ScriptedBackend({"Hi": "Hello!"})
>>> backend.generate([ChatRequest(messages=[{"role": "user", "content": "Hi"}])])[0].text
'Hello!'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from crabkit.llm.base import Backend, ChatRequest, ChatResult, OnResult

__all__ = ["ScriptedBackend", "last_user_message"]

Answer = str | ChatResult | BaseException
Script = Callable[[ChatRequest], Answer] | Sequence[Answer] | Mapping[str, Answer]


def last_user_message(request: ChatRequest) -> str:
    """The content of the last user turn ('' if none): how a dict script is keyed."""
    for m in reversed(request.messages):
        if m["role"] == "user":
            return m["content"]
    return ""


class ScriptedBackend(Backend):
    """Answers each request from ``script``:

    - a function ``request -> answer`` (it may also raise),
    - a list of answers handed out in call order (running out is an error result),
    - a dict from the last user message to an answer (``default`` answers the rest, else an error).

    An answer is a string, a full :class:`ChatResult`, or an exception, which becomes an error
    result: that is how tests inject failures. ``calls`` counts requests seen; ``requests`` keeps them.
    """

    name = "scripted"

    def __init__(self, script: Script, model: str = "scripted", default: str | None = None) -> None:
        self.script, self.model, self.default = script, model, default
        self.calls = 0
        self.requests: list[ChatRequest] = []

    def _answer(self, request: ChatRequest) -> Answer:
        script = self.script
        if callable(script):
            return script(request)
        if isinstance(script, Mapping):
            prompt = last_user_message(request)
            if prompt in script:
                return script[prompt]
            if self.default is not None:
                return self.default
            return KeyError(f"no scripted answer for {prompt[:60]!r}")
        if self.calls - 1 < len(script):
            return script[self.calls - 1]
        return IndexError(f"script exhausted after {len(script)} answers")

    def generate(
        self, requests: Sequence[ChatRequest], on_result: OnResult | None = None
    ) -> list[ChatResult]:
        results = []
        for i, request in enumerate(self.resolve(r) for r in requests):
            self.calls += 1
            self.requests.append(request)
            key = request.cache_key()
            try:
                answer = self._answer(request)
            except Exception as e:  # noqa: BLE001 - a raising script is an injected failure, not a test crash
                answer = e
            if isinstance(answer, BaseException):
                result = ChatResult(error=f"{type(answer).__name__}: {answer}", key=key)
            elif isinstance(answer, ChatResult):
                result = ChatResult(**{**answer.to_json(), "key": key})
            else:
                result = ChatResult(
                    text=answer,
                    prompt_tokens=-(-request.prompt_chars() // 4),
                    completion_tokens=-(-len(answer) // 4),
                    finish_reason="stop",
                    key=key,
                )
            results.append(result)
            if on_result is not None:
                on_result(i, result)
        return results
