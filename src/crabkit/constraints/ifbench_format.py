"""IFBench's ``format:*`` instruction types (Pyatkin et al. 2025), scored exactly as the reference.

Each ``check`` gives the reference verifier's verdict (``../shared/oracles/ifbench/instructions.py``),
quirks included, since IFBench scores are only comparable when they are: ``format:sub-bullets``
splits at every ``*`` (bold text counts), ``format:no_bullets_bullets`` fails a blank line that is
followed by more prose, ``format:line_indent`` skips a blank line that follows another one (the
reference removes lines from the list it walks), ``format:thesis`` reads ``<em>`` spans one
character off, ``format:quotes`` takes every apostrophe for a quote mark, and a response without any
quotes or ``*`` satisfies ``format:quote_unquote`` and ``format:sub-bullets``. None of these checks
can raise on a response; the reference does not raise on these either.

Every type here is inferred, since an ordinary answer can show each of them: nested brackets (not
in formulas or code) and quotes (apostrophes aside), one word per line, an emoji closing every
sentence, stair-step indents, quotes each followed by an explanation, a list marked with something
other than bullets (and no bullets), an HTML-italic thesis opening a line, ``*`` bullets with ``-``
sub-bullets, prose then bullets, title case, the three-heading template, a whitespace-free answer,
and a bare yes, no or maybe (``format:options``). Inference asks more than the check wherever the
check is met trivially (no quotes at all, no ``*`` at all, a text in capitals), so only answers that
really show the feature get the constraint; the reference's fixed thresholds (five bracket levels,
three quote levels, two bullets) leave no number to round.
"""

from __future__ import annotations

import itertools
import random
import re
import string
from collections.abc import Mapping
from typing import Any, ClassVar

from crabkit import text

from ._ifbench import Check, IFBenchType, text_kwarg
from ._ifeval import get_str
from .registry import register

__all__ = [
    "EmojiSentences",
    "IndentStairs",
    "ItalicsThesis",
    "NestedParentheses",
    "NestedQuotes",
    "NewlineWords",
    "NoBulletsBullets",
    "NoWhitespace",
    "OptionsResponse",
    "OutputTemplate",
    "QuoteExplanation",
    "SpecialBulletList",
    "SubBullets",
    "TitleCase",
]

_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)
_NOT_BRACKET = re.compile(r"[^()\[\]{}]+")
_NOT_QUOTE = re.compile(r"[^\"']+")
_PUNCT_SPACE = string.punctuation + " "


@register
class NestedParentheses(IFBenchType):
    """Brackets (``()``, ``[]``, ``{}``, mixed) nested at least five deep, and closed in order.

    As the reference: a closing bracket that does not match the innermost open one (or closes
    nothing) forgets every open bracket and the depth reached; the check passes at the first
    matching close after the open brackets have reached depth five.
    """

    id = ifbench_id = "format:parentheses"
    phrasings = (
        (
            "Somewhere in your answer, nest brackets at least five levels deep (parentheses, square brackets "
            "and braces all count), closing each one properly."
        ),
        "Include at least one expression whose brackets are nested five or more levels deep, correctly closed.",
        "Make sure part of the reply nests parentheses, square brackets or curly braces at least five levels deep.",
        "Use deeply nested brackets somewhere: five levels or more, each closed in the right order.",
    )

    _PAIRS: ClassVar[dict[str, str]] = {")": "(", "]": "[", "}": "{"}
    DEPTH = 5

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        if not any(c in response for c in "([{"):
            return False
        open_marks: list[str] = []
        deepest = 0
        for char in _NOT_BRACKET.sub("", response):  # nothing else changes the verdict
            if char in "([{":
                open_marks.append(char)
                deepest = max(deepest, len(open_marks))
            elif char in self._PAIRS:
                if open_marks and open_marks[-1] == self._PAIRS[char]:
                    open_marks.pop()
                    if deepest >= self.DEPTH:  # after a pop the stack is always below its deepest
                        return True
                else:
                    open_marks, deepest = [], 0
        return False

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if sum(response.count(mark) for mark in "([{") < self.DEPTH:
            return None
        if any(mark in response for mark in _MATH_OR_CODE):
            return None  # deep brackets in a formula or a program are notation, not a request to nest
        return {} if self.check(response, {}) else None


