"""Differential test of crabkit's IFEval scoring against the reference implementation, on adversarial text.

Triples (instruction id, kwargs, response) come from a seeded generator: the 541 official prompts'
kwargs and random valid kwargs for all 25 instruction ids, paired with the official GPT-4 responses
(and short synthetic texts) put through random mutations (commas, case, bullets, headings, ``***``,
sections, JSON fences and deep JSON, P.S. lines, placeholders, curly quotes, CJK, emoji, zero-width
spaces, NBSP, CRLF, ASCII separators, contractions, abbreviations, empty and very long texts).
Each triple is scored strict and loose by crabkit and by the reference code in
``../shared/oracles/instruction_following_eval`` (imported, never copied), both under the
installed NLTK, langdetect seeded 0. A disagreement that no documented deviation (README, "IFEval
scoring: deliberate deviations") explains is printed with its triple.

    .venv/bin/python bench/ifeval_differential.py            # 30,000 triples, as the test suite runs
    .venv/bin/python bench/ifeval_differential.py --long     # 200,000 triples (--triples N for any other)
    .venv/bin/python bench/ifeval_differential.py --long --workers 2 --seed 100 --per-id

``tests/test_ifeval_differential.py`` runs the same code on 30,000 triples (seed 0). Exit status 1
when any disagreement is unexplained, 2 when the reference or its data is not there.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import types
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
ORACLES = SHARED / "oracles"
DATA = SHARED / "data" / "ifeval"
GPT4 = "input_response_data_gpt4_20231107_145030.jsonl"
CI_TRIPLES = 30_000
LONG_TRIPLES = 200_000


@dataclass(frozen=True)
class Triple:
    instruction_id: str
    kwargs: dict[str, Any]  # what crabkit reads (may hold the Hugging Face layout's nulls)
    prompt: str
    response: str

    def show(self) -> str:
        return json.dumps(
            {"instruction_id": self.instruction_id, "kwargs": self.kwargs, "response": self.response},
            ensure_ascii=False,
        )


# --- the oracle --------------------------------------------------------------------------------------


def oracle_missing() -> str | None:
    """Why the reference cannot be run here, or None when it can."""
    if not (ORACLES / "instruction_following_eval" / "evaluation_lib.py").is_file():
        return f"reference IFEval code not present under {ORACLES} (see shared/oracles/README.md)"
    if not (DATA / "input_data.jsonl").is_file() or not (DATA / GPT4).is_file():
        return f"official IFEval prompts and GPT-4 responses not present under {DATA}"
    try:
        import absl  # noqa: F401
        import langdetect  # noqa: F401
        import nltk  # noqa: F401
    except ImportError as exc:
        return f"the reference needs {exc.name}, which is not installed"
    return None


def _immutabledict_stand_in() -> None:
    """The reference imports ``immutabledict`` for one read-only table; without the package (it is in
    the dev extra) a read-only mapping stands in for it."""
    try:
        import immutabledict  # noqa: F401
    except ImportError:
        module = types.ModuleType("immutabledict")
        module.immutabledict = lambda value: types.MappingProxyType(dict(value))  # type: ignore[attr-defined]
        sys.modules["immutabledict"] = module


def load_reference():
    """The reference's ``evaluation_lib``, with NLTK pointed at crabkit's Punkt files, langdetect
    seeded 0 and the reference's error logging silenced."""
    _immutabledict_stand_in()
    if str(ORACLES) not in sys.path:
        sys.path.append(str(ORACLES))
    import nltk
    from absl import logging as absl_logging
    from langdetect import DetectorFactory

    from crabkit import text

    root = str(text.punkt_dir())
    if root not in nltk.data.path:
        nltk.data.path.insert(0, root)
    DetectorFactory.seed = 0
    absl_logging.set_verbosity(absl_logging.FATAL)
    from instruction_following_eval import evaluation_lib

    return evaluation_lib


