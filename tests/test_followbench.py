"""FollowBench judge path, metrics, end-to-end run and CLI, with scripted backends (offline)."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

import pytest

from crabkit.eval.followbench import (
    FollowBenchDataError,
    FollowBenchItem,
    ItemResult,
    build_judge_prompt,
    compute_metrics,
    instruction_paths,
    load_followbench,
    parse_judge_answer,
    read_responses,
    run_followbench,
    score_items,
)
from crabkit.eval.generate import GenSettings
from crabkit.llm.base import ChatRequest
from crabkit.llm.cache import CachedBackend
from crabkit.llm.scripted import ScriptedBackend, last_user_message

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "followbench"

# A small hand-made benchmark: one judge group (levels 0-3) and one rule group (E2E, levels 0-2).
STYLE = [
    FollowBenchItem("style", 1, 0, "quora", "Describe a desert."),
    FollowBenchItem("style", 1, 1, "quora", "Describe a desert, as a pirate."),
    FollowBenchItem("style", 1, 2, "quora", "Describe a desert, as a pirate, in rhyme."),
    FollowBenchItem("style", 1, 3, "quora", "Describe a desert, as a pirate, in rhyme, sadly."),
]
E2E = [
    FollowBenchItem("content", 7, 0, "E2E", "Extract the name.", "name[Cotto]"),
    FollowBenchItem("content", 7, 1, "E2E", "Extract the name only.", "name[Cotto]"),
    FollowBenchItem("content", 7, 2, "E2E", "Extract the name only, as name[value].", "name[Cotto]"),
]
ITEMS = STYLE + E2E


def response_in(prompt: str) -> str:
    """The response a judge prompt shows (between its response header and the task header)."""
    return re.search(r"#Response to the level \d instruction#\n(.*)\n\n#Your task#", prompt, re.DOTALL).group(1)


# --- judge prompt and parsing ----------------------------------------------------------------------

def test_judge_prompt_shows_every_level_in_order_and_the_response():
    paths = instruction_paths(STYLE)
    prompt = build_judge_prompt(paths[("style", 1, 3)], "Arr, sand.", "style")
    positions = [prompt.index(it.instruction + "\n") for it in STYLE]
    assert positions == sorted(positions)
    assert "#Level 3: base instruction + 3 added constraints#" in prompt
    assert "style constraint" in prompt
    assert response_in(prompt) == "Arr, sand."
    assert "list of 3 strings" in prompt


def test_judge_prompt_keeps_dollar_signs_and_braces_of_the_texts():
    prompt = build_judge_prompt(["Pay $x {answer}", "Pay $x {answer} now"], "costs $5 {y}", "content")
    assert "Pay $x {answer} now" in prompt and response_in(prompt) == "costs $5 {y}"


@pytest.mark.parametrize(("text", "n", "expected"), [
    ("Reasoning...\n['YES', 'NO', 'YES']", 3, [True, False, True]),
    ('1) ...\n```python\n["YES", "NO"]\n```\n', 2, [True, False]),
    ("['Yes', 'no']", 2, [True, False]),
    ("YES", 1, [True]),
    ("The response satisfies it: NO.", 1, [False]),
    ("I mention [Text] here.\n['YES', 'YES']\nHope this helps.", 2, [True, True]),
])
def test_parse_judge_answer_reads_well_formed_answers(text, n, expected):
    verdict = parse_judge_answer(text, n)
    assert verdict.satisfied == expected and not verdict.malformed


@pytest.mark.parametrize(("text", "n", "expected", "problem"), [
    ("", 2, [False, False], "empty"),
    ("It follows all of them.", 2, [False, False], "no YES/NO list"),
    ("['YES', 'YES']", 3, [False, False, False], "2 entries, expected 3"),
    ("['YES', 'YES', 'YES', 'YES']", 3, [False, False, False], "4 entries"),
    ("['YES', 'PARTLY', 'YES']", 3, [True, False, True], "PARTLY"),
    ("Yes and no", 1, [False], "no YES/NO list"),
])
def test_parse_judge_answer_counts_malformed_parts_as_no(text, n, expected, problem):
    verdict = parse_judge_answer(text, n)
    assert verdict.satisfied == expected
    assert verdict.malformed and problem in verdict.problem


# --- scoring ---------------------------------------------------------------------------------------

def test_score_items_routes_rules_and_judge():
    judge = ScriptedBackend(lambda r: "['YES', 'NO', 'YES']" if "level 3" in last_user_message(r) else "['YES']")
    responses = {("style", 1, 3): "Arr, the sand.", ("style", 1, 1): "Arr.", ("content", 7, 2): "name[Cotto]"}
    results = {r.level: r for r in score_items(ITEMS, responses, judge)}
    assert results[3].method == "judge" and results[3].constraints == [True, False, True]
    assert results[3].hard is False and results[3].soft == pytest.approx(2 / 3)
    assert results[1].constraints == [True]
    assert results[2].method == "rule" and results[2].constraints == [True, True]
    assert judge.calls == 2  # the rule item never reaches the judge
    assert all(req.temperature == 0.0 for req in judge.requests)
    assert response_in(last_user_message(judge.requests[1])) == "Arr, the sand."


def test_malformed_and_failed_judge_answers_count_as_no():
    answers = {"Arr.": "I think it is fine.", "Arr, sand.": RuntimeError("server down")}
    judge = ScriptedBackend(lambda r: answers[response_in(last_user_message(r))])
    results = score_items(STYLE, {("style", 1, 1): "Arr.", ("style", 1, 2): "Arr, sand."}, judge)
    assert [r.constraints for r in results] == [[False], [False, False]]
    assert all(r.malformed for r in results)
    assert "judge error" in results[1].problem and "server down" in results[1].problem
    assert compute_metrics(results)["overall"]["malformed"] == 2


def test_judge_items_need_their_lower_levels():
    judge = ScriptedBackend(lambda r: "['YES']")
    with pytest.raises(FollowBenchDataError, match="every lower level"):
        score_items(STYLE[1:], {("style", 1, 2): "x"}, judge)


def test_without_a_judge_only_rule_items_are_scored():
    results = score_items(ITEMS, {("style", 1, 1): "x", ("content", 7, 1): "nope"}, None)
    assert [(r.category, r.constraints) for r in results] == [("content", [False])]


# --- metrics ---------------------------------------------------------------------------------------

def judged(eid: int, level: int, constraints: list[bool], category: str = "content") -> ItemResult:
    return ItemResult(category, eid, level, "quora", "judge", "r", constraints)


def ruled(eid: int, level: int, ok: bool, category: str = "example", source: str = "aeslc") -> ItemResult:
    return ItemResult(category, eid, level, source, "rule", "r", [ok] * level)


T, F = True, False
HAND_MADE = [
    judged(1, 1, [T]), judged(1, 2, [T, T]), judged(1, 3, [T, F, T]), judged(1, 4, [T] * 4), judged(1, 5, [F] * 5),
    judged(2, 1, [F]), judged(2, 2, [T, T]), judged(2, 3, [T] * 3), judged(2, 4, [T, T, F, T]), judged(2, 5, [T] * 5),
    ruled(9, 1, T), ruled(9, 2, T), ruled(9, 3, T), ruled(9, 4, F), ruled(9, 5, T),
]


def test_hsr_and_ssr_per_level():
    content = compute_metrics(HAND_MADE)["categories"]["content"]
    hsr = {k: v["hsr"] for k, v in content["levels"].items()}
    ssr = {k: v["ssr"] for k, v in content["levels"].items()}
    assert hsr == {1: 0.5, 2: 1.0, 3: 0.5, 4: 0.5, 5: 0.5}
    assert ssr == pytest.approx({1: 0.5, 2: 1.0, 3: (2 / 3 + 1) / 2, 4: (1 + 0.75) / 2, 5: 0.5})
    assert content["hsr_l1_l2"] == 0.75 and content["hsr_l3_l5"] == 0.5
    assert content["hsr_avg"] == pytest.approx(0.6)


def test_csl_counts_consecutive_passing_levels_from_level_one():
    cats = compute_metrics(HAND_MADE)["categories"]
    assert cats["content"]["csl"] == 1.0  # group 1 passes L1-L2 then fails L3; group 2 fails L1
    assert cats["content"]["csl_groups"] == 2
    assert cats["example"]["csl"] == 3.0  # passes L1-L3, fails L4; the later L5 pass does not count


def test_overall_averages_the_categories():
    overall = compute_metrics(HAND_MADE)["overall"]
    assert {k: v["hsr"] for k, v in overall["levels"].items()} == {1: 0.75, 2: 1.0, 3: 0.75, 4: 0.25, 5: 0.75}
    assert overall["hsr_l1_l2"] == 0.875
    assert overall["hsr_l3_l5"] == pytest.approx(1.75 / 3)
    assert overall["csl"] == 2.0
    assert overall["n"] == 15 and overall["malformed"] == 0


def test_rule_items_count_all_or_nothing_in_ssr():
    partial = ItemResult("mixed", 12, 3, "xsum", "rule", "r", [True, False, True])
    m = compute_metrics([partial])["categories"]["mixed"]["levels"][3]
    assert m == {"n": 1, "hsr": 0.0, "ssr": 0.0}


def test_level_averages_need_every_level():
    m = compute_metrics([judged(1, 1, [T]), judged(1, 3, [T, T, T])])["categories"]["content"]
    assert m["hsr_l1_l2"] is None and m["hsr_avg"] is None


# --- end to end ------------------------------------------------------------------------------------

def answer_generation(request: ChatRequest) -> str:
    prompt = last_user_message(request)
    return "name[Cotto]" if "Extract" in prompt else f"Arr: {prompt}"


def yes_judge(request: ChatRequest) -> str:
    n = int(re.search(r"list of (\d+) strings", last_user_message(request)).group(1))
    return "Checked.\n" + str(["YES"] * n)


def test_run_writes_results_and_summary(tmp_path):
    gen = ScriptedBackend(answer_generation)
    report = run_followbench(gen, ITEMS, ScriptedBackend(yes_judge), tmp_path, gen_params=GenSettings(max_tokens=64))
    assert gen.calls == 5  # every level but 0
    assert {r.temperature for r in gen.requests} == {0.0} and {r.max_tokens for r in gen.requests} == {64}
    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(lines) == 5
    row = next(x for x in lines if x["category"] == "style" and x["level"] == 2)
    assert row["method"] == "judge" and row["constraints"] == [True, True] and row["malformed"] is False
    assert row["response"] == "Arr: Describe a desert, as a pirate, in rhyme."
    assert {x["method"] for x in lines if x["category"] == "content"} == {"rule"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["generation"]["temperature"] == 0.0 and summary["generation"]["max_tokens"] == 64
    assert summary["generation"]["backend"]["name"] == "scripted"
    assert summary["overall"]["levels"]["1"]["hsr"] == 1.0
    assert report.summary["categories"]["content"]["csl"] == 2.0


def test_levels_and_categories_select_items(tmp_path):
    gen = ScriptedBackend(answer_generation)
    report = run_followbench(gen, ITEMS, ScriptedBackend(yes_judge), None, categories=["style"], levels=[3])
    assert [(r.category, r.level) for r in report.results] == [("style", 3)]
    # the judge still sees levels 0-2, although only level 3 was generated
    assert gen.calls == 1


def test_failed_generations_are_scored_empty_and_counted(tmp_path):
    gen = ScriptedBackend(lambda r: RuntimeError("boom"))
    report = run_followbench(gen, E2E, None, tmp_path)
    assert [r.constraints for r in report.results] == [[False], [False, False]]
    assert report.summary["overall"]["errors"] == 2


def test_rerun_with_cache_does_not_regenerate(tmp_path):
    gen, judge = ScriptedBackend(answer_generation), ScriptedBackend(yes_judge)
    cache = tmp_path / "llm.sqlite"
    first = run_followbench(CachedBackend(gen, cache), ITEMS, CachedBackend(judge, cache), tmp_path / "a")
    calls = gen.calls, judge.calls
    second = run_followbench(CachedBackend(gen, cache), ITEMS, CachedBackend(judge, cache), tmp_path / "b")
    assert (gen.calls, judge.calls) == calls
    assert second.summary["overall"] == first.summary["overall"]


def test_scores_existing_responses_in_followbench_format(tmp_path):
    out = [{"prompt_new": it.instruction, "choices": [{"message": {"content": "name[Cotto]"}}]} for it in E2E[1:]]
    path = tmp_path / "responses.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in out))
    report = run_followbench(None, ITEMS, None, tmp_path / "run", responses=path)
    assert [r.hard for r in report.results] == [True, True]
    assert report.summary["unscored"]["no_response"] == 3


def test_results_file_can_be_rescored(tmp_path):
    run_followbench(ScriptedBackend(answer_generation), ITEMS, ScriptedBackend(yes_judge), tmp_path / "a")
    by_key, by_text = read_responses(tmp_path / "a" / "results.jsonl")
    assert by_key[("style", 1, 1)] == "Arr: Describe a desert, as a pirate." and not by_text
    judge = ScriptedBackend(lambda r: yes_judge(r).replace("YES", "NO"))
    report = run_followbench(None, ITEMS, judge, tmp_path / "b", responses=tmp_path / "a" / "results.jsonl")
    assert [report.summary["categories"]["style"]["levels"][k]["hsr"] for k in (1, 2, 3)] == [0.0, 0.0, 0.0]
    assert report.summary["categories"]["content"]["levels"][2]["hsr"] == 1.0


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(FollowBenchDataError, match="levels"):
        run_followbench(None, ITEMS, None, None, levels=[0], responses={})
    with pytest.raises(FollowBenchDataError, match="unknown categories"):
        run_followbench(None, ITEMS, None, None, categories=["styles"], responses={})
    bad = tmp_path / "content_constraints.json"
    bad.write_text(json.dumps([{"example_id": 1, "level": "one", "instruction": "x", "source": "s"}]))
    with pytest.raises(FollowBenchDataError, match=r"content_constraints.json record 0: field 'level'"):
        load_followbench(tmp_path)


def test_combined_dump_assigns_mixed_groups_by_their_level0_record(tmp_path):
    rows = [
        {"example_id": 1, "category": "format", "source": "oasst", "level": 0, "instruction": "a"},
        {"example_id": 1, "category": "format", "source": "oasst", "level": 1, "instruction": "a1"},
        {"example_id": 1, "category": "mixed", "source": "xsum", "level": 0, "instruction": "b"},
        {"example_id": 1, "category": "format", "source": "xsum", "level": 1, "instruction": "b1"},
        {"example_id": 1, "category": "format, content", "source": "xsum", "level": 2, "instruction": "b2"},
    ]
    path = tmp_path / "all.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert [it.category for it in load_followbench(path)] == ["format", "format", "mixed", "mixed", "mixed"]


# --- shared data -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared_items() -> list[FollowBenchItem]:
    if not DATA.is_dir():
        pytest.skip(f"shared FollowBench data not present at {DATA} (see ../shared/data/README.md)")
    return load_followbench(DATA)


def test_loads_every_category_file(shared_items):
    counts = {c: sum(it.category == c for it in shared_items) for c in
              ("content", "situation", "style", "format", "example", "mixed")}
    assert counts == {"content": 150, "situation": 132, "style": 180, "format": 180, "example": 200, "mixed": 102}
    paths = instruction_paths(shared_items)
    assert all(it.key in paths for it in shared_items if it.category != "example")


def test_shared_situation_run_with_perfect_answers(shared_items, tmp_path):
    targets = {it.instruction: it.target for it in shared_items if it.category == "situation"}
    gen = ScriptedBackend(lambda r: targets[last_user_message(r)] or "An answer.")
    report = run_followbench(gen, shared_items, ScriptedBackend(yes_judge), tmp_path, categories=["situation"])
    sit = report.summary["categories"]["situation"]
    assert sit["n"] == 110 and sit["rule_items"] == 40 and sit["judge_items"] == 70
    assert sit["hsr_avg"] == 1.0 and sit["csl"] == 5.0


# --- CLI -------------------------------------------------------------------------------------------

def cli(argv: list[str]) -> int:
    from crabkit.commands import evaluate

    parser = argparse.ArgumentParser(prog="crab")
    evaluate.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def write_data(root: Path) -> Path:
    data = root / "data"
    data.mkdir()
    for cat, items in (("style", STYLE), ("content", E2E)):
        rows = [{"example_id": it.example_id, "category": cat, "source": it.source, "level": it.level,
                 "instruction": it.instruction, "target": it.target} for it in items]
        (data / f"{cat}_constraints.json").write_text(json.dumps(rows))
    return data


def test_cli_generates_and_scores(tmp_path, capsys):
    data = write_data(tmp_path)
    script = tmp_path / "gen.json"
    script.write_text(json.dumps({it.instruction: "name[Cotto]" for it in E2E}))
    judge = tmp_path / "judge.json"
    judge.write_text(json.dumps(["['YES']", "['YES', 'NO']", "not an answer"]))
    out = tmp_path / "run"
    rc = cli(["eval", "followbench", "--data", str(data), "--out", str(out), "--backend", "scripted",
              "--script", str(script), "--judge-backend", "scripted", "--judge-script", str(judge)])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["malformed"] == 1
    assert summary["categories"]["content"]["levels"]["2"]["hsr"] == 1.0
    assert summary["categories"]["style"]["levels"]["2"]["ssr"] == 0.5
    assert (out / "llm_cache.sqlite").exists()
    shown = capsys.readouterr().out
    assert "FollowBench" in shown and "1 malformed judge answers" in shown


def test_cli_reports_bad_data_without_traceback(tmp_path, capsys):
    rc = cli(["eval", "followbench", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o"),
              "--responses", str(tmp_path / "r.jsonl")])
    assert rc == 2
    assert "crab eval followbench:" in capsys.readouterr().err


def test_cli_needs_a_backend_or_responses(tmp_path, capsys):
    rc = cli(["eval", "followbench", "--data", str(write_data(tmp_path)), "--out", str(tmp_path / "o")])
    assert rc == 2 and "--backend" in capsys.readouterr().err
