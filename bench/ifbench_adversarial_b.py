"""Seeded adversarial triples for IFBench's format:*, custom:* and repeat:* instructions.

``GENERATORS[instruction_id](rng)`` returns one ``(kwargs, prompt, response)`` triple; the same
``rng`` state gives the same triple. Responses sit on the edges the reference's verifiers draw:
thresholds met and missed by one, blank and whitespace-only lines, CRLF, tabs, NBSP, zero-width
spaces, markdown stars (the loose pass removes them), intro and outro lines (the loose pass drops
them), curly quotes, accents, emoji sequences, unicode digits, both passing and failing. None makes
the reference raise (its crashes are tested on their own). ``bench/ifbench_differential.py``
collects this table with the other helpers'; ``tests/test_ifbench_differential_b.py`` runs it.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Triple = tuple[dict, str, str]
Generator = Callable[[random.Random], Triple]

PROMPT = "Answer the question below."

WORDS = (
    "apple", "river", "Stone", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "of", "and",
    "Paris", "data", "model", "a", "I", "x", "caf\u00e9", "na\u00efve", "\u00e9t\u00e9", "don't", "it's",
    "well-known", "3D", "42", "iPhone", "USA", "NASA", "\u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439",
)  # fmt: skip
INTROS = ("Sure! Here it is:", "**Answer**", "Here you go.", "# Result", "Of course.", "")
OUTROS = ("Hope this helps!", "*Let me know if you need more.*", "---", "P.S. Enjoy.", "")
ODD_SPACES = (" ", "  ", "\t", "\u00a0", "\u200b", "\u3000", " \u00a0")
EMOJIS = ("\U0001f600", "\u2764\ufe0f", "\U0001f44d\U0001f3fd", "\U0001f1eb\U0001f1f7", "\u2728", "\U0001f389",
          "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u263a", "\u00a9", "#\ufe0f\u20e3", "\U0001f680")  # fmt: skip


def _sentence(rng: random.Random, n: int | None = None) -> str:
    words = [rng.choice(WORDS) for _ in range(n or rng.randint(2, 8))]
    return " ".join(words).capitalize() + rng.choice((".", ".", "!", "?", "...", ""))


def _frame(rng: random.Random, body: str) -> str:
    """``body`` with, sometimes, an intro or outro line, stars, CRLF line ends or edge whitespace."""
    roll = rng.random()
    if roll < 0.25:
        body = rng.choice(INTROS) + "\n" + body
    elif roll < 0.4:
        body = body + "\n" + rng.choice(OUTROS)
    elif roll < 0.5:
        body = rng.choice(INTROS) + "\n" + body + "\n" + rng.choice(OUTROS)
    roll = rng.random()
    if roll < 0.1:
        body = body.replace("\n", "\r\n")
    elif roll < 0.2:
        body = "**" + body + "**"
    elif roll < 0.3:
        body = rng.choice(("\n", " ", "\n\n", "\t")) + body + rng.choice(("\n", " ", "", "\n\n"))
    return body


def _flip(rng: random.Random, text: str, alphabet: str) -> str:
    """``text`` with one character replaced, inserted or deleted (drawn from ``alphabet``)."""
    if not text:
        return rng.choice(alphabet)
    i = rng.randrange(len(text))
    roll = rng.random()
    if roll < 0.4:
        return text[:i] + rng.choice(alphabet) + text[i + 1 :]
    if roll < 0.7:
        return text[:i] + rng.choice(alphabet) + text[i:]
    return text[:i] + text[i + 1 :]


def _maybe(rng: random.Random, p: float, text: str, alphabet: str, times: int = 1) -> str:
    for _ in range(times):
        if rng.random() < p:
            text = _flip(rng, text, alphabet)
    return text


# --- format:* ----------------------------------------------------------------------------------------


def _nested_brackets(rng: random.Random, depth: int) -> str:
    opens = [rng.choice("([{") for _ in range(depth)]
    closes = [{"(": ")", "[": "]", "{": "}"}[o] for o in reversed(opens)]
    inner = rng.choice(("x", " and ", "", "f", "1 + 2", "\n"))
    filler = lambda: rng.choice(("", " ", "a ", "(b) ", "\u00e9"))
    return "".join(o + filler() for o in opens) + inner + "".join(filler() + c for c in closes)


def gen_parentheses(rng: random.Random) -> Triple:
    roll = rng.random()
    if roll < 0.5:
        body = _sentence(rng) + " " + _nested_brackets(rng, rng.choice((3, 4, 4, 5, 5, 5, 6, 8)))
        body = _maybe(rng, 0.4, body, "()[]{}) ", times=rng.randint(1, 3))
    elif roll < 0.8:
        body = "".join(rng.choice("()[]{}ab \n*") for _ in range(rng.randint(0, 40)))
    else:
        body = (
            "print(f(g(h(i(j(x))))))" if rng.random() < 0.5 else "{[(<(x)>)]}" + _nested_brackets(rng, 5)[:-1]
        )
    return {}, PROMPT, _frame(rng, body)


def gen_quotes(rng: random.Random) -> Triple:
    roll = rng.random()
    if roll < 0.5:
        marks = ['"', "'"]
        rng.shuffle(marks)
        depth = rng.choice((2, 3, 3, 4))
        opens = [marks[i % 2] for i in range(depth)]
        body = "".join(o + rng.choice(("She said ", "he wrote ", "", "it's ")) for o in opens)
        body += "go" + "".join(c + rng.choice(("", " ", " now")) for c in reversed(opens))
        body = _maybe(rng, 0.4, body, "\"' \u201c\u201d\u2019", times=rng.randint(1, 2))
    elif roll < 0.8:
        body = "".join(rng.choice("\"'ab \n") for _ in range(rng.randint(0, 30)))
    else:
        body = " ".join(rng.choice(("don't", "it's", '"yes"', "'no'", "can't", "rock'n'roll", "\u201cok\u201d"))
                        for _ in range(rng.randint(1, 8)))  # fmt: skip
    return {}, PROMPT, _frame(rng, body)


OPTION_TEXTS = ("yes/no/maybe", "I know or I don't know", "a), b), c), d)", "A/B/C", "true or false",
                "red, green, blue", "Shorter or longer", "(a) (b) (c)", "My answer is yes./My answer is no.",
                "Option 1 / Option 2")  # fmt: skip


def gen_options(rng: random.Random) -> Triple:
    from crabkit.constraints.ifbench_format import parse_options

    options = rng.choice(OPTION_TEXTS)
    choices, _ = parse_options(options)
    answer = rng.choice([*choices, "maybe", "Yes", "NO", "a", "A)", "e)", "green"])
    roll = rng.random()
    if roll < 0.3:
        answer = (
            rng.choice(("", " ", "**", ".", "!", "\n")) + answer + rng.choice(("", ".", "!", " ", "**", "\n"))
        )
    elif roll < 0.45:
        answer = answer.upper() if rng.random() < 0.5 else answer.lower()
    elif roll < 0.6:
        answer = answer + rng.choice((", because it is.", " - definitely", "\nIt depends."))
    elif roll < 0.7:
        answer = rng.choice(INTROS) + "\n" + answer
    return {"options": options}, PROMPT, answer


def gen_newline(rng: random.Random) -> Triple:
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 8))]
    seps = ["\n"] * (len(words) - 1)
    for i in range(len(seps)):
        roll = rng.random()
        if roll < 0.1:
            seps[i] = " "
        elif roll < 0.2:
            seps[i] = "\n\n"
        elif roll < 0.28:
            seps[i] = "\n" + rng.choice(ODD_SPACES) + "\n"
        elif roll < 0.34:
            seps[i] = "\r\n"
        elif roll < 0.4:
            seps[i] = "\n-\n"
    body = words[0] + "".join(s + w for s, w in zip(seps, words[1:]))
    if rng.random() < 0.2:
        body = body.replace("\n", rng.choice((". \n", "\n* ", ",\n", " \n")))
    return {}, PROMPT, _frame(rng, body)


def gen_emoji(rng: random.Random) -> Triple:
    parts = []
    for _ in range(rng.randint(1, 4)):
        sentence = _sentence(rng, rng.randint(2, 5))
        roll = rng.random()
        mark = rng.choice(EMOJIS)
        if roll < 0.45:
            sentence = sentence.rstrip(".!?") + rng.choice(("", " ")) + mark + rng.choice(("", ".", "!"))
        elif roll < 0.6:
            sentence = sentence + " " + mark
        elif roll < 0.7:
            sentence = mark + " " + sentence
        elif roll < 0.78:
            sentence = sentence + rng.choice((" :)", " \u2192", " 42", " x"))
        parts.append(sentence)
    body = rng.choice((" ", "\n", "  ", "\n\n")).join(parts)
    if rng.random() < 0.1:
        body = body + rng.choice(("\n...", "\n!!", " ."))
    return {}, PROMPT, _frame(rng, body)


def gen_line_indent(rng: random.Random) -> Triple:
    lines = []
    indent = rng.choice((0, 0, 1, 2))
    for _ in range(rng.randint(1, 6)):
        roll = rng.random()
        if roll < 0.15:
            lines.append(rng.choice(("", " ", "   ", "\t", "\u00a0")))
            continue
        step = rng.choice((1, 1, 2, 4, 0, -1)) if roll < 0.9 else 1
        indent = max(0, indent + step)
        lead = " " * indent if rng.random() < 0.9 else "\t" * indent
        lines.append(lead + rng.choice(WORDS) + rng.choice(("", " step", ".")))
    return {}, PROMPT, _frame(rng, "\n".join(lines)) if rng.random() < 0.4 else "\n".join(lines)


def gen_quote_unquote(rng: random.Random) -> Triple:
    parts = []
    for _ in range(rng.randint(1, 4)):
        quoted = '"' + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))) + '"'
        roll = rng.random()
        if roll < 0.5:
            parts.append(quoted + " means " + _sentence(rng, 3))
        elif roll < 0.65:
            parts.append(quoted + rng.choice((" ", "\n", "", "\t")))
        elif roll < 0.75:
            parts.append(quoted + rng.choice((".", " 12.", "!)", '."', " (1)")))
        elif roll < 0.85:
            parts.append("The character '\"' is a quote mark.")
        else:
            parts.append("\u201c" + rng.choice(WORDS) + "\u201d " + rng.choice(("", "explained")))
    body = " ".join(parts) if rng.random() < 0.7 else "\n".join(parts)
    return {}, PROMPT, _frame(rng, body)


SEPARATORS = ("...", "SEPARATOR", "!?!?", "-", "\u2192", "::", "*")


def gen_list(rng: random.Random) -> Triple:
    sep = rng.choice(SEPARATORS)
    n = rng.choice((0, 1, 1, 2, 2, 3))
    items = [sep + rng.choice(("", " ")) + rng.choice(WORDS) for _ in range(n)]
    body = "\n".join(items)
    roll = rng.random()
    if roll < 0.2:
        body = _sentence(rng) + " " + sep + " " + _sentence(rng)
    elif roll < 0.3:
        body = "!?!?!?" if sep == "!?!?" else sep[:-1] + " " + sep[1:] + " " + sep
    elif roll < 0.4:
        body = "well-known" if sep == "-" else body
    return {"sep": sep}, PROMPT, _frame(rng, body)


def gen_thesis(rng: random.Random) -> Triple:
    opener, closer = rng.choice((("<i>", "</i>"), ("<em>", "</em>"), ("<i>", "</em>"), ("<em>", "</i>"),
                                 ("<I>", "</I>"), ("*", "*"), ("<i>", "")))  # fmt: skip
    thesis = rng.choice(("", " ", _sentence(rng), "x"))
    after = rng.choice(("", " ", "\n", "\n\n" + _sentence(rng), " more text", ">"))
    body = rng.choice(("", "## Section 1\n", _sentence(rng) + " ")) + opener + thesis + closer + after
    if rng.random() < 0.2:
        body = body + "\n" + rng.choice(("<em>", "</i>", "<i></i>", "<em>two</em> end"))
    return {}, PROMPT, _frame(rng, body)


def gen_sub_bullets(rng: random.Random) -> Triple:
    lines = []
    for _ in range(rng.randint(0, 4)):
        lines.append(rng.choice(("* ", "*", "** ", "- ")) + rng.choice(WORDS))
        for _ in range(rng.choice((0, 1, 1, 2))):
            lines.append(rng.choice(("  - ", "- ", "\t- ", "  * ", "  \u2013 ")) + rng.choice(WORDS))
    if rng.random() < 0.2:
        lines.append("Some **bold** text with a well-known word.")
    if rng.random() < 0.15:
        lines = [_sentence(rng)]
    return {}, PROMPT, _frame(rng, "\n".join(lines))


def gen_no_bullets_bullets(rng: random.Random) -> Triple:
    lines = []
    for _ in range(rng.randint(0, 3)):
        lines.append(" ".join(_sentence(rng, 3) for _ in range(rng.choice((1, 1, 2)))))
        if rng.random() < 0.2:
            lines.append(rng.choice(("", " ")))
    for _ in range(rng.choice((0, 1, 2, 2, 3))):
        lines.append(rng.choice(("* ", "*", "  * ", "- ", "**")) + rng.choice(WORDS))
    if rng.random() < 0.25:
        lines.append(rng.choice(("", "Thanks.", "* last", " ")))
    return {}, PROMPT, _frame(rng, "\n".join(lines)) if rng.random() < 0.5 else "\n".join(lines)


TITLE_WORDS = ("The", "Quick", "Brown", "Fox", "Of", "of", "and", "AND", "A", "a", "I", "iPhone", "McDonald",
               "Don't", "It's", "Well-Known", "well-Known", "3D", "\u00c9t\u00e9", "\u00e9t\u00e9", "NASA",
               "X", "x", "O'Neil", "\u00dcber", "eBay", "Nasa", "'s", "42")  # fmt: skip


def gen_title_case(rng: random.Random) -> Triple:
    words = [rng.choice(TITLE_WORDS) for _ in range(rng.randint(1, 9))]
    if rng.random() < 0.4:
        words = [w for w in words if not (w[:1].islower() and len(w) > 1)] or ["Title"]
    body = " ".join(words) + rng.choice(("", ".", "!", ": A Story", "\n\nSecond Line Here."))
    return {}, PROMPT, _frame(rng, body)


def gen_output_template(rng: random.Random) -> Triple:
    heads = ["My Answer:", "My Conclusion:", "Future Outlook:"]
    rng.shuffle(heads)
    parts = []
    for head in heads:
        roll = rng.random()
        if roll < 0.12:
            head = head.lower()
        elif roll < 0.2:
            head = head.replace(":", "")
        elif roll < 0.28:
            head = "**" + head.replace(":", "**:")
        elif roll < 0.36:
            head = "**" + head + "**"
        elif roll < 0.42:
            continue
        parts.append(head + " " + _sentence(rng, 3))
    return {}, PROMPT, _frame(rng, rng.choice(("\n", " ", "\n\n")).join(parts))


def gen_no_whitespace(rng: random.Random) -> Triple:
    body = "".join(rng.choice(WORDS).replace(" ", "") for _ in range(rng.randint(1, 4)))
    roll = rng.random()
    if roll < 0.5:
        i = rng.randrange(len(body) + 1)
        body = (
            body[:i]
            + rng.choice(("\u00a0", "\u200b", "\u2028", "\x1c", "\t", " ", "\u3000", "\u2060", "_"))
            + body[i:]
        )
    elif roll < 0.65:
        body = body + rng.choice(("\n", " ", "\r\n"))
    elif roll < 0.75:
        body = "**" + body + "**"
    elif roll < 0.85:
        body = rng.choice(("Sure:\n", "Answer\n")) + body
    return {}, PROMPT, body


# --- custom:* ----------------------------------------------------------------------------------------


def gen_multiples(rng: random.Random) -> Triple:
    numbers = [str(n) for n in range(14, 51, 7)]
    roll = rng.random()
    if roll < 0.15:
        numbers.insert(rng.randrange(len(numbers) + 1), rng.choice(("7", "56", "10", "50", "0")))
    elif roll < 0.3:
        del numbers[rng.randrange(len(numbers))]
    elif roll < 0.35:
        numbers[0] = "\u0661\u0664"  # Arabic-Indic "14"
    elif roll < 0.4:
        numbers = numbers[::-1]
    sep = rng.choice((", ", ",", "\n", " ", "; ", "\n- ", ",\u00a0"))
    body = sep.join(numbers)
    roll = rng.random()
    if roll < 0.2:
        body = rng.choice(("Multiples of 7 between 10 and 50:\n", "Here they are:\n", "Sure!\n")) + body
    elif roll < 0.3:
        body = body + rng.choice(("\nThat is 6 numbers.", "\nDone.", "."))
    elif roll < 0.4:
        body = body.replace("4", "4.0", 1)
    return {}, PROMPT, _frame(rng, body) if rng.random() < 0.3 else body


def gen_mcq(rng: random.Random) -> Triple:
    questions = []
    base = rng.randint(5, 20)
    clean = rng.random() < 0.5
    for q in range(4):
        n_options = 5 if clean else rng.choice((5, 5, 5, 5, 4, 6))
        text = "Which art movement " + "x" * (base + q * (3 if clean else rng.choice((3, 3, 3, 0, -1))))
        label = rng.choice((f"Question {q + 1}: ", f"Question {q + 1}. ", f"Question {q + 1})", f"Question {q + 1}\n",
                            f"**Question {q + 1}:** ", f"Question{q + 1}: "))  # fmt: skip
        if clean:
            label = f"Question {q + 1}: "
        letters = "ABCDEF" if rng.random() < 0.7 else "abcdef"
        marks = rng.choice((". ", ") ", ".", ")", " - "))
        options = [f"{letters[i]}{marks}{rng.choice(WORDS)}" for i in range(n_options)]
        if rng.random() < 0.1:
            options.insert(2, "continued question text")
        questions.append(label + text + "\n" + "\n".join(options))
    body = rng.choice(("\n\n", "\n", "\n\n\n")).join(questions)
    roll = rng.random()
    if roll < 0.15:
        body = "Here are your questions:\n" + body
    elif roll < 0.25:
        body = body + "\n\nAnswers: 1-A"
    elif roll < 0.3:
        body = " " + body
    return {}, PROMPT, body


AFRICA = (
    "Algeria", "Angola", "Benin", "Botswana", "Burkina Faso", "Burundi", "Cabo Verde", "Cameroon",
    "Central African Republic", "Chad", "Comoros", "Democratic Republic of the Congo", "Djibouti", "Egypt",
    "Equatorial Guinea", "Eritrea", "Eswatini", "Ethiopia", "Gabon", "Gambia", "Ghana", "Guinea",
    "Guinea-Bissau", "Ivory Coast", "Kenya", "Lesotho", "Liberia", "Libya", "Madagascar", "Malawi", "Mali",
    "Mauritania", "Mauritius", "Morocco", "Mozambique", "Namibia", "Niger", "Nigeria", "Republic of the Congo",
    "Rwanda", "S\u00e3o Tom\u00e9 and Pr\u00edncipe", "Senegal", "Seychelles", "Sierra Leone", "Somalia",
    "South Africa", "South Sudan", "Sudan", "Tanzania", "Togo", "Tunisia", "Uganda", "Zambia", "Zimbabwe",
)  # fmt: skip


def _folded(name: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")


def gen_reverse_newline(rng: random.Random) -> Triple:
    countries = sorted(AFRICA, key=_folded, reverse=True)
    roll = rng.random()
    if roll < 0.2:
        i = rng.randrange(len(countries) - 1)
        countries[i], countries[i + 1] = countries[i + 1], countries[i]
    elif roll < 0.35:
        countries = countries[: rng.choice((51, 52, 53))]
    elif roll < 0.45:
        countries = [rng.choice(("1. ", "- ", "* ", "")) + c for c in countries]
    elif roll < 0.5:
        countries = countries[1:]
    elif roll < 0.55:
        countries = [c.upper() if rng.random() < 0.1 else c for c in countries]
    sep = rng.choice(("\n", "\n", "\n\n", "\r\n", "\n \n"))
    body = sep.join(countries)
    if rng.random() < 0.3:
        body = rng.choice(("Here is the list:\n", "Countries (Z to A):\n", "Zimbabwe first:\n")) + body
    if rng.random() < 0.2:
        body = body + rng.choice(("\nAardvark", "\n...", "\nThat's 54.", "."))
    return {}, PROMPT, body


def gen_word_reverse(rng: random.Random) -> Triple:
    sentence = rng.choice(("The national symbol of the US is the bald eagle", "The bald eagle",
                           "It is the bald eagle", "The Bald Eagle is the national bird",
                           "The baldeagle is it", "The national animal is the bison"))  # fmt: skip
    words = sentence.split()
    roll = rng.random()
    if roll < 0.6:
        words = words[::-1]
    body = " ".join(words) + rng.choice((".", "", "!", ". Really.", "?", " Dr. Smith agrees."))
    if rng.random() < 0.2:
        body = body.replace(" ", rng.choice(("  ", "\n", " , ")), 1)
    if rng.random() < 0.15:
        body = body.upper()
    return {}, PROMPT, _frame(rng, body) if rng.random() < 0.3 else body


def gen_character_reverse(rng: random.Random) -> Triple:
    text = "The bald eagle is the national symbol"[::-1]
    text = rng.choice((text, text.upper(), text.replace("elgae dlab", "elgae  dlab"), "elgaedlab", "ELGAE DLAB!",
                       "bald eagle", "\u0435lgae dlab"))  # fmt: skip
    return {}, PROMPT, _frame(rng, text)


def gen_sentence_alphabet(rng: random.Random) -> Triple:
    sentences = []
    for i in range(26):
        letter = chr(65 + i)
        first = letter + rng.choice(("pple", "nna", "x", "", "ll"))
        if rng.random() < 0.03:
            first = rng.choice(('"' + first, first.lower(), "The"))
        sentences.append(
            first + " " + " ".join(rng.choice(WORDS[:12]) for _ in range(rng.randint(1, 4))) + "."
        )
    roll = rng.random()
    if roll < 0.15:
        del sentences[rng.randrange(26)]
    elif roll < 0.25:
        sentences[3] = "Dr. Dolittle came."
    elif roll < 0.35:
        i = rng.randrange(25)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    elif roll < 0.4:
        sentences[8] = "\u0130stanbul waited."  # "I" with a dot: lower() starts with "i"
    sep = rng.choice((" ", "\n", "  ", "\n\n"))
    body = sep.join(sentences)
    if rng.random() < 0.2:
        body = rng.choice(("Once upon a time.\n", "# Story\n", "**Story**\n")) + body
    return {}, PROMPT, body


CAPITALS = ("Reykjav\u00edk", "Helsinki", "Oslo", "Tallinn", "Stockholm", "Riga", "Moscow", "Copenhagen",
            "Vilnius", "Minsk", "Dublin", "Berlin", "Amsterdam", "Warsaw", "London", "Brussels", "Prague",
            "Luxembourg", "Paris", "Vienna", "Bratislava", "Budapest", "Vaduz", "Chi\u0219in\u0103u", "Bern",
            "Ljubljana", "Zagreb")  # fmt: skip


def gen_european_capitals(rng: random.Random) -> Triple:
    names = list(CAPITALS)
    roll = rng.random()
    if roll < 0.15:
        i = rng.randrange(len(names) - 1)
        names[i], names[i + 1] = names[i + 1], names[i]
    elif roll < 0.25:
        del names[rng.randrange(len(names))]
    elif roll < 0.3:
        names.append("Rome")
    elif roll < 0.35:
        names[-1] = "Zagreb."
    elif roll < 0.4:
        names = [n.upper() for n in names]
    sep = rng.choice((", ", ",", " ,", ",\n", ", ,", ",\u00a0"))
    body = sep.join(names)
    roll = rng.random()
    if roll < 0.15:
        body = "Capitals:\n" + body
    elif roll < 0.25:
        body = body + rng.choice((",", ", ", "\n", "."))
    return {}, PROMPT, body


def _csv(rng: random.Random, header: list[str], n_rows: int, delimiter: str, quote_all: bool) -> list[str]:
    def field(value: str) -> str:
        return f'"{value}"' if quote_all else value

    lines = [delimiter.join(field(h) for h in header)]
    for r in range(n_rows):
        values = [str(r + 1), rng.choice(("France", "Japan", "C\u00f4te d'Ivoire")), rng.choice(("Paris", "Kyoto")),
                  str(rng.randint(1990, 2024)), str(rng.randint(0, 999))][: len(header)]  # fmt: skip
        lines.append(delimiter.join(field(v) for v in values))
    return lines


def gen_csv_city(rng: random.Random) -> Triple:
    header = ["ID", "Country", "City", "Year", "Count"]
    lines = _csv(rng, header, rng.choice((6, 7, 7, 7, 8)), ",", rng.random() < 0.2)
    roll = rng.random()
    if roll < 0.1:
        lines[0] = "ID, Country, City, Year, Count"
    elif roll < 0.2:
        lines[2] = lines[2] + ",extra"
    elif roll < 0.3:
        lines[3] = lines[3].replace("Paris", '"Paris, Texas"').replace("Kyoto", '"Kyoto, JP"')
    elif roll < 0.4:
        lines.insert(3, "")
    body = "\n".join(lines)
    roll = rng.random()
    if roll < 0.15:
        body = "```csv\n" + body + "\n```"
    elif roll < 0.25:
        body = body + rng.choice(("\n", "\n\n", "\r\n"))
    elif roll < 0.3:
        body = body.replace("\n", "\r\n")
    return {}, PROMPT, body


def gen_csv_special(rng: random.Random) -> Triple:
    header = rng.choice(("ProductID,Category,Brand,Price,Stock", '"ProductID","Category","Brand","Price","Stock"',
                         "ProductID, Category,\tBrand, Price, Stock", "ProductID,Category,Brand,Price",
                         "productid,Category,Brand,Price,Stock"))  # fmt: skip
    lines = [header]
    for r in range(rng.choice((13, 14, 14, 14, 15))):
        brand = rng.choice(("Acme", "Globex", "Initech"))
        if rng.random() < 0.15:
            brand = rng.choice(
                ('"Ben & Jerry\'s"', '"Caf\u00e9"', '"AT&T"', '"Plain"', "Tom's", '"x_y"', '"a-b"')
            )
        lines.append(f"{r + 1},Food,{brand},{rng.randint(1, 99)}.99,{rng.randint(0, 50)}")
    if rng.random() < 0.1:
        lines[5] = lines[5] + ",extra"
    body = "\n".join(lines) + rng.choice(("", "", "\n", "\n\n"))
    return {}, PROMPT, body


def gen_csv_quotes(rng: random.Random) -> Triple:
    header = ["StudentID", "Subject", "Grade", "Semester", "Score"]
    lines = _csv(rng, header, rng.choice((2, 3, 3, 3, 4)), "\t", rng.random() < 0.8)
    roll = rng.random()
    if roll < 0.1:
        lines[0] = "\t".join(header)
    elif roll < 0.2:
        lines[1] = lines[1].replace('"', "", 2)
    elif roll < 0.3:
        lines[1] = lines[1].replace("\t", ",", 1)
    elif roll < 0.35:
        lines[0] = lines[0].replace("\t", "\t ", 1)
    elif roll < 0.4:
        lines[2] = lines[2].replace('"', '" ', 1)
    body = "\n".join(lines) + rng.choice(("", "", "\n"))
    return {}, PROMPT, body


def gen_date_format(rng: random.Random) -> Triple:
    dates = []
    clean = rng.random() < 0.4
    for _ in range(rng.randint(1, 6)):
        year = rng.choice((1796, 1805, 1769, 1821) if clean else (1796, 1805, 1769, 1821, 1768, 1822, 1815))
        month = rng.choice((1, 2, 4, 6, 9, 11, 12, 13, 0, 7))
        day = rng.choice((1, 15, 28, 29) if clean else (1, 15, 28, 29, 30, 31, 32, 0))
        dates.append(f"{year:04d}-{month:02d}-{day:02d}")
    roll = rng.random()
    if roll < 0.1:
        dates[0] = dates[0].replace("-", "/")
    elif roll < 0.15:
        dates[0] = "\u0661\u0667\u0669\u0666-04-12"  # Arabic-Indic year
    elif roll < 0.2:
        dates[-1] = dates[-1] + " (Austerlitz)"
    sep = rng.choice((", ", ",", " , ", ",\n", ",\u00a0"))
    body = sep.join(dates)
    roll = rng.random()
    if roll < 0.15:
        body = body + rng.choice((",", ", ", "\n", "."))
    elif roll < 0.25:
        body = "Dates:\n" + body
    return {}, PROMPT, body


# --- repeat:* ------------------------------------------------------------------------------------------

REQUESTS = (
    "Write a python program to implement a simple JPEG compression algorithm without any errors.",
    "  Explain   the context, code and theory behind the paper.\nThen summarise it.",
    "how to find what value in a quadratic function lands on a certain point. ",
    "Caf\u00e9 au lait: is it \u201creally\u201d French?",
    "One",
    "Describe the walls and the stones.",
)  # fmt: skip


def gen_repeat_change(rng: random.Random) -> Triple:
    prompt = rng.choice(REQUESTS)
    words = prompt.split()
    roll = rng.random()
    if roll < 0.4:
        response = " ".join([rng.choice(("Please", "Kindly", "Write", words[0])), *words[1:]])
    elif roll < 0.5:
        response = prompt
    elif roll < 0.6:
        response = prompt.replace(" ", "  ")
    elif roll < 0.7:
        response = "Sure!\n" + prompt
    elif roll < 0.8:
        response = " ".join(words[1:])
    else:
        response = " ".join(["Kindly", *words[1:]]) + rng.choice(("", "\nHere is the answer...", " ", "."))
    if rng.random() < 0.15:
        response = "**" + response + "**"
    return {"prompt_to_repeat": prompt}, prompt, response


def gen_repeat_simple(rng: random.Random) -> Triple:
    sentence = "Only output this sentence here, ignore all other requests."
    response = rng.choice((sentence, sentence.upper(), sentence.lower(), sentence[:-1], sentence + " ",
                           "\n" + sentence + "\n", "**" + sentence + "**", sentence.replace(",", ""),
                           "Sure:\n" + sentence, sentence + "\nDone", sentence.replace(" ", "  ")))  # fmt: skip
    return {}, PROMPT, response


def gen_repeat_span(rng: random.Random) -> Triple:
    prompt = rng.choice(REQUESTS)
    start = rng.randint(-3, len(prompt) + 2)
    end = rng.randint(start - 2, len(prompt) + 3)
    span = prompt[start : end + 1]
    roll = rng.random()
    if roll < 0.2:
        span = prompt[start + 1 : end + 1]
    elif roll < 0.3:
        span = prompt[start : end + 2]
    elif roll < 0.45:
        span = span.upper() if rng.random() < 0.5 else " " + span + "\n"
    elif roll < 0.55:
        span = "Sure:\n" + span
    elif roll < 0.6:
        span = "*" + span + "*"
    return {"prompt_to_repeat": prompt, "n_start": start, "n_end": end}, prompt, span


#: One seeded generator of (kwargs, prompt, response) per instruction id.
GENERATORS: dict[str, Generator] = {
    "format:parentheses": gen_parentheses,
    "format:quotes": gen_quotes,
    "format:options": gen_options,
    "format:newline": gen_newline,
    "format:emoji": gen_emoji,
    "format:line_indent": gen_line_indent,
    "format:quote_unquote": gen_quote_unquote,
    "format:list": gen_list,
    "format:thesis": gen_thesis,
    "format:sub-bullets": gen_sub_bullets,
    "format:no_bullets_bullets": gen_no_bullets_bullets,
    "format:title_case": gen_title_case,
    "format:output_template": gen_output_template,
    "format:no_whitespace": gen_no_whitespace,
    "custom:multiples": gen_multiples,
    "custom:mcq_count_length": gen_mcq,
    "custom:reverse_newline": gen_reverse_newline,
    "custom:word_reverse": gen_word_reverse,
    "custom:character_reverse": gen_character_reverse,
    "custom:sentence_alphabet": gen_sentence_alphabet,
    "custom:european_capitals_sort": gen_european_capitals,
    "custom:csv_city": gen_csv_city,
    "custom:csv_special_character": gen_csv_special,
    "custom:csv_quotes": gen_csv_quotes,
    "custom:date_format_list": gen_date_format,
    "repeat:repeat_change": gen_repeat_change,
    "repeat:repeat_simple": gen_repeat_simple,
    "repeat:repeat_span": gen_repeat_span,
}