_MATH_OR_CODE = ("```", "\\(", "\\[", "$", "\\frac", "    ")
_IN_WORD_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")


@register
class NestedQuotes(IFBenchType):
    """Quotes inside quotes inside quotes: three levels, alternating ``"`` and ``'``.

    As the reference, every ``'`` is a quote mark (apostrophes too): a mark equal to the innermost
    open one closes it, any other ``"`` or ``'`` opens a new level; the check passes once three
    levels below the deepest reached have closed.
    """

    id = ifbench_id = "format:quotes"
    phrasings = (
        (
            "Nest quotations at least three levels deep, switching between double and single quotes "
            "(a quote inside a quote inside a quote)."
        ),
        (
            "Somewhere in the answer, put a quote within a quote within a quote, alternating double and single "
            "quote marks."
        ),
        "Include a quotation that contains a quotation which itself contains one, alternating \" and '.",
    )

    DEPTH = 3

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        if '"' not in response and "'" not in response:
            return False
        open_marks: list[str] = []
        deepest = 0
        for char in _NOT_QUOTE.sub("", response):  # nothing else changes the verdict
            if open_marks and char == open_marks[-1]:
                open_marks.pop()
                if deepest - len(open_marks) >= self.DEPTH:
                    return True
            elif char in "\"'":
                open_marks.append(char)
                deepest = max(deepest, len(open_marks))
        return False

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        # Apostrophes in words ("don't") nest quotes for the reference; ask only where real quotes do.
        if response.count('"') < 2 or response.count("'") < 2:
            return None
        if not self.check(_IN_WORD_APOSTROPHE.sub("", response), {}):
            return None
        return {} if self.check(response, {}) else None


_STRICT_OPTIONS = re.compile(r"\W*[aA]\W*[bB]\W*[cC]\W*")


def parse_options(options: str) -> tuple[list[str], bool]:
    """The reference's reading of an ``options`` text: the options, and whether a response must be one
    of them exactly (lettered options ``a), b), c)``) rather than up to case and punctuation.

    The separator is ``/`` if present, else ``or`` anywhere (inside a word too), else ``,``.
    """
    strict = _STRICT_OPTIONS.match(options) is not None
    separator = "/" if "/" in options else "or" if "or" in options else ","
    return [option.strip() for option in options.split(separator)], strict


def _plain(value: str) -> str:
    return value.strip(_PUNCT_SPACE).lower()


@register
class OptionsResponse(IFBenchType):
    """The response is one of ``options`` and nothing else (see ``parse_options``).

    Lettered options must match exactly (no surrounding space); others match ignoring case and the
    punctuation and spaces around them.
    """

    id = ifbench_id = "format:options"
    kwargs_spec: ClassVar[dict[str, Check]] = {"options": text_kwarg}
    phrasings = (
        "Reply with only one of these options: {options}. Do not explain.",
        "Choose one of {options} and answer with that alone, without any explanation.",
        "Your whole answer should be one of the options {options}, nothing more.",
        "Just answer {options}; leave out any explanation.",
    )

    #: Bare answers worth asking for as a choice, and the options text each one asks for.
    _INFERRED: ClassVar[dict[str, str]] = {
        "yes": "yes/no/maybe",
        "no": "yes/no/maybe",
        "maybe": "yes/no/maybe",
    }

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        options, strict = parse_options(get_str(self.id, params, "options"))
        if strict:
            return response in options
        value = _plain(response)
        return any(_plain(option) == value for option in options)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if len(response) > 20:
            return None
        options = self._INFERRED.get(_plain(response))
        if options is None:
            return None
        params = {"options": options}
        return params if self.check(response, params) else None


