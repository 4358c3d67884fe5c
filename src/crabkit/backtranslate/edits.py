"""Verified response edits: give a response a feature users ask for that answers rarely show.

Back-translation can only ask for what a response already does, and most answers never add a P.S.,
wrap themselves in quotes, write in all capitals or label their sections ``SECTION 1``: IFEval's
requests for those (about half of its instructions) would never appear in the data. An edit makes
the feature true without changing what the answer says:

==================  ==========================================  =====================================
edit                what it does                                asked as
==================  ==========================================  =====================================
postscript          the closing follow-up line becomes a P.S.   detectable_content:postscript
quotation           the answer wrapped in double quotes         startend:quotation
lowercase           every letter lower case (English, no code)  change_case:english_lowercase
uppercase           every letter capital (English, no code)     change_case:english_capital
title               the opening heading becomes ``<<title>>``   detectable_format:title
star_paragraphs     prose paragraphs divided by ``***`` lines   length_constraints:number_paragraphs
sections            headings relabelled ``SECTION 1..n``        detectable_format:multiple_sections
json                the answer as a JSON document               detectable_format:json_format
no_comma            commas dropped or made semicolons           punctuation:no_comma
placeholders        a letter's names become ``[Your Name]``     detectable_content:number_placeholders
yes_no              "Yes, ..." becomes "My answer is yes. ..."  detectable_format:constrained_response
two_responses       this answer and a sibling, split by ******  combination:two_responses
repeat_prompt       the request repeated before the answer      combination:repeat_prompt
==================  ==========================================  =====================================

Every edited response is back-translated again from scratch, and the edit is kept only when its
target type is inferred (so checked) on the new text; the record keeps the original response.
``repeat_prompt`` changes nothing here: the request to repeat is only known once the prompt is
composed, so composition applies it (``DEFERRED``). ``two_responses`` needs a sibling response.

Adding an edit is one class with ``id``, ``target`` and ``apply`` plus the ``@register_edit`` line.
"""

from __future__ import annotations

import json
import random
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from crabkit import text

__all__ = ["DEFERRED", "EDITS", "Edit", "EditConfig", "EditContext", "register_edit"]

#: Edits applied when the example is composed, not to the seed's response.
DEFERRED = frozenset({"repeat_prompt"})


@dataclass
class EditConfig:
    """``rate``: share of seeds given an edit (0 turns edits off). ``weights``: edit id -> relative
    weight (0 disables one edit); edits not listed weigh 1."""

    rate: float = 0.3
    # The request repeated before the answer fits nearly every seed; IFEval asks it of 1 prompt in 13.
    weights: dict[str, float] = field(default_factory=lambda: {"repeat_prompt": 0.5})

    def __post_init__(self) -> None:
        if not isinstance(self.rate, (int, float)) or not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"edits.rate must be a number between 0 and 1, got {self.rate!r}")
        unknown = sorted(set(self.weights) - set(EDITS))
        if unknown:
            raise ValueError(f"edits.weights: unknown edit {unknown[0]!r}; known: {', '.join(sorted(EDITS))}")

    def weight(self, edit_id: str) -> float:
        return float(self.weights.get(edit_id, 1.0))


@dataclass(frozen=True)
class EditContext:
    """What an edit may read: the request, the response, other responses to the same request."""

    instruction: str
    response: str
    siblings: tuple[str, ...] = ()


class Edit(ABC):
    """One response edit: ``apply`` returns the edited response, or None where it does not fit."""

    id: ClassVar[str]
    #: The constraint type the edited response must satisfy (inferred and checked afterwards).
    target: ClassVar[str]
    #: Tried on every seed, not only on the ``rate`` share: it fits so few responses (a yes/no
    #: question answered yes or no, a letter with names) that it would hardly ever be seen.
    eager: ClassVar[bool] = False

    @abstractmethod
    def apply(self, ctx: EditContext, rng: random.Random) -> str | None: ...


EDITS: dict[str, Edit] = {}


def register_edit(cls: type[Edit]) -> type[Edit]:
    inst = cls()
    if inst.id in EDITS:
        raise ValueError(f"edit {inst.id!r} registered twice")
    EDITS[inst.id] = inst
    return cls


