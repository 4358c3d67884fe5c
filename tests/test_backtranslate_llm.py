"""The LLM stage in parts: vocabulary, JSON repair, refinement rules, judge verdicts, measurable checks,
dedup, and blocks run against scripted backends (each seed's flow; several blocks in flight)."""

from __future__ import annotations

import json
import random

import pytest

from crabkit.backtranslate.rules import Backtranslated
from crabkit.llm import CachedBackend, ChatResult, ScriptedBackend
from crabkit.llmstage import BudgetExhausted, LLMConfig, StageRunner, measurable, run_llm_stage
from crabkit.llmstage import judge as jd
from crabkit.llmstage.dedup import dedup_constraints, refined_use_probability, rouge_l, use_refined
from crabkit.llmstage.prompts import extract_tag, load_json
from crabkit.llmstage.refine import check_refinement, parse_refined
from crabkit.llmstage.soft import parse_soft
from crabkit.llmstage.soft_types import SOFT_TYPES, resolve, type_id
from crabkit.records import Constraint, Seed

# -- vocabulary --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("writing_style", "writing_style"),
        ("Desired_Writing_Style", "writing_style"),
        (" Hierarchical_Instructions", "hierarchical_structure"),
        ("Multi-lingual Constraints", "language"),
        ("Item_Listing_Details", "item_listing"),
        ("soft:local:key_formatting", "key_formatting"),
        ("writting style", "writing_style"),  # fuzzy
        ("Literary Devices", "literary_devices"),
    ],
)
def test_type_names_map_onto_the_vocabulary(given, expected):
    assert resolve(given) == expected


@pytest.mark.parametrize("given", ["Digit", "Keyword", "weather", "", "Response_Length"])
def test_names_outside_the_vocabulary_are_not_kept(given):
    assert resolve(given) is None


def test_ids_carry_the_family():
    assert type_id("language") == "soft:global:language"
    assert type_id("start_end_sentence") == "soft:local:start_end_sentence"
    assert len(SOFT_TYPES) == 12
    with pytest.raises(ValueError, match="not a soft constraint type"):
        type_id("tone")


# -- JSON --------------------------------------------------------------------------------------


def test_clean_json_is_not_counted_as_repaired():
    assert load_json('{"a": 1}') == ({"a": 1}, False)


@pytest.mark.parametrize(
    "answer",
    [
        '```json\n{"a": 1}\n```',
        'Sure! Here it is: {"a": 1} Hope that helps.',
        '{"a": 1',
    ],
)
def test_fenced_chatty_or_cut_json_is_repaired(answer):
    value, repaired = load_json(answer)
    assert value == {"a": 1} and repaired


@pytest.mark.parametrize("answer", ["I cannot help with that.", "", "42"])
def test_answers_without_json_are_refused(answer):
    with pytest.raises(ValueError):
        load_json(answer)


# -- soft constraints --------------------------------------------------------------------------


def _soft(*items) -> str:
    return json.dumps({"constraints": [{"type": t, "constraint": c} for t, c in items]})


def test_soft_answer_is_validated_and_mapped():
    answer = _soft(
        ("writing_style", "Write in a warm, encouraging tone."),
        ("Target_Audience", "Address beginners who have never cooked before."),  # second writing_style
        ("Item_Listing_Details", "List the ingredients before the steps."),
        ("Digit", "Answer in 300 words."),  # not a soft type
        ("language", "Short."),  # too short to be a constraint
    )
    parsed = parse_soft(answer)
    assert parsed.error is None and not parsed.repaired
    assert parsed.constraints == [
        ("writing_style", "Write in a warm, encouraging tone."),
        ("item_listing", "List the ingredients before the steps."),
    ]
    assert parsed.unknown == ["Digit"]
    assert "Item_Listing_Details -> item_listing" in parsed.mapped
    assert len(parsed.invalid) == 2


def test_soft_answer_in_the_papers_flat_shape_is_read():
    answer = json.dumps({"Desired_Writing_Style": "Formal and informative, aimed at students."})
    assert parse_soft(answer).constraints == [("writing_style", "Formal and informative, aimed at students.")]