def _newline_counts(response: str) -> tuple[int, int]:
    """(non-empty lines, words) of ``response`` without ASCII punctuation, as the reference counts:
    a line holding only spaces is a line, and words split at any whitespace."""
    value = response.translate(_NO_PUNCTUATION).strip()
    return sum(1 for line in value.split("\n") if line != ""), len(value.split())


@register
class NewlineWords(IFBenchType):
    """Each word on its own line: once ASCII punctuation is removed, as many non-empty lines as words."""

    id = ifbench_id = "format:newline"
    phrasings = (
        "Put each word on its own line.",
        "Write one word per line.",
        "Every word of the answer should be on a separate line.",
        "Break the answer so that each line holds exactly one word.",
    )

    _MIN_WORDS = 3

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        lines, words = _newline_counts(response)
        return lines == words

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "\n" not in response or response.count(" ") > 2 * response.count("\n") + 2:
            return None  # (one word per line leaves few spaces)
        lines, words = _newline_counts(response)
        return {} if lines == words >= self._MIN_WORDS else None


def _is_emoji(char: str) -> bool:
    import emoji

    return emoji.is_emoji(char)


def _emoji_sentences(response: str) -> tuple[bool, int]:
    """(whether every sentence ends with an emoji, the number of sentences), as the reference reads it.

    A sentence passes when, with ASCII punctuation removed and stripped, its last or second-to-last
    character is an emoji, or (not the last sentence) the next sentence starts with one; a sentence
    with nothing left fails, as does an empty next sentence.
    """
    sentences = text.sentences(response)
    for i, sentence in enumerate(sentences):
        stripped = sentence.translate(_NO_PUNCTUATION).strip()
        if not stripped:
            return False, len(sentences)
        if _is_emoji(stripped[-1]) or _is_emoji(stripped[-2] if len(stripped) > 1 else stripped[-1]):
            continue
        if i == len(sentences) - 1:
            return False, len(sentences)
        following = sentences[i + 1].translate(_NO_PUNCTUATION).strip()
        if not following or not _is_emoji(following[0]):
            return False, len(sentences)
    return True, len(sentences)