def reference_verdict(lib, triple: Triple) -> tuple[bool, bool] | str:
    """(strict, loose) from the reference, or the exception it raised as text."""
    kwargs = {k: v for k, v in triple.kwargs.items() if v is not None}
    example = lib.InputExample(key=0, instruction_id_list=[triple.instruction_id], prompt=triple.prompt,
                               kwargs=[kwargs])  # fmt: skip
    table = {triple.prompt: triple.response}
    try:
        strict = lib.test_instruction_following_strict(example, table).follow_instruction_list[0]
        loose = lib.test_instruction_following_loose(example, table).follow_instruction_list[0]
    except Exception as exc:  # noqa: BLE001 - the reference's crash is a verdict to compare too
        return f"{type(exc).__name__}: {exc}"[:200]
    return bool(strict), bool(loose)


def crabkit_verdict(triple: Triple) -> tuple[bool, bool] | str:
    from crabkit.eval.ifeval import IFEvalDataError, IFEvalPrompt, score_prompt

    prompt = IFEvalPrompt(0, triple.prompt, [triple.instruction_id], [triple.kwargs])
    try:
        result = score_prompt(prompt, triple.response)
    except IFEvalDataError as exc:
        return f"IFEvalDataError: {exc}"[:200]
    return result.strict[0], result.loose[0]


# --- documented deviations -----------------------------------------------------------------------------

_WORDISH = re.compile(r"\w")


def _is_pattern(text: str) -> bool:
    return re.escape(text) != text


def _json_depth(response: str) -> int:
    from crabkit.constraints.format import json_depth

    return json_depth(response)


def documented_deviation(triple: Triple) -> str | None:
    """The README deviation that explains a disagreement on ``triple``, or None."""
    iid, kw = triple.instruction_id, triple.kwargs
    if iid in ("keywords:existence", "keywords:frequency"):
        words = kw.get("keywords") or [kw.get("keyword") or ""]
        if any(_is_pattern(w.strip()) for w in words):
            return "keywords are literal text"
    if iid == "keywords:forbidden_words":
        for w in kw["forbidden_words"]:
            if _is_pattern(w) or not w or not _WORDISH.match(w[0]) or not _WORDISH.match(w[-1]):
                return "forbidden words are literal, bounded by no word character"
    if iid == "keywords:letter_frequency" and not ("a" <= kw["letter"].lower() <= "z"):
        return "a non-letter symbol is counted"
    if iid == "detectable_content:postscript":
        marker = kw["postscript_marker"].strip()
        if marker not in ("P.S.", "P.P.S") and _is_pattern(marker.lower()):
            return "postscript markers are literal"
    if iid == "detectable_format:multiple_sections" and _is_pattern(kw["section_spliter"].strip()):
        return "section splitters are literal"
    if iid == "detectable_format:json_format" and _json_depth(triple.response) > 500:
        return "JSON nested deeper than 500 levels fails"
    return None


# --- the generator -------------------------------------------------------------------------------------

_CJK = "这是一个测试。我们今天去公园散步，天气很好！日本語の文章です。한국어 문장입니다."
_EMOJI = ["😀", "🦀", "👍🏽", "❤️", "🇫🇷", "✨"]
_ODD = ["\u200b", "\u00a0", "\ufeff", "\u2028", "\x1f", "\x1c", "\t", "\r\n", "\u3000", "\u0130", "\u017f"]
_SNIPPETS = [
    "He said “Stop.” Then he left.", "Done.\x1fNext one.", "'TIS THE SEASON", "DON'T\nSTOP NOW", "I'm\nhere",
    "Dr. Smith met Mr. Jones at 3 p.m. in the U.S.A. on Jan. 5.", "e.g. this... or that?! Yes.",
    "It costs $3.50. Really.", "WOW!!! AMAZING... OK.", "(See Fig. 2.) Next.", "“Quoted.” ‘Single.’",
    "NASA's JPL-built rover", "U.S. Army", "HELLO WORLD", "C++ and C# and .NET", "#tag @home -ly cat'",
    "My answer is yes.", "My answer is no.", "My answer is maybe.", "<<A Title>>", "<< >>", "<<>>",
    "[name] [address] [ ] [[x]]", "*highlight* **bold** ***", "P.S. see you", "p.p.s. again", "PS: note",
    "SECTION 1\nText\nSECTION 2\nMore", "Section 1: a\nSection 2: b", "PARAGRAPH 1", "******",
    "```json\n{\"a\": 1}\n```", "{\"key\": [1, 2, {\"b\": null}]}", "[1, 2", "\"just a string\"", "42",
    "NaN", "Infinity", "{'single': 'quotes'}", "* item one\n* item two\n- item three", "1. first\n2. second",
]  # fmt: skip
_WORDS = ["crab", "the", "and", "river", "ocean", "Python", "JSON", "name", "section", "paragraph", "answer",
          "yes", "no", "love", "data", "is", "a", "of", "in", "to", "ice cream", "new york", "AI", "NLP"]  # fmt: skip