def test_truncated_soft_answer_is_repaired_and_kept():
    answer = _soft(("writing_style", "Use a formal tone."), ("item_listing", "Give the steps as a list."))[:-40]
    parsed = parse_soft(answer)
    assert parsed.repaired and parsed.error is None
    assert parsed.constraints[0] == ("writing_style", "Use a formal tone.")


@pytest.mark.parametrize(("answer", "why"), [("no json here", "unreadable"), ('{"items": 3}', "no constraints")])
def test_unusable_soft_answer_is_an_error_with_a_reason(answer, why):
    parsed = parse_soft(answer)
    assert parsed.error and why in parsed.error and parsed.constraints == []


# -- refined instruction -----------------------------------------------------------------------

ORIGINAL = "Write a short poem about the sea."
CODE_INSTR = "Explain what this function does.\n\n```python\ndef f(x):\n    return x * 2\n```"


def test_a_refinement_adding_a_dozen_words_is_accepted():
    refined = ORIGINAL[:-1] + " at dawn, seen by an old fisherman returning to his small harbour village."
    assert check_refinement(ORIGINAL, refined) is None


@pytest.mark.parametrize(
    ("original", "refined", "reason"),
    [
        (ORIGINAL, ORIGINAL, "too few words added"),
        (ORIGINAL, ORIGINAL + " Please.", "too few words added"),
        (ORIGINAL, ORIGINAL + " It" + " should mention waves" * 12 + ".", "too many words added"),
        (CODE_INSTR, "Explain what the doubling function f does, step by step, for a new Python learner.",
         "dropped code block"),
        ("Compare these plans:\n\n| plan | price |\n|---|---|\n| A | 5 |",
         "Compare these two phone plans for a student on a budget who mostly uses data.", "dropped table"),
        ('Translate "the early bird catches the worm" into French.',
         "Translate the English proverb about early birds into French for a language class of teenagers.",
         "dropped quoted text"),
        ("Summarize the text below.\n\nThe council met on Monday and approved the new budget for parks.",
         "Summarize the text below in plain words for residents who missed the council meeting.",
         "dropped input"),
        (ORIGINAL, "Compose twelve lines of verse celebrating mountain goats climbing steep cliffs at sunrise today.",
         "rewrote the instruction"),
    ],
)
def test_bad_refinements_are_refused_with_the_reason(original, refined, reason):
    assert check_refinement(original, refined) == reason


def test_a_refinement_keeping_code_and_input_intact_is_accepted():
    refined = CODE_INSTR.replace(
        "Explain what this function does.",
        "Explain what this small Python function does and when a beginner might use it in practice.",
    )
    assert check_refinement(CODE_INSTR, refined) is None


def test_rejected_refinement_falls_back_to_the_original():
    out = parse_refined(ORIGINAL, json.dumps({"refined_instruction": ORIGINAL}))
    assert out.instruction is None and out.reason == "too few words added"
    assert parse_refined(ORIGINAL, "not json").reason == "unreadable answer"


# -- judge verdicts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "verdict", "modified", "label"),
    [
        ('{"reason": "ok", "verdict": "satisfied", "modified_constraint": ""}', "satisfied", None, "satisfied"),
        ('{"verdict": "Yes"}', "satisfied", None, "satisfied"),
        ('{"verdict": "not satisfied", "modified_constraint": "Use a casual, chatty tone."}',
         "not_satisfied", "Use a casual, chatty tone.", "modified"),
        ('{"verdict": "not_satisfied", "modified_constraint": ""}', "not_satisfied", None, "not_satisfied"),
        ('{"verdict": "not a real restriction"}', "not_a_restriction", None, "not_a_restriction"),
        ('```json\n{"verdict": "satisfied"}\n```', "satisfied", None, "satisfied"),
        ('{"verdict": "perhaps"}', None, None, "invalid"),
        ("I think it is fine", None, None, "invalid"),
    ],
)
def test_judge_answers_are_read_into_verdicts(answer, verdict, modified, label):
    v = jd.parse_verdict(answer)
    assert (v.verdict, v.modified, v.label) == (verdict, modified, label)


