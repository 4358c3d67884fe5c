"""crabkit._langdetect gives langdetect's exact probabilities and verdicts, from a cached model."""

from __future__ import annotations

import random

import pytest
from langdetect import detector_factory
from langdetect.lang_detect_exception import LangDetectException

from crabkit import _langdetect

TEXTS = [
    "This is an English sentence about the weather today, and it is sunny.",
    "HELLO WORLD, THIS IS AN ENGLISH SENTENCE WRITTEN IN CAPITAL LETTERS.",
    "this is an english sentence written only in lowercase letters.",
    "Ceci est une phrase en français sur le temps qu'il fait aujourd'hui.",
    "Das ist ein deutscher Satz über das Wetter, und es regnet ein bisschen.",
    "Este es un texto en español sobre el clima de hoy en la ciudad.",
    "Это предложение на русском языке о погоде сегодня в городе.",
    "ПРИВЕТ, ЭТО ПРЕДЛОЖЕНИЕ НА РУССКОМ ЯЗЫКЕ.",
    "これは今日の天気についての日本語の文章です。",
    "这是一个关于今天天气的中文句子。",
    "이것은 오늘 날씨에 관한 한국어 문장입니다.",
    "هذه جملة باللغة العربية عن الطقس اليوم.",
    "यह आज के मौसम के बारे में हिंदी में एक वाक्य है।",
    "Tiếng Việt có dấu, thời tiết hôm nay đẹp.",
    "Mixed English text with a few French mots et quelques phrases.",
    "# Title\n\n* **bold** item\n* another item with `code` and [a link](https://example.com)",
    "Contact me at someone@example.com or visit https://example.org/path?x=1 today.",
    "Ab AB aB ABC abc A b C DEF ghi JKL mno",
    "a",
    "x" * 12000,
]


def _langdetect_probabilities(text: str) -> list[float] | None:
    detector_factory.init_factory()
    detector = detector_factory._factory.create()
    detector.seed = 0
    detector.append(text)
    try:
        detector.get_probabilities()
    except LangDetectException:
        return None
    return list(detector.langprob)


def _fast_probabilities(text: str) -> list[float] | None:
    model = _langdetect._model()
    ngrams = _langdetect._ngrams(_langdetect._prepare(text), model.index)
    return _langdetect._probabilities(ngrams, model, 0) if ngrams else None


def _random_texts(n: int) -> list[str]:
    rng = random.Random(7)
    return ["".join(chr(rng.randrange(32, 0x3100)) for _ in range(rng.randrange(1, 40))) for _ in range(n)]


@pytest.mark.parametrize("text", TEXTS + _random_texts(20))
def test_probabilities_are_bit_identical_to_langdetect(text):
    assert _fast_probabilities(text) == _langdetect_probabilities(text)


def test_detect_returns_langdetect_verdict_and_raises_on_featureless_text():
    detector_factory.init_factory()
    for text in TEXTS[:8]:
        detector = detector_factory._factory.create()
        detector.seed = 0
        detector.append(text)
        assert _langdetect.detect(text, seed=0) == detector.detect()
    with pytest.raises(LangDetectException):
        _langdetect.detect("12345 !!! ...", seed=0)


def test_seed_is_explicit_and_global_random_is_untouched():
    state = random.getstate()
    _langdetect.clear_cache()
    _langdetect.detect(TEXTS[0], seed=3)
    assert random.getstate() == state


def test_model_cache_is_written_once_and_reloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("CRABKIT_CACHE", str(tmp_path))
    _langdetect._model.cache_clear()
    try:
        built = _langdetect._model()
        files = list(tmp_path.rglob("*.npz"))
        assert len(files) == 1
        _langdetect._model.cache_clear()
        loaded = _langdetect._model()
        assert loaded.langs == built.langs
        assert (loaded.probs == built.probs).all() and loaded.index == built.index
        assert list(loaded.row(loaded.index["th"])) == list(built.row(built.index["th"]))
    finally:
        _langdetect._model.cache_clear()


def test_cache_for_another_language_order_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("CRABKIT_CACHE", str(tmp_path))
    _langdetect._model.cache_clear()
    try:
        model = _langdetect._model()
        path = next(tmp_path.rglob("*.npz"))
        shuffled = _langdetect._Model(
            model.index, list(reversed(model.langs)), model.indptr, model.lang_ids, model.probs
        )
        _langdetect._save_model(shuffled, path)
        _langdetect._model.cache_clear()
        assert _langdetect._model().langs == model.langs
    finally:
        _langdetect._model.cache_clear()