_IDS = [
    "keywords:existence", "keywords:frequency", "keywords:forbidden_words", "keywords:letter_frequency",
    "language:response_language", "length_constraints:number_sentences", "length_constraints:number_paragraphs",
    "length_constraints:number_words", "length_constraints:nth_paragraph_first_word",
    "detectable_content:number_placeholders", "detectable_content:postscript",
    "detectable_format:number_bullet_lists", "detectable_format:constrained_response",
    "detectable_format:number_highlighted_sections", "detectable_format:multiple_sections",
    "detectable_format:json_format", "detectable_format:title", "combination:two_responses",
    "combination:repeat_prompt", "startend:end_checker", "change_case:capital_word_frequency",
    "change_case:english_capital", "change_case:english_lowercase", "punctuation:no_comma", "startend:quotation",
]  # fmt: skip
_LANGS = ["en", "es", "pt", "ar", "hi", "fr", "ru", "de", "ja", "it", "bn", "uk", "th", "ur", "ta", "te", "bg",
          "ko", "pl", "he", "fa", "vi", "ne", "sw", "kn", "mr", "gu", "pa", "ml", "fi"]  # fmt: skip
_HF_KEYS = ["num_highlights", "relation", "num_words", "num_placeholders", "prompt_to_repeat", "num_bullets",
            "section_spliter", "num_sections", "capital_relation", "capital_frequency", "keywords",
            "num_paragraphs", "language", "let_relation", "letter", "let_frequency", "end_phrase",
            "forbidden_words", "keyword", "frequency", "num_sentences", "postscript_marker", "first_word",
            "nth_paragraph"]  # fmt: skip


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _mutations() -> list[Callable[[random.Random, str], str]]:
    def commas(rng, t):
        return t.replace(",", "") if rng.random() < 0.5 else re.sub(r" ", ", ", t, count=rng.randint(1, 3))

    def case(rng, t):
        return rng.choice([str.upper, str.lower, str.title, str.swapcase, str.capitalize])(t)

    def words_upper(rng, t):
        words = t.split(" ")
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(words))
            words[i] = words[i].upper()
        return " ".join(words)

    def bullets(rng, t):
        mark = rng.choice(["* ", "- ", "*", "-", "  * ", "** ", "• ", "1. "])
        return "\n".join(mark + line if rng.random() < 0.6 else line for line in _lines(t))

    def headings(rng, t):
        lines = _lines(t)
        i = rng.randrange(len(lines))
        lines.insert(i, rng.choice(["# ", "## ", "### ", "#"]) + rng.choice(_WORDS))
        return "\n".join(lines)

    def stars(rng, t):
        sep = rng.choice(["\n***\n", "***", " *** ", "\n* * *\n", "\n\n***\n\n", "****"])
        return sep.join(t.split("\n\n")) if "\n\n" in t else t + sep + rng.choice(_SNIPPETS)

    def sections(rng, t):
        word = rng.choice(["SECTION", "Section", "PARAGRAPH", "Part", "Day", "SECTION:"])
        parts = t.split("\n\n") or [t]
        return "\n\n".join(f"{word} {k + rng.randint(0, 1)}\n{p}" for k, p in enumerate(parts, 1))

    def json_fence(rng, t):
        choice = rng.randrange(5)
        if choice == 0:
            return "```json\n" + json.dumps({"answer": t}) + "\n```"
        if choice == 1:
            return json.dumps(t.split("\n"))
        if choice == 2:
            return rng.choice(["```JSON\n", "```Json\n", "```\n", "```json"]) + t + "\n```"
        depth = rng.choice([10, 400, 499, 500, 501, 800, 989, 1200])
        open_, close = rng.choice([("[", "]"), ('{"a":', "}")])
        return open_ * depth + "1" + close * depth

    def postscript(rng, t):
        mark = rng.choice(["P.S.", "P.P.S", "p.s.", "PS:", "P.S", "P. S.", "P.P.S.", "p. p. s", "Note:"])
        return t + rng.choice(["\n\n", "\n", " "]) + mark + " " + rng.choice(_SNIPPETS)

    def placeholders(rng, t):
        return t + " " + " ".join(rng.choice(["[name]", "[ ]", "[[x]]", "[a b]", "[]", "[Your Name]"])
                                  for _ in range(rng.randint(1, 4)))  # fmt: skip

    def quotes(rng, t):
        if rng.random() < 0.4:
            left, right = rng.choice([('"', '"'), ("“", "”"), ("'", "'"), ('"', ""), ("", '"')])
            return left + t + right
        return t.replace('"', rng.choice(["“", "”", "'"])).replace("'", rng.choice(["’", "‘", "'"]))

    def insert(rng, t, piece):
        i = rng.randint(0, len(t))
        return t[:i] + piece + t[i:]

    def cjk(rng, t):
        return insert(rng, t, _CJK[: rng.randint(1, len(_CJK))]) if rng.random() < 0.7 else _CJK

    def emoji(rng, t):
        return insert(rng, t, rng.choice(_EMOJI))

    def odd_chars(rng, t):
        ch = rng.choice(_ODD)
        if ch == "\r\n":
            return t.replace("\n", "\r\n")
        if rng.random() < 0.3:
            return t.replace(" ", ch)
        return insert(rng, t, ch)

    def snippet(rng, t):
        return insert(rng, t, rng.choice(["", " ", "\n", "\n\n"]) + rng.choice(_SNIPPETS) + " ")

    def truncate(rng, t):
        lines = _lines(t)
        start = rng.randrange(len(lines))
        return "\n".join(lines[start : start + rng.randint(1, 6)])

    def cut(rng, t):
        return t[: rng.randint(0, len(t))]

    def paragraphs(rng, t):
        return t.replace("\n", rng.choice(["\n\n", "\n\n\n", "\n \n", "\n", " \n\n "]))

    def blank(rng, t):
        return rng.choice(["", " ", "\n", "\n\n", "*", "***", "\t"])

    def long(rng, t):
        return (t + "\n\n") * rng.randint(3, 12)

    def two_responses(rng, t):
        return t + rng.choice(["\n******\n", "******", "\n\n******\n\n", "\n*******\n"]) + rng.choice([t, t.upper(), ""])

    def end_phrase(rng, t):
        return t + rng.choice([" Is there anything else I can help with?", " Any other questions?\"",
                               "\nLet me know if you have additional questions.", "  "])  # fmt: skip

    return [commas, case, words_upper, bullets, headings, stars, sections, json_fence, postscript,
            placeholders, quotes, cjk, emoji, odd_chars, snippet, truncate, cut, paragraphs, blank, long,
            two_responses, end_phrase]  # fmt: skip