# -- measurable statements ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("Answer in about 300 words.", [("length_constraints:word_around", {"num_words": 300})]),
        ("Keep the response under 200 words.", [("length_constraints:word_range", {"max_words": 199})]),
        ("Write at least 150 words.", [("length_constraints:word_range", {"min_words": 150})]),
        ("Write between 100 and 150 words.",
         [("length_constraints:word_range", {"min_words": 100, "max_words": 150})]),
        ("Keep every sentence under 25 words each.",
         [("length_constraints:max_words_per_sentence", {"max_words": 24})]),
        ("Write the response in Spanish.", [("language:response_language", {"language": "es"})]),
        ("Start your answer with 'Dear Hiring Manager'.",
         [("startend:start_phrase", {"phrase": "Dear Hiring Manager"})]),
        ('End with the words "See you soon."', [("startend:end_checker", {"end_phrase": "See you soon."})]),
        ("Organize the answer into three paragraphs.", [("paragraphs", {"relation": "exactly", "n": 3})]),
        ("Present the steps as a numbered list of 4 items.",
         [("detectable_format:numbered_list", {"num_items": 4})]),
        ("Use a numbered list for the steps.", [("numbered_items", {"relation": "at least", "n": 1})]),
        ("Include a markdown table of the prices.", [("detectable_format:table", {})]),
        ("Write everything in all lowercase letters.", [("change_case:english_lowercase", {})]),
        ("Avoid using commas.", [("punctuation:no_comma", {})]),
    ],
)
def test_measurable_statements_map_to_checkers(constraint, expected):
    assert [(m.type, m.params) for m in measurable.measurables(constraint)] == expected


@pytest.mark.parametrize(
    "constraint",
    [
        "Use a warm and encouraging tone.",
        "The first two paragraphs should set the scene.",
        "Mention the names of three English kings.",
        "Avoid the table of contents style.",
        "Introduce the topic in the first sentence.",
    ],
)
def test_statements_that_measure_nothing_or_a_part_map_to_nothing(constraint):
    assert measurable.measurables(constraint) == []


NUMBERED = "Here is how:\n\n1. Boil water.\n2. Add pasta.\n3. Drain it.\n\nEnjoy your meal."
PROSE = "Boil the water first. Then add the pasta and cook it well.\n\nDrain it and serve it while it is hot."


@pytest.mark.parametrize(
    ("constraint", "response", "holds"),
    [
        ("Present the steps as a numbered list.", NUMBERED, True),
        ("Present the steps as a numbered list.", PROSE, False),
        ("Do not use a numbered list.", PROSE, True),
        ("Do not use a numbered list.", NUMBERED, False),
        ("Give exactly 3 numbered steps.", NUMBERED, True),
        ("Write the answer in two paragraphs.", PROSE, True),
        ("Write the answer in three paragraphs.", PROSE, False),
        ("Begin with the phrase 'Boil the water'.", PROSE, True),
        ("Begin with the phrase 'Start by'.", PROSE, False),
        ("Write the response in Spanish.", PROSE, False),
        ("Write the response in English.", PROSE, True),
        ("Use a friendly tone.", PROSE, None),
    ],
)
def test_measurable_checks_decide_on_the_response(constraint, response, holds):
    assert measurable.check_measurable(constraint, response) is holds


# -- dedup -------------------------------------------------------------------------------------


def _c(text: str, source: str = "llm", type_: str = "soft:global:writing_style") -> Constraint:
    return Constraint(type=type_, params={}, text=text, verified=True, source=source)


