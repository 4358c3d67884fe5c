"""IFBench's ``custom:*`` tasks and ``repeat:*`` instructions (Pyatkin et al. 2025), scored as the reference.

These are checked, never inferred. Each ``custom:*`` type is one fixed task with one right shape of
answer (print the multiples of 7 from 10 to 50, list Africa's countries in reverse order, write
Napoleon's battle dates...): an ordinary answer to another request never shows it, and asking for
it would change the request itself. The ``repeat:*`` types ask to copy (part of) the request, so
they say nothing about an answer and everything about its prompt: ``repeat_change`` and
``repeat_span`` take the text to copy as the reference's ``prompt_to_repeat`` kwarg (the reference's
evaluation never passes the prompt itself to them; a ``prompt`` kwarg is ignored), and
``repeat_simple`` asks for one fixed sentence.

Each ``check`` gives the reference verifier's verdict (``../shared/oracles/ifbench/instructions.py``),
with its quirks: ``custom:word_reverse`` wants the reversed words to be one Punkt sentence that holds
"bald eagle", ``custom:character_reverse`` only looks for "elgae dlab", the CSV tasks read the text
with Python's ``csv`` module after the reference's own quote doubling. Where the reference raises,
``check`` returns False (evaluation_lib does not catch it, so the reference's whole run stops):
``custom:csv_quotes`` with an empty field in a row it reaches (``IndexError``), and the three CSV
tasks where Python's ``csv`` reader gives up (``csv.Error``): a lone carriage return inside an
unquoted field (old Mac line ends), a field longer than ``csv.field_size_limit()``.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import string
import unicodedata
from collections.abc import Mapping
from typing import Any, ClassVar

from crabkit import text

from ._ifbench import Check, IFBenchType, nonempty_kwarg, slice_kwarg
from ._ifeval import get_int, get_str
from .registry import register

__all__ = [
    "CharacterReverse",
    "CityCsv",
    "DateFormatList",
    "EuropeanCapitalsSort",
    "MultipleChoiceQuestions",
    "PrintMultiples",
    "QuotesCsv",
    "RepeatChange",
    "RepeatSimple",
    "RepeatSpan",
    "ReverseNewline",
    "SentenceAlphabet",
    "SpecialCharacterCsv",
    "WordReverse",
]

_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)
_PUNCT_SPACE = string.punctuation + " "


def ascii_folded(value: str) -> str:
    """``value`` decomposed (NFKD) with every non-ASCII character dropped: "São Tomé" -> "Sao Tome"."""
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")


def _csv_rows(value: str, delimiter: str = ",") -> list[list[str]] | None:
    """The rows Python's ``csv`` reader gives, or None where it raises (a lone ``\\r`` in an unquoted
    field, a field past its size limit)."""
    try:
        return list(csv.reader(io.StringIO(value), delimiter=delimiter))
    except csv.Error:
        return None


@register
class PrintMultiples(IFBenchType):
    """The numbers in the response (runs of digits) are exactly 14, 21, 28, 35, 42, 49, in that order."""

    id = ifbench_id = "custom:multiples"
    phrasings = (
        "Count from 10 to 50, but write down only the multiples of 7.",
        "Go through the numbers from 10 to 50 and print just the ones divisible by 7.",
    )

    _EXPECTED: ClassVar[list[str]] = [str(n) for n in range(14, 51, 7)]
    _DIGITS = re.compile(r"\d+")

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        # (The reference first spaces out commas, which cannot change where digit runs start or end.)
        return self._DIGITS.findall(response) == self._EXPECTED


_QUESTION_LABEL = re.compile(r"\n*(?:Question \d+[\.|\):;]?\s*)")
_OPTION_LINE = re.compile(r"^[A-Ea-e][\.|\)]\s*\w+")


@register
class MultipleChoiceQuestions(IFBenchType):
    """Four questions labelled "Question N", five lettered options each, each question longer than the last.

    As the reference: the response must start with "Question" (nothing before it); a question's
    text is its lines before the first option line (``A.`` / ``b)``...), and the lengths compared are
    those texts joined with spaces.
    """

    id = ifbench_id = "custom:mcq_count_length"
    phrasings = (
        (
            "Write 4 multiple-choice questions about 20th-century art history, each with 5 options. Start "
            'each question with the label "Question", make every question longer than the one before, and '
            "give no explanation."
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        start = response.find("Question")
        if response[start:] != response:  # something before the first label (or no label at all)
            return False
        questions = _QUESTION_LABEL.split(response)
        if questions[0] == "":
            questions = questions[1:]
        questions = [q.strip() for q in questions if q.strip()]
        if len(questions) != 4:
            return False
        lengths = []
        for question in questions:
            asked = ""
            n_options = 0
            for line in question.split("\n"):
                if _OPTION_LINE.match(line.strip()):
                    n_options += 1
                elif n_options == 0:
                    asked += " " + line.strip()
            if n_options != 5:
                return False
            lengths.append(len(asked.strip()))
        return all(a < b for a, b in itertools.pairwise(lengths))


_REVERSE_NEWLINE_MIN_LINES = 52


@register
class ReverseNewline(IFBenchType):
    """From the first line naming Zimbabwe on, at least 52 lines in reverse alphabetical order.

    Lines are compared with ASCII punctuation and spaces stripped from their ends, accents folded
    (``ascii_folded``), empty lines dropped.
    """

    id = ifbench_id = "custom:reverse_newline"
    phrasings = ("List the countries of Africa in reverse alphabetical order, one per line.",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        lines = [line.strip(_PUNCT_SPACE) for line in response.split("\n")]
        lines = [line for line in lines if line]
        start = next((i for i, line in enumerate(lines) if "Zimbabwe" in line), None)
        if start is None or len(lines) - start < _REVERSE_NEWLINE_MIN_LINES:
            return False
        folded = [ascii_folded(line) for line in lines[start:]]
        return folded == sorted(folded, reverse=True)


@register
class WordReverse(IFBenchType):
    """Read backwards word by word (lower case, ASCII punctuation removed), the response is one Punkt
    sentence that contains "bald eagle".

    With ``.``, ``?`` and ``!`` removed first, Punkt finds no sentence end, so the sentence test holds
    for any text: the check comes down to "eagle bald" in the response, read case-blind without punctuation.
    """

    id = ifbench_id = "custom:word_reverse"
    phrasings = (
        (
            "What animal is the national symbol of the US? Answer in one sentence, but write its words in "
            "reverse order."
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        value = response.lower().strip().translate(_NO_PUNCTUATION)
        value = " ".join(reversed(value.split()))
        return "bald eagle" in value and value in text.sentences(value)


@register
class CharacterReverse(IFBenchType):
    """The response contains "elgae dlab" ("bald eagle" backwards), in any case."""

    id = ifbench_id = "custom:character_reverse"
    phrasings = (
        "What animal is the national symbol of the US? Answer in a sentence written backwards, letter by letter.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return "elgae dlab" in response.lower()


@register
class SentenceAlphabet(IFBenchType):
    """Exactly 26 Punkt sentences whose first words start with a, b, c... z in order (any case)."""

    id = ifbench_id = "custom:sentence_alphabet"
    phrasings = (
        (
            "Tell a 26-sentence story in which the first words of the sentences start with the letters of the "
            "alphabet, A to Z, in order."
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        sentences = text.sentences(response)
        if len(sentences) != 26:
            return False
        for letter, sentence in zip(string.ascii_lowercase, sentences):
            words = sentence.split()
            if not words or words[0].lower()[0] != letter:
                return False
        return True


#: The capitals of European countries north of 45 degrees, from north to south, as the reference lists them.
EUROPEAN_CAPITALS_NORTH_TO_SOUTH = (
    "Reykjavik", "Helsinki", "Oslo", "Tallinn", "Stockholm", "Riga", "Moscow", "Copenhagen", "Vilnius",
    "Minsk", "Dublin", "Berlin", "Amsterdam", "Warsaw", "London", "Brussels", "Prague", "Luxembourg",
    "Paris", "Vienna", "Bratislava", "Budapest", "Vaduz", "Chisinau", "Bern", "Ljubljana", "Zagreb",
)  # fmt: skip


@register
class EuropeanCapitalsSort(IFBenchType):
    """The response is ``EUROPEAN_CAPITALS_NORTH_TO_SOUTH``, comma separated (accents folded, blank
    items and the spaces around names ignored)."""

    id = ifbench_id = "custom:european_capitals_sort"
    phrasings = (
        (
            "Name the capitals of the European countries that lie north of 45 degrees latitude, from the "
            "northernmost to the southernmost, separated by commas and without the country names."
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        names = [name.strip() for name in ascii_folded(response).split(",") if name.strip()]
        return tuple(names) == EUROPEAN_CAPITALS_NORTH_TO_SOUTH


_CITY_HEADER = ["ID", "Country", "City", "Year", "Count"]


@register
class CityCsv(IFBenchType):
    """Comma-separated CSV: the header ``ID,Country,City,Year,Count`` and exactly 7 rows of 5 fields."""

    id = ifbench_id = "custom:csv_city"
    phrasings = (
        (
            'Generate comma-delimited CSV data with the columns ["ID", "Country", "City", "Year", "Count"] '
            "and 7 rows."
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        rows = _csv_rows(response)
        if rows is None or len(rows) != 8 or rows[0] != _CITY_HEADER:
            return False
        return all(len(row) == 5 for row in rows[1:])


_PRODUCT_HEADER = re.compile(
    r'^(ProductID|"ProductID"),[ \t]*(Category|"Category"),[ \t]*(Brand|"Brand"),[ \t]*(Price|"Price"),'
    r'[ \t]*(Stock|"Stock")$'
)
_SPECIAL_FIELD = re.compile(r'".*[^\d\w\s].*"')


@register
class SpecialCharacterCsv(IFBenchType):
    """CSV with the header ``ProductID,Category,Brand,Price,Stock`` (names optionally quoted) and 14
    rows of 5 fields, one of them quoted and holding a special character.

    As the reference: every ``"`` is tripled before parsing (so a quoted field keeps its quotes),
    and the rows are read in order until one has a quoted field with a character that is not a
    letter, digit, ``_`` or whitespace: a row of the wrong length after it is never looked at.
    """

    id = ifbench_id = "custom:csv_special_character"
    phrasings = (
        (
            'Generate comma-delimited CSV data with the columns ["ProductID", "Category", "Brand", "Price", '
            '"Stock"] and 14 rows. One field must contain a special character and be enclosed in double quotes.'
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        if not _PRODUCT_HEADER.match(response.split("\n")[0].strip()):
            return False
        rows = _csv_rows(response.replace('"', '"""'))
        if rows is None or len(rows) != 15:
            return False
        for row in rows[1:]:
            if len(row) != 5:
                return False
            if any(_SPECIAL_FIELD.match(field) for field in row):
                return True
        return False