def _count(rng: random.Random, typical: int) -> int | float | bool:
    roll = rng.random()
    if roll < 0.05:
        return 0
    if roll < 0.08:
        return rng.choice([True, False])
    if roll < 0.14:
        return float(rng.randint(0, typical * 2))
    return rng.randint(1, typical * 2)


def _relation(rng: random.Random) -> str:
    return rng.choice(["less than", "at least"])


def _some_word(rng: random.Random, response: str) -> str:
    words = re.findall(r"[A-Za-z']+", response)
    if words and rng.random() < 0.7:
        return rng.choice(words)
    return rng.choice(_WORDS + ["#tag", "-ly", "@home", "cat'", "C++", "(beta)", "a.b", "naïve", "ÉCOLE"])


def random_kwargs(rng: random.Random, iid: str, response: str) -> dict[str, Any]:
    """Valid kwargs (values the kwargs policy accepts) for ``iid``, often near what ``response`` shows."""
    words = len(response.split())
    if iid == "keywords:existence":
        return {"keywords": [_some_word(rng, response) for _ in range(rng.randint(1, 3))]}
    if iid == "keywords:frequency":
        return {"keyword": _some_word(rng, response), "frequency": _count(rng, 3), "relation": _relation(rng)}
    if iid == "keywords:forbidden_words":
        return {"forbidden_words": [_some_word(rng, response) for _ in range(rng.randint(1, 4))]}
    if iid == "keywords:letter_frequency":
        letter = rng.choice("abcdefghijklmnopqrstuvwxyzAEIOUZ#!1 ")
        return {"letter": letter, "let_frequency": _count(rng, 20), "let_relation": _relation(rng)}
    if iid == "language:response_language":
        return {"language": rng.choice(_LANGS[:8] + ["en"] * 6 + _LANGS)}
    if iid == "length_constraints:number_sentences":
        return {"num_sentences": _count(rng, 8), "relation": _relation(rng)}
    if iid == "length_constraints:number_paragraphs":
        return {"num_paragraphs": _count(rng, 4)}
    if iid == "length_constraints:number_words":
        return {"num_words": _count(rng, max(words, 3)), "relation": _relation(rng)}
    if iid == "length_constraints:nth_paragraph_first_word":
        num = rng.randint(1, 5)
        first = _some_word(rng, response).lower() if rng.random() < 0.8 else ""
        return {"num_paragraphs": num, "nth_paragraph": rng.randint(1, num), "first_word": first}
    if iid == "detectable_content:number_placeholders":
        return {"num_placeholders": _count(rng, 3)}
    if iid == "detectable_content:postscript":
        return {"postscript_marker": rng.choice(["P.S.", "P.P.S", "P.S", "PS:", "p.s.", " P.S. ", "Note", ""])}
    if iid == "detectable_format:number_bullet_lists":
        return {"num_bullets": _count(rng, 4)}
    if iid == "detectable_format:number_highlighted_sections":
        return {"num_highlights": _count(rng, 3)}
    if iid == "detectable_format:multiple_sections":
        spliter = rng.choice(["SECTION", "Section", "PARAGRAPH", "Part", "Day", " SECTION ", "SECTION:", "X"])
        return {"section_spliter": spliter, "num_sections": _count(rng, 3)}
    if iid == "combination:repeat_prompt":
        start = response.strip()[: rng.randint(1, 60)] if response.strip() and rng.random() < 0.7 else ""
        return {"prompt_to_repeat": start or rng.choice(_SNIPPETS)}
    if iid == "startend:end_checker":
        tail = response.strip()[-rng.randint(1, 40) :] if response.strip() and rng.random() < 0.6 else ""
        return {"end_phrase": tail or rng.choice(["Any other questions?", "Is there anything else I can help with?"])}
    if iid == "change_case:capital_word_frequency":
        freq = rng.randint(-3, 30) if rng.random() < 0.9 else float(rng.randint(0, 10))
        return {"capital_frequency": freq, "capital_relation": _relation(rng)}
    return {}