def test_rouge_l_gives_rouge_scores_numbers():
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer", reason="rouge-score (the dev extra) is the reference")
    from crabkit.llmstage.dedup import tokens

    class Words:
        def tokenize(self, text):
            return tokens(text)

    reference = rouge_scorer.RougeScorer(["rougeL"], tokenizer=Words())
    rng = random.Random(7)
    words = ["the", "a", "of", "tone", "use", "list", "bold", "keep", "write", "short", "clear", "answer", "reader", "main", "point", "über", "数据", "x"]
    for _ in range(3000):
        a = " ".join(rng.choice(words) for _ in range(rng.randint(0, 70)))
        b = " ".join(rng.choice(words) for _ in range(rng.randint(0, 70)))
        want, got = reference.score(a, b)["rougeL"], rouge_l(a, b)
        assert (got.precision, got.recall, got.f1) == pytest.approx((want.precision, want.recall, want.fmeasure)), (a, b)


def test_rouge_l_uses_unicode_words():
    assert rouge_l("Écrivez en français, s'il vous plaît", "Écrivez en français").precision == 1.0


def test_the_soft_constraint_with_most_overlaps_is_dropped():
    hub = _c("Use a formal and informative tone for a general audience.")
    a = _c("Use a formal and informative tone for readers.")
    b = _c("Use a formal, informative tone for a general reader.")
    other = _c("List the three main causes before the effects.", type_="soft:local:item_listing")
    result = dedup_constraints([a, hub, b, other])
    assert hub in result.dropped
    assert other in result.kept


def test_rule_constraints_are_never_dropped_by_dedup():
    rule = _c("Answer in at least 300 words.", source="rule", type_="length_constraints:word_range")
    soft = _c("Answer in at least 300 words overall.", type_="soft:local:paragraphs_and_separators")
    result = dedup_constraints([rule, soft])
    assert result.kept == [rule] and result.dropped == [soft]


def test_overlap_with_the_refined_instruction_lowers_its_use():
    refined = "Write a cover letter for a junior data analyst role, in a formal and confident tone."
    result = dedup_constraints([_c("Keep a formal and confident tone."), _c("Mention two past projects by name.")],
                               refined)
    assert result.refined_overlaps == 1
    assert refined_use_probability(0) == 1.0 and refined_use_probability(2) == 0.25
    draws = [use_refined(2, random.Random(i)) for i in range(400)]
    assert 0.15 < sum(draws) / len(draws) < 0.35
    assert all(use_refined(0, random.Random(i)) for i in range(20))


# -- one block against a scripted backend ------------------------------------------------------


def _item(instruction: str, response: str) -> Backtranslated:
    return Backtranslated(seed=Seed(instruction=instruction, response=response, origin="t:1"), constraints=[])


class Script:
    """Answers the stage's prompts from tables keyed by the constraint text."""

    def __init__(self, soft: list[tuple[str, str]], verdicts: dict[str, str], rejudge: dict[str, str] | None = None):
        self.soft, self.verdicts, self.rejudge = soft, verdicts, rejudge or {}

    def __call__(self, request) -> str:
        prompt = request.messages[-1]["content"]
        listed = extract_tag(prompt, "constraints")
        if listed is not None:
            verdicts = []
            for line in listed.splitlines():
                n, text = line.split(". ", 1)
                verdict = self.verdicts.get(text, "satisfied")
                if verdict.startswith("modify:"):
                    verdicts.append({"n": int(n), "verdict": "not_satisfied", "modified_constraint": verdict[7:],
                                     "reason": ""})
                else:
                    verdicts.append({"n": int(n), "verdict": verdict, "reason": "", "modified_constraint": ""})
            return json.dumps({"verdicts": verdicts})
        answer = {}
        if '"refined_instruction"' in prompt:
            instruction = extract_tag(prompt, "request")
            answer["refined_instruction"] = instruction + " for a busy parent cooking dinner on a weeknight."
        if '"constraints"' in prompt:
            answer.update(json.loads(_soft(*self.soft)))
        return json.dumps(answer)


class CountingBackend(ScriptedBackend):
    def __init__(self, script):
        super().__init__(script)
        self.batches: list[int] = []

    def generate(self, requests, on_result=None):
        self.batches.append(len(requests))
        return super().generate(requests, on_result)


CFG = LLMConfig(backend="scripted")


