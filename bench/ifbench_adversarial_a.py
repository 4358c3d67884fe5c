"""Seeded adversarial (kwargs, prompt, response) triples for IFBench's counting, ratio, word and
sentence types (``count:*``, ``ratio:*``, ``words:*``, ``sentence:*``), for ``ifbench_differential.py``.

``GENERATORS[instruction_id](rng)`` draws one triple. Each generator builds a response that nearly
holds the instruction (a word game played almost right, a count one off the threshold) and then
perturbs it: odd whitespace (tabs, NBSP, CRLF, blank lines), markdown (``**``, bullets, headings),
punctuation runs and marks outside ASCII, curly quotes, contractions, Japanese, emoji, accented and
dotted letters, digits. Thresholds are set from what the text holds, so both verdicts come up.
The real answers of ``../shared/data/ifbench/sample_output.jsonl`` join the synthetic texts where
that file is present.
"""

from __future__ import annotations

import itertools
import json
import random
import string
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import syllapy

Triple = tuple[dict, str, str]
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "ifbench" / "sample_output.jsonl"

COMMON = (
    "the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are",
    "as", "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by",
    "word", "but", "not", "what", "all", "were", "we", "when", "your", "can", "said", "there",
    "use", "an", "each", "which", "she", "do", "how", "their", "if", "will", "up", "other", "about",
    "out", "many", "then", "them", "these", "so", "some", "her", "would", "make", "like", "him",
    "into", "time", "has", "look", "two", "more", "write", "go", "see", "number", "no", "way",
    "could", "people", "my", "than", "first", "water", "been", "call", "who", "oil", "its", "now",
    "find", "long", "down", "day", "did", "get", "come", "made", "may", "part", "yet", "nor",
    "both", "either", "neither", "none", "everyone", "anything", "myself", "themselves"
)  # fmt: skip
CONTENT = (
    "river", "budget", "planet", "garden", "signal", "engine", "market", "harbor", "lantern",
    "meadow", "circuit", "puzzle", "thunder", "crystal", "velvet", "compass", "anchor", "blossom",
    "canyon", "glacier", "orchard", "pepper", "saddle", "timber", "voyage", "whistle", "strength",
    "rhythm", "bright", "crisp", "spring", "street", "splash", "script", "twelfth", "sphinx",
    "lynx", "myths", "crypt"
)  # fmt: skip
PALINDROMES = (
    "level", "radar", "civic", "rotor", "kayak", "refer", "madam", "racecar", "stats", "tenet",
    "deified", "noon", "wow", "solos", "sagas"
)  # fmt: skip
JAPANESE = ("日本", "ねこ", "カタカナ", "東京", "さくら", "ラーメン", "漢字", "ひらがな", "水")
NUMBERS = ("3.5", "1,000", "42", "2-3", "10:30", "7", "2024", "0", "99%", "$12", "1st", "٣", "x2", "(5)")
NAMES = ("Emma", "Liam", "Noah", "Ava", "Mia", "Leo", "Zoe", "David", "Ryan", "Aria", "Stella", "Jonathan")
NEAR_NAMES = (
    "emma",
    "Emmanuel",
    "Emma's",
    "LIAM",
    "O'Ryan",
    "Leo-Zoe",
    "DavidJonathan",
    "_Ava",
    "Mia2",
    "Noah.",
)
CONJ = (
    "and",
    "And",
    "AND",
    "and,",
    "but",
    "But",
    "for",
    "nor",
    "or",
    "(or)",
    "so",
    "so.",
    "yet",
    "yet;",
    "Yet",
)
PRONOUN_TOKENS = (
    "she/her/hers",
    "I'm",
    "it's",
    "EVERYONE",
    "yourself.",
    "They",
    "whom",
    "Whose",
    "none",
    "each",
)
MARKS = (
    "—",
    "...",
    "?!",
    "!?",
    "‽",
    '"',
    "''",
    "``",
    "()",
    "-",
    "--",
    "*",
    "**",
    "#",
    ";",
    ":",
    ",",
    "!",
    "?",
)
ODD = ("İstanbul", "ß", "café", "naïve", "e\u0301te", "😀", "✓", "ǅ", "ﬁne", "Ⅻ", "½", "𝔘nicode")
SEPARATORS = (" ", " ", " ", "  ", "\t", "\u00a0", "\n", " \n ", "\r\n")
ENDINGS = (". ", ". ", "? ", "! ", "?! ", "... ", '." ', ".) ", "", ": ", ".\n\n", "?\n", "!\n", ". ** ")


