"""Back-translation for the 25 IFEval types: ``infer`` and ``candidates`` propose only what ``check``
accepts, in the reference kwargs format, with human numbers; ``describe`` words it in several ways."""

from __future__ import annotations

import json
import random
import time

import pytest

from conftest import shared_path
from crabkit.constraints import get
from crabkit.constraints._ifeval import upper_token_count
from crabkit.constraints.case import _capital_chunks, _capital_letters
from crabkit.constraints.length import ordinal, relation_bound
from crabkit.eval.ifeval import score

#: The reference kwargs of each type: key -> value type (as in IFEval's input_data.jsonl).
SCHEMA: dict[str, dict[str, type]] = {
    "change_case:capital_word_frequency": {"capital_relation": str, "capital_frequency": int},
    "change_case:english_capital": {},
    "change_case:english_lowercase": {},
    "combination:repeat_prompt": {"prompt_to_repeat": str},
    "combination:two_responses": {},
    "detectable_content:number_placeholders": {"num_placeholders": int},
    "detectable_content:postscript": {"postscript_marker": str},
    "detectable_format:constrained_response": {},
    "detectable_format:json_format": {},
    "detectable_format:multiple_sections": {"section_spliter": str, "num_sections": int},
    "detectable_format:number_bullet_lists": {"num_bullets": int},
    "detectable_format:number_highlighted_sections": {"num_highlights": int},
    "detectable_format:title": {},
    "keywords:existence": {"keywords": list},
    "keywords:forbidden_words": {"forbidden_words": list},
    "keywords:frequency": {"relation": str, "keyword": str, "frequency": int},
    "keywords:letter_frequency": {"let_relation": str, "letter": str, "let_frequency": int},
    "language:response_language": {"language": str},
    "length_constraints:nth_paragraph_first_word": {
        "first_word": str,
        "num_paragraphs": int,
        "nth_paragraph": int,
    },
    "length_constraints:number_paragraphs": {"num_paragraphs": int},
    "length_constraints:number_sentences": {"relation": str, "num_sentences": int},
    "length_constraints:number_words": {"relation": str, "num_words": int},
    "punctuation:no_comma": {},
    "startend:end_checker": {"end_phrase": str},
    "startend:quotation": {},
}
IDS = sorted(SCHEMA)
RELATION_KEYS = ("relation", "capital_relation", "let_relation")

BEES_Q = "How do honeybees tell each other where the flowers are?"
BEES = (
    "Honeybees communicate through a waggle dance. A forager returns to the hive and dances to show "
    "where flowers are. The angle of the dance points toward the food, and its length tells the "
    "distance.\n\n"
    "Scientists at NASA once studied how bees fly in weightless conditions. The bees struggled at "
    "first, but they adapted within days.\n\n"
    "Beekeepers watch the dance to learn which flowers their bees visit. Healthy hives need many "
    "foragers, and foragers need flowers."
)
LETTER = (
    "Dear [Hiring Manager],\n\nI am writing to apply for the analyst role at [Company Name]. I bring "
    "five years of experience with data.\n\nSincerely,\n[Your Name]\n\n"
    "P.S. I can start next month.\nP.P.S. My portfolio is attached."
)

# type -> (response, instruction) on which infer proposes params.
# Other answers to the bees question: what a type may compare a response with (forbidden words
# come from them: words they use and the response does without).
OTHER_BEE_ANSWERS = (
    ("Bees share the location of flowers with a special movement called the waggle dance. The worker "
    "bee wiggles its body in a straight line inside the hive, and the direction of that run tells "
    "the others where to fly relative to the sun. Nectar and pollen make the trip worth it."),
    ("A scout bee that finds nectar goes back to the colony and performs a dance. The duration of "
    "the waggle encodes distance, and its direction relative to gravity encodes the direction of "
    "the sun. Other workers follow her movement and then fly off to collect the nectar and pollen."),
)


def _infer(type_id: str, response: str, rng: random.Random, instruction: str = "") -> dict | None:
    """The first variant ``candidates`` proposes with other answers at hand (the pipeline's call)."""
    found = get(type_id).candidates(response, rng, instruction, OTHER_BEE_ANSWERS)
    return found[0] if found else None


