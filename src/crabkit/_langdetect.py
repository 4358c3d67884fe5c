"""langdetect's ``detect``, giving the same answer bit for bit, several times faster.

IFEval decides its language and case checks with langdetect, whose pure-Python inner loops cost
about 5 ms per text. This module runs the same algorithm on langdetect's own profiles with the same
random stream and the same floating-point operations in the same order, so every probability (and
so every verdict) is identical:

* text preparation is langdetect's (URL/e-mail removal, Vietnamese normalisation, 10,000-character
  cap, space collapsing, dropping Latin letters from mostly non-Latin text), done with regexes;
* n-grams are langdetect's per-character state machine, memoised per word (a word's n-grams do
  not depend on its neighbours) with character normalisation as a ``str.translate`` table;
* each trial multiplies a numpy vector by the n-gram's probability row plus the smoothing weight;
  element-wise products and quotients are exactly rounded, and the normalising sum stays Python's
  ``sum`` over the list, as in langdetect.

The profiles are converted once into a compact sparse form cached beside crabkit's other data
(``$CRABKIT_CACHE`` or ``~/.cache/crabkit``), which loads ten times faster than langdetect's JSON.
Without numpy, or on a Python whose ``Random.choice`` draws differently, ``detect`` runs langdetect
itself. ``seed`` is always explicit: nothing here reads or changes global random state.
"""

from __future__ import annotations

import functools
import itertools
import os
import random
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["clear_cache", "detect"]

_N_TRIAL = 7
_ALPHA = 0.5
_ALPHA_WIDTH = 0.05
_ITERATION_LIMIT = 1000
_PROB_THRESHOLD = 0.1
_CONV_THRESHOLD = 0.99999
_BASE_FREQ = 10000
_MAX_TEXT_LENGTH = 10000

_SPACES = re.compile(" +")
_LATIN = re.compile("[A-z]")
_NON_LATIN = re.compile("[\u0300-\U0010ffff]")
# Bounds the per-word n-gram memo (~200 bytes a word: at most ~20 MB); clearing it only costs
# recomputation. A chat corpus's common words fit many times over.
_MAX_MEMO = 100_000


class _Normalizer(dict):
    """``str.translate`` table that fills itself with langdetect's per-character normalisation."""

    def __missing__(self, code: int) -> str:
        from langdetect.utils.ngram import NGram

        self[code] = value = NGram.normalize(chr(code))
        return value


@dataclass(frozen=True)
class _Model:
    """langdetect's profiles, sparse: n-gram -> index, and per index its non-zero (language, p)."""

    index: dict[str, int]
    langs: list[str]
    indptr: Any  # numpy int64 array, len(index) + 1
    lang_ids: Any  # numpy int64 array
    probs: Any  # numpy float64 array: langdetect's freq / n_words, the same doubles

    def row(self, i: int) -> Any:
        """The dense probability row of the n-gram numbered ``i`` (one entry per language, zeros included)."""
        import numpy as np

        start, stop = self.indptr[i], self.indptr[i + 1]
        out = np.zeros(len(self.langs))
        out[self.lang_ids[start:stop]] = self.probs[start:stop]
        return out


def _cache_file() -> Path:
    from importlib.metadata import version

    from crabkit.text import _cache_root

    return _cache_root() / "langdetect" / f"profiles-{version('langdetect')}.npz"


def _profile_order() -> list[str]:
    from langdetect import detector_factory

    folder = detector_factory.PROFILES_DIRECTORY
    return [
        f for f in os.listdir(folder) if not f.startswith(".") and os.path.isfile(os.path.join(folder, f))
    ]


def _build_model() -> _Model:
    import numpy as np
    from langdetect import detector_factory

    factory = detector_factory.DetectorFactory()
    factory.load_profile(detector_factory.PROFILES_DIRECTORY)
    grams = list(factory.word_lang_prob_map)
    indptr, lang_ids, probs = [0], [], []
    for gram in grams:
        for j, p in enumerate(factory.word_lang_prob_map[gram]):
            if p:
                lang_ids.append(j)
                probs.append(p)
        indptr.append(len(probs))
    return _Model(
        {g: i for i, g in enumerate(grams)},
        list(factory.langlist),
        np.array(indptr, dtype=np.int64),
        np.array(lang_ids, dtype=np.int64),
        np.array(probs, dtype=np.float64),
    )


