"""The report's example browser, row lengths, IFEval marking and tick labels that never run together."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from crabkit.eval import report
from crabkit.eval.report import build_report, find_data
from crabkit.pipeline import GenerateConfig, generate

pytest.importorskip("matplotlib", reason="crab report needs the 'report' extra (matplotlib)")


def _msg(role: str, content: str) -> dict:
    return {"role": role, "content": content}


ROWS = [
    {"id": "a-fwd", "kind": "forward", "demo_seed_ids": ["d1"], "constraint_types": ["punctuation:no_comma",
     "keywords:include"], "shape": "list", "edit": None,
     "messages": [_msg("user", "demo question"), _msg("assistant", "demo answer"),
                  _msg("user", "Explain <script>alert(1)</script> & more"), _msg("assistant", "An answer")]},
    {"id": "b-fwd", "kind": "forward", "demo_seed_ids": [], "constraint_types": ["punctuation:no_comma"],
     "messages": [_msg("user", "q one two three"), _msg("assistant", "a b")]},
    {"id": "c-rev", "kind": "reverse", "constraint_types": ["keywords:include"],
     "messages": [_msg("user", "Which constraints?"), _msg("assistant", "- Use the word x.")]},
    {"id": "d-mix", "kind": "mix", "constraint_types": [],
     "messages": [_msg("system", "Be brief."), _msg("user", "hello"), _msg("assistant", "hi")]},
]  # fmt: skip


@pytest.fixture
def handmade(tmp_path: Path) -> Path:
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    return tmp_path


def test_example_browser_shows_every_kind_with_its_text_escaped(handmade: Path):
    page = build_report(handmade).read_text(encoding="utf-8")
    browser = page.split('<section id="examples">', 1)[1].split("</section>", 1)[0]
    for heading in ("forward with demonstrations", "forward", "reverse", "mix"):
        assert f"<h3>{heading} <span class='meta'>(1 of 1)</span></h3>" in browser
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in browser and "<script>" not in page
    assert "user (earlier turn)" in browser and "assistant (earlier turn)" in browser  # the demonstration
    assert "<span class='ct ifeval'>punctuation:no_comma</span>" in browser
    assert "<span class='ct crabkit'>keywords:include</span>" in browser


def test_example_sample_is_stable_and_spread_over_the_file(tmp_path: Path, sample_path: Path):
    generate(GenerateConfig(input=str(sample_path), min_words=10), tmp_path, progress=False)
    a, b = find_data(tmp_path, per_kind=2).train, find_data(tmp_path, per_kind=2).train
    assert a.examples == b.examples
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    forwards = [r["id"] for r in rows if r["kind"] == "forward" and not r["demo_seed_ids"]]
    picked = [r["id"] for r in a.examples["forward"]]
    assert len(picked) == 2 and set(picked) <= set(forwards) and picked != forwards[:2]
    assert a.totals["forward"] == len(forwards) and len(a.lengths) == len(rows)


def test_lengths_are_words_without_a_tokenizer_and_tokens_with_one(handmade: Path, tmp_path_factory):
    from crabkit.text import count_words

    words = find_data(handmade).train
    expected_words = [sum(count_words(m["content"]) for m in r["messages"]) for r in ROWS]
    assert words.unit == "words" and words.lengths == expected_words
    page = build_report(handmade).read_text(encoding="utf-8")
    assert '<section id="lengths">' in page and f"<td>longest words</td><td>{max(expected_words)}</td>" in page
    pytest.importorskip("transformers")
    from tiny_model import build_tokenizer

    path = tmp_path_factory.mktemp("tok")
    tok = build_tokenizer()
    tok.save_pretrained(path)
    tokens = find_data(handmade, tokenizer=str(path)).train
    assert tokens.unit == f"tokens ({path.name})"
    expected = [len(tok.apply_chat_template(r["messages"], tokenize=True)["input_ids"]) for r in ROWS]
    assert tokens.lengths == expected and tokens.lengths != words.lengths


def test_type_table_marks_ifeval_and_crabkit_only_types(tmp_path: Path, sample_path: Path):
    generate(GenerateConfig(input=str(sample_path), min_words=10), tmp_path, progress=False)
    page = build_report(tmp_path).read_text(encoding="utf-8")
    types = page.split('<section id="types">', 1)[1].split("</section>", 1)[0]
    assert "<td>punctuation:no_comma</td><td>IFEval</td>" in types
    assert "<td>keywords:include</td><td>crabkit only</td>" in types


def _overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of neighbouring tick labels (x or y, any axes) whose drawn boxes intersect."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    bad = []
    for ax in fig.axes:
        for axis, lo, hi in ((ax.xaxis, "x0", "x1"), (ax.yaxis, "y0", "y1")):
            labels = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            boxes = sorted(((t.get_window_extent(renderer), t.get_text()) for t in labels),
                           key=lambda bt: getattr(bt[0], lo))
            for (b1, t1), (b2, t2) in itertools.pairwise(boxes):
                if getattr(b2, lo) < getattr(b1, hi):
                    bad.append((t1, t2))
    return bad


def test_overlap_check_catches_labels_that_run_together():
    plt = report._plt()
    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.bar(range(1, 41), range(1, 41))
    ax.set_xticks(range(1, 41))  # what the per-seed histogram used to do: "10111213"
    assert _overlaps(fig)
    plt.close(fig)


def test_no_plot_of_the_report_has_overlapping_tick_labels(tmp_path: Path, sample_path: Path, monkeypatch):
    generate(GenerateConfig(input=str(sample_path), min_words=10), tmp_path, progress=False)
    # Widen the per-seed spread to 1..40 constraints: the case whose ticks used to run together.
    rows = [json.loads(line) for line in (tmp_path / "constraints.jsonl").read_text().splitlines()]
    for i, row in enumerate(rows):
        row["constraints"] = (row["constraints"] * 40)[: 1 + i % 40]
    (tmp_path / "constraints.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    figures = []
    real = report._img

    def keep(fig, alt):
        figures.append((alt, fig))
        assert not _overlaps(fig), alt
        return real(fig, alt)

    monkeypatch.setattr(report, "_img", keep)
    build_report(tmp_path)
    names = [alt for alt, _ in figures]
    assert "Constraints per instruction" in names and any(n.startswith("Length of each row") for n in names)
    assert len(figures) >= 4