POSITIVE: dict[str, tuple[str, str]] = {
    "change_case:capital_word_frequency": (BEES, BEES_Q),
    "change_case:english_capital": (
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG. IT THEN RUNS HOME TO SLEEP BY THE WARM FIRE.",
        "",
    ),
    "change_case:english_lowercase": (
        (
            "the quick brown fox jumps over the lazy dog. it then runs home to sleep by the warm fire, "
            "happy and tired."
        ),
        "",
    ),
    "combination:repeat_prompt": (
        "Write a haiku about rain.\n\nSoft rain on the roof\nthe garden drinks in silence\npuddles hold the sky",
        "Write a haiku about rain.",
    ),
    "combination:two_responses": (
        "Paris is the capital of France.\n******\nThe capital of France is Paris, a city on the Seine.",
        "",
    ),
    "detectable_content:number_placeholders": (LETTER, ""),
    "detectable_content:postscript": (LETTER, ""),
    "detectable_format:constrained_response": (
        "Coffee in moderation is fine for most adults. My answer is yes.",
        "",
    ),
    "detectable_format:json_format": (
        '```json\n{"name": "Ada", "languages": ["English", "French"]}\n```',
        "",
    ),
    "detectable_format:multiple_sections": (
        "SECTION 1\nWhy sleep matters.\n\nSECTION 2\nHow much you need.\n\nSECTION 3\nHow to get it.",
        "",
    ),
    "detectable_format:number_bullet_lists": ("Pack these:\n* a tent\n* a stove\n- a map", ""),
    "detectable_format:number_highlighted_sections": (
        "Remember: *sunscreen* matters, and **water** even more. Also pack *a hat*.",
        "",
    ),
    "detectable_format:title": ("<<Ode to the Sea>>\nThe sea rolls in and the sea rolls out.", ""),
    "keywords:existence": (BEES, BEES_Q),
    "keywords:forbidden_words": (BEES, BEES_Q),
    "keywords:frequency": (BEES, BEES_Q),
    "keywords:letter_frequency": (BEES, BEES_Q),
    "language:response_language": (
        (
            "El zorro marrón salta sobre el perro perezoso. Luego corre a casa para dormir junto al fuego "
            "caliente y descansar toda la noche."
        ),
        "",
    ),
    "length_constraints:nth_paragraph_first_word": (BEES, BEES_Q),
    "length_constraints:number_paragraphs": (
        (
            "Tea came to Europe in the seventeenth century.\n***\nIt became a daily ritual in Britain.\n***\n"
            "Today it is drunk everywhere."
        ),
        "",
    ),
    "length_constraints:number_sentences": (BEES, BEES_Q),
    "length_constraints:number_words": (BEES, BEES_Q),
    "punctuation:no_comma": (
        (
            "Rivers carve valleys over millions of years. Water carries sand and stones that grind the rock "
            "away little by little."
        ),
        "",
    ),
    "startend:end_checker": (BEES, BEES_Q),
    "startend:quotation": ('"Knowledge grows when it is shared with others."', ""),
}

# type -> (response, instruction) on which infer proposes nothing.
NEGATIVE: dict[str, tuple[str, str]] = {
    "change_case:capital_word_frequency": ("Hi there.", ""),
    "change_case:english_capital": (BEES, BEES_Q),
    "change_case:english_lowercase": ("ok fine, thanks", ""),
    "combination:repeat_prompt": (BEES, BEES_Q),
    "combination:two_responses": ("Paris is the capital.\n******\nParis is the capital.", ""),
    "detectable_content:number_placeholders": ("See [the docs](https://example.org) and the study [1].", ""),
    "detectable_content:postscript": ("My new PS5 arrived, and the P.S. in the manual was blank.", ""),
    "detectable_format:constrained_response": ("My answer is probably yes.", ""),
    "detectable_format:json_format": ('"Carpe diem"', ""),
    "detectable_format:multiple_sections": ("Section 1 of the law says little about this case.", ""),
    "detectable_format:number_bullet_lists": ("Intro\n\n---\n\n- only item after a rule", ""),
    "detectable_format:number_highlighted_sections": (BEES, BEES_Q),
    "detectable_format:title": ("<< >> is not a title, and neither is this.", ""),
    "keywords:existence": ("Yes, absolutely.", ""),
    "keywords:forbidden_words": ("Yes, absolutely.", ""),
    "keywords:frequency": ("The quick brown fox jumps over the lazy dog near a quiet river bank today.", ""),
    "keywords:letter_frequency": ("Yes.", ""),
    "language:response_language": (
        "De snelle bruine vos springt over de luie hond. Daarna rent hij naar huis om bij het warme vuur te slapen.",
        "",
    ),
    "length_constraints:nth_paragraph_first_word": ("One paragraph only, with a few words in it.", ""),
    "length_constraints:number_paragraphs": ("***Bold italic*** opening.\n\nA second paragraph.", ""),
    "length_constraints:number_sentences": ("Yes.", ""),
    "length_constraints:number_words": ("Yes, of course.", ""),
    "punctuation:no_comma": (BEES, BEES_Q),
    "startend:end_checker": ("Bring these:\n\n- a tent\n- a stove", ""),
    "startend:quotation": ('"Yes," he said. "No."', ""),
}