def _save_model(model: _Model, path: Path) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".profiles-", suffix=".npz", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        np.savez(
            f,
            grams=np.array(list(model.index)),
            langs=np.array(model.langs),
            indptr=model.indptr,
            lang_ids=model.lang_ids,
            probs=model.probs,
        )
    os.replace(tmp, path)  # atomic: a concurrent first use never reads half a file


@functools.lru_cache(maxsize=1)
def _model() -> _Model:
    import numpy as np

    path = _cache_file()
    try:
        with np.load(path) as data:
            model = _Model(
                {g: i for i, g in enumerate(data["grams"].tolist())},
                data["langs"].tolist(),
                data["indptr"],
                data["lang_ids"],
                data["probs"],
            )
        # langdetect orders languages as the profile directory lists them, and that order fixes the
        # order of its floating-point sums: a cache built for another order is rebuilt.
        if model.langs == _profile_order():
            return model
    except (OSError, ValueError, KeyError):
        pass  # not built yet (or unreadable): build from langdetect's JSON profiles
    model = _build_model()
    try:
        _save_model(model, path)
    except OSError:
        pass  # a read-only cache only costs the rebuild next time
    return model


_normalizer = _Normalizer()
# N-grams per normalised word: followed by a space, or the text's last word.
_word_memo: dict[str, tuple[str, ...]] = {}
_last_word_memo: dict[str, tuple[str, ...]] = {}
# Verdicts by (seed, prepared text): the one memo of detection results, shared by every caller
# (a response is detected for infer, then again by its check). Bounded small: each entry holds a
# copy of its text, and a larger memo would only fill slowly over a long run.
_verdicts: dict[tuple[int, str], str] = {}
_MAX_VERDICTS = 256


def _prepare(text: str) -> str:
    """langdetect's ``Detector.append`` followed by ``cleaning_text``.

    Each substitution is skipped when the text holds nothing it could match (no ``http``, no ``@``,
    no combining mark, nothing past U+02FF): the result is the same, without scanning for it.
    """
    from langdetect.detector import Detector
    from langdetect.utils.ngram import NGram

    if "http" in text:
        text = Detector.URL_RE.sub(" ", text)
    if "@" in text:
        text = Detector.MAIL_RE.sub(" ", text)
    ascii_only = text.isascii()
    if not ascii_only and any(mark in text for mark in NGram.DMARK_CLASS):
        text = NGram.normalize_vi(text)
    text = text[:_MAX_TEXT_LENGTH]
    if "  " in text:
        text = _SPACES.sub(" ", text)
    # langdetect compares the block *number* to a block *name* here, so every character from
    # U+0300 up counts as non-Latin; we keep that. Latin letters are counted only as far as it
    # takes to decide (``latin * 2 < non_latin`` is ``latin < ceil(non_latin / 2)``).
    if not ascii_only:
        non_latin = len(_NON_LATIN.findall(text))
        enough = (non_latin + 1) // 2
        if non_latin and sum(1 for _ in itertools.islice(_LATIN.finditer(text), enough)) < enough:
            text = _LATIN.sub("", text)
    return text


def _word_ngrams(word: str, trailing_space: bool, known: dict[str, int]) -> tuple[int, ...]:
    """langdetect's ``NGram.add_char`` loop over one normalised word, which always starts afresh.

    After each character langdetect offers the last 1, 2 and 3 characters of " word " (padded)
    unless both this character and the one before are upper case ("capital word"); only n-grams
    its profiles know are kept, each as its number in the profiles (``known[gram]``: the dict's own
    int, so a remembered word costs a tuple of references, not a string per n-gram). Each 2- and
    3-gram is built from the two characters before it; most words (lower-case or capitalised) have
    no two capitals in a row and skip the case test.
    """
    padded = " " + word + " " if trailing_space else " " + word
    capitals = not word[1:].islower()
    out: list[int] = []
    append = out.append
    get = known.get
    before, last = " ", padded[1]  # the padding space (never a capital) and the word's first character
    if (i := get(last)) is not None:
        append(i)
    if (i := get(before + last)) is not None:
        append(i)
    for ch in padded[2:]:
        if capitals and ch.isupper() and last.isupper():
            before, last = last, ch
            continue
        if ch != " " and (i := get(ch)) is not None:
            append(i)
        gram = last + ch
        if (i := get(gram)) is not None:
            append(i)
        if (i := get(before + gram)) is not None:
            append(i)
        before, last = last, ch
    return tuple(out)