def test_a_seed_takes_one_request_per_round_and_accepts_judged_constraints():
    script = Script(
        soft=[("writing_style", "Use a calm, practical tone."),
              ("item_listing", "Present the steps as a numbered list."),
              ("literary_devices", "Use a metaphor comparing pasta to rope."),
              ("semantic_elements", "Mention the cooking time of the pasta.")],
        verdicts={"Use a metaphor comparing pasta to rope.": "not_a_restriction",
                  "Mention the cooking time of the pasta.": "modify:Mention draining the pasta before serving."},
    )
    backend = CountingBackend(script)
    items = [_item("How do I cook pasta?", NUMBERED), _item("How do I cook pasta quickly?", NUMBERED)]
    result = run_llm_stage(items, backend, CFG, run_seed=0)
    assert result.failures == [None, None]
    # Per seed: refine + soft in one request, one judge request for its four constraints, one re-judge;
    # the in-process backend gets each round of the block as one batch.
    assert backend.batches == [2, 2, 2]
    assert [r.label for r in backend.requests] == ["refine_soft"] * 2 + ["judge"] * 2 + ["rejudge"] * 2
    for it in items:
        soft = [c for c in it.constraints if c.source == "llm"]
        assert [(c.type, c.text) for c in soft] == [
            ("soft:global:writing_style", "Use a calm, practical tone."),
            ("soft:local:item_listing", "Present the steps as a numbered list."),
            ("soft:global:semantic_elements", "Mention draining the pasta before serving."),
        ]
        assert all(c.verified and c.params == {} for c in soft)
        assert it.refined_instruction and it.refined_instruction.endswith("weeknight.")
    assert result.stats["judge_verdicts"] == {"satisfied": 4, "not_a_restriction": 2, "modified": 2}
    assert result.stats["rejudge_verdicts"] == {"satisfied": 2}


def test_a_modified_constraint_that_fails_its_second_judgement_is_dropped():
    script = Script(
        soft=[("writing_style", "Use a solemn, ceremonial tone.")],
        verdicts={"Use a solemn, ceremonial tone.": "modify:Use a light, playful tone.",
                  "Use a light, playful tone.": "not_satisfied"},
    )
    items = [_item("How do I cook pasta?", PROSE)]
    result = run_llm_stage(items, ScriptedBackend(script), CFG, run_seed=0)
    assert [c for c in items[0].constraints if c.source == "llm"] == []
    assert result.stats["rejudge_verdicts"] == {"not_satisfied": 1}


def test_a_constraint_the_checker_contradicts_is_dropped_without_asking_the_judge():
    script = Script(soft=[("item_listing", "Present the steps as a numbered list."),
                          ("writing_style", "Use a calm, practical tone.")], verdicts={})
    backend = CountingBackend(script)
    items = [_item("How do I cook pasta?", PROSE)]
    result = run_llm_stage(items, backend, CFG, run_seed=0)
    assert backend.batches == [1, 1]  # only the tone went to the judge; nothing to re-judge
    assert "numbered list" not in backend.requests[1].messages[-1]["content"].split("<constraints>")[1]
    assert [c.text for c in items[0].constraints] == ["Use a calm, practical tone."]
    assert result.stats["soft_measurable"] == {"failed": 1}


def test_a_failed_request_fails_only_its_record_with_the_reason():
    good = Script(soft=[("writing_style", "Use a calm, practical tone.")], verdicts={})

    def script(request):
        if "BROKEN" in request.messages[-1]["content"]:
            return RuntimeError("HTTP 500 after 6 attempts")
        return good(request)

    items = [_item("How do I cook pasta?", PROSE), _item("BROKEN: how do I cook rice?", PROSE)]
    result = run_llm_stage(items, ScriptedBackend(script), CFG, run_seed=0)
    assert result.failures[0] is None
    assert result.failures[1].startswith("refine and soft constraints request failed: RuntimeError: HTTP 500")
    assert items[1].constraints == [] and items[1].refined_instruction is None
    assert result.stats["llm_failures"] == 1