def _assert_reference_format(type_id: str, params: dict) -> None:
    schema = SCHEMA[type_id]
    assert set(params) == set(schema), (type_id, params)
    for key, kind in schema.items():
        value = params[key]
        assert isinstance(value, kind) and not isinstance(value, bool), (type_id, key, value)
        if kind is list:
            assert value and all(isinstance(v, str) and v for v in value), (type_id, value)
    for key in RELATION_KEYS:
        if key in params:
            assert params[key] in ("at least", "less than")
    json.dumps(params)  # the kwargs travel as JSON


def test_every_ifeval_type_is_covered():
    assert {t for t in IDS} == set(POSITIVE) == set(NEGATIVE)
    assert all(get(t).ifeval_id == t for t in IDS)


def test_schema_matches_the_reference_kwargs():
    path = shared_path("ifeval", "input_data.jsonl")
    keys: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        for iid, kwargs in zip(record["instruction_id_list"], record["kwargs"]):
            keys.setdefault(iid, set()).update(k for k, v in kwargs.items() if v is not None)
    assert keys == {t: set(s) for t, s in SCHEMA.items()}


@pytest.mark.parametrize("type_id", IDS)
def test_infer_proposes_params_the_check_accepts(type_id):
    t = get(type_id)
    response, instruction = POSITIVE[type_id]
    for seed in range(10):
        variants = t.candidates(response, random.Random(seed), instruction, OTHER_BEE_ANSWERS)
        assert variants, (type_id, seed)
        for params in variants:
            _assert_reference_format(type_id, params)
            assert t.check(response, params), (type_id, params)
        params = t.infer(response, random.Random(seed), instruction)
        assert params is None or t.check(response, params), (type_id, params)


@pytest.mark.parametrize("type_id", IDS)
def test_infer_proposes_nothing_when_the_response_shows_nothing(type_id):
    response, instruction = NEGATIVE[type_id]
    assert all(get(type_id).infer(response, random.Random(s), instruction) is None for s in range(10))
    assert all(_infer(type_id, response, random.Random(s), instruction) is None for s in range(10))


@pytest.mark.parametrize("type_id", IDS)
def test_inference_and_wording_are_deterministic(type_id):
    t = get(type_id)
    response, instruction = POSITIVE[type_id]
    first, again = (_infer(type_id, response, random.Random(11), instruction) for _ in range(2))
    assert first == again
    assert t.describe(first, random.Random(5)) == t.describe(first, random.Random(5))


def _mentioned(params: dict) -> list[str]:
    """The values a description must state."""
    out = []
    for key, value in params.items():
        if key in RELATION_KEYS:
            continue
        if key == "language":
            out.append({"en": "English", "es": "Spanish"}[value])
        elif isinstance(value, list):
            out.extend(value)
        else:
            out.append(str(value))
    if "nth_paragraph" in params:
        out.remove(str(params["nth_paragraph"]))  # said as "third" or "paragraph 3": tested apart
    if "prompt_to_repeat" in params:
        out.remove(params["prompt_to_repeat"])  # the request is the rest of the prompt, not quoted again
    return out


