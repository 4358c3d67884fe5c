"""`crab report`: one self-contained HTML page for a run directory and the evaluations below it."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from crabkit.cli import main
from crabkit.eval.constraints_eval import evaluate_constraints
from crabkit.eval.followbench import FollowBenchItem, run_followbench
from crabkit.eval.ifeval_run import load_ifeval_prompts, run_ifeval
from crabkit.eval.report import build_report, find_data, render_report
from crabkit.llm import ScriptedBackend
from crabkit.pipeline import GenerateConfig, generate

pytest.importorskip("matplotlib", reason="crab report needs the 'report' extra (matplotlib)")

IFEVAL_PROMPTS = [
    {"key": 1, "prompt": "Say hi in lowercase.", "instruction_id_list": ["change_case:english_lowercase"],
     "kwargs": [{}]},
    {"key": 2, "prompt": "Say hi without commas.", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]},
]
FOLLOWBENCH = [
    FollowBenchItem("style", 1, 0, "quora", "Describe a desert."),
    FollowBenchItem("style", 1, 1, "quora", "Describe a desert, as a pirate."),
    FollowBenchItem("style", 1, 2, "quora", "Describe a desert, as a pirate, in rhyme."),
]
SECTION_IDS = ("run", "examples", "types", "per-instruction", "lengths", "rejects")


def make_run(root: Path, sample_path: Path) -> Path:
    """A generate run (min_words=60 so that some records are rejected) with three eval dirs below it."""
    generate(GenerateConfig(input=str(sample_path), min_words=60), root, progress=False)
    evaluate_constraints(ScriptedBackend(lambda r: "A short answer."), root, 10, 0, out_dir=root / "eval" / "constraints")
    prompts_file = root / "ifeval_prompts.jsonl"
    prompts_file.write_text("".join(json.dumps(p) + "\n" for p in IFEVAL_PROMPTS), encoding="utf-8")
    run_ifeval(ScriptedBackend(lambda r: "hi, there"), load_ifeval_prompts(prompts_file), root / "eval" / "ifeval")
    judge = ScriptedBackend(lambda r: "['YES', 'NO']" if "list of 2" in r.messages[-1]["content"] else "['YES']")
    run_followbench(ScriptedBackend(lambda r: "Arr."), FOLLOWBENCH, judge, root / "eval" / "followbench",
                    levels=[1, 2])
    return root


@pytest.fixture(scope="module")
def report_html(tmp_path_factory, sample_path: Path) -> tuple[Path, str]:
    root = make_run(tmp_path_factory.mktemp("run"), sample_path)
    path = build_report(root)
    return path, path.read_text(encoding="utf-8")


def images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


def test_report_is_written_beside_the_run(report_html):
    path, page = report_html
    assert path.name == "report.html" and page.startswith("<!DOCTYPE html>")


def test_report_needs_no_network(report_html):
    _, page = report_html
    refs = re.findall(r'(?:src|href)\s*=\s*["\']?([^"\'\s>]+)', page)
    assert refs, "the page has plots and anchors"
    assert all(r.startswith(("data:", "#")) for r in refs), [r[:40] for r in refs if not r.startswith(("data:", "#"))]
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page


def test_report_has_every_section_with_data(report_html):
    _, page = report_html
    for anchor in SECTION_IDS:
        assert f'<section id="{anchor}">' in page
    for title in ("Held-out constraints (eval/constraints)", "IFEval (eval/ifeval)",
                  "FollowBench (eval/followbench)"):
        assert title in page
    assert "Not present" not in page


def test_report_plots_are_real_pngs(report_html):
    _, page = report_html
    pngs = images(page)
    # types, families, per-instruction, lengths, rejects, constraints by family, IFEval per type, FollowBench
    assert len(pngs) == 8
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") and len(p) > 2000 for p in pngs)


def test_report_shows_the_numbers(report_html):
    _, page = report_html
    assert "<td>filter: too short</td>" in page
    assert "aggregate (mean of the four)" in page
    # IFEval: "hi, there" is lowercase (passes) but has a comma (fails): 50.0% at every level.
    ifeval = page.split("<h2>IFEval (eval/ifeval)</h2>")[1].split("<section")[0]
    assert ifeval.count("<td>50.0</td>") == 5
    assert "version crabkit" in page and "fingerprint" in page


def test_run_data_is_read_from_the_files(report_html):
    path, _ = report_html
    data = find_data(path.parent)
    stats = json.loads((path.parent / "stats.json").read_text())
    assert data.stats["constraints_by_type"] == stats["constraints_by_type"]
    assert sum(data.rejects.values()) == len((path.parent / "rejects.jsonl").read_text().splitlines()) > 0
    assert len(data.per_seed_counts) == stats["seeds"]
    assert sorted(kind for kind, _, _ in data.evals) == ["constraints", "followbench", "ifeval"]


def test_empty_directory_lists_what_is_absent(tmp_path: Path):
    page = render_report(find_data(tmp_path))
    assert "Nothing to report" in page and "Not present" in page
    assert "manifest.json" in page and not images(page)


def test_eval_dir_alone_gives_only_its_section(tmp_path: Path):
    prompts_file = tmp_path / "p.jsonl"
    prompts_file.write_text("".join(json.dumps(p) + "\n" for p in IFEVAL_PROMPTS), encoding="utf-8")
    run_ifeval(ScriptedBackend(lambda r: "hi"), load_ifeval_prompts(prompts_file), tmp_path / "ifeval")
    page = build_report(tmp_path / "ifeval").read_text()
    assert "IFEval (.)" in page and len(images(page)) == 1
    assert '<section id="run">' not in page and "run metadata" in page


def test_run_in_progress_counts_types_from_constraints_jsonl(tmp_path: Path, sample_path: Path):
    generate(GenerateConfig(input=str(sample_path), min_words=10), tmp_path, progress=False)
    (tmp_path / "stats.json").unlink()
    data = find_data(tmp_path)
    rows = [json.loads(line) for line in (tmp_path / "constraints.jsonl").read_text().splitlines()]
    assert sum(data.stats["constraints_by_type"].values()) == sum(len(r["constraints"]) for r in rows)
    assert '<section id="types">' in render_report(data)


def test_unrelated_or_broken_summaries_are_ignored(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "summary.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "summary.json").write_text('{"something": 1}', encoding="utf-8")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "summary.json").write_text('{"benchmark": "IFEval", "by_instruction": 3}', encoding="utf-8")
    page = render_report(find_data(tmp_path))
    assert "IFEval (c)" in page and "Could not read this summary" in page


def test_cli_report(tmp_path: Path, capsys):
    (tmp_path / "stats.json").write_text('{"rejects": {"read: bad json": 2}}', encoding="utf-8")
    out = tmp_path / "sub" / "r.html"
    assert main(["report", str(tmp_path), "--out", str(out), "--title", "My run"]) == 0
    page = out.read_text()
    assert "<title>My run</title>" in page and '<section id="rejects">' in page
    assert str(out) in capsys.readouterr().out


def test_cli_report_on_missing_dir_fails_cleanly(tmp_path: Path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_crab_ifeval_score_output_is_reported_with_its_aggregate(tmp_path: Path):
    prompts_file = tmp_path / "p.jsonl"
    prompts_file.write_text("".join(json.dumps(p) + "\n" for p in IFEVAL_PROMPTS), encoding="utf-8")
    responses = tmp_path / "r.jsonl"
    responses.write_text(json.dumps({"prompt": IFEVAL_PROMPTS[0]["prompt"],
                                    "response": "the weather today is calm and mild with light rain tonight"}) + "\n"
                         + json.dumps({"prompt": IFEVAL_PROMPTS[1]["prompt"], "response": "Hi, you"}) + "\n")
    assert main(["ifeval", "score", "--input-data", str(prompts_file), "--responses", str(responses),
                 "--output", str(tmp_path / "scored")]) == 0
    page = render_report(find_data(tmp_path))
    assert "IFEval (scored)" in page
    # `crab ifeval score` is `crab eval ifeval --responses`: its summary carries the intervals too.
    assert "<td>aggregate (mean of the four)</td><td>50.0</td><td>[0.0, 100.0]</td>" in page


IFBENCH_PROMPTS = [
    {"key": "a", "prompt": "Name two numbers.", "instruction_id_list": ["count:numbers"], "kwargs": [{"N": 2}]},
    {"key": "b", "prompt": "Start with a verb.", "instruction_id_list": ["words:start_verb"], "kwargs": [{}]},
]


def test_ifbench_run_is_reported_like_ifeval_with_what_was_left_out(tmp_path: Path):
    from crabkit.eval.ifbench import load_ifbench_prompts, run_ifbench

    prompts_file = tmp_path / "p.jsonl"
    prompts_file.write_text("".join(json.dumps(p) + "\n" for p in IFBENCH_PROMPTS), encoding="utf-8")
    run_ifbench(ScriptedBackend(lambda r: "In 1999, 40 came."), load_ifbench_prompts(prompts_file),
                tmp_path / "eval" / "ifbench")
    data = find_data(tmp_path)
    assert [kind for kind, _, _ in data.evals] == ["ifbench"]
    page = render_report(data)
    section = page.split("<h2>IFBench (eval/ifbench)</h2>")[1].split("</section>")[0]
    assert len(images(section)) == 1 and "IFBench accuracy per instruction type" in section
    # The one checked prompt passes: 100% on the headline; over both prompts, 50%.
    assert "<td>prompt_strict</td><td>100.0</td>" in section
    assert "Not checked" in section and "<td>words:start_verb</td><td>1</td>" in section
    assert "All 2 prompts, each unsupported instruction counted as failed" in section
    assert section.split("All 2 prompts")[1].count("<td>50.0</td>") == 5
    assert "IFEval (" not in page