def _pick(rng: random.Random, pool, k: int) -> list[str]:
    return [rng.choice(pool) for _ in range(k)]


@lru_cache(maxsize=1)
def _samples() -> tuple[str, ...]:
    if not SAMPLE.is_file():
        return ()
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return tuple(r["response"] for r in rows if r.get("response"))


def _word(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return rng.choice(COMMON)
    if r < 0.75:
        return rng.choice(CONTENT)
    pool = rng.choice((PALINDROMES, JAPANESE, NUMBERS, NAMES, NEAR_NAMES, CONJ, PRONOUN_TOKENS, MARKS, ODD))
    return rng.choice(pool)


def _sentence(rng: random.Random, words: int | None = None) -> str:
    n = rng.randint(1, 12) if words is None else words
    tokens = [_word(rng) for _ in range(n)]
    if tokens and rng.random() < 0.8:
        tokens[0] = tokens[0][:1].upper() + tokens[0][1:]
    body = "".join(t + rng.choice(SEPARATORS[:6]) for t in tokens).rstrip()
    return body + rng.choice(ENDINGS)


def _markdown(rng: random.Random, body: str) -> str:
    lines = body.split("\n")
    out = []
    for line in lines:
        r = rng.random()
        if r < 0.08:
            out.append("* " + line)
        elif r < 0.14:
            out.append("- " + line)
        elif r < 0.18:
            out.append("## " + line)
        elif r < 0.24:
            out.append("**" + line.strip() + "**")
        else:
            out.append(line)
    return "\n".join(out)


def text(rng: random.Random, sentences: int | None = None) -> str:
    """A response: a real answer (sometimes cut), or synthetic sentences, with markdown and padding."""
    real = _samples()
    if real and rng.random() < 0.3:
        body = rng.choice(real)
        if rng.random() < 0.5:
            start = rng.randrange(len(body))
            body = body[start : start + rng.randint(1, 600)]
    else:
        n = rng.randint(1, 8) if sentences is None else sentences
        body = "".join(_sentence(rng) for _ in range(n))
    if rng.random() < 0.3:
        body = _markdown(rng, body)
    return pad(rng, body)


def pad(rng: random.Random, body: str) -> str:
    head = rng.choice(("", "", "", "\n", "  ", "\n\n", "Sure!\n", "**Answer**\n", "\ufeff"))
    tail = rng.choice(("", "", "", "\n", " ", "\n\n", "\n---", "\n*", "\r\n"))
    return head + body + tail


def _num(rng: random.Random, value: float) -> int | float:
    """A threshold as the Hugging Face layout stores it: often a float."""
    return float(value) if rng.random() < 0.5 and float(value).is_integer() else value


def _offset(rng: random.Random) -> int:
    return rng.choice((-2, -1, -1, 0, 0, 0, 1, 1, 2))


def _prompt(rng: random.Random) -> str:
    return rng.choice(("Write something.", "Answer the question below.", "Explain tides."))


# --- measurements the thresholds are set from (the reference's own counting, re-done plainly) ---------

_DROP = str.maketrans("", "", string.punctuation)
_STRIP = string.punctuation + " "


def _unique(value: str) -> int:
    return len({w.strip(_STRIP) for w in value.lower().split()})


def _wordcount(value: str) -> int:
    import regex

    return len(regex.findall(r"\w+", value))


# --- generators ----------------------------------------------------------------------------------------


def word_count_range(rng: random.Random) -> Triple:
    response = text(rng)
    n = _wordcount(response)
    low = max(0, n + _offset(rng) - rng.randint(0, 3))
    high = max(0, low + rng.randint(0, 6) + (_offset(rng) if rng.random() < 0.3 else 0))
    return {"min_words": _num(rng, low), "max_words": _num(rng, high)}, _prompt(rng), response


def unique_word_count(rng: random.Random) -> Triple:
    response = text(rng)
    return {"N": _num(rng, max(0, _unique(response) + _offset(rng)))}, _prompt(rng), response


def stop_words(rng: random.Random) -> Triple:
    from crabkit.constraints._ifbench import nltk_stopwords

    response = (
        text(rng) if rng.random() < 0.7 else rng.choice(("", "...", "42", "  \n", "THE OF AND", "The."))
    )
    words = [t.lower() for t in __import__("regex").findall(r"\w+", response)]
    share = 100 * sum(w in nltk_stopwords() for w in words) / len(words) if words else 50
    r = rng.random()
    pct = share if r < 0.3 else round(share) + _offset(rng) if r < 0.9 else rng.randint(0, 100)
    return {"percentage": _num(rng, max(0, pct))}, _prompt(rng), pad(rng, response)


def _typed_sentences(rng: random.Random, counts: tuple[int, int, int]) -> str:
    ends = ["."] * counts[0] + ["?"] * counts[1] + ["!"] * counts[2]
    ends += _pick(rng, ('."', "...", "?!", ":", ".)", "!!", "??", ". **"), rng.choice((0, 0, 1, 2)))
    rng.shuffle(ends)
    sep = rng.choice((" ", "\n", "\n\n", "  "))
    return sep.join(_sentence(rng, rng.randint(1, 7)).rstrip().rstrip('.?!:)"* ') + e for e in ends)


def sentence_type(rng: random.Random) -> Triple:
    q = rng.randint(0, 4)
    d = max(0, 2 * q + rng.choice((-1, 0, 0, 0, 1)))
    return {}, _prompt(rng), pad(rng, _typed_sentences(rng, (d, q, rng.randint(0, 2))))


def sentence_balance(rng: random.Random) -> Triple:
    k = rng.randint(0, 3)
    counts = tuple(max(0, k + (_offset(rng) if rng.random() < 0.3 else 0)) for _ in range(3))
    return {}, _prompt(rng), pad(rng, _typed_sentences(rng, counts))  # type: ignore[arg-type]


def conjunctions(rng: random.Random) -> Triple:
    words = _pick(rng, CONTENT, rng.randint(3, 20)) + _pick(rng, CONJ, rng.randint(0, 8))
    rng.shuffle(words)
    response = pad(rng, " ".join(words) + rng.choice((".", "", " and.", " (but)")))
    raw = {
        w
        for w in response.split()
        if w.strip(_STRIP).lower() in {"and", "but", "for", "nor", "or", "so", "yet"}
    }
    return {"small_n": _num(rng, max(0, len(raw) + _offset(rng)))}, _prompt(rng), response


def person_names(rng: random.Random) -> Triple:
    words = _pick(rng, CONTENT, rng.randint(2, 12)) + _pick(rng, NAMES + NEAR_NAMES, rng.randint(0, 8))
    rng.shuffle(words)
    response = pad(rng, " ".join(words) + ".")
    import re

    from crabkit.constraints.ifbench_counts import PERSON_NAMES

    found = sum(1 for name in PERSON_NAMES if re.search(rf"\b{name}\b", response))
    return {"N": _num(rng, max(0, found + _offset(rng)))}, _prompt(rng), response


def overlap(rng: random.Random) -> Triple:
    reference = text(rng)
    r = rng.random()
    if r < 0.4 and len(reference) > 3:
        start = rng.randrange(len(reference))
        response = reference[start : start + rng.randint(3, 200)] + (
            text(rng, 1) if rng.random() < 0.5 else ""
        )
    elif r < 0.5:
        response = reference
    else:
        response = text(rng)
    grams = {response[i : i + 3] for i in range(len(response) - 2)}
    ref = {reference[i : i + 3] for i in range(len(reference) - 2)}
    share = 100 * len(grams & ref) / len(grams) if grams else 0
    pct = share + rng.choice((-2, 2)) if rng.random() < 0.2 else round(share) + rng.randint(-3, 3)
    return {"reference_text": reference, "percentage": _num(rng, max(0, pct))}, _prompt(rng), response or "ab"


def numbers(rng: random.Random) -> Triple:
    words = _pick(rng, CONTENT, rng.randint(1, 10)) + _pick(rng, NUMBERS, rng.randint(0, 7))
    rng.shuffle(words)
    response = pad(rng, " ".join(words) + rng.choice((".", "", " 5.", "...")))
    import re

    n = len(re.findall(r"\d+", response.translate(_DROP)))
    return {"N": _num(rng, max(0, n + _offset(rng)))}, _prompt(rng), response


def _perturb_words(rng: random.Random, words: list[str], chance: float = 0.3) -> list[str]:
    """Mostly the same words; sometimes one changed, a mark or odd token put in, or case flipped."""
    words = list(words)
    if words and rng.random() < chance:
        i = rng.randrange(len(words))
        choice = rng.random()
        if choice < 0.3:
            words[i] = rng.choice(MARKS + ODD)
        elif choice < 0.5:
            words.insert(i, rng.choice(MARKS))
        elif choice < 0.7:
            words[i] = words[i].upper()
        elif choice < 0.85:
            words[i] = rng.choice(MARKS) + words[i] + rng.choice(MARKS)
        else:
            del words[i]
    return words


def _join(rng: random.Random, words: list[str]) -> str:
    return pad(
        rng, "".join(w + rng.choice(SEPARATORS[:7]) for w in words).rstrip(" ") + rng.choice(("", ".", "!"))
    )


_BY_LETTER: dict[str, list[str]] = {}
for _w in COMMON + CONTENT + PALINDROMES + NAMES:
    _BY_LETTER.setdefault(_w[0].lower(), []).append(_w)


def alphabet(rng: random.Random) -> Triple:
    start = rng.randrange(26)
    words = []
    for k in range(rng.randint(1, 30)):
        letter = string.ascii_lowercase[(start + k) % 26]
        words.append(rng.choice(_BY_LETTER.get(letter, [letter + "ox"])))
    return {}, _prompt(rng), _join(rng, _perturb_words(rng, words, 0.5))


def vowel(rng: random.Random) -> Triple:
    allowed = set(rng.sample("aeiou", rng.choice((2, 3, 3, 4))))
    pool = [w for w in COMMON + CONTENT if set(w) & set("aeiou") <= allowed] or ["by"]
    words = _perturb_words(rng, _pick(rng, pool, rng.randint(1, 20)))
    body = " ".join(words) + rng.choice((".", "", ".\n", "\nSecond line.", " É.", " YOU."))
    return {}, _prompt(rng), pad(rng, body)


def consonants(rng: random.Random) -> Triple:
    pool = [w for w in COMMON + CONTENT if any(a in "bcdfghjklmnpqrstvwxyz" and b in "bcdfghjklmnpqrstvwxyz"
                                               for a, b in itertools.pairwise(w))]  # fmt: skip
    words = _perturb_words(rng, _pick(rng, pool, rng.randint(1, 15)), 0.5)
    return {}, _prompt(rng), _join(rng, words)


def alliteration_increment(rng: random.Random) -> Triple:
    parts = []
    for k in range(rng.randint(1, 4)):
        letter = rng.choice("bcdfglmprst")
        run = [w for w in COMMON + CONTENT if w[0] == letter] or [letter + "at"]
        n = k + rng.choice((1, 2, 2, 3))
        lead = _pick(rng, ("a", "the", "of", "in"), rng.randint(0, 2))
        words = lead + _pick(rng, run, n) + _pick(rng, ("and", "it", "up"), rng.randint(0, 1))
        parts.append(
            " ".join(_perturb_words(rng, words, 0.2)).capitalize() + rng.choice((". ", "! ", "? ", '." '))
        )
    return {}, _prompt(rng), pad(rng, "".join(parts).strip())


def palindrome(rng: random.Random) -> Triple:
    words = _pick(rng, PALINDROMES, rng.randint(7, 13)) + _pick(rng, CONTENT, rng.randint(0, 6))
    rng.shuffle(words)
    return {}, _prompt(rng), _join(rng, _perturb_words(rng, words, 0.5))


def punctuation(rng: random.Random) -> Triple:
    marks = [m for m in (".", ",", "!", "?", ";", ":") if rng.random() < 0.85]
    marks += _pick(rng, ("?!", "!?", "‽", "?!?!", "!?!", "?"), rng.randint(0, 2))
    rng.shuffle(marks)
    words = _pick(rng, CONTENT, len(marks) + 1)
    return {}, _prompt(rng), pad(rng, " ".join(w + m for w, m in zip(words, marks + [""])))


_PRIME = [w for w in COMMON + CONTENT + PALINDROMES if len(w) in (2, 3, 5, 7, 11, 13)]


def prime_lengths(rng: random.Random) -> Triple:
    words = _pick(rng, _PRIME, rng.randint(1, 15))
    words = _perturb_words(
        rng, words + _pick(rng, ("it's", "co-op", "a", "four", "café", "e.g."), rng.randint(0, 1))
    )
    return {}, _prompt(rng), _join(rng, words)


def sentence_words(rng: random.Random) -> Triple:
    length = rng.randint(8, 40)
    parts = []
    for _ in range(rng.choice((2, 3, 3, 3, 4))):
        body = ""
        while len(body) < length - 1:
            body += rng.choice(CONTENT + COMMON) + " "
        body = body[: length - 1].rstrip().ljust(length - 1, "x")
        if rng.random() < 0.2:
            body = body[:-1]
        parts.append(body.capitalize() + rng.choice((".", ".", "?", "!", '."')))
    return {}, _prompt(rng), pad(rng, rng.choice((" ", "  ", "\n", "\n\n")).join(parts))


def words_japanese(rng: random.Random) -> Triple:
    every = rng.randint(1, 6)
    words = []
    for i in range(1, rng.randint(1, 25)):
        if i % every == 0:
            words.append(rng.choice(JAPANESE + JAPANESE + ("42", "...", "-", "カ.", "x日本")))
        else:
            words.append(_word(rng))
    return {"N": _num(rng, every)}, _prompt(rng), _join(rng, _perturb_words(rng, words, 0.4))


def repeats(rng: random.Random) -> Triple:
    response = text(rng)
    from collections import Counter

    counts = Counter(response.lower().translate(_DROP).split())
    most = max(counts.values(), default=0)
    return {"small_n": _num(rng, max(0, most + _offset(rng)))}, _prompt(rng), response


def sentence_keyword(rng: random.Random) -> Triple:
    from crabkit import text as ctext

    response = text(rng, rng.randint(1, 6))
    found = ctext.sentences(response) or [response]
    index = rng.randrange(len(found))
    tokens = found[index].split() or ["river"]
    word = rng.choice(tokens).strip(rng.choice(("", _STRIP)))
    r = rng.random()
    if r < 0.2:
        word = word.upper()
    elif r < 0.3:
        word = rng.choice(("c++", "e.g.", "cat", "it's", "日本", "a.b", " river", "river "))
    n = max(1, index + 1 + rng.choice((-1, 0, 0, 0, 1)))
    return {"word": word or "river", "N": _num(rng, n)}, _prompt(rng), response


def pronouns(rng: random.Random) -> Triple:
    from crabkit.constraints.ifbench_counts import PronounCount

    response = text(rng) + (
        " " + " ".join(_pick(rng, PRONOUN_TOKENS, rng.randint(0, 5))) if rng.random() < 0.5 else ""
    )
    n = PronounCount.count(response)
    return {"N": _num(rng, max(0, n + _offset(rng)))}, _prompt(rng), response


_PARITY: dict[int, list[str]] = {}
for _w in COMMON + CONTENT + PALINDROMES:
    _PARITY.setdefault(syllapy.count(_w) % 2, []).append(_w)


def odd_even_syllables(rng: random.Random) -> Triple:
    parity = rng.randrange(2)
    words = []
    for _ in range(rng.randint(1, 14)):
        words.append(rng.choice(_PARITY[parity]))
        parity ^= 1
    return {}, _prompt(rng), _join(rng, _perturb_words(rng, words, 0.4))


def last_first(rng: random.Random) -> Triple:
    parts = []
    link = rng.choice(CONTENT)
    for _ in range(rng.randint(1, 5)):
        first = link if rng.random() < 0.9 else rng.choice(CONTENT)
        link = rng.choice(CONTENT)
        first = first.capitalize() if rng.random() < 0.7 else first
        middle = " ".join(_pick(rng, COMMON, rng.randint(0, 4)))
        lead, end = rng.choice(("", "", '"', "**")), rng.choice((".", "!", "?", '."', "..."))
        parts.append(f"{lead}{first} {middle} {link}{end}")
    return {}, _prompt(rng), pad(rng, rng.choice((" ", "\n", "  ")).join(p.replace("  ", " ") for p in parts))


def paragraph_last_first(rng: random.Random) -> Triple:
    lines = []
    for _ in range(rng.randint(1, 5)):
        word = rng.choice(CONTENT)
        last = word if rng.random() < 0.85 else rng.choice(CONTENT)
        middle = " ".join(_pick(rng, COMMON, rng.randint(0, 6)))
        lead, end = rng.choice(("", "", "**", "- ", '"')), rng.choice((".", "", "!", "**", " —"))
        lines.append(f"{lead}{word.capitalize()} {middle} {last}{end}")
        if rng.random() < 0.3:
            lines.append(rng.choice(("", "  ", "---", "...", "*")))
    return {}, _prompt(rng), pad(rng, "\n".join(lines))


def increment(rng: random.Random) -> Triple:
    step = rng.randint(0, 4)
    start = rng.randint(1, 5)
    parts = []
    for k in range(rng.randint(1, 5)):
        n = start + k * step + (rng.choice((-1, 1)) if rng.random() < 0.15 else 0)
        words = _pick(rng, CONTENT + COMMON, max(1, n))
        if rng.random() < 0.2:
            words.insert(rng.randrange(len(words) + 1), rng.choice(("-", "—", "...", "''", "e.g.")))
        parts.append(" ".join(words).capitalize() + rng.choice((".", "!", "?")))
    return (
        {"small_n": _num(rng, max(0, step + (_offset(rng) if rng.random() < 0.2 else 0)))},
        _prompt(rng),
        pad(rng, rng.choice((" ", "\n", "  ")).join(parts)),
    )


def no_consecutive(rng: random.Random) -> Triple:
    words: list[str] = []
    for _ in range(rng.randint(1, 15)):
        pool = [w for w in CONTENT + COMMON if not words or w[0] != words[-1][0]]
        words.append(rng.choice(pool))
    if words and rng.random() < 0.3:  # one clash: the same letter, another case, or across a mark
        i = rng.randrange(len(words))
        clash = rng.choice((words[i][0] + "ox", words[i][0].upper() + "ay", "-", "—", "'" + words[i]))
        words.insert(i + 1, clash)
    return {}, _prompt(rng), _join(rng, _perturb_words(rng, words, 0.5))


def keywords_multiple(rng: random.Random) -> Triple:
    keys = rng.sample(CONTENT, 5)
    if rng.random() < 0.2:
        keys[rng.randrange(5)] = rng.choice(("the", " river ", "Cat", "a"))
    words = _pick(rng, COMMON, rng.randint(0, 20))
    for key, n in zip(keys, (1, 2, 3, 5, 7)):
        n = max(0, n + (rng.choice((-1, 1)) if rng.random() < 0.25 else 0))
        words += [rng.choice((key.strip(), key.strip().upper(), key.strip() + "s", key.strip() + ","))
                  for _ in range(n)]  # fmt: skip
    rng.shuffle(words)
    kwargs = {f"keyword{i}": k for i, k in enumerate(keys, 1)}
    return kwargs, _prompt(rng), _join(rng, words)


def keywords_specific_position(rng: random.Random) -> Triple:
    from crabkit import text as ctext
    from crabkit.constraints._ifbench import treebank_words

    response = text(rng, rng.randint(1, 6))
    found = ctext.sentences(response) or [response]
    n = rng.randrange(len(found)) + 1
    tokens = [t for t in treebank_words(found[n - 1]) if any(c.isalnum() for c in t)] or ["river"]
    m = rng.randrange(len(tokens)) + 1
    keyword = tokens[m - 1]
    r = rng.random()
    if r < 0.2:
        m += rng.choice((-1, 1))
    elif r < 0.3:
        n += 1
    elif r < 0.4:
        keyword = keyword.upper()
    elif r < 0.45:
        keyword = " " + keyword + " "
    kwargs = {"keyword": keyword.strip() and keyword or "river", "n": max(1, n), "m": max(1, m)}
    return kwargs, _prompt(rng), response


def words_position(rng: random.Random) -> Triple:
    keyword = rng.choice(CONTENT)
    middle = _pick(rng, COMMON + CONTENT, rng.randint(0, 8))
    words = [rng.choice(COMMON).capitalize(), keyword, *middle, keyword, rng.choice(CONTENT)]
    words = _perturb_words(rng, words, 0.4)
    end = rng.choice(("", ".", "!", "?", " ()", ' "', "...", " :)", "!!", " ."))
    response = (
        pad(rng, " ".join(words) + end) if rng.random() < 0.85 else rng.choice(("Hi", "A river", keyword))
    )
    kw = keyword if rng.random() < 0.9 else rng.choice((keyword.upper(), f" {keyword} ", "other"))
    return {"keyword": kw}, _prompt(rng), response


#: Instruction id -> generator of one (kwargs, prompt, response) triple.
GENERATORS: dict[str, Callable[[random.Random], Triple]] = {
    "count:word_count_range": word_count_range,
    "count:unique_word_count": unique_word_count,
    "ratio:stop_words": stop_words,
    "ratio:sentence_type": sentence_type,
    "ratio:sentence_balance": sentence_balance,
    "count:conjunctions": conjunctions,
    "count:person_names": person_names,
    "ratio:overlap": overlap,
    "count:numbers": numbers,
    "words:alphabet": alphabet,
    "words:vowel": vowel,
    "words:consonants": consonants,
    "sentence:alliteration_increment": alliteration_increment,
    "words:palindrome": palindrome,
    "count:punctuation": punctuation,
    "words:prime_lengths": prime_lengths,
    "ratio:sentence_words": sentence_words,
    "count:words_japanese": words_japanese,
    "words:repeats": repeats,
    "sentence:keyword": sentence_keyword,
    "count:pronouns": pronouns,
    "words:odd_even_syllables": odd_even_syllables,
    "words:last_first": last_first,
    "words:paragraph_last_first": paragraph_last_first,
    "sentence:increment": increment,
    "words:no_consecutive": no_consecutive,
    "count:keywords_multiple": keywords_multiple,
    "words:keywords_specific_position": keywords_specific_position,
    "words:words_position": words_position,
}
