"""The data teaches: on the 1,872 shared pairs every constraint of every row is true, the IFEval
types are all asked for and none dominates, constraints single out their answer (siblings and
answers to other requests mostly fail them), prompts are shaped like requests people write, and
the wording has no glitches. The figures are bench/data_quality.py's, from the run's files alone."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from conftest import shared_path
from crabkit.backtranslate.contrast import choose_informative, informativeness
from crabkit.backtranslate.prepare import prepare_block
from crabkit.backtranslate.rules import backtranslate_rules
from crabkit.compose.forward import cover
from crabkit.compose.plan import ComposeConfig, compose_block
from crabkit.compose.reverse import canonical_constraints
from crabkit.constraints import all_types, get
from crabkit.pipeline import GenerateConfig, generate
from crabkit.records import Constraint, Message, Seed
from crabkit.store import SeedStore
from crabkit.verify import verify_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import data_quality


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("teach")
    generate(GenerateConfig(input=str(shared_path("seed_pairs", "pairs_flat.jsonl")), seed=3), out, progress=False)
    return out


@pytest.fixture(scope="module")
def quality(run) -> dict:
    return data_quality.measure(run)


def test_every_constraint_of_every_row_holds_on_its_answer(run):
    for name in ("train.jsonl", "constraints.jsonl", "ifeval_ground_truth.jsonl"):
        report = verify_file(run / name)
        assert report.violations == [], (name, report.violations[:5])
        assert report.checked > 500, name
    assert json.loads((run / "stats.json").read_text())["verify_failures_total"] == 0


def test_every_ifeval_type_is_asked_and_none_dominates(quality):
    assert quality["ifeval_types_present"] == 25, quality["ifeval_type_share"]
    assert quality["ifeval_types_at_least_1pct"] >= 22, quality["ifeval_type_share"]
    assert quality["largest_type_share"] <= 0.30, quality["largest_type"]


def test_constraints_single_out_their_answer(quality):
    for contrast in ("siblings", "others"):
        m = quality[contrast]
        assert m["examples"] > 500 and m["answers"] > 2000, m
        assert m["mean_share_satisfied"] <= 0.30, (contrast, m)
        assert m["share_satisfying_all"] <= 0.02, (contrast, m)


def test_prompts_look_like_requests(quality):
    hist = quality["constraints_per_prompt"]
    few = sum(v for k, v in hist.items() if k <= 3)
    many = sum(v for k, v in hist.items() if k >= 4)
    assert few > many > 0.25 * quality["forward_examples"]  # IFEval-like and CRAB-like prompts
    assert max(hist) <= 8
    assert quality["inside_request_share"] >= 0.4
    assert quality["glitches"] == 0, quality["glitch_examples"]
    assert 0.2 <= quality["edited_share"] <= 0.45


def test_train_rows_say_what_they_ask(run):
    rows = _rows(run / "train.jsonl")
    forward = [r for r in rows if r["kind"] == "forward"]
    for r in forward:
        assert [c["type"] for c in r["constraints"]] == r["constraint_types"]
        assert all({"type", "params", "text"} <= set(c) for c in r["constraints"])
        prompt = r["messages"][-2]["content"]
        assert all(c["text"].rstrip(".") in prompt for c in r["constraints"]), r["id"]


def test_edited_records_keep_the_original_and_ask_for_their_edit(run):
    from crabkit.backtranslate.edits import EDITS

    records = {r["id"]: r for r in _rows(run / "constraints.jsonl")}
    edited = [r for r in records.values() if r.get("edit") and r["edit"] != "repeat_prompt"]
    assert len({r["edit"] for r in edited}) >= 10
    for r in edited:
        assert r["original_response"] != r["response"]
        assert EDITS[r["edit"]].target in {c["type"] for c in r["constraints"]}
    for ex in _rows(run / "train.jsonl"):
        if ex["kind"] == "forward" and ex.get("edit"):
            assert EDITS[ex["edit"]].target in ex["constraint_types"], ex["id"]
            if ex["edit"] != "repeat_prompt":
                assert ex["messages"][-1]["content"] == records[ex["seed_id"]]["response"]


def test_repeat_prompt_answers_start_with_the_composed_request(run):
    rows = [r for r in _rows(run / "train.jsonl") if r.get("edit") == "repeat_prompt" and r["kind"] == "forward"]
    assert rows
    for r in rows:
        repeat = next(c for c in r["constraints"] if c["type"] == "combination:repeat_prompt")
        request = repeat["params"]["prompt_to_repeat"]
        prompt, answer = r["messages"][-2]["content"], r["messages"][-1]["content"]
        assert prompt == f"{request}\n\n{repeat['text']}"
        assert answer.startswith(request + "\n\n")


def test_forbidden_words_never_ban_the_request_nor_a_required_stem(run):
    instructions = {r["id"]: r["instruction"].lower() for r in _rows(run / "constraints.jsonl")}
    for r in _rows(run / "train.jsonl"):
        if r["kind"] != "forward":
            continue
        instruction = instructions[r["seed_id"]]
        required = " ".join(
            " ".join(c["params"].get("keywords", [])) + " " + c["params"].get("keyword", "")
            for c in r["constraints"]
        ).lower().split()
        for c in r["constraints"]:
            if c["type"] == "keywords:forbidden_words":
                for w in c["params"]["forbidden_words"]:
                    assert w[:5] not in {x[:5] for x in instruction.split() if len(x) >= 4}, (w, instruction)
                    assert w[:5] not in {x[:5] for x in required if len(x) >= 4}, (w, required)


def test_the_bench_prints_every_figure(run, capsys):
    assert data_quality.main([str(run), "--examples", "3"]) == 0
    out = capsys.readouterr().out
    for needle in ("IFEval types asked", "against sibling answers", "against answers to other requests",
                   "constraints per prompt", "inside the request", "glitches in constraint wording: 0",
                   "3 random forward examples"):  # fmt: skip
        assert needle in out, needle


# --- the mechanisms, on small hand-made inputs ----------------------------------------------------


def test_the_store_gives_each_request_its_answers_side_by_side():
    seeds = [Seed("Q1?", "a1"), Seed("Q2?", "b1"), Seed("q1? ", "a2"), Seed("Q3?", "c1"), Seed("Q2?", "b2")]
    with SeedStore() as store:
        store.extend(seeds)
        assert [s.response for s in store.ordered()] == ["a1", "a2", "b1", "b2", "c1"]
        assert [s.response for s in store.ordered(skip=3)] == ["b2", "c1"]


def test_the_variant_other_answers_fail_most_is_kept():
    seed = Seed("How long is the Nile?", "The Nile is " + "very " * 40 + "long, about 6,650 km.")
    bt = backtranslate_rules(seed, 0, [get("length_constraints:number_words")], describe=False)
    assert len(bt.candidates["length_constraints:number_words"]) == 2  # at least N / less than M
    longer = ["word " * 200] * 3
    choose_informative(bt, longer, [])
    (c,) = bt.constraints
    assert c.params["relation"] == "less than"  # the longer siblings fail it; "at least" they pass
    assert c.contrast == {"siblings": [0, 3], "others": [0, 0]} and informativeness(c) == 1.0
    assert bt.passed_by["length_constraints:number_words"] == frozenset()


def test_cover_adds_what_the_remaining_sibling_fails():
    def c(type_id: str, params: dict) -> Constraint:
        return Constraint(type_id, params, "x", True)

    a = c("punctuation:no_comma", {})
    b = c("length_constraints:number_words", {"relation": "at least", "num_words": 100})
    chosen = cover([a], [a, b], {a.type: {0, 1}, b.type: {1}}, 2, most=3)
    assert chosen == [a, b]  # sibling 0 passed "no comma" alone; it fails the word count
    assert cover([a], [a, b], {a.type: {0, 1}, b.type: {0, 1}}, 2, most=3) == [a]  # nothing helps


def test_reverse_targets_are_canonical():
    seed = Seed("Tell me about bees.", "Bees dance to share where flowers are. " * 12)
    bt = backtranslate_rules(seed, 0)
    first = canonical_constraints(bt.constraints, 6)
    again = canonical_constraints(list(reversed(bt.constraints)), 6)
    assert [(x.type, x.params, x.text) for x in first] == [(x.type, x.params, x.text) for x in again]
    assert [x.type for x in first] == sorted(x.type for x in first)
    for x in first:
        assert x.text == get(x.type).describe(x.params, None)


def test_mix_and_demonstrations_keep_the_system_message(tmp_path):
    rows = [{"messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": f"Q{i}?"},
                          {"role": "assistant", "content": f"Answer number {i} to the question, in a few words."}]}
            for i in range(40)]  # fmt: skip
    data = tmp_path / "chat.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    generate(GenerateConfig(input=str(data), mix=str(data), mix_ratio=0.3, min_words=3), tmp_path / "run", progress=False)
    train = _rows(tmp_path / "run" / "train.jsonl")
    kinds = {r["kind"] for r in train}
    assert {"mix", "forward"} <= kinds
    for r in train:
        assert r["messages"][0] == {"role": "system", "content": "You are terse."}, r["kind"]


def test_blocks_do_not_split_a_request_and_edits_are_balanced():
    seeds = [Seed(f"Question {q}?", f"Answer {a} to question {q}, " + "with plenty of words " * 6)
             for q in range(30) for a in range(4)]  # fmt: skip
    types = list(all_types())
    out = prepare_block(seeds, 0, types)
    assert [bt.seed.id for bt in out] == [s.id for s in seeds]
    assert all(bt.contrast_size >= 3 for bt in out)  # three siblings each, and other answers after the first
    edits = [bt.edit for bt in out if bt.edit]
    assert edits and len(set(edits)) >= 3


def test_compose_asks_an_edited_answer_for_its_edit_and_is_deterministic():
    seeds = [Seed(f"How do I water plant {i}?", "Check the soil first. Water deeply when dry. " * 5
                  + "\n\nLet me know if you want tips for a particular plant!") for i in range(30)]  # fmt: skip
    items = prepare_block(seeds, 1, list(all_types()))
    one = compose_block(items, 0, 1, ComposeConfig())
    two = compose_block(items, 0, 1, ComposeConfig())
    assert one.examples == two.examples
    for ex in one.examples:
        if ex["kind"] == "forward" and ex["edit"] and ex["edit"] != "repeat_prompt":
            from crabkit.backtranslate.edits import EDITS

            assert EDITS[ex["edit"]].target in ex["constraint_types"]


def test_multi_turn_seeds_are_siblings_only_with_the_same_history():
    a = Seed("And then?", "x", history=[Message("user", "Hi"), Message("assistant", "Hello")])
    b = Seed("and  then?", "y", history=[Message("user", "hi"), Message("assistant", "hello")])
    c = Seed("And then?", "z")
    assert a.request_key == b.request_key != c.request_key
    assert random.Random(0)  # (keeps the import honest for the other tests' rngs)
