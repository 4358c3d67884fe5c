"""One self-contained HTML page about a run directory and the evaluations found below it.

Plots are drawn with matplotlib (the ``report`` extra) and inlined as base64 PNG, styles are inline,
and nothing is fetched, so the file opens offline and can be mailed as is. Each section appears when
its data is there and is listed as absent otherwise:

* run: metadata from ``manifest.json``; a browsable sample of ``train.jsonl`` per kind (forward
  with demonstrations, forward, reverse, mix; see :mod:`crabkit.eval.report_examples`); constraint
  type (IFEval, IFBench or crabkit only) and family counts, constraints per instruction, the length of every
  row (tokens with a tokenizer, else words), rejects by reason (``stats.json``, else counted from the
  JSONL outputs);
* every ``summary.json`` below the directory, by its ``benchmark`` field: held-out constraints
  (pass rates by family), IFEval and IFBench (the four metrics, per-type bars; for IFBench also the
  prompts its unsupported types left out and the reading over all prompts), FollowBench (per-level lines).

Example::

    from crabkit.eval.report import build_report
    build_report("runs/crab")          # writes runs/crab/report.html
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from crabkit.io.jsonl import iter_jsonl_lenient

from .report_examples import TrainSample, examples_html, ifeval_mark, length_table, read_train

__all__ = ["ReportData", "build_report", "find_data", "render_report"]

_MAX_DEPTH = 4  # how far below DIR to look for evaluation summaries
_BLUE, _ORANGE, _GREY, _TEAL = "#3b6ea8", "#e08a2c", "#8a8a8a", "#2a9d8f"
_PURPLE = "#8e5ea2"
#: Most tick labels per inch of axis width: numbers at font size 8-10 stay apart below this.
_TICKS_PER_INCH = 1.6


@dataclass
class ReportData:
    """What was found in a directory: run files (``None`` when absent) and evaluation summaries."""

    root: Path
    manifest: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None
    per_seed_counts: list[int] | None = None
    rejects: dict[str, int] | None = None
    llm_usage: dict[str, Any] | None = None
    train: TrainSample | None = None
    evals: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (kind, rel path, summary)


# --- finding data ----------------------------------------------------------------------------------

def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def _kind(summary: Any) -> str | None:
    if not isinstance(summary, dict):
        return None
    bench = str(summary.get("benchmark", "")).lower()
    if bench == "followbench" or ("categories" in summary and "overall" in summary):
        return "followbench"
    if bench == "crab-constraints" or ("prompt_level" in summary and "by_family" in summary):
        return "constraints"
    if bench == "ifbench" or (bench != "ifeval" and "all_prompts" in summary and "unsupported" in summary):
        return "ifbench"
    if bench == "ifeval" or ("prompt_strict" in summary and "by_instruction" in summary):
        return "ifeval"
    return None


def _summaries(root: Path) -> Iterable[Path]:
    def walk(d: Path, depth: int) -> Iterable[Path]:
        try:
            entries = sorted(d.iterdir())
        except OSError:
            return
        for e in entries:
            if e.name == "summary.json" and e.is_file():
                yield e
            elif e.is_dir() and depth < _MAX_DEPTH and not e.name.startswith("."):
                yield from walk(e, depth + 1)

    yield from walk(root, 0)


def find_data(root: str | Path, tokenizer: str | None = None, per_kind: int = 3) -> ReportData:
    """Collect whatever ``root`` holds; missing or unreadable files leave their part ``None``.

    ``tokenizer`` (a path or cached Hub id) measures row lengths in its tokens, else in words;
    ``per_kind`` examples of each kind are sampled for the example browser."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a directory")
    data = ReportData(root)
    manifest = _load_json(root / "manifest.json")
    data.manifest = manifest if isinstance(manifest, dict) else None
    stats = _load_json(root / "stats.json")
    data.stats = stats if isinstance(stats, dict) else None
    usage = _load_json(root / "llm_usage.json")
    data.llm_usage = usage if isinstance(usage, dict) else None
    constraints = root / "constraints.jsonl"
    if constraints.is_file():
        count_types = data.stats is None  # a run still in progress: count what is there
        counts: list[int] = []
        types: Counter[str] = Counter()
        for row in iter_jsonl_lenient(constraints):  # one pass, streamed
            found = row.get("constraints") or []
            counts.append(len(found))
            if count_types:
                types.update(c.get("type", "?") for c in found)
        data.per_seed_counts = counts
        if count_types:
            families: Counter[str] = Counter()
            for type_id, n in types.items():
                families[type_id.split(":", 1)[0]] += n
            data.stats = {"constraints_by_type": dict(types), "constraints_by_family": dict(families)}
    if data.stats is not None and isinstance(data.stats.get("rejects"), dict):
        data.rejects = {str(k): int(v) for k, v in data.stats["rejects"].items()}
    elif (root / "rejects.jsonl").is_file():
        data.rejects = dict(Counter(
            f"{r.get('stage', '?')}: {str(r.get('reason', '?')).split(':')[0]}" for r in iter_jsonl_lenient(root / "rejects.jsonl")
        ))
    if (root / "train.jsonl").is_file():
        data.train = read_train(root / "train.jsonl", per_kind, tokenizer)
    for path in _summaries(root):
        summary = _load_json(path)
        kind = _kind(summary)
        if kind is not None:
            rel = path.parent.relative_to(root).as_posix() or "."
            data.evals.append((kind, rel, summary))
    return data