def _ngrams(text: str, known: dict[str, int]) -> list[int]:
    """The n-grams langdetect collects from ``text`` (already ``_prepare``d), in its order, as their
    numbers in the profiles (``known``: n-gram -> number).

    langdetect normalises every character, splits at spaces and pads each word with a space on
    both sides (the last word only before it); words repeat, so their n-grams are remembered.
    """
    if len(_word_memo) + len(_last_word_memo) > _MAX_MEMO:
        _word_memo.clear()
        _last_word_memo.clear()
    *inner, last = text.translate(_normalizer).split(" ")
    # Every piece but the last is followed by a space.
    grams = list(map(_word_memo.get, inner))
    for index, found in enumerate(grams):
        if found is None:
            word = inner[index]
            grams[index] = _word_memo[word] = _word_ngrams(word, True, known) if word else ()
    found = _last_word_memo.get(last)
    if found is None:
        found = _last_word_memo[last] = _word_ngrams(last, False, known) if last else ()
    grams.append(found)
    return list(itertools.chain.from_iterable(grams))


class _DenseRows:
    """Dense probability rows of recently drawn n-grams, kept in one matrix so that the rows of a
    chunk of draws are gathered by one ``np.take`` (most n-grams have non-zero probabilities in
    only two or three languages, so the sparse model is expanded row by row, on first draw)."""

    def __init__(self, model: _Model, capacity: int) -> None:
        import numpy as np

        self.model = model
        self.capacity = capacity
        self.matrix = np.zeros((capacity, len(model.langs)))
        self.slots: dict[int, int] = {}  # n-gram number -> row of the matrix

    def reserve(self, most: int) -> None:
        """Make room for ``most`` new rows (forgetting all rows when they would not fit)."""
        if len(self.slots) + most > self.capacity:
            self.slots.clear()

    def slot(self, gram: int) -> int:
        found = self.slots.get(gram)
        if found is None:
            found = self.slots[gram] = len(self.slots)
            self.matrix[found] = self.model.row(gram)
        return found


#: Draws one detection can make: every trial stops by its iteration limit.
_MOST_DRAWS = _N_TRIAL * (_ITERATION_LIMIT + 1)
_dense: list[_DenseRows] = []
# The dense rows are shared and filled as drawn: one detection at a time uses them.
_dense_lock = threading.Lock()


def _dense_rows(model: _Model) -> _DenseRows:
    if not _dense or _dense[0].model is not model:
        _dense[:] = [_DenseRows(model, 2 * _MOST_DRAWS + 2048)]  # ~7 MB
    return _dense[0]


def _probabilities(ngrams: list[int], model: _Model, seed: int) -> list[float]:
    """langdetect's ``_detect_block`` trials over ``ngrams``; returns the averaged probabilities."""
    return _trials(ngrams, model, seed, stop_when_decided=False)


def _trials(ngrams: list[int], model: _Model, seed: int, stop_when_decided: bool) -> list[float]:
    with _dense_lock:
        return _run_trials(ngrams, model, seed, stop_when_decided)


