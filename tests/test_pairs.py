"""Preference pairs labelled by the checkers: verifier pairs from seeds, policy pairs from samples."""

from __future__ import annotations

import json
from itertools import islice

import pytest

from conftest import shared_path
from crabkit.constraints import get
from crabkit.records import Message, Seed
from crabkit.train.pairs import PairsConfig, policy_pairs, verifier_pairs


def _passes(response: str, c: dict) -> bool:
    return bool(get(c["type"]).check(response, c["params"]))


def _assert_pair_is_correct(pair: dict) -> None:
    assert pair["constraints"], "a pair lists the constraints its prompt asks for"
    for c in pair["constraints"]:
        assert _passes(pair["chosen"], c), f"chosen fails {c['type']} {c['params']}"
        assert c["text"] in (pair["prompt"] if isinstance(pair["prompt"], str) else pair["prompt"][-1]["content"])
    assert not all(_passes(pair["rejected"], c) for c in pair["constraints"]), "rejected passes every constraint"
    assert pair["rejected_score"] < pair["chosen_score"] == 1.0


LIST_ANSWER = (
    "Here are the steps to follow:\n\n1. Preheat the oven to 200 degrees.\n2. Mix the flour with the butter.\n"
    "3. Bake the dough for twenty minutes.\n4. Let the bread cool before slicing it."
)
PROSE_ANSWER = (
    "PREHEAT THE OVEN, MIX THE FLOUR WITH THE BUTTER, BAKE THE DOUGH FOR TWENTY MINUTES AND THEN LET IT COOL "
    "BEFORE YOU SLICE IT. THAT IS ALL THERE IS TO IT, REALLY!"
)


def test_pairs_from_two_responses_to_one_instruction():
    seeds = [Seed("How do I bake bread?", LIST_ANSWER), Seed("How do I bake bread?", PROSE_ANSWER)]
    pairs = list(verifier_pairs(seeds, PairsConfig(seed=3)))
    assert {p["chosen"] for p in pairs} == {LIST_ANSWER, PROSE_ANSWER}  # each response chosen once
    for pair in pairs:
        _assert_pair_is_correct(pair)
        assert pair["prompt"].startswith("How do I bake bread?") or "How do I bake bread?" in pair["prompt"]


def test_single_response_instructions_give_no_pairs():
    seeds = [Seed("How do I bake bread?", LIST_ANSWER), Seed("Tell me about ovens.", PROSE_ANSWER)]
    assert list(verifier_pairs(seeds)) == []


def test_same_seed_same_pairs():
    seeds = [Seed("How do I bake bread?", LIST_ANSWER), Seed("How do I bake bread?", PROSE_ANSWER)]
    a = [json.dumps(p, sort_keys=True) for p in verifier_pairs(seeds, PairsConfig(seed=1))]
    b = [json.dumps(p, sort_keys=True) for p in verifier_pairs(list(reversed(seeds)), PairsConfig(seed=1))]
    assert sorted(a) == sorted(b)


def test_history_makes_a_conversational_prompt():
    history = [Message("user", "I like baking."), Message("assistant", "Nice!")]
    seeds = [Seed("How do I bake bread?", a, history=history) for a in (LIST_ANSWER, PROSE_ANSWER)]
    pair = next(verifier_pairs(seeds))
    assert [m["role"] for m in pair["prompt"]] == ["user", "assistant", "user"]
    _assert_pair_is_correct(pair)


def test_policy_pairs_rank_samples_by_pass_rate():
    samples = {"good": "the river runs past the mill", "bad": "The River, Again", "mid": "the river, again and again"}
    calls = []

    def fake_generate(messages, n):
        calls.append((messages, n))
        return [samples["mid"], samples["bad"], samples["good"], samples["mid"]][:n]

    rows = [
        {"prompt": "Write in lowercase with no commas.", "instruction_id_list":
            ["change_case:english_lowercase", "punctuation:no_comma"], "kwargs": [{}, {}]},
        {"prompt": "No constraints here.", "instruction_id_list": [], "kwargs": []},
    ]
    pairs = list(policy_pairs(rows, fake_generate, n=4))
    assert calls == [([{"role": "user", "content": "Write in lowercase with no commas."}], 4)]
    assert len(pairs) == 1
    assert (pairs[0]["chosen"], pairs[0]["rejected"]) == (samples["good"], samples["bad"])
    assert (pairs[0]["chosen_score"], pairs[0]["rejected_score"]) == (1.0, 0.0)


def test_policy_pairs_skip_prompts_where_all_samples_tie():
    rows = [{"prompt": "p", "constraints": [{"type": "punctuation:no_comma", "params": {}}]}]
    assert list(policy_pairs(rows, lambda messages, n: ["same text"] * n, n=3)) == []