def test_an_unreadable_soft_answer_fails_the_record():
    def script(request):
        return "I'm sorry, I can't produce that."

    result = run_llm_stage([_item("How do I cook pasta?", PROSE)], ScriptedBackend(script), CFG, run_seed=0)
    assert result.failures[0].startswith("soft constraints: unreadable answer")


def test_with_two_requests_an_unreadable_refinement_only_loses_the_refinement():
    good = Script(soft=[("writing_style", "Use a calm, practical tone.")], verdicts={})

    def script(request):
        return "no" if request.label == "refine" else good(request)

    item = _item("How do I cook pasta?", PROSE)
    result = run_llm_stage([item], ScriptedBackend(script), LLMConfig(backend="scripted", combine=False), run_seed=0)
    assert result.failures == [None] and item.refined_instruction is None
    assert result.stats["refine"] == {"rejected: unreadable answer": 1}
    assert [c.text for c in item.constraints] == ["Use a calm, practical tone."]


def test_a_judge_answer_missing_a_verdict_drops_that_constraint_and_counts_it():
    good = Script(soft=[("writing_style", "Use a calm, practical tone."),
                        ("item_listing", "Present the steps as a numbered list.")], verdicts={})

    def script(request):
        if request.label == "judge":  # a verdict for the first constraint only
            return json.dumps({"verdicts": [{"n": 1, "verdict": "satisfied", "reason": "", "modified_constraint": ""}]})
        return good(request)

    item = _item("How do I cook pasta?", NUMBERED)
    result = run_llm_stage([item], ScriptedBackend(script), CFG, run_seed=0)
    assert [c.text for c in item.constraints if c.source == "llm"] == ["Use a calm, practical tone."]
    assert result.stats["judge_verdicts"] == {"satisfied": 1, "invalid": 1}
    assert result.stats["judge_parse_failures"] == {"no verdict for this constraint": 1}


def test_requests_about_one_seed_share_their_prefix():
    backend = ScriptedBackend(Script(soft=[("writing_style", "Use a calm, practical tone.")], verdicts={}))
    run_llm_stage([_item("How do I cook pasta?", PROSE)], backend, CFG, run_seed=0)
    first, judge = (r.messages[-1]["content"] for r in backend.requests)
    shared = first.index("</answer>") + len("</answer>")
    assert first[:shared] == judge[:shared] and PROSE in first[:shared]


def test_several_blocks_in_flight_give_the_same_constraints_as_one_at_a_time():
    script = Script(soft=[("writing_style", "Use a calm, practical tone."),
                          ("item_listing", "Present the steps as a numbered list.")],
                    verdicts={"Use a calm, practical tone.": "modify:Use a calm and friendly tone."})
    blocks = [[_item(f"How do I cook dish {b}-{i}?", NUMBERED if i % 2 else PROSE) for i in range(5)]
              for b in range(4)]
    one_by_one = [[_item(it.seed.instruction, it.response) for it in block] for block in blocks]
    runner = StageRunner(CachedBackend(ScriptedBackend(script)), CFG, run_seed=1)
    try:
        futures = [runner.submit(block) for block in blocks]
        together = [f.result(timeout=30).finalize() for f in futures]
    finally:
        runner.close()
    alone = [run_llm_stage(block, ScriptedBackend(script), CFG, run_seed=1) for block in one_by_one]
    assert [r.stats for r in together] == [r.stats for r in alone]
    for a, b in zip(blocks, one_by_one):
        assert [(it.constraints, it.refined_instruction) for it in a] == [
            (it.constraints, it.refined_instruction) for it in b]


def test_results_do_not_depend_on_record_order():
    script = Script(soft=[("writing_style", "Use a calm, practical tone."),
                          ("item_listing", "Present the steps as a numbered list.")], verdicts={})
    texts = [("How do I cook pasta?", NUMBERED), ("How do I cook rice?", PROSE), ("Pasta for two?", NUMBERED)]
    first = [_item(*t) for t in texts]
    second = [_item(*t) for t in reversed(texts)]
    run_llm_stage(first, ScriptedBackend(script), CFG, run_seed=3)
    run_llm_stage(second, ScriptedBackend(script), CFG, run_seed=3)
    by_id = {it.seed.id: (it.constraints, it.refined_instruction) for it in second}
    assert all(by_id[it.seed.id] == (it.constraints, it.refined_instruction) for it in first)