# -- shared tests ------------------------------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)
_STRUCTURED = re.compile(r"^[ \t]*(?:[#>|`~]|[-*+\u2022][ \t]|\d{1,3}[.)][ \t])", re.MULTILINE)
_WORDS_MIN = 15


def _has_code(response: str) -> bool:
    return _FENCE.search(response) is not None or "`" in response


def _english_prose(response: str, most_words: int | None = None) -> bool:
    """English text without code, long enough to show the feature (and not too long, if asked)."""
    from crabkit.constraints.language import reads_as_english

    n = text.count_words(response)
    if n < _WORDS_MIN or (most_words is not None and n > most_words):
        return False
    return not _has_code(response) and reads_as_english(response)


# -- the edits --------------------------------------------------------------------------------------

# A closing line that offers more help or signs off: the line a letter would put in a P.S.
_FOLLOW_UP = re.compile(
    r"\b(?:let me know|feel free|hope (?:this|that|these|it|you)|if you (?:have|need|want|'d like|would like)|"
    r"happy to help|glad to help|don't hesitate|do not hesitate|good luck|best of luck|enjoy|have fun|"
    r"would you like|do you want|want me to|i can also|i'd be happy|i would be happy|just ask|reach out|"
    r"stay safe|take care|cheers)\b",
    re.IGNORECASE,
)
_SENTENCE_GAP = re.compile(r"(?<=[.!?])[\"')\]\u201d\u2019]*\s+(?=[\"'(\[\u201c\u2018]?[A-Z])")
_PS_WORDS = (3, 45)


@register_edit
class Postscript(Edit):
    """The closing follow-up sentence ("Let me know if...") moves into a P.S. line."""

    id = "postscript"
    target = "detectable_content:postscript"

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        body = ctx.response.rstrip()
        if re.search(r"\bp\.\s?s\b", body, re.IGNORECASE) or body.endswith(("```", "~~~", "|")):
            return None
        head, _, last = body.rpartition("\n")
        if not last.strip() or _STRUCTURED.match(last):
            return None
        # The last sentence of the last line, when it is the follow-up.
        starts = [m.end() for m in _SENTENCE_GAP.finditer(last)]
        cut = starts[-1] if starts else 0
        closing = last[cut:].strip()
        n = text.count_words(closing)
        if not _PS_WORDS[0] <= n <= _PS_WORDS[1] or not _FOLLOW_UP.search(closing):
            return None
        before = (head + "\n" + last[:cut]).rstrip() if cut else head.rstrip()
        if not before.strip():
            return None  # the whole answer is the follow-up
        closing = closing.lstrip("*_ ").rstrip("*_ ") or closing
        return f"{before}\n\nP.S. {closing}"


@register_edit
class Quotation(Edit):
    """The whole answer wrapped in double quotes (answers holding a double quote or code excluded)."""

    id = "quotation"
    target = "startend:quotation"

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        body = ctx.response.strip()
        if '"' in body or _has_code(body) or text.count_words(body) < _WORDS_MIN:
            return None
        return f'"{body}"'


@register_edit
class Lowercase(Edit):
    """Every letter lower case: English prose without code (code and URLs would break)."""

    id = "lowercase"
    target = "change_case:english_lowercase"

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        if not _english_prose(ctx.response) or _URL.search(ctx.response):
            return None
        edited = ctx.response.lower()
        return edited if edited.islower() else None


@register_edit
class Uppercase(Edit):
    """Every letter capital: English prose without code, and not too long to read in capitals."""

    id = "uppercase"
    target = "change_case:english_capital"
    most_words: ClassVar[int] = 400

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        if not _english_prose(ctx.response, self.most_words) or _URL.search(ctx.response):
            return None
        edited = ctx.response.upper()
        return edited if edited.isupper() else None


