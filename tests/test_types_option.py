"""`crab generate --types`: which suites' constraint types are inferred (IFEval's and crabkit's own,
IFBench's, or both) and how strongly forward prompts ask each; the default is the run it always was."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import shared_path
from crabkit.backtranslate.rules import RuleConfig
from crabkit.cli import main
from crabkit.compose.forward import suite_scaled, type_weight
from crabkit.config import ConfigError, from_mapping
from crabkit.constraints import all_types, get
from crabkit.constraints.conflicts import compatible
from crabkit.constraints.suites import ifbench_instruction_ids, parse_suites
from crabkit.eval.report_examples import ifeval_mark
from crabkit.pipeline import GenerateConfig, generate
from crabkit.records import Constraint

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import data_quality

IFBENCH = {t.id for t in all_types() if t.suite == "ifbench"}
OTHERS = {t.id for t in all_types() if t.suite != "ifbench"}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _run(tmp_path: Path, name: str, inp: Path, suites: dict[str, float] | None = None, **kw) -> Path:
    rules = RuleConfig() if suites is None else RuleConfig(suites=suites)
    out = tmp_path / name
    generate(GenerateConfig(input=str(inp), rules=rules, **kw), out, progress=False)
    return out


# --- the option's text form ---------------------------------------------------------------------


def test_names_and_weights_parse_to_suite_weights():
    assert parse_suites("ifeval") == {"ifeval": 1.0}
    assert parse_suites("ifbench") == {"ifbench": 1.0}
    assert parse_suites("all") == {"ifeval": 1.0, "ifbench": 1.0}
    assert parse_suites(" ifeval = 1 , ifbench=0.5 ") == {"ifeval": 1.0, "ifbench": 0.5}
    assert parse_suites("all=0.25") == {"ifeval": 0.25, "ifbench": 0.25}
    assert parse_suites("ifeval,ifbench=0") == {"ifeval": 1.0, "ifbench": 0.0}


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("ifevl", "unknown suite 'ifevl'"),
        ("ifbench=-1", "'ifbench' has weight -1.0"),
        ("ifeval=0,ifbench=0", "every suite has weight 0"),
        ("ifeval=lots", "'lots' is not a number"),
        ("ifeval=nan", "finite number"),
        ("all,ifbench=2", "'ifbench' is given twice"),
        ("ifeval,", "empty suite list"),
        ("", "empty suite list"),
    ],
)
def test_bad_types_are_refused_with_the_reason(spec, says):
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(".", r"\.")):
        parse_suites(spec)


def test_cli_names_the_flag_and_the_bad_value(tmp_path, sample_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["generate", str(sample_path), "--out", str(tmp_path / "run"), "--types", "ifbench=-0.5"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --types: suite 'ifbench' has weight -0.5" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_the_summary_counts_ifbench_constraints_when_there_are_any(tmp_path, sample_path, capsys):
    import json

    assert main(["generate", str(sample_path), "--out", str(tmp_path / "all"), "--types", "all", "--no-progress"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.strip().startswith("constraints "))
    by_type = json.loads((tmp_path / "all" / "stats.json").read_text())["constraints_by_type"]
    ifbench = {t: n for t, n in by_type.items() if ":" in t and t.split(":")[0] in {"count", "ratio", "words", "sentence",
                                                                              "format", "custom", "repeat"}}
    assert ifbench and f"IFBench's {sum(ifbench.values())} of {len(ifbench)} types" in line
    assert main(["generate", str(sample_path), "--out", str(tmp_path / "default"), "--no-progress"]) == 0
    assert "IFBench" not in capsys.readouterr().out


def test_config_file_suites_are_checked_and_named(tmp_path, sample_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  suites: {ifeval: 1, ifbenchh: 1}\n", encoding="utf-8")
    assert main(["generate", str(sample_path), "--out", str(tmp_path / "run"), "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "rules.suites: unknown suite 'ifbenchh'" in err and "Traceback" not in err
    with pytest.raises(ConfigError, match="'rules.suites' must be"):
        from_mapping(GenerateConfig, {"rules": {"suites": "all"}})
    cfg = from_mapping(GenerateConfig, {"rules": {"suites": {"ifeval": 1, "ifbench": 0.5}}})
    assert cfg.rules.suites == {"ifeval": 1.0, "ifbench": 0.5}


# --- which types are inferred -------------------------------------------------------------------


def test_suites_choose_the_inferred_types():
    assert {t.id for t in RuleConfig().types()} == OTHERS
    assert {t.id for t in RuleConfig(suites={"ifbench": 1}).types()} == IFBENCH
    assert {t.id for t in RuleConfig(suites={"ifeval": 1, "ifbench": 0.1}).types()} == OTHERS | IFBENCH
    assert {t.id for t in RuleConfig(suites={"ifeval": 1, "ifbench": 0}).types()} == OTHERS


def test_include_names_types_whatever_the_suites_and_exclude_removes_from_either():
    named = RuleConfig(include=["count:numbers", "punctuation:no_comma"], suites={"ifbench": 1})
    assert [t.id for t in named.types()] == ["count:numbers", "punctuation:no_comma"]
    cut = RuleConfig(suites={"ifeval": 1, "ifbench": 1}, exclude=["count:numbers", "punctuation:no_comma"])
    assert {t.id for t in cut.types()} == (OTHERS | IFBENCH) - {"count:numbers", "punctuation:no_comma"}


def test_ifbench_only_runs_ask_only_ifbench_types_and_try_no_edit(tmp_path, sample_path):
    # Every edit targets an IFEval type, which such a run never infers: no edit is even tried.
    run = _run(tmp_path, "ifbench", sample_path, {"ifbench": 1}, min_words=10)
    records = _rows(run / "constraints.jsonl")
    asked = {c["type"] for r in records for c in r["constraints"]}
    assert asked and asked <= IFBENCH
    assert not any(r.get("edit") for r in records)
    assert not any(r.get("edit") for r in _rows(run / "train.jsonl"))


# --- weights ------------------------------------------------------------------------------------


def test_suite_factors_scale_each_types_weight_and_keep_the_rest():
    weights = {"count": 3.0, "punctuation:no_comma": 0.5}
    scaled = suite_scaled(weights, {"ifeval": 1.0, "ifbench": 0.5})
    for ctype in all_types():
        c = Constraint(ctype.id, {}, "", True)
        expected = type_weight(c, weights) * (0.5 if ctype.suite == "ifbench" else 1.0)
        assert type_weight(c, scaled) == pytest.approx(expected), ctype.id
    assert scaled["count:numbers"] == 1.5  # the family override, halved
    assert suite_scaled(weights, {"ifeval": 1.0, "ifbench": 1.0}) == weights


def test_lower_suite_weight_means_fewer_prompts_asking_it(tmp_path):
    # 300 seeds of the shared pairs, IFBench weighted 0.2, 1 and 5 times IFEval's: the share of
    # forward prompts asking an IFBench type rises with its weight, and no prompt combines two
    # constraints that conflict.
    pairs = shared_path("seed_pairs", "pairs_flat.jsonl")
    shares = []
    for w in (0.2, 1.0, 5.0):
        run = _run(tmp_path, f"w{w}", pairs, {"ifeval": 1.0, "ifbench": w}, limit=300)
        forward = [r for r in _rows(run / "train.jsonl") if r["kind"] == "forward"]
        assert all(compatible(r["constraints"]) for r in forward)
        shares.append(sum(any(t in IFBENCH for t in r["constraint_types"]) for r in forward) / len(forward))
    assert shares[0] + 0.05 < shares[1] < shares[2] - 0.05, shares


# --- the default and the fingerprint ------------------------------------------------------------


def test_default_config_keeps_the_fingerprint_runs_have_always_had():
    # GenerateConfig().fingerprint() before --types existed (commit 147ff08): a checkpoint written
    # then still resumes, and the default run's bytes are the same.
    assert GenerateConfig().fingerprint() == "af6585addd485807"
    for same in ({"ifeval": 1.0}, {"ifeval": 3.0}, {"ifeval": 1.0, "ifbench": 0.0}):
        assert GenerateConfig(rules=RuleConfig(suites=same)).fingerprint() == "af6585addd485807"


def test_default_and_explicit_ifeval_give_the_same_bytes(tmp_path, sample_path):
    default = _run(tmp_path, "default", sample_path, None, min_words=10)
    explicit = tmp_path / "explicit"
    assert main(["generate", str(sample_path), "--out", str(explicit), "--min-words", "10", "--types", "ifeval",
                 "--no-progress"]) == 0  # fmt: skip
    for name in ("train.jsonl", "constraints.jsonl", "ifeval_ground_truth.jsonl", "stats.json"):
        assert (default / name).read_bytes() == (explicit / name).read_bytes(), name
    assert not {c["type"] for r in _rows(default / "constraints.jsonl") for c in r["constraints"]} & IFBENCH


def test_fingerprint_follows_what_decides_the_output():
    def fp(suites: dict[str, float]) -> str:
        return GenerateConfig(rules=RuleConfig(suites=suites)).fingerprint()

    default, every = fp({"ifeval": 1}), fp({"ifeval": 1, "ifbench": 1})
    half, doubled = fp({"ifeval": 1, "ifbench": 0.5}), fp({"ifeval": 2, "ifbench": 1})
    assert len({default, every, half, fp({"ifbench": 1})}) == 4
    assert half == doubled  # the same relative weights: the same run


def test_a_run_does_not_resume_under_other_types(tmp_path, sample_path):
    _run(tmp_path, "run", sample_path, None, min_words=10)
    with pytest.raises(ValueError, match="different configuration"):
        _run(tmp_path, "run", sample_path, {"ifeval": 1, "ifbench": 1}, min_words=10)


# --- what reads the run -------------------------------------------------------------------------


def test_data_quality_counts_ifbench_types_out_of_58(tmp_path, sample_path, capsys):
    run = _run(tmp_path, "all", sample_path, {"ifeval": 1, "ifbench": 1}, min_words=10)
    forward = [r for r in _rows(run / "train.jsonl") if r["kind"] == "forward"]
    asked = {t for r in forward for t in r["constraint_types"]} & IFBENCH
    assert asked
    q = data_quality.measure(run)
    assert q["ifbench_types"] == len(ifbench_instruction_ids()) == 58
    assert q["ifbench_types_present"] == len(asked)
    assert q["ifbench_type_count"]["words:start_verb"] == 0  # IFBench's type crabkit cannot check
    top = max(asked, key=lambda t: sum(t in r["constraint_types"] for r in forward))
    assert q["ifbench_type_count"][top] == sum(top in r["constraint_types"] for r in forward)
    assert q["ifbench_type_share"][top] == q["ifbench_type_count"][top] / len(forward)
    assert not set(q["other_type_share"]) & IFBENCH
    assert data_quality.main([str(run), "--examples", "0"]) == 0
    assert f"IFBench types asked ({len(asked)}/58 present" in capsys.readouterr().out


def test_data_quality_shows_ifbench_only_when_asked_or_present(tmp_path, sample_path, capsys):
    run = _run(tmp_path, "default", sample_path, None, min_words=10)
    assert data_quality.main([str(run), "--examples", "0"]) == 0
    assert "IFBench types" not in capsys.readouterr().out
    assert data_quality.main([str(run), "--examples", "0", "--ifbench"]) == 0
    assert "IFBench types asked (0/58 present" in capsys.readouterr().out


def test_the_report_marks_ifbench_types_in_its_type_table(tmp_path, sample_path):
    from crabkit.eval.report import build_report

    run = _run(tmp_path, "all", sample_path, {"ifeval": 1, "ifbench": 1}, min_words=10)
    inferred = {c["type"] for r in _rows(run / "constraints.jsonl") for c in r["constraints"]} & IFBENCH
    page = build_report(run).read_text(encoding="utf-8")
    types = page.split('<section id="types">', 1)[1].split("</section>", 1)[0]
    assert inferred and all(f"<td>{t}</td><td>IFBench</td>" in types for t in inferred)
    assert "<td>punctuation:no_comma</td><td>IFEval</td>" in types


def test_reports_and_cards_mark_ifbench_types():
    from crabkit.export.card import _type_rows

    assert ifeval_mark("count:numbers") == "IFBench"
    assert ifeval_mark("punctuation:no_comma") == "IFEval"
    assert ifeval_mark("keywords:include") == "crabkit"
    rows = {t: mark for t, mark, _ in _type_rows({"count:numbers": 2, "keywords:include": 1})}  # type: ignore[arg-type]
    assert rows == {"`count:numbers`": "IFBench", "`keywords:include`": "crabkit only"}
    assert get("count:numbers").ifeval_id is None