def test_without_the_judge_soft_constraints_are_kept_unverified():
    script = Script(soft=[("writing_style", "Use a calm, practical tone.")], verdicts={})
    items = [_item("How do I cook pasta?", PROSE)]
    cfg = LLMConfig(backend="scripted", judge=False, refine=False)
    backend = CountingBackend(script)
    run_llm_stage(items, backend, cfg, run_seed=0)
    assert backend.batches == [1] and backend.requests[0].label == "soft"
    assert [(c.text, c.verified) for c in items[0].constraints] == [("Use a calm, practical tone.", False)]


def test_running_out_of_max_requests_stops_the_block():
    script = Script(soft=[("writing_style", "Use a calm, practical tone.")], verdicts={})
    backend = CachedBackend(ScriptedBackend(script), max_requests=3)
    items = [_item(f"How do I cook dish {i}?", PROSE) for i in range(2)]
    with pytest.raises(BudgetExhausted, match="max-requests"):
        run_llm_stage(items, backend, CFG, run_seed=0)


def test_requests_are_deterministic_and_carry_the_seed():
    script = Script(soft=[("writing_style", "Use a calm, practical tone.")], verdicts={})
    a, b = ScriptedBackend(script), ScriptedBackend(script)
    run_llm_stage([_item("How do I cook pasta?", PROSE)], a, CFG, run_seed=5)
    run_llm_stage([_item("How do I cook pasta?", PROSE)], b, CFG, run_seed=5)
    assert [r.cache_key() for r in a.requests] == [r.cache_key() for r in b.requests]
    assert all(r.seed == 5 and r.temperature == 0.0 and r.json_schema for r in a.requests)


def test_result_errors_with_text_never_count_as_answers():
    assert not ChatResult(text="x", error="boom").ok


# -- config ------------------------------------------------------------------------------------


def test_only_output_deciding_settings_enter_the_fingerprint():
    from crabkit.pipeline import GenerateConfig

    base = GenerateConfig(input="x")
    off = GenerateConfig(input="x")
    off.llm.model, off.llm.concurrency = "other", 3  # ignored while the stage is off
    assert base.fingerprint() == off.fingerprint()
    on = GenerateConfig(input="x", llm=LLMConfig(backend="openai", model="m"))
    moved = GenerateConfig(input="x", llm=LLMConfig(backend="openai", model="m", base_urls=["http://h:1/v1"],
                                                     concurrency=2, max_requests=5, api_key_env="K"))
    assert on.fingerprint() == moved.fingerprint() != base.fingerprint()
    other_model = GenerateConfig(input="x", llm=LLMConfig(backend="openai", model="m2"))
    assert other_model.fingerprint() != on.fingerprint()


@pytest.mark.parametrize(("field", "value"), [("backend", "gpt"), ("on_failure", "ignore"), ("concurrency", 0)])
def test_bad_llm_settings_are_refused_by_name(field, value):
    cfg = LLMConfig(**{field: value})
    with pytest.raises(ValueError, match=f"llm.{field}"):
        cfg.validate()


def test_a_rewrite_the_checker_contradicts_is_dropped_before_the_second_judgement():
    script = Script(
        soft=[("writing_style", "Use a solemn, ceremonial tone.")],
        verdicts={"Use a solemn, ceremonial tone.": "modify:Use a solemn tone and write it in three paragraphs."},
    )
    backend = CountingBackend(script)
    items = [_item("How do I cook pasta?", PROSE)]  # two paragraphs, not three
    result = run_llm_stage(items, backend, CFG, run_seed=0)
    assert backend.batches == [1, 1]  # no re-judge call
    assert items[0].constraints == []
    assert result.stats["soft_measurable"] == {"failed": 1}