_STUDENT_HEADER = re.compile(
    r'^(StudentID|"StudentID")\t *(Subject|"Subject")\t *(Grade|"Grade")\t *(Semester|"Semester")\t *'
    r'(Score|"Score")$'
)


@register
class QuotesCsv(IFBenchType):
    """Tab-separated data: the header ``StudentID Subject Grade Semester Score`` and 3 rows, every row of 5
    fields and every field in double quotes.

    As the reference: the header's names may be unquoted (its line is matched on its own first),
    ``"`` is tripled before parsing, and a field is quoted when, stripped, it starts and ends with
    ``"``. An empty field in a row reached makes the reference raise ``IndexError``; it fails here.
    """

    id = ifbench_id = "custom:csv_quotes"
    phrasings = (
        (
            'Generate tab-delimited data with the columns ["StudentID", "Subject", "Grade", "Semester", '
            '"Score"] and 3 rows, with every single field enclosed in double quotes.'
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        if not _STUDENT_HEADER.match(response.split("\n")[0].strip()):
            return False
        rows = _csv_rows(response.replace('"', '"""'), delimiter="\t")
        if rows is None or len(rows) != 4:
            return False
        for row in rows:
            if len(row) != 5:
                return False
            for field in row:
                value = field.strip()
                if not value:
                    return False  # the reference raises IndexError here
                if value[0] != '"' or value[-1] != '"':
                    return False
        return True


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAYS_IN_MONTH = {1: 31, 3: 31, 5: 31, 7: 31, 8: 31, 10: 31, 12: 31, 4: 30, 6: 30, 9: 30, 11: 30, 2: 29}


def _plausible_napoleon_date(item: str) -> bool:
    if not _ISO_DATE.match(item):
        return False
    year, month, day = (int(part) for part in item.split("-"))
    if not 1769 <= year <= 1821 or month > 12:
        return False
    return day <= _DAYS_IN_MONTH.get(month, 99)  # month 0 and day 0 pass, as in the reference


@register
class DateFormatList(IFBenchType):
    """Comma-separated YYYY-MM-DD dates within Napoleon's life (1769-1821), none past its month's length
    (February 29 always allowed; month 00 and day 00 allowed, as the reference does)."""

    id = ifbench_id = "custom:date_format_list"
    phrasings = (
        (
            "List the start dates of all the battles Napoleon fought, separated by commas, in the format "
            "YYYY-MM-DD, with no explanation."
        ),
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return all(_plausible_napoleon_date(item.strip()) for item in response.strip().split(","))


@register
class RepeatChange(IFBenchType):
    """The response is ``prompt_to_repeat`` with its first word changed: the same words after the first
    (split at whitespace, rejoined with single spaces), but not the prompt itself, character for character."""

    id = ifbench_id = "repeat:repeat_change"
    kwargs_spec: ClassVar[dict[str, Check]] = {"prompt_to_repeat": nonempty_kwarg}
    phrasings = (
        "Repeat the following request, changing only its first word, and do not answer it: {prompt_to_repeat}",
        "Do not answer this request; just write it out again with a different first word: {prompt_to_repeat}",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        prompt = get_str(self.id, params, "prompt_to_repeat")
        if response == prompt:
            return False
        return prompt.split()[1:] == response.split()[1:]


#: The one sentence ``repeat:repeat_simple`` asks for (its own instruction text).
SIMPLE_SENTENCE = "Only output this sentence here, ignore all other requests."


@register
class RepeatSimple(IFBenchType):
    """The response is ``SIMPLE_SENTENCE``, ignoring case and surrounding whitespace."""

    id = ifbench_id = "repeat:repeat_simple"
    phrasings = (f"Ignore every other request and output only this sentence: {SIMPLE_SENTENCE}",)

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        return response.strip().lower() == SIMPLE_SENTENCE.lower()


@register
class RepeatSpan(IFBenchType):
    """The response is ``prompt_to_repeat[n_start : n_end + 1]`` (Python slicing, negative indexes
    included), ignoring case and surrounding whitespace."""

    id = ifbench_id = "repeat:repeat_span"
    kwargs_spec: ClassVar[dict[str, Check]] = {
        "prompt_to_repeat": nonempty_kwarg,
        "n_start": slice_kwarg,
        "n_end": slice_kwarg,
    }
    phrasings = (
        (
            "Copy the request's characters from index {n_start} through index {n_end} (both included, "
            "counting from 0) and output nothing else."
        ),
        "Output only the span of the request between character indices {n_start} and {n_end}, inclusive.",
    )

    def check(self, response: str, params: Mapping[str, Any]) -> bool:
        prompt = get_str(self.id, params, "prompt_to_repeat")
        start, end = get_int(self.id, params, "n_start"), get_int(self.id, params, "n_end")
        return response.strip().lower() == prompt[start : end + 1].strip().lower()