def _hf_layout(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The Hugging Face layout: every kwarg slot present, with null for the unused ones."""
    return {**{k: None for k in _HF_KEYS}, **kwargs}


def load_official() -> tuple[list[dict[str, Any]], list[str]]:
    prompts = [json.loads(line) for line in (DATA / "input_data.jsonl").read_text(encoding="utf-8").splitlines()]
    responses = [json.loads(line)["response"] for line in (DATA / GPT4).read_text(encoding="utf-8").splitlines()]
    return prompts, responses


def generate_triples(n: int, seed: int, prompts: list[dict[str, Any]], responses: list[str]) -> Iterator[Triple]:
    """``n`` triples from one ``random.Random(seed)``: the same seed gives the same triples."""
    rng = random.Random(seed)
    mutations = _mutations()
    pairs = [(p["prompt"], iid, kw) for p in prompts for iid, kw in zip(p["instruction_id_list"], p["kwargs"])]
    for _ in range(n):
        base = rng.choice(responses) if rng.random() < 0.75 else rng.choice(_SNIPPETS)
        if len(base) > 400 and rng.random() < 0.6:  # most texts short: the reference is slow on long ones
            start = rng.randrange(len(base) - 200)
            base = base[start : start + rng.randint(50, 600)]
        text = base
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            text = rng.choice(mutations)(rng, text) if text else text
        if len(text) > 20_000:
            text = text[:20_000]
        if rng.random() < 0.35:
            prompt, iid, kw = rng.choice(pairs)
            kwargs = {k: v for k, v in kw.items() if v is not None}
        else:
            prompt, iid = "generated prompt", rng.choice(_IDS)
            kwargs = random_kwargs(rng, iid, text)
        if rng.random() < 0.15:
            kwargs = _hf_layout(kwargs)
        yield Triple(iid, kwargs, prompt, text)


# --- the comparison ------------------------------------------------------------------------------------


@dataclass
class Report:
    triples: int = 0
    strict_agree: int = 0
    loose_agree: int = 0
    explained: Counter | None = None
    unexplained: list[str] | None = None
    by_id: Counter | None = None
    passed: Counter | None = None  # strict passes per id (by the reference), so a test sees both verdicts
    n_unexplained: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.explained = Counter()
        self.unexplained = []
        self.by_id = Counter()
        self.passed = Counter()


def compare(triples: Iterator[Triple], lib, keep: int = 20) -> Report:
    """Score every triple both ways; count agreements, deviations explained and unexplained."""
    report = Report()
    started = time.perf_counter()
    for triple in triples:
        report.triples += 1
        report.by_id[triple.instruction_id] += 1
        ours = crabkit_verdict(triple)
        theirs = reference_verdict(lib, triple)
        if isinstance(theirs, tuple) and theirs[0]:
            report.passed[triple.instruction_id] += 1
        if ours == theirs:
            report.strict_agree += 1
            report.loose_agree += 1
            continue
        if isinstance(ours, tuple) and isinstance(theirs, tuple):
            report.strict_agree += ours[0] == theirs[0]
            report.loose_agree += ours[1] == theirs[1]
        reason = documented_deviation(triple)
        if reason is not None:
            report.explained[reason] += 1
            continue
        report.n_unexplained += 1
        if len(report.unexplained) < keep:
            report.unexplained.append(f"crabkit {ours} reference {theirs}: {triple.show()[:1500]}")
    report.seconds = time.perf_counter() - started
    return report


def run(n: int, seed: int) -> Report:
    lib = load_reference()
    prompts, responses = load_official()
    return compare(generate_triples(n, seed, prompts, responses), lib)


def _run_chunk(args: tuple[int, int]) -> Report:
    return run(*args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=CI_TRIPLES, help=f"default {CI_TRIPLES:,}")
    parser.add_argument("--long", action="store_true", help=f"{LONG_TRIPLES:,} triples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="processes; each scores its own seed's triples")
    parser.add_argument("--per-id", action="store_true", help="print triples and pass rates per instruction id")
    args = parser.parse_args(argv)
    if args.long:
        args.triples = LONG_TRIPLES
    missing = oracle_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    started = time.perf_counter()
    if args.workers > 1:
        import multiprocessing

        share = -(-args.triples // args.workers)
        jobs = [(min(share, args.triples - k * share), args.seed + k) for k in range(args.workers)]
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            reports = pool.map(_run_chunk, jobs)
    else:
        reports = [run(args.triples, args.seed)]
    total = sum(r.triples for r in reports)
    strict = sum(r.strict_agree for r in reports)
    loose = sum(r.loose_agree for r in reports)
    explained: Counter = sum((r.explained for r in reports), Counter())
    unexplained = [u for r in reports for u in r.unexplained]
    by_id: Counter = sum((r.by_id for r in reports), Counter())
    passed: Counter = sum((r.passed for r in reports), Counter())
    n_unexplained = sum(r.n_unexplained for r in reports)
    print(f"{total} triples over {len(by_id)} instruction ids, seeds {args.seed}..{args.seed + len(reports) - 1}, "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    print(f"agree: strict {strict / total:.5%}, loose {loose / total:.5%} (documented deviations included)")
    print("disagreements explained by a documented deviation:")
    for reason, count in sorted(explained.items()):
        print(f"  {count:7d}  {reason}")
    print(f"unexplained disagreements: {n_unexplained}")
    if args.per_id:
        for iid, count in sorted(by_id.items()):
            print(f"  {iid:48s} {count:7d} triples, {passed[iid] / count:6.1%} pass strict (reference)")
    for line in unexplained:
        print("UNEXPLAINED", line)
    return 1 if n_unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