@pytest.mark.parametrize("type_id", IDS)
def test_descriptions_vary_and_state_the_values(type_id):
    t = get(type_id)
    assert len(set(t.phrasings)) >= 5
    response, instruction = POSITIVE[type_id]
    seen: dict[str, set[str]] = {}
    for seed in range(40):
        params = _infer(type_id, response, random.Random(seed), instruction)
        relation = next((params[k] for k in RELATION_KEYS if k in params), "")
        texts = {t.describe(params, random.Random(s)) for s in range(60)}
        seen.setdefault(relation, set()).update(texts)
        for text in texts:
            assert "{" not in text and "}" not in text or "{" in str(params), text
            for value in _mentioned(params):
                assert value in text, (type_id, value, text)
            if "nth_paragraph" in params:
                nth = params["nth_paragraph"]
                assert ordinal(nth) in text or f"paragraph {nth}" in text, text
    assert all(len(texts) >= 5 for texts in seen.values()), {r: len(x) for r, x in seen.items()}


@pytest.mark.parametrize("type_id", [t for t in IDS if set(SCHEMA[t]) & set(RELATION_KEYS)])
def test_the_relation_changes_the_wording(type_id):
    t = get(type_id)
    response, instruction = POSITIVE[type_id]
    params = t.infer(response, random.Random(0), instruction)
    key = next(k for k in RELATION_KEYS if k in params)
    worded = {}
    for relation in ("at least", "less than"):
        worded[relation] = {t.describe({**params, key: relation}, random.Random(s)) for s in range(60)}
    assert worded["at least"] and worded["less than"]
    assert not worded["at least"] & worded["less than"]


def test_language_codes_are_described_by_name():
    t = get("language:response_language")
    texts = {t.describe({"language": "es"}, random.Random(s)) for s in range(30)}
    assert all("Spanish" in x and " es " not in x for x in texts)


def test_keyword_lists_read_naturally():
    t = get("keywords:forbidden_words")
    text = t.describe({"forbidden_words": ["apple", "pear", "fig"]}, random.Random(0))
    assert "'apple', 'pear' and 'fig'" in text or "'apple', 'pear' or 'fig'" in text


# --- numbers a person would ask for ---------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 2, 3, 7, 9, 10, 14, 49, 51, 99, 263, 999, 1234])
def test_relation_bounds_are_honest_and_round(count):
    for seed in range(30):
        found = relation_bound(count, random.Random(seed))
        relation, bound = found
        if relation == "at least":
            assert 1 <= bound <= count
        else:
            assert bound > count and bound >= 2
        if count >= 50:
            assert bound % 5 == 0, (count, found)


def test_at_least_needs_the_floor():
    assert relation_bound(1, random.Random(0), ("at least",), least_floor=2) is None
    assert all(relation_bound(0, random.Random(s))[0] == "less than" for s in range(10))


def test_word_bounds_are_nice_and_keep_a_margin():
    t = get("length_constraints:number_words")
    response = " ".join(["word"] * 263)
    seen = {(p["relation"], p["num_words"]) for p in (t.infer(response, random.Random(s)) for s in range(40))}
    # 5% (14 words) either side of 263, then rounded: a reader's count or another tokenizer's still fits.
    assert seen <= {("at least", 225), ("at least", 200), ("less than", 300)}
    assert {r for r, _ in seen} == {"at least", "less than"}
    variants = t.candidates(response, random.Random(0))
    assert {v["relation"] for v in variants} == {"at least", "less than"}


def test_sentence_bounds_hold_for_punkt_and_for_a_reader():
    # Punkt reads each "1." as a sentence: 20 for Punkt, 10 for a reader.
    t = get("length_constraints:number_sentences")
    listed = "\n".join(f"{i}. Item number {i} is here." for i in range(1, 11))
    for s in range(20):
        for params in t.candidates(listed, random.Random(s)):
            if params["relation"] == "at least":
                assert params["num_sentences"] <= 9, params
            else:
                assert params["num_sentences"] > 20, params


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 10, 11, 12, 13, 21, 22, 103)] == [
        "first", "second", "third", "tenth", "11th", "12th", "13th", "21st", "22nd", "103rd",
    ]  # fmt: skip


# --- type-specific behaviour ----------------------------------------------------------------------


def test_capital_word_bounds_bracket_the_reference_count():
    for text in ("I'M HERE. CANNOT STOP.", 'AT&T and U.S.A. (NASA), "OK" I said.', BEES, "ǅungla IS BIG"):
        assert _capital_chunks(text) <= upper_token_count(text) <= _capital_letters(text), text


def test_capital_words_are_not_asked_of_capital_heavy_text_without_acronyms():
    t = get("change_case:capital_word_frequency")
    text = " ".join(f"Sentence {i} Has Many Capitalised Words." for i in range(12))
    assert t.infer(text, random.Random(0)) is None