# --- plotting --------------------------------------------------------------------------------------

def _plt() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ImportError("crab report draws its plots with matplotlib: pip install 'crabkit[report]'") from None
    matplotlib.use("Agg", force=True)  # no display; also keeps a GUI backend from being picked
    import matplotlib.pyplot as plt

    return plt


def _img(fig: Any, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    _plt().close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img class="plot" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _barh(counts: Mapping[str, float], title: str, xlabel: str, color: str = _BLUE,
          errors: Mapping[str, list[float]] | None = None, xlim: tuple[float, float] | None = None,
          colors: Mapping[str, str] | None = None, legend: Sequence[tuple[str, str]] = ()) -> str:
    plt = _plt()
    items = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))
    labels, values = [k for k, _ in items], [v for _, v in items]
    fig, ax = plt.subplots(figsize=(9, max(1.6, 0.28 * len(items) + 0.9)), layout="constrained")
    xerr = None
    if errors:
        lo = [max(0.0, v - errors[k][0]) for k, v in items]
        hi = [max(0.0, errors[k][1] - v) for k, v in items]
        xerr = [lo, hi]
    bar_colors = [colors.get(k, color) for k in labels] if colors else color
    ax.barh(labels, values, color=bar_colors, xerr=xerr, ecolor="#333333", capsize=2)
    if legend:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=c, label=name) for name, c in legend], loc="lower right", fontsize=8)
    for y, (k, v) in enumerate(items):
        # Right of the error bar, where there is one, so the number stays readable.
        x = max(v, errors[k][1]) if errors else v
        ax.text(x, y, f" {v:.2f}" if isinstance(v, float) else f" {v}", va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if xlim:
        ax.set_xlim(*xlim)
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _img(fig, title)


def _readable_ticks(ax: Any, width_in: float, integer: bool = True) -> None:
    """At most ``_TICKS_PER_INCH`` labels per inch of axis (whole numbers where ``integer``), so
    labels never run together ("10111213")."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=max(2, int(width_in * _TICKS_PER_INCH)), integer=integer))


def _histogram(series: list[tuple[str, Mapping[int, int], str]], title: str, xlabel: str) -> str:
    plt = _plt()
    width = 4.5 if len(series) > 1 else 9.0
    fig, axes = plt.subplots(1, len(series), figsize=(width * len(series), 3), squeeze=False, layout="constrained")
    for ax, (label, counts, color) in zip(axes[0], series):
        xs = sorted(counts)
        ax.bar(xs, [counts[x] for x in xs], color=color, width=0.8)
        _readable_ticks(ax, width - 0.8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("count")
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(title)
    return _img(fig, title)


# --- html pieces -----------------------------------------------------------------------------------

def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pct(v: Any) -> str:
    return "-" if v is None else f"{100 * float(v):.1f}"


def _ci(ci: Any) -> str:
    return f"[{_pct(ci[0])}, {_pct(ci[1])}]" if isinstance(ci, (list, tuple)) and len(ci) == 2 else "-"


def _flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        if isinstance(v, Mapping) and v:
            out += _flatten(v, f"{prefix}{k}.")
        else:
            out.append((f"{prefix}{k}", json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v))
    return out


def _generation_line(summary: Mapping[str, Any]) -> str:
    gen = summary.get("generation") or {}
    backend = gen.get("backend") or {}
    if backend:
        parts = [f"{backend.get('name', '?')} {backend.get('model', '')}".strip()]
        parts += [f"{k}={gen[k]}" for k in ("temperature", "top_p", "max_tokens") if k in gen]
        return "<p class='meta'>Generated by " + _e(", ".join(parts)) + "</p>"
    if gen.get("source"):
        return f"<p class='meta'>Responses read from {_e(gen['source'])}</p>"
    return ""


# --- sections --------------------------------------------------------------------------------------

Section = tuple[str, str, str]  # (anchor, title, body html)


def _run_sections(d: ReportData) -> tuple[list[Section], list[str]]:
    sections: list[Section] = []
    absent: list[str] = []
    if d.manifest:
        m = d.manifest
        rows = [("seed", m.get("seed", "-")), ("fingerprint", m.get("fingerprint", "-"))]
        rows += [(f"version {k}", v) for k, v in (m.get("versions") or {}).items()]
        body = _table(("field", "value"), rows)
        body += "<details><summary>configuration</summary>"
        body += _table(("setting", "value"), _flatten(m.get("config") or {})) + "</details>"
        if d.stats:
            totals = [(k, d.stats[k]) for k in ("items_read", "seeds", "constraints_total", "distinct_types",
                                                 "rejects_total", "ground_truth_rows", "no_constraints",
                                                 "demonstrations") if k in d.stats]
            totals += [(f"examples: {k}", v) for k, v in (d.stats.get("examples") or {}).items()]
            if totals:
                body += "<h3>Counts</h3>" + _table(("count", "value"), totals)
        sections.append(("run", "Run metadata", body))
    else:
        absent.append("run metadata (manifest.json)")
    if d.train is not None:
        sections.append(("examples", "Examples", examples_html(d.train)))
    else:
        absent.append("examples (train.jsonl)")
    by_type = (d.stats or {}).get("constraints_by_type") or {}
    by_family = (d.stats or {}).get("constraints_by_family") or {}
    if by_type or by_family:
        body = ""
        if by_type:
            marks = {t: ifeval_mark(t) for t in by_type}
            palette = {"IFEval": _BLUE, "IFBench": _PURPLE, "crabkit": _TEAL, "soft": _GREY, "unknown": _GREY}
            body += _barh(by_type, "Constraints by type", "constraints",
                          colors={t: palette[m] for t, m in marks.items()},
                          legend=[("IFEval type", _BLUE)]
                          + ([("IFBench type", _PURPLE)] if "IFBench" in marks.values() else [])
                          + [("crabkit only", _TEAL)]
                          + ([("soft (LLM-judged)", _GREY)] if "soft" in marks.values() else []))
            body += "<details><summary>per type (IFEval, IFBench or crabkit only)</summary>" + _table(
                ("type", "suite", "constraints"),
                [(t, {"IFEval": "IFEval", "crabkit": "crabkit only"}.get(marks[t], marks[t]), n)
                 for t, n in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))]) + "</details>"
        if by_family:
            body += _barh(by_family, "Constraints by family", "constraints", color=_ORANGE)
        sections.append(("types", "Constraint types and families", body))
    else:
        absent.append("constraint type distribution (stats.json or constraints.jsonl)")
    series: list[tuple[str, Mapping[int, int], str]] = []
    if d.per_seed_counts:
        series.append(("verified constraints per seed", Counter(d.per_seed_counts), _BLUE))
    composed = (d.stats or {}).get("constraints_per_instruction") or {}
    if composed:
        series.append(("constraints per composed instruction",
                       {int(k): int(v) for k, v in composed.items()}, _ORANGE))
    if series:
        sections.append(("per-instruction", "Constraints per instruction",
                         _histogram(series, "Constraints per instruction", "constraints")))
    else:
        absent.append("constraints per instruction")
    from crabkit.eval.report_llm import llm_section

    llm = llm_section(d.llm_usage, d.stats, table=_table, barh=_barh, escape=_e)
    if llm is not None:
        sections.append(("llm", "LLM stage", llm))
    if d.train is not None and d.train.lengths:
        sections.append(("lengths", "Example lengths", _lengths(d.train)))
    if d.rejects is not None:
        if d.rejects:
            body = _barh(d.rejects, "Rejected input records by reason", "records", color=_GREY)
            body += _table(("reason", "records"), sorted(d.rejects.items(), key=lambda kv: -kv[1]))
        else:
            body = "<p>No input record was rejected.</p>"
        sections.append(("rejects", "Rejects", body))
    else:
        absent.append("rejects (stats.json or rejects.jsonl)")
    return sections, absent


def _lengths(train: TrainSample) -> str:
    """A histogram of every train.jsonl row's length (prompt and answer together) and a table."""
    import numpy as np

    plt = _plt()
    xs = np.asarray(train.lengths)
    fig, ax = plt.subplots(figsize=(9, 3), layout="constrained")
    ax.hist(xs, bins=min(40, max(5, len(set(train.lengths)))), color=_BLUE)
    for limit in (2048, 4096):
        if xs.max() > limit:
            ax.axvline(limit, color=_ORANGE, linestyle="--", linewidth=1)
            ax.text(limit, ax.get_ylim()[1] * 0.95, f" {limit}", color=_ORANGE, fontsize=8, va="top")
    ax.set_title(f"Length of each train.jsonl row, in {train.unit}")
    ax.set_xlabel(train.unit)
    ax.set_ylabel("rows")
    _readable_ticks(ax, 8.2, integer=True)
    ax.spines[["top", "right"]].set_visible(False)
    note = "" if train.unit != "words" else (
        "<p class='meta'>In words: pass <code>crab report --tokenizer PATH_OR_ID</code> to count the model's "
        "tokens (its chat template included).</p>")  # fmt: skip
    return _img(fig, f"Length of each row in {train.unit}") + note + _table(("measure", "value"),
                                                                          length_table(train.lengths, train.unit))


def _constraints_section(rel: str, s: Mapping[str, Any]) -> str:
    pl, cl = s.get("prompt_level") or {}, s.get("constraint_level") or {}
    body = _generation_line(s)
    body += _table(("level", "n", "pass rate %", "95% CI"), [
        ("prompt (all constraints met)", pl.get("n", "-"), _pct(pl.get("rate")), _ci(pl.get("ci95"))),
        ("constraint", cl.get("n", "-"), _pct(cl.get("rate")), _ci(cl.get("ci95"))),
    ])
    fam = s.get("by_family") or {}
    if fam:
        body += _barh({k: float(v["rate"]) for k, v in fam.items()}, "Pass rate by family (Wilson 95% CI)",
                      "pass rate", errors={k: v.get("ci95", [v["rate"]] * 2) for k, v in fam.items()},
                      xlim=(0, 1.15))
    types = s.get("by_type") or {}
    if types:
        body += "<details><summary>per type</summary>" + _table(
            ("type", "n", "pass rate %", "95% CI"),
            [(k, v["n"], _pct(v["rate"]), _ci(v.get("ci95"))) for k, v in types.items()]) + "</details>"
    return body


def _ifeval_section(rel: str, s: Mapping[str, Any]) -> str:
    return _scored_section(s, "IFEval")


def _ifbench_section(rel: str, s: Mapping[str, Any]) -> str:
    return _scored_section(s, "IFBench")


def _metric_rows(s: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    ci = s.get("ci95") or {}
    metrics = ("prompt_strict", "instruction_strict", "prompt_loose", "instruction_loose")
    rows = [(m, _pct(s.get(m)), _ci(ci.get(m))) for m in metrics]
    aggregate = s.get("aggregate")
    if aggregate is None and all(m in s for m in metrics):
        aggregate = sum(s[m] for m in metrics) / 4
    rows.append(("aggregate (mean of the four)", _pct(aggregate), _ci(ci.get("aggregate"))))
    return rows


def _scored_section(s: Mapping[str, Any], name: str) -> str:
    """IFEval or IFBench: the four metrics, per-type bars, per family; for IFBench also which prompts
    were left out (unsupported types, with reasons) and the reading over all prompts."""
    body = _generation_line(s)
    body += f"<p class='meta'>{_e(s.get('n_prompts', '?'))} prompts, {_e(s.get('n_instructions', '?'))} instructions"
    if s.get("n_missing"):
        body += f", {_e(s['n_missing'])} without a response"
    left_out = s.get("unsupported")
    if left_out:
        body += f", types crabkit checks; {_e(left_out.get('n_prompts', 0))} prompts left out (below)"
    body += "</p>" + _table(("metric", "score %", "95% CI"), _metric_rows(s))
    per = s.get("by_instruction") or {}
    if per:
        plt = _plt()
        names = sorted(per, key=lambda k: (per[k]["strict"], k))
        fig, ax = plt.subplots(figsize=(9, 0.3 * len(names) + 1.2), layout="constrained")
        ys = range(len(names))
        ax.barh([y + 0.2 for y in ys], [per[n]["loose"] for n in names], height=0.4, color=_ORANGE, label="loose")
        ax.barh([y - 0.2 for y in ys], [per[n]["strict"] for n in names], height=0.4, color=_BLUE, label="strict")
        ax.set_yticks(list(ys), [f"{n} (n={per[n]['n']})" for n in names], fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_xlabel("instruction accuracy")
        ax.set_title(f"{name} accuracy per instruction type")
        ax.legend(loc="lower right", fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        body += _img(fig, f"{name} accuracy per instruction type")
    fam = s.get("by_family") or {}
    if fam:
        body += "<details><summary>per family</summary>" + _table(
            ("family", "n", "strict %", "loose %"),
            [(k, v["n"], _pct(v["strict"]), _pct(v["loose"])) for k, v in fam.items()]) + "</details>"
    if left_out:
        body += _left_out(left_out, s.get("all_prompts"))
    return body


def _left_out(left_out: Mapping[str, Any], every: Mapping[str, Any] | None) -> str:
    """The prompts a benchmark's unsupported types left out, and the reading over all prompts."""
    types = left_out.get("types") or {}
    body = "<h3>Not checked</h3>"
    if types:
        body += _table(("type", "prompts", "reason"), [(t, v.get("n_prompts"), v.get("reason")) for t, v in types.items()])
    if left_out.get("note"):
        body += f"<p class='meta'>{_e(left_out['note'])}</p>"
    if every:
        body += (f"<p>All {_e(every.get('n_prompts', '?'))} prompts, each unsupported instruction counted as "
                 "failed:</p>" + _table(("metric", "score %", "95% CI"), _metric_rows(every)))  # fmt: skip
    return body


def _followbench_section(rel: str, s: Mapping[str, Any]) -> str:
    plt = _plt()
    cats = dict(s.get("categories") or {})
    if s.get("overall"):
        cats["overall"] = s["overall"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for ax, metric in zip(axes, ("hsr", "ssr")):
        for name, m in cats.items():
            levels = sorted((int(k), v.get(metric)) for k, v in (m.get("levels") or {}).items())
            points = [(k, v) for k, v in levels if v is not None and k >= 1]
            if points:
                style = {"color": "black", "linewidth": 2.5} if name == "overall" else {}
                ax.plot([k for k, _ in points], [v for _, v in points], marker="o", label=name, **style)
        ax.set_title(metric.upper() + " by level")
        ax.set_xlabel("level (constraints added)")
        ax.set_ylim(0, 1.02)
        ax.set_xticks([1, 2, 3, 4, 5])
        ax.spines[["top", "right"]].set_visible(False)
    axes[1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    body = _generation_line(s) + _img(fig, "FollowBench HSR and SSR by level")
    rows = [(name, _pct(m.get("hsr_l1_l2")), _pct(m.get("hsr_l3_l5")), _pct(m.get("ssr_avg")),
             "-" if m.get("csl") is None else f"{m['csl']:.2f}") for name, m in cats.items()]
    return body + _table(("category", "HSR L1-2 %", "HSR L3-5 %", "SSR avg %", "CSL"), rows)


_EVAL_SECTIONS: dict[str, tuple[str, Callable[[str, Mapping[str, Any]], str]]] = {
    "constraints": ("Held-out constraints", _constraints_section),
    "ifeval": ("IFEval", _ifeval_section),
    "ifbench": ("IFBench", _ifbench_section),
    "followbench": ("FollowBench", _followbench_section),
}


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1000px;padding:1.5em;
color:#222;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #3b6ea8;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em;
text-align:left}th{background:#eef2f7}td:not(:first-child){font-variant-numeric:tabular-nums}
img.plot{display:block;max-width:100%;margin:.8em 0}.meta{color:#555;font-size:.9em}
nav a{margin-right:1em}details{margin:.5em 0}summary{cursor:pointer;color:#3b6ea8}
.absent{color:#777;font-size:.9em}
details.example{border:1px solid #ccd;border-radius:4px;padding:.3em .6em;margin:.4em 0}
.msg{margin:.4em 0}.msg pre{white-space:pre-wrap;word-break:break-word;max-height:14em;overflow:auto;
margin:.2em 0;padding:.4em;background:#f6f7f9;font-size:.85em}
.role{display:inline-block;font-size:.75em;padding:.05em .5em;border-radius:3px;color:#fff;background:#6a3d9a}
.msg.assistant .role{background:#1b7f5c}.msg.system .role{background:#555}
.ct{display:inline-block;font-size:.75em;padding:0 .4em;margin:0 .3em .2em 0;border-radius:3px;color:#fff}
.ct.ifeval{background:#3b6ea8}.ct.ifbench{background:#8e5ea2}.ct.crabkit{background:#2a9d8f}.ct.soft,.ct.unknown{background:#8a8a8a}
"""


def render_report(data: ReportData, title: str | None = None) -> str:
    """The report page for ``data``, as one HTML string."""
    sections, absent = _run_sections(data)
    # IFBench, the optional second IFEval-style benchmark, is shown when there and not listed as absent.
    for kind, label in (("constraints", "held-out constraints eval"), ("ifeval", "IFEval eval"),
                        ("followbench", "FollowBench eval")):
        if not any(k == kind for k, _, _ in data.evals):
            absent.append(f"{label} (a summary.json below the directory)")
    for i, (kind, rel, summary) in enumerate(data.evals):
        name, render = _EVAL_SECTIONS[kind]
        try:
            body = render(rel, summary)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # One malformed summary must not cost the whole page.
            body = f"<p class='absent'>Could not read this summary: {_e(type(exc).__name__)}: {_e(exc)}</p>"
        sections.append((f"eval-{i}", f"{name} ({rel})", body))
    title = title or f"crabkit report: {data.root.resolve().name}"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t, _ in sections)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1><p class='meta'>{_e(data.root)} &middot; generated {stamp}</p>",
        f"<nav>{nav}</nav>" if nav else "<p>Nothing to report in this directory.</p>",
    ]
    parts += [f'<section id="{a}"><h2>{_e(t)}</h2>{body}</section>' for a, t, body in sections]
    if absent:
        parts.append("<h2>Not present</h2><ul class='absent'>" + "".join(f"<li>{_e(a)}</li>" for a in absent)
                     + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def build_report(root: str | Path, out: str | Path | None = None, title: str | None = None,
                 tokenizer: str | None = None, per_kind: int = 3) -> Path:  # fmt: skip
    """Write the report of ``root`` to ``out`` (default ``root/report.html``) and return its path.

    ``tokenizer``: measure row lengths in its tokens (else words); ``per_kind``: examples shown per kind."""
    data = find_data(root, tokenizer, per_kind)
    path = Path(out) if out is not None else Path(root) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(data, title), encoding="utf-8")
    return path