def _run_trials(ngrams: list[int], model: _Model, seed: int, stop_when_decided: bool) -> list[float]:
    """langdetect's trials, in chunks of the five draws between two normalisations.

    langdetect multiplies the probability vector by ``p + weight`` once per draw and normalises it
    after draws 0, 5, 10, ...; here each chunk's rows are gathered and added to ``weight`` at once,
    and ``np.multiply.reduce`` over ``[prob, f1, ..., f5]`` multiplies them in that same order, so
    every product, sum and quotient is the same double as langdetect's.

    With ``stop_when_decided``, trials stop once the leading language cannot be overtaken: each
    remaining trial adds at most ``1 / 7`` to any language, so a lead larger than what is left
    fixes langdetect's verdict; the partial sums returned then name the same language.
    """
    import numpy as np

    n_lang = len(model.langs)
    dense = _dense_rows(model)
    dense.reserve(_MOST_DRAWS)
    matrix, slots, slot = dense.matrix, dense.slots, dense.slot
    rng = random.Random(seed)
    # rng.choice(ngrams) inlined (it is ngrams[rng._randbelow(n)], rejection-sampling getrandbits):
    # the same draws, two Python calls fewer per draw.
    getrandbits = rng.getrandbits
    n = len(ngrams)
    bits = n.bit_length()
    langprob = np.zeros(n_lang)
    chunk = np.empty((6, n_lang))  # row 0: the normalised vector; rows 1..5: this chunk's factors
    row0 = chunk[0]
    # Views for the first chunk (draw 0 alone) and for every later one (five draws).
    first, later = (chunk[1:2], chunk[:2], 1), (chunk[1:6], chunk[:6], 5)
    take, add, reduce, divide = matrix.take, np.add, np.multiply.reduce, np.divide
    uniform = 1.0 / n_lang
    for trial in range(_N_TRIAL):
        row0.fill(uniform)
        weight = (_ALPHA + rng.gauss(0.0, 1.0) * _ALPHA_WIDTH) / _BASE_FREQ
        i = 0  # langdetect's iteration index of the first draw in this chunk
        factors, block, size = first  # normalisation comes after draw 0, then after every fifth
        while True:
            picks = []
            for _ in range(size):
                r = getrandbits(bits)
                while r >= n:
                    r = getrandbits(bits)
                gram = ngrams[r]
                found = slots.get(gram)
                picks.append(slot(gram) if found is None else found)
            take(picks, 0, factors, "clip")
            add(factors, weight, out=factors)  # langdetect's weight + p
            prob = reduce(block, 0)
            i += size - 1
            values = prob.tolist()
            total = sum(values)  # Python's sum, exactly as langdetect sums
            divide(prob, total, out=row0)
            # Division by a positive number keeps order, so max(p / s) == max(p) / s exactly.
            if max(values) / total > _CONV_THRESHOLD or i >= _ITERATION_LIMIT:
                break
            i += 1
            factors, block, size = later
        langprob += row0 / _N_TRIAL
        if stop_when_decided and trial < _N_TRIAL - 1:
            values = langprob.tolist()
            lead = max(values)
            leader = values.index(lead)
            runner_up = max(values[:leader] + values[leader + 1 :])
            if lead > _PROB_THRESHOLD and lead - runner_up > (_N_TRIAL - 1 - trial) / _N_TRIAL + 1e-9:
                return values
    return langprob.tolist()


def _draw(rng: random.Random, n: int) -> int:
    bits = n.bit_length()
    r = rng.getrandbits(bits)
    while r >= n:
        r = rng.getrandbits(bits)
    return r


@functools.lru_cache(maxsize=1)
def _inlined_choice_matches() -> bool:
    """Whether this Python's ``Random.choice`` draws as the inlined loop does (checked once)."""
    for size in (1, 2, 5, 1000, 12345):
        seq = range(size)
        a, b = random.Random(size), random.Random(size)
        if any(a.choice(seq) != _draw(b, size) for _ in range(64)):
            return False
    return True


@functools.lru_cache(maxsize=1)
def _fast_path() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:  # pragma: no cover - numpy comes with pyarrow and the extras
        return False
    return _inlined_choice_matches()


def detect(text: str, seed: int = 0) -> str:
    """The language code langdetect's ``detect`` returns for ``text`` with ``DetectorFactory.seed = seed``.

    Raises ``langdetect.LangDetectException`` when the text has no features, as langdetect does.
    """
    if not _fast_path():  # pragma: no cover - see _fast_path
        return _slow_detect(text, seed)
    from langdetect.lang_detect_exception import ErrorCode, LangDetectException

    model = _model()
    prepared = _prepare(text)
    key = (seed, prepared)
    found = _verdicts.get(key)
    if found is None:
        ngrams = _ngrams(prepared, model.index)
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        if len(_verdicts) >= _MAX_VERDICTS:
            _verdicts.pop(next(iter(_verdicts)))
        probs = _trials(ngrams, model, seed, stop_when_decided=True)
        found = _verdicts[key] = _top_language(model.langs, probs)
    return found


def _top_language(langs: list[str], probs: list[float]) -> str:
    ranked = sorted(
        ((lang, p) for lang, p in zip(langs, probs) if p > _PROB_THRESHOLD), key=lambda x: x[1], reverse=True
    )
    return ranked[0][0] if ranked else "unknown"


def clear_cache() -> None:
    """Forget every memo built from texts (verdicts, per-word n-grams); the loaded model stays."""
    _verdicts.clear()
    _word_memo.clear()
    _last_word_memo.clear()


def _slow_detect(text: str, seed: int) -> str:  # pragma: no cover - see _fast_path
    from langdetect import detector_factory

    detector_factory.init_factory()
    detector = detector_factory._factory.create()
    detector.seed = seed
    detector.append(text)
    return detector.detect()