def test_json_is_only_asked_for_objects_and_arrays():
    t = get("detectable_format:json_format")
    assert t.infer("[1, 2, 3]", random.Random(0)) == {}
    for bare in ("42", "true", '"motto"', "{}", 'Here it is: {"a": 1}'):
        assert t.infer(bare, random.Random(0)) is None, bare


def test_postscript_prefers_the_marker_actually_used():
    t = get("detectable_content:postscript")
    assert t.infer(LETTER, random.Random(0)) == {"postscript_marker": "P.P.S"}
    assert t.infer("Thanks!\n\nP.S. Bring snacks.", random.Random(0)) == {"postscript_marker": "P.S."}


def test_placeholders_skip_links_citations_and_code():
    t = get("detectable_content:number_placeholders")
    code = "```python\nx = [a, b]\nitems['key']\n```\nFill in [your name] here."
    assert t.infer(code, random.Random(0)) == {"num_placeholders": 1}
    assert t.infer(LETTER, random.Random(0)) == {"num_placeholders": 3}


def test_nth_paragraph_counts_every_paragraph_and_picks_a_word_start():
    t = get("length_constraints:nth_paragraph_first_word")
    chosen = {tuple(sorted(t.infer(BEES, random.Random(s), BEES_Q).items())) for s in range(30)}
    assert {dict(c)["num_paragraphs"] for c in chosen} == {3}
    assert {(dict(c)["nth_paragraph"], dict(c)["first_word"]) for c in chosen} == {
        (1, "honeybees"), (2, "scientists"), (3, "beekeepers"),
    }  # fmt: skip
    # A blank piece shifts the reference's numbering, so no paragraph after it is chosen.
    shifted = "Alpha starts here.\n\n\n\nBeta follows.\n\nGamma ends."
    assert {t.infer(shifted, random.Random(s))["nth_paragraph"] for s in range(20)} == {1}


def test_end_phrase_is_the_short_final_sentence():
    t = get("startend:end_checker")
    assert t.infer(BEES, random.Random(0)) == {
        "end_phrase": "Healthy hives need many foragers, and foragers need flowers."
    }
    tail = "Enjoy the trip! 🌍"
    assert t.infer("Long answer here. " + tail, random.Random(0)) == {"end_phrase": tail}
    long_end = "It ends with " + "a very long sentence " * 5 + "indeed."
    assert t.infer(long_end, random.Random(0)) is None
    assert t.infer('He said it twice. Then he wrote "goodbye', random.Random(0)) is None


def test_multiple_sections_uses_the_marker_and_count_seen():
    t = get("detectable_format:multiple_sections")
    text = "## Part 1\nSetup.\n\n## Part 2\nRun.\n\n## Part 3\nClean up.\n\n## Part 4\nDone."
    assert t.infer(text, random.Random(0)) == {"section_spliter": "Part", "num_sections": 4}


def test_bullets_are_counted_exactly():
    t = get("detectable_format:number_bullet_lists")
    assert t.infer(POSITIVE["detectable_format:number_bullet_lists"][0], random.Random(0)) == {
        "num_bullets": 3
    }
    assert t.infer("*emphasis* at the start\n* one real bullet", random.Random(0)) is None


def test_keywords_are_words_of_the_response_about_the_instruction():
    t = get("keywords:existence")
    stems = {"honey", "flowe", "tell", "other"}
    lists = [t.infer(BEES, random.Random(s), BEES_Q)["keywords"] for s in range(40)]
    assert all(1 <= len(k) <= 3 for k in lists)
    assert all(any(w.lower()[:5] in stems for w in k) for k in lists)
    assert "Honeybees" in {w for k in lists for w in k}  # written as the response writes it
    assert all(w.lower() not in {"the", "and", "their", "which"} for k in lists for w in k)


def test_frequency_keywords_repeat_and_count_as_words():
    t = get("keywords:frequency")
    for s in range(30):
        params = t.infer(BEES, random.Random(s), BEES_Q)
        # "bees" hides inside "Honeybees" and "dance" inside "dances": never asked for.
        assert params["keyword"] not in ("bees", "dance")
        assert t.check(BEES, params)