@register
class EmojiSentences(IFBenchType):
    """Every sentence (NLTK Punkt) ends with an emoji (the ``emoji`` package decides what is one)."""

    id = ifbench_id = "format:emoji"
    phrasings = (
        "End every sentence with an emoji.",
        "Finish each sentence with an emoji.",
        "Put an emoji at the end of each sentence you write.",
        "Make sure every sentence closes with an emoji.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return _emoji_sentences(response)[0]

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if not any(_is_emoji(char) for char in response[-16:] if not char.isascii()):
            return None  # the last sentence must end with one
        ok, n = _emoji_sentences(response)
        return {} if ok and n >= 2 else None


def _stair_lines(response: str) -> list[str]:
    """The lines the reference compares: blank lines removed the way its loop removes them.

    It removes lines from the list while iterating over it, so the line after a removed one is
    never looked at (a second blank line in a row stays), and ``list.remove`` takes the first line
    equal to the blank one, which may be an earlier blank line that was skipped.
    """
    lines = response.split("\n")
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            lines.remove(lines[i])
        i += 1
    return lines


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


@register
class IndentStairs(IFBenchType):
    """Each line indented by more spaces than the one before (blank lines dropped as the reference does)."""

    id = ifbench_id = "format:line_indent"
    phrasings = (
        "Indent each line a little more than the one before it, so the text looks like a staircase.",
        "Make a staircase: start every new line with more spaces than the previous one.",
        "Start each line further to the right than the last, using spaces.",
        "Shape the answer like stairs by indenting every line more deeply than the line above it.",
    )

    _MIN_LINES = 3

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        lines = _stair_lines(response)
        return all(_indent(lower) > _indent(upper) for upper, lower in itertools.pairwise(lines))

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "\n " not in response:
            return None
        lines = _stair_lines(response)
        return {} if len(lines) >= self._MIN_LINES and self.check(response, {}) else None


_NO_QUOTE_EDGE = string.digits + string.punctuation.replace('"', "")


@register
class QuoteExplanation(IFBenchType):
    """No two double quotes side by side (whitespace ignored), and the text does not end on a quote.

    As the reference: the three characters ``'"'`` are dropped first, and trailing digits and
    punctuation other than ``"`` are ignored when looking at the end; a text without any double
    quote passes.
    """

    id = ifbench_id = "format:quote_unquote"
    phrasings = (
        "Follow every quoted phrase with an explanation in your own, unquoted words.",
        "After each quotation, explain it in plain text outside the quotes; never end on a quote.",
        "Whenever you quote something, add an unquoted explanation right after it.",
        "Each phrase you put in double quotes must be followed by your own explanation of it.",
    )

    _MIN_QUOTES = 2

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        value = "".join(response.replace("'\"'", "").split())
        if '""' in value:
            return False
        stripped = value.strip(_NO_QUOTE_EDGE)
        return not (stripped and stripped[-1] == '"')

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        # Ask only where the answer quotes phrases and explains each one (a glossary, sayings, lyrics):
        # text with no quotes passes the check too, so quotes alone would tell answers apart by luck.
        if response.count('"') < 2 * self._MIN_QUOTES:
            return None
        quotes = list(_QUOTED_PHRASE.finditer(response))
        if len(quotes) < self._MIN_QUOTES or 2 * len(quotes) != response.count('"'):
            return None
        if not all(_EXPLANATION.match(response, quote.end()) for quote in quotes):
            return None
        return {} if self.check(response, {}) else None


_QUOTED_PHRASE = re.compile(r'"[^"\n]{1,80}"')
# Three words or more right after a quote (after its closing punctuation), on the same line.
_EXPLANATION = re.compile(r"[^\S\n]*[,.:;!?)\u2014-]*[^\S\n]*(?:[^\W\d_][\w'\u2019-]*[^\S\n]+){2}[^\W\d_]")


# Item markers that are not bullet points, and that a person could ask a list to use instead.
_ITEM_MARKER = re.compile(
    r"^[ \t]*(\u2192|->|=>|>>|\u00bb|~|\u2713|\u2714|\u27a4|\u25ba|\u25b6)[ \t]+\S", re.MULTILINE
)
_MIN_ITEMS = 2
_MARKDOWN_BULLET = re.compile(r"^[ \t]*[-*+\u2022][ \t]+\S", re.MULTILINE)


@register
class SpecialBulletList(IFBenchType):
    """``sep`` occurs at least twice in the response (anywhere: the reference counts every occurrence)."""

    id = ifbench_id = "format:list"
    kwargs_spec: ClassVar[dict[str, Check]] = {"sep": text_kwarg}
    phrasings = (
        "Give your answer as a list, marking each item with {sep} instead of a bullet point.",
        "List the items, starting each one with {sep} rather than a bullet.",
        "Use {sep} in place of bullet points to mark the items of your list.",
        "Answer with a list of items; instead of bullet points, use {sep}.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        # str.count counts non-overlapping occurrences, as re.findall of the escaped marker does.
        return response.count(get_str(self.id, params, "sep")) >= 2

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if _MARKDOWN_BULLET.search(response):
            return None  # "instead of bullet points" is only true of an answer that uses none
        counts: dict[str, int] = {}
        for match in _ITEM_MARKER.finditer(response):
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
        usable = sorted((n, marker) for marker, n in counts.items() if n >= _MIN_ITEMS)
        if not usable:
            return None
        params = {"sep": usable[-1][1]}
        return params if self.check(response, params) else None


def _thesis(response: str) -> tuple[str, str] | None:
    """(thesis, text after it) as the reference slices them, or None when it finds no italics.

    From the first ``<i>`` (else the first ``<em>``) on, up to the first ``</i>`` (else ``</em>``):
    the thesis starts three characters after the tag and the rest four characters after the close,
    so with ``<em>`` both keep a stray ``>`` (an ``</em>`` thesis is never followed by nothing).
    """
    index = response.find("<i>")
    if index == -1:
        index = response.find("<em>")
        if index == -1:
            return None
    value = response[index:]
    end = value.find("</i>")
    if end == -1:
        end = value.find("</em>")
        if end == -1:
            return None
    return value[3:end], value[end + 4 :]


@register
class ItalicsThesis(IFBenchType):
    """A non-blank thesis in HTML italics (``<i>`` or ``<em>``) followed by non-blank text."""

    id = ifbench_id = "format:thesis"
    phrasings = (
        "Open with a thesis statement in italics, marked up in HTML (<i>...</i>), and then develop it.",
        "Begin with your thesis in italics using the HTML <i> tag, followed by the rest of the answer.",
        "State your main claim first, in italics written with HTML tags, and explain it afterwards.",
        "Start each section with a thesis statement in HTML italics (<i> or <em>), then the discussion.",
    )

    _THESIS_LINE = re.compile(r"^[ \t#>*-]*<(i|em)>", re.MULTILINE)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        found = _thesis(response)
        return found is not None and found[0].strip() != "" and found[1].strip() != ""

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "<i>" not in response and "<em>" not in response:
            return None
        if not self._THESIS_LINE.search(response):
            return None  # italics inside a sentence are emphasis, not a thesis statement
        return {} if self.check(response, {}) else None


_STAR_BULLET = re.compile(r"^\*[ \t]+\S", re.MULTILINE)
_DASH_SUB_BULLET = re.compile(r"^[ \t]+-[ \t]+\S", re.MULTILINE)


@register
class SubBullets(IFBenchType):
    """After every ``*`` there is a ``-`` before the next ``*`` (the reference splits the text at each
    ``*``, bold and emphasis markers included; a text without ``*`` passes)."""

    id = ifbench_id = "format:sub-bullets"
    phrasings = (
        "Use bullet points marked with *, and give each of them at least one sub-point marked with -.",
        "Organise the answer as * bullet points, each with one or more - sub-bullets beneath it.",
        "Make a bulleted list with *, and under every bullet add at least one sub-bullet starting with -.",
        "Every * bullet point in your reply needs at least one - sub-bullet under it.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return all("-" in piece for piece in response.split("*")[1:])

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "*" not in response:
            return None
        bullets = len(_STAR_BULLET.findall(response))
        if bullets < 2 or len(_DASH_SUB_BULLET.findall(response)) < bullets:
            return None
        return {} if self.check(response, {}) else None


def _prose_then_bullets(response: str) -> bool:
    """The reference's reading: lines of prose (their Punkt sentences counted) until the first line
    starting with ``*``, then only such lines, with at least two sentences before and two bullets.

    A prose line with no sentence (a blank line) ends the prose: any prose line after it fails.
    """
    in_prose = True
    n_sentences = n_bullets = 0
    for line in response.split("\n"):
        if line.strip().startswith("*"):
            in_prose = False
            if n_sentences < 2:
                return False
            n_bullets += 1
        elif in_prose:
            found = text.sentences(line.strip())
            n_sentences += len(found)
            in_prose = bool(found)
        else:
            return False
    return n_bullets >= 2


@register
class NoBulletsBullets(IFBenchType):
    """At least two sentences of prose, then at least two ``*`` bullet lines and nothing after them."""

    id = ifbench_id = "format:no_bullets_bullets"
    phrasings = (
        (
            "Start with at least two sentences of plain prose, then finish with at least two bullet points "
            "marked with *."
        ),
        "Open with two or more full sentences, and end the answer with a list of at least two * bullets.",
        (
            "Write a short introduction of two sentences or more, followed by a closing list of * bullet points "
            "(two at least)."
        ),
        "First explain in at least two sentences without bullets, then list two or more points with *.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        if "*" not in response:
            return False
        return _prose_then_bullets(response)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if "\n*" not in response:
            return None
        return {} if self.check(response, {}) else None


def _title_case_verdict(words: list[str]) -> bool:
    """The reference's rule over NLTK word tokens: a token starting with a letter fails when it is a
    lone lower-case letter, or starts lower case and the rest is all lower or all upper case."""
    for word in words:
        if not word or not word[0].isalpha():
            continue
        if len(word) == 1:
            if word.islower():
                return False
            continue
        first, rest = word[0], word[1:]
        if first.isupper() and rest.islower():
            continue
        if first.islower() and (rest.isupper() or rest.islower()):
            return False
    return True


@register
class TitleCase(IFBenchType):
    """Every word (NLTK ``word_tokenize``) that starts with a letter is capitalised, as the reference
    judges it: a word in all capitals or mixed case passes too."""

    id = ifbench_id = "format:title_case"
    phrasings = (
        "Write the whole answer in title case, capitalising the first letter of every major word.",
        "Use title case for the entire response: every major word starts with a capital letter.",
        "Capitalise the first letter of each major word throughout your reply, as in a title.",
        "Put the complete answer in title case.",
    )

    _MIN_WORDS = 6
    _TITLED_SHARE = 0.6

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return _title_case_verdict(text.nltk_words(response))

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if _LOWER_WORD.search(response):
            return None  # a lower-case word fails the check (found without tokenizing the answer)
        words = [w for w in text.nltk_words(response) if w[:1].isalpha()]
        if len(words) < self._MIN_WORDS or not _title_case_verdict(words):
            return None
        titled = sum(1 for w in words if len(w) > 1 and w[0].isupper() and w[1:].islower())
        return {} if titled >= self._TITLED_SHARE * len(words) else None


_LOWER_WORD = re.compile(r"(?<![\w'\u2019.-])[a-z]{2,}(?![\w'\u2019.-])")
_TEMPLATE_HEADINGS = ("My Answer:", "My Conclusion:", "Future Outlook:")


@register
class OutputTemplate(IFBenchType):
    """The response contains ``My Answer:``, ``My Conclusion:`` and ``Future Outlook:`` (any order)."""

    id = ifbench_id = "format:output_template"
    phrasings = (
        (
            "Use this exact template for your answer: My Answer: [answer] My Conclusion: [conclusion] "
            "Future Outlook: [outlook]"
        ),
        "Structure the reply under three labels: 'My Answer:', 'My Conclusion:' and 'Future Outlook:'.",
        (
            "Fill in this template: My Answer: [your answer] My Conclusion: [your conclusion] "
            "Future Outlook: [your outlook]"
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return all(heading in response for heading in _TEMPLATE_HEADINGS)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        return {} if self.check(response, {}) else None


@register
class NoWhitespace(IFBenchType):
    """No whitespace character at all (``str.isspace``: spaces, tabs, line breaks, NBSP, U+001C-1F...)."""

    id = ifbench_id = "format:no_whitespace"
    phrasings = (
        "Do not use any whitespace in your answer: no spaces, tabs or line breaks.",
        "Write the answer without a single space or line break.",
        "Your output must contain no whitespace at all.",
        "Answer with no spaces, tabs or newlines anywhere.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return not any(char.isspace() for char in response)

    def infer(self, response: str, rng: random.Random, instruction: str = "") -> dict[str, Any] | None:
        if len(response) < 2 or not any(c.isalnum() for c in response):
            return None
        return {} if self.check(response, {}) else None