def test_pairs_on_real_seed_pairs():
    from crabkit.io import read_records

    path = shared_path("seed_pairs", "pairs_flat.jsonl")
    seeds = [s for s in islice(read_records(path), 300) if isinstance(s, Seed)]
    pairs = list(verifier_pairs(seeds, PairsConfig(seed=0)))
    assert len(pairs) > 50, "several responses per instruction should give many pairs"
    for pair in pairs:
        _assert_pair_is_correct(pair)
    assert len({p["id"] for p in pairs}) == len(pairs)


def test_crab_pairs_command_writes_checkable_pairs(tmp_path, capsys):
    from tiny_model import run_cli

    src = tmp_path / "seeds.jsonl"
    src.write_text(
        "\n".join(json.dumps({"instruction": "How do I bake bread?", "response": r}) for r in (LIST_ANSWER, PROSE_ANSWER))
        + "\n"
    )
    out = tmp_path / "pairs.jsonl"
    assert run_cli(["pairs", str(src), "--out", str(out), "--seed", "2", "--form", "standard"]) == 0
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(pairs) == 2
    for pair in pairs:
        _assert_pair_is_correct(pair)
    assert "wrote 2 pairs" in capsys.readouterr().out
    # The default is TRL's conversational form: the same pairs, every field a message list.
    chat = tmp_path / "chat.jsonl"
    assert run_cli(["pairs", str(src), "--out", str(chat), "--seed", "2"]) == 0
    for plain, row in zip(pairs, (json.loads(line) for line in chat.read_text().splitlines()), strict=True):
        assert row["prompt"] == [{"role": "user", "content": plain["prompt"]}]
        assert row["chosen"] == [{"role": "assistant", "content": plain["chosen"]}]
        assert row["rejected"] == [{"role": "assistant", "content": plain["rejected"]}]


@pytest.mark.parametrize("bad", ["{not json", '{"instruction": "x"}'])
def test_crab_pairs_bad_input_is_a_clean_error(tmp_path, capsys, bad):
    from tiny_model import run_cli

    src = tmp_path / "seeds.jsonl"
    src.write_text(bad + "\n")
    code = run_cli(["pairs", str(src), "--out", str(tmp_path / "o.jsonl")])
    out = capsys.readouterr()
    assert code == 0 and "1 unreadable input records skipped" in out.out


def test_crab_pairs_missing_input_is_a_clean_error(tmp_path, capsys):
    from tiny_model import run_cli

    code = run_cli(["pairs", str(tmp_path / "absent.jsonl"), "--out", str(tmp_path / "o.jsonl")])
    assert code == 2 and "absent.jsonl" in capsys.readouterr().err


def test_crab_pairs_types_chooses_the_suites_that_tell_responses_apart(tmp_path, capsys):
    from crabkit.constraints import get as get_type
    from crabkit.constraints.suites import suite_name
    from tiny_model import run_cli

    path = shared_path("seed_pairs", "pairs_flat.jsonl")
    src = tmp_path / "seeds.jsonl"
    src.write_text("".join(line + "\n" for line in islice(path.read_text(encoding="utf-8").splitlines(), 200)))

    def suites(*flags: str) -> tuple[list[dict], set[str]]:
        out = tmp_path / f"pairs{len(flags)}{'-'.join(flags)}.jsonl"
        assert run_cli(["pairs", str(src), "--out", str(out), *flags]) == 0
        pairs = [json.loads(line) for line in out.read_text().splitlines()]
        return pairs, {suite_name(get_type(c["type"])) for p in pairs for c in p["constraints"]}

    default, seen = suites()
    assert default and seen == {"ifeval"}
    ifbench, seen = suites("--types", "ifbench")
    assert ifbench and seen == {"ifbench"}
    for pair in ifbench:
        _assert_pair_is_correct({**pair, "prompt": pair["prompt"][-1]["content"],
                                 "chosen": pair["chosen"][-1]["content"], "rejected": pair["rejected"][-1]["content"]})
    both, seen = suites("--types", "all")
    assert seen == {"ifeval", "ifbench"} and len(both) >= len(default)
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        run_cli(["pairs", str(src), "--out", str(tmp_path / "x.jsonl"), "--types", "ifbenchh"])
    assert stop.value.code == 2 and "argument --types: unknown suite 'ifbenchh'" in capsys.readouterr().err
    assert run_cli(["pairs", str(src), "--out", str(tmp_path / "x.jsonl"), "--types", "all", "--policy", "m",
                    "--backend", "scripted"]) == 2  # fmt: skip
    assert "--types" in capsys.readouterr().err