def test_forbidden_words_are_what_other_answers_use_and_this_one_avoids():
    t = get("keywords:forbidden_words")
    variants = t.candidates(BEES, random.Random(0), BEES_Q, OTHER_BEE_ANSWERS)
    assert variants and all(t.check(BEES, p) for p in variants)
    words = {w for p in variants for w in p["forbidden_words"]}
    assert words
    for w in words:
        assert w not in BEES.lower().split(), w
        assert all(w in other.lower() for other in OTHER_BEE_ANSWERS), w
        assert w[:5] not in {"honey", "flowe", "where"}, w  # never the request's own words


def test_forbidden_words_need_other_answers_and_never_ban_the_request():
    t = get("keywords:forbidden_words")
    assert t.candidates(BEES, random.Random(0), BEES_Q) == []
    # Every other answer says "flowers", but the request does too: not a ban a person would make.
    others = ("Flowers tell bees nothing; bees tell bees about flowers.",) * 2
    found = t.candidates(BEES + " Pollen.", random.Random(0), BEES_Q, others)
    assert all("flowers" not in p["forbidden_words"] for p in found)


def test_repeat_prompt_needs_an_answer_after_the_prompt():
    t = get("combination:repeat_prompt")
    assert t.infer("Write a haiku about rain.", random.Random(0), "Write a haiku about rain.") is None
    assert t.infer("Anything at all.", random.Random(0), "") is None


# --- the shared seed pairs ------------------------------------------------------------------------


def _pairs() -> list[dict]:
    path = shared_path("seed_pairs", "pairs_flat.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# Types that real chat answers show often enough that inferring none would be a bug.
COMMON = (
    "change_case:capital_word_frequency",
    "detectable_content:number_placeholders",
    "detectable_format:number_bullet_lists",
    "detectable_format:number_highlighted_sections",
    "keywords:existence",
    "keywords:forbidden_words",
    "keywords:frequency",
    "keywords:letter_frequency",
    "language:response_language",
    "length_constraints:nth_paragraph_first_word",
    "length_constraints:number_sentences",
    "length_constraints:number_words",
    "punctuation:no_comma",
    "startend:end_checker",
)


def test_inferred_params_hold_on_every_seed_pair():
    pairs = _pairs()
    types = [get(t) for t in IDS]
    emitted = dict.fromkeys(IDS, 0)
    seconds = dict.fromkeys(IDS, 0.0)
    broken = []
    for i, pair in enumerate(pairs):
        others = [p["response"] for p in pairs[max(0, i - 3) : i]]
        for t in types:
            rng = random.Random(f"{i}:{t.id}")
            start = time.perf_counter()
            found = t.candidates(pair["response"], rng, pair["instruction"], others)
            params = found[0] if found else None
            seconds[t.id] += time.perf_counter() - start
            if params is None:
                continue
            emitted[t.id] += 1
            _assert_reference_format(t.id, params)
            if not t.check(pair["response"], params):
                broken.append((t.id, pair["id"], params))
            t.describe(params, rng)
    n = len(pairs)
    print(f"\n{n} seed pairs, infer for the 25 IFEval types: {1e3 * sum(seconds.values()) / n:.2f} ms/record")
    for type_id in IDS:
        print(
            f"  {type_id:48s} {emitted[type_id]:5d} ({emitted[type_id] / n:6.1%}) {1e3 * seconds[type_id] / n:.3f} ms"
        )
    assert broken == []
    assert all(emitted[t] for t in COMMON), {t: emitted[t] for t in COMMON}


def test_inferred_constraints_score_as_ifeval_ground_truth():
    pairs = _pairs()[::6]
    prompts, responses = [], []
    for i, pair in enumerate(pairs):
        ids, kwargs = [], []
        for type_id in IDS:
            t = get(type_id)
            params = t.infer(pair["response"], random.Random(f"{i}:{type_id}"), pair["instruction"])
            if params is not None:
                ids.append(t.ifeval_id)
                kwargs.append(json.loads(json.dumps(t.to_kwargs(params))))
        prompt = f"{pair['id']} {pair['instruction']}"
        prompts.append({"key": i, "prompt": prompt, "instruction_id_list": ids, "kwargs": kwargs})
        responses.append({"prompt": prompt, "response": pair["response"]})
    summary = score(prompts, responses).summary()
    assert summary["n_prompts"] == len(pairs) >= 300
    assert summary["n_instructions"] > 5 * len(pairs)
    assert summary["prompt_strict"] == 1.0