_TITLE_LINE = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+(?P<h>.+?)[ \t#]*|\*\*(?P<b>[^*\n]+?)\*\*:?|[Tt]itle:[ \t]*(?P<t>.+?))[ \t]*$")
_TITLE_WORDS = (1, 12)
# A piece of writing that takes a title, and what it is about ("a poem about autumn leaves").
_WRITING_ABOUT = re.compile(
    r"\b(?:poem|story|essay|article|blog post|blog|letter|email|e-mail|song|speech|script|review|report|"
    r"haiku|limerick|sonnet|ballad|tale|fable|toast|eulogy|newsletter|press release|cover letter|rap)\b"
    r"[^.?!\n]*?\b(?:about|on|titled|called|for|describing)\s+(?P<topic>[^.?!,;:\n]{3,60}?)\s*(?:[.?!,;:\n]|$)",
    re.IGNORECASE,
)
_TOPIC_WORDS = (1, 7)
_SMALL_WORDS = frozenset(["a", "an", "the", "of", "and", "or", "for", "to", "in", "on", "at", "by", "with", "from", "my", "your", "our", "their", "his", "her", "its"])


def _title_case(topic: str) -> str:
    words = topic.split()
    return " ".join(w if (i and w.lower() in _SMALL_WORDS) or not w.islower() else w.capitalize()
                    for i, w in enumerate(words))  # fmt: skip


@register_edit
class Title(Edit):
    """The answer's opening heading (``# X``, a bold line, ``Title: X``) becomes ``<<X>>``; a poem,
    story, letter... with no heading gets one from what the request says it is about."""

    id = "title"
    target = "detectable_format:title"

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        body = ctx.response.lstrip()
        if "<<" in body:
            return None
        first, _, rest = body.partition("\n")
        m = _TITLE_LINE.match(first)
        if m and rest.strip():
            title = (m.group("h") or m.group("b") or m.group("t") or "").strip().strip("*_").strip()
            title = title.rstrip(":").strip()
            if not _TITLE_WORDS[0] <= text.count_words(title) <= _TITLE_WORDS[1] or ">" in title or "<" in title:
                return None
            return f"<<{title}>>\n{rest}" if rest.startswith("\n") else f"<<{title}>>\n\n{rest}"
        about = _WRITING_ABOUT.search(ctx.instruction)
        if m or about is None or _has_code(body):
            return None
        topic = about.group("topic").strip().strip("\"'")
        topic = re.sub(r"^(?:the|a|an|my|our|your)\s+", "", topic, flags=re.IGNORECASE)
        if not _TOPIC_WORDS[0] <= text.count_words(topic) <= _TOPIC_WORDS[1] or any(c in topic for c in "<>*#"):
            return None
        return f"<<{_title_case(topic)}>>\n\n{body}"


_BLANK_SPLIT = re.compile(r"\n[ \t]*\n")
_STAR_PARAGRAPHS = (2, 8)


@register_edit
class StarParagraphs(Edit):
    """Prose paragraphs separated by blank lines get a ``***`` divider line between them."""

    id = "star_paragraphs"
    target = "length_constraints:number_paragraphs"

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        body = ctx.response.strip()
        if "*" in body or _has_code(body):
            return None
        pieces = [p.strip() for p in _BLANK_SPLIT.split(body) if p.strip()]
        if not _STAR_PARAGRAPHS[0] <= len(pieces) <= _STAR_PARAGRAPHS[1]:
            return None
        if any(_STRUCTURED.search(p) for p in pieces) or any(text.count_words(p) < 8 for p in pieces):
            return None  # only prose reads as paragraphs; a heading or a list is no paragraph
        return "\n\n***\n\n".join(pieces)


_HEADING_LINE = re.compile(r"^(?P<marks>#{1,6})[ \t]+(?P<text>\S.*?)[ \t#]*$", re.MULTILINE)
_LABEL_LINE = re.compile(r"^[ \t]*\*\*(?P<text>[^*\n]{2,80}?)\*\*[ \t]*:?[ \t]*$", re.MULTILINE)
_SECTION_WORDS = re.compile(r"\b(?:SECTION|Section|PART|Part)\b")
_SECTIONS = (2, 8)
_SPLITTERS = (("SECTION", 0.6), ("Section", 0.25), ("PART", 0.15))


@register_edit
class Sections(Edit):
    """The section headings (the highest markdown level with two or more, else bold label lines)
    are relabelled ``SECTION 1: ...``, ``SECTION 2: ...``."""

    id = "sections"
    target = "detectable_format:multiple_sections"

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        body = ctx.response
        if _SECTION_WORDS.search(body) or _has_code(body):
            return None
        found = list(_HEADING_LINE.finditer(body))
        if found:
            # The highest heading level that divides the answer into sections (a lone "# Title"
            # above "##" sections is the title, not a section).
            levels = sorted({len(m.group("marks")) for m in found})
            by_level = [[m for m in found if len(m.group("marks")) == lv] for lv in levels]
            heads = next((h for h in by_level if len(h) >= _SECTIONS[0]), by_level[0])
        else:
            heads = list(_LABEL_LINE.finditer(body))  # "**Benefits:**" lines, written as small headings
        if not _SECTIONS[0] <= len(heads) <= _SECTIONS[1]:
            return None
        splitter = rng.choices([s for s, _ in _SPLITTERS], weights=[w for _, w in _SPLITTERS])[0]
        out, pos = [], 0
        for n, m in enumerate(heads, 1):
            label = m.group("text").strip().strip("*_").strip().rstrip(":").strip()
            out.append(body[pos : m.start()])
            marks = m.groupdict().get("marks")
            out.append(f"{marks} {splitter} {n}: {label}" if marks else f"**{splitter} {n}: {label}**")
            pos = m.end()
        out.append(body[pos:])
        return "".join(out)


_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+(.*)$")


def _json_document(response: str) -> Any:
    """The answer as a JSON value a reader would expect: an intro, the items of its list and a
    closing line; or its sections under their headings; or the whole text under "answer"."""
    lines = response.strip().split("\n")
    items = [m.group(1).strip() for line in lines if (m := _LIST_ITEM.match(line))]
    headings = list(_HEADING_LINE.finditer(response))
    if len(items) >= 2 and not headings:
        first = next(i for i, line in enumerate(lines) if _LIST_ITEM.match(line))
        last = max(i for i, line in enumerate(lines) if _LIST_ITEM.match(line))
        middle = [line for line in lines[first : last + 1] if line.strip()]
        if all(_LIST_ITEM.match(line) for line in middle):  # one flat list: items, nothing between
            doc: dict[str, Any] = {}
            intro = " ".join(x.strip() for x in lines[:first] if x.strip())
            outro = " ".join(x.strip() for x in lines[last + 1 :] if x.strip())
            if intro:
                doc["introduction"] = intro
            doc["items"] = items
            if outro:
                doc["conclusion"] = outro
            return doc
    if len(headings) >= 2:
        doc = {}
        intro = response[: headings[0].start()].strip()
        if intro:
            doc["introduction"] = intro
        for k, m in enumerate(headings):
            end = headings[k + 1].start() if k + 1 < len(headings) else len(response)
            key = m.group("text").strip().strip("*_").strip()
            if not key or key in doc:
                return {"answer": response.strip()}
            doc[key] = response[m.end() : end].strip()
        return doc
    return {"answer": response.strip()}


@register_edit
class Json(Edit):
    """The answer as a JSON document (list answers become items, sectioned ones an object of sections)."""

    id = "json"
    target = "detectable_format:json_format"
    most_words: ClassVar[int] = 600

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        body = ctx.response.strip()
        if text.count_words(body) > self.most_words or body.startswith(("{", "[")) or _has_code(body):
            return None  # code inside JSON strings, escaped line by line, is no answer to read
        document = json.dumps(_json_document(body), ensure_ascii=False, indent=2)
        return f"```json\n{document}\n```" if rng.random() < 0.5 else document


_NUMBER_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")  # "1,000" -> "1000"
_MOST_COMMAS_PER_WORD = 1 / 12


@register_edit
class NoComma(Edit):
    """No commas: thousands separators joined up, every other comma dropped. Only for answers that
    use few commas, so the text still reads naturally."""

    id = "no_comma"
    target = "punctuation:no_comma"

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        body = ctx.response
        commas = body.count(",")
        words = text.count_words(body)
        if not commas or words < _WORDS_MIN or commas > _MOST_COMMAS_PER_WORD * words or _has_code(body):
            return None
        edited = _NUMBER_COMMA.sub("", body).replace(", ", " ").replace(",", " ")
        return edited if "," not in edited else None


_GREETING = re.compile(r"^(?P<g>Dear|Hi|Hello|Hey)[ \t]+(?P<name>[A-Z][\w.'\u2019 -]{0,40}?)[ \t]*,[ \t]*$", re.MULTILINE)
_SIGN_OFF = re.compile(
    r"^(?P<s>(?:Sincerely|Best regards|Kind regards|Warm regards|Warmest regards|Regards|Best|Best wishes|"
    r"Yours (?:truly|sincerely|faithfully)|Cheers|Thank you|Thanks|Respectfully|With gratitude)[ \t]*,?)[ \t]*\n"
    r"(?P<name>[ \t]*[A-Z][\w.'\u2019-]*(?:[ \t]+[A-Z][\w.'\u2019-]*){0,3})[ \t]*$",
    re.MULTILINE,
)


@register_edit
class Placeholders(Edit):
    """In a letter or an email, the recipient's and the sender's names become ``[Recipient's Name]``
    and ``[Your Name]``: a template for the reader to fill in."""

    id = "placeholders"
    target = "detectable_content:number_placeholders"
    eager = True

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        body = ctx.response
        edited = _GREETING.sub(lambda m: f"{m.group('g')} [Recipient's Name],", body, count=1)
        edited = _SIGN_OFF.sub(lambda m: f"{m.group('s')}\n[Your Name]", edited, count=1)
        return edited if edited != body else None


_YES_NO_QUESTION = re.compile(
    r"^\s*(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|am|may|might|must)\b[^\n]*\?\s*$",
    re.IGNORECASE,
)
_ANSWER_WORD = re.compile(r"^\s*(?:\*\*)?(?P<w>yes|no|it depends)\b(?:\*\*)?[\s,.!:;\u2014-]*(?:\*\*)?\s*", re.IGNORECASE)


@register_edit
class YesNo(Edit):
    """A yes/no question answered "Yes, ..." or "No, ..." opens with "My answer is yes." (or no,
    or maybe for "It depends"), then explains as before."""

    id = "yes_no"
    target = "detectable_format:constrained_response"
    eager = True

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        if not _YES_NO_QUESTION.match(ctx.instruction):
            return None
        m = _ANSWER_WORD.match(ctx.response)
        if not m:
            return None
        word = m.group("w").lower()
        verdict = {"yes": "yes", "no": "no"}.get(word, "maybe")
        rest = ctx.response[m.end() :].strip() if word != "it depends" else ctx.response.strip()
        if rest:
            rest = rest[0].upper() + rest[1:]
        return f"My answer is {verdict}.\n\n{rest}" if rest else f"My answer is {verdict}."


_SEPARATOR = "******"
_TWO_MOST_WORDS = 350


@register_edit
class TwoResponses(Edit):
    """This answer and another answer to the same request (a sibling), separated by ``******``."""

    id = "two_responses"
    target = "combination:two_responses"

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        mine = ctx.response.strip()
        if _SEPARATOR in mine or text.count_words(mine) > _TWO_MOST_WORDS:
            return None
        others = [
            s.strip() for s in ctx.siblings
            if s.strip() and s.strip() != mine and _SEPARATOR not in s and text.count_words(s) <= _TWO_MOST_WORDS
        ]  # fmt: skip
        if not others:
            return None
        return f"{mine}\n\n{_SEPARATOR}\n\n{rng.choice(others)}"


@register_edit
class RepeatPrompt(Edit):
    """The request, repeated word for word, before the answer (applied when the prompt is composed)."""

    id = "repeat_prompt"
    target = "combination:repeat_prompt"
    most_words: ClassVar[int] = 120

    def apply(self, ctx: EditContext, rng: random.Random) -> str | None:
        n = text.count_words(ctx.instruction)
        # A long request repeated verbatim is a chore to read; so is one that is mostly code or data.
        if not 3 <= n <= self.most_words or "```" in ctx.instruction:
            return None
        return ctx.response


def candidate_edits(cfg: EditConfig, eager_only: bool = False) -> Sequence[Edit]:
    """The enabled edits (only the eager ones with ``eager_only``), in id order."""
    return [EDITS[k] for k in sorted(EDITS) if cfg.weight(k) > 0 and (EDITS[k].eager or not eager_only)]
