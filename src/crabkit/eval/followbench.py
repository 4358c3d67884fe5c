"""FollowBench evaluation: generate, score by rule or by LLM judge, and report HSR, SSR and CSL.

FollowBench (Jiang et al., 2023) grows each instruction one constraint at a time (level 0 has none,
level *n* has *n*). A response at level *n* is scored against the *n* added constraints:

* by code for the example category and for the sources FollowBench routes to rules
  (:mod:`crabkit.eval.followbench_rules`);
* otherwise by an LLM judge that sees the whole instruction path (level 0 ... level *n*) and the
  response, and answers a list of *n* YES/NO. An answer that cannot be read, has the wrong length, or
  holds anything but YES/NO counts NO where it is unreadable, and the item is flagged ``malformed``
  (upstream gives such items -1 and asks for a manual fix).

Metrics, per category and level: **HSR**, the share of responses that satisfy all their constraints;
**SSR**, the mean share of constraints satisfied (a rule item counts all-or-nothing, as upstream
adds its rule verdicts to both); **CSL**, per example group, the number of consecutive levels from
level 1 that pass (HSR-wise), averaged over groups. Overall numbers average the categories, and the
CRAB paper's split is the mean HSR over levels 1-2 and over levels 3-5.

Example::

    from crabkit.eval.followbench import load_followbench, run_followbench
    report = run_followbench(backend, "data/followbench", judge, "runs/fb")
    report.summary["overall"]["hsr_l1_l2"]
"""

from __future__ import annotations

import json
import logging
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any, Literal

from crabkit.eval.followbench_rules import RuleDataError, rule_checks, uses_rules
from crabkit.eval.generate import GenSettings
from crabkit.llm.base import Backend, ChatRequest, ChatResult
from crabkit.records import dumps

__all__ = [
    "CATEGORIES",
    "DEFAULT_HUB_ID",
    "FollowBenchDataError",
    "FollowBenchItem",
    "FollowBenchReport",
    "ItemResult",
    "JudgeParams",
    "JudgeVerdict",
    "build_judge_prompt",
    "compute_metrics",
    "instruction_paths",
    "load_followbench",
    "parse_judge_answer",
    "read_responses",
    "render_summary",
    "run_followbench",
    "score_items",
]

log = logging.getLogger("crabkit.eval.followbench")

CATEGORIES = ("content", "situation", "style", "format", "example", "mixed")
# The dataset card on the Hub lives under the author's user, not the GitHub organisation.
DEFAULT_HUB_ID = "YuxinJiang/FollowBench"
LEVELS = (1, 2, 3, 4, 5)
JUDGE_PROMPT = "followbench_judge_v1.txt"

# How the judge prompt names the kind of constraint each level adds.
_CONSTRAINT_KIND = {
    "content": "content constraint",
    "situation": "situation constraint (background that sets a specific scenario)",
    "style": "style constraint",
    "format": "format constraint",
    "mixed": "constraint (content, situation, style or format)",
}

Key = tuple[str, int, int]  # (category, example_id, level)


class FollowBenchDataError(ValueError):
    """Input that cannot be evaluated: unreadable file, missing field, incomplete instruction path."""


# --- data ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FollowBenchItem:
    """One FollowBench instruction. ``category`` is the benchmark category (the file it comes from),
    not the record's own ``category`` field, which in the mixed file lists the constraints added."""

    category: str
    example_id: int
    level: int
    source: str
    instruction: str
    target: str = ""
    answer: str | None = None

    @property
    def key(self) -> Key:
        return (self.category, self.example_id, self.level)

    @property
    def method(self) -> Literal["rule", "judge"]:
        return "rule" if uses_rules(self.category, self.source, self.example_id) else "judge"


def _item(record: Any, category: str, where: str) -> FollowBenchItem:
    if not isinstance(record, Mapping):
        raise FollowBenchDataError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for name, kind in (("example_id", int), ("level", int), ("instruction", str), ("source", str)):
        if name not in record:
            raise FollowBenchDataError(f"{where}: missing field {name!r}")
        if not isinstance(record[name], kind) or isinstance(record[name], bool):
            raise FollowBenchDataError(f"{where}: field {name!r} should be {kind.__name__}")
    if not 0 <= record["level"] <= 5:
        raise FollowBenchDataError(f"{where}: field 'level' is {record['level']}, expected 0-5")
    target = record.get("target") or ""
    if not isinstance(target, str):
        raise FollowBenchDataError(f"{where}: field 'target' should be a string")
    answer = record.get("answer")
    return FollowBenchItem(
        category, record["example_id"], record["level"], record["source"], record["instruction"], target,
        None if answer is None else str(answer),
    )


def _group_categories(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Benchmark category of each record of a combined dump (the Hub copy has no file names).

    A group is a run of records with one example id and rising levels; it belongs to the mixed
    category when any of its records says ``mixed`` or lists several constraint kinds.
    """
    cats: list[str] = []
    start = 0
    for i in range(1, len(records) + 1):
        if i < len(records) and records[i].get("example_id") == records[i - 1].get("example_id") \
                and records[i].get("level", 0) > records[i - 1].get("level", 0):
            continue
        own = [str(r.get("category", "")) for r in records[start:i]]
        mixed = any(c == "mixed" or "," in c for c in own)
        cats.extend(["mixed" if mixed else own[0]] * (i - start))
        start = i
    return cats


def _read_json_records(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FollowBenchDataError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        data = json.loads(text)
        return data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        pass
    records = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise FollowBenchDataError(f"{path}:{n}: not JSON ({exc.msg})") from exc
    return records


def _load_hub(hub_id: str) -> list[dict[str, Any]]:
    try:
        import datasets
    except ImportError as exc:
        raise FollowBenchDataError(
            f"{hub_id!r} is not a local path; loading it from the Hugging Face Hub needs the 'hf' extra "
            "(pip install 'crabkit[hf]')"
        ) from exc
    ds = datasets.load_dataset(hub_id, split="train")
    return [dict(row) for row in ds]


def load_followbench(data: str | Path, categories: Iterable[str] | None = None) -> list[FollowBenchItem]:
    """Read FollowBench items (every level, 0 included) from a directory of ``<category>_constraints.json``
    files as in the FollowBench repository, one combined JSON/JSONL file, or a Hugging Face Hub id."""
    wanted = _check_categories(categories)
    path = Path(data)
    if path.is_dir():
        items = []
        for cat in wanted:
            f = path / f"{cat}_constraints.json"
            if not f.exists():
                if categories is not None:
                    raise FollowBenchDataError(f"{path}: no {f.name} for category {cat!r}")
                continue
            items += [_item(r, cat, f"{f.name} record {i}") for i, r in enumerate(_read_json_records(f))]
        if not items:
            raise FollowBenchDataError(f"{path}: no *_constraints.json files of categories {', '.join(wanted)}")
        return items
    if path.is_file():
        records, where = _read_json_records(path), path.name
    elif re.fullmatch(r"[\w.-]+/[\w.-]+", str(data)):
        records, where = _load_hub(str(data)), str(data)
    else:
        raise FollowBenchDataError(f"{data}: no such file or directory (nor a Hub id like {DEFAULT_HUB_ID})")
    cats = _group_categories([r if isinstance(r, Mapping) else {} for r in records])
    items = [_item(r, c, f"{where} record {i}") for i, (r, c) in enumerate(zip(records, cats)) if c in wanted]
    if not items:
        raise FollowBenchDataError(f"{where}: no records of categories {', '.join(wanted)}")
    return items


def _check_categories(categories: Iterable[str] | None) -> list[str]:
    if categories is None:
        return list(CATEGORIES)
    wanted = list(dict.fromkeys(categories))
    unknown = [c for c in wanted if c not in CATEGORIES]
    if unknown:
        raise FollowBenchDataError(f"unknown categories {unknown}; choose from {', '.join(CATEGORIES)}")
    return wanted


def instruction_paths(items: Iterable[FollowBenchItem]) -> dict[Key, list[str]]:
    """For each item, the instructions of its group from level 0 up to its own level."""
    by_group: dict[tuple[str, int], dict[int, str]] = defaultdict(dict)
    for it in items:
        by_group[(it.category, it.example_id)][it.level] = it.instruction
    paths = {}
    for (cat, eid), levels in by_group.items():
        for level in levels:
            if all(k in levels for k in range(level + 1)):
                paths[(cat, eid, level)] = [levels[k] for k in range(level + 1)]
    return paths


def _response_of(record: Mapping[str, Any]) -> str | None:
    for name in ("response", "generation", "output"):
        if isinstance(record.get(name), str):
            return record[name]
    try:  # FollowBench's own api_output files
        content = record["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def read_responses(path: str | Path) -> tuple[dict[Key, str], dict[str, str]]:
    """Responses from a JSONL/JSON file, as ``(by_key, by_instruction)``.

    A record is keyed by ``category``/``example_id``/``level`` when it has them (our own
    ``results.jsonl`` qualifies), else by its instruction text (``instruction``, ``prompt`` or
    FollowBench's ``prompt_new``). The response is ``response``, ``generation``, ``output``, or
    FollowBench's ``choices[0].message.content``.
    """
    by_key: dict[Key, str] = {}
    by_text: dict[str, str] = {}
    for i, rec in enumerate(_read_json_records(Path(path))):
        where = f"{Path(path).name} record {i}"
        if not isinstance(rec, Mapping):
            raise FollowBenchDataError(f"{where}: expected a JSON object")
        response = _response_of(rec)
        if response is None:
            raise FollowBenchDataError(f"{where}: no response field (response, generation, output or choices)")
        if all(k in rec for k in ("category", "example_id", "level")):
            by_key[(str(rec["category"]), int(rec["example_id"]), int(rec["level"]))] = response
            continue
        text = next((rec[k] for k in ("instruction", "prompt", "prompt_new") if isinstance(rec.get(k), str)), None)
        if text is None:
            raise FollowBenchDataError(f"{where}: no category/example_id/level and no instruction or prompt field")
        by_text[text] = response
    return by_key, by_text


# --- judge -----------------------------------------------------------------------------------------

def build_judge_prompt(path: Sequence[str], response: str, category: str) -> str:
    """The judge prompt for a response to ``path[-1]``: every level's instruction, then the response."""
    n = len(path) - 1
    if n < 1:
        raise ValueError("the instruction path needs level 0 and at least one constrained level")
    blocks = ["#Level 0: base instruction#\n" + path[0]]
    for k in range(1, n + 1):
        added = "1 added constraint" if k == 1 else f"{k} added constraints"
        blocks.append(f"#Level {k}: base instruction + {added}#\n{path[k]}")
    template = Template(files("crabkit").joinpath("prompts", JUDGE_PROMPT).read_text(encoding="utf-8"))
    example = "[" + ", ".join(["'YES'", "'NO'", "'YES'", "'YES'", "'NO'"][:n]) + "]"
    return template.substitute(
        kind=_CONSTRAINT_KIND.get(category, "constraint"), n=n, path="\n\n".join(blocks),
        response=response, example=example,
    ).rstrip("\n")


@dataclass
class JudgeVerdict:
    """One judge answer read as ``n`` booleans; ``problem`` says why it was malformed."""

    satisfied: list[bool]
    malformed: bool = False
    problem: str | None = None


_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_TOKEN_JUNK = " \t'\"`*."


def _tokens(inner: str) -> list[str]:
    tokens = [t.strip(_TOKEN_JUNK).upper() for t in inner.split(",")]
    return [] if tokens == [""] else tokens


def parse_judge_answer(text: str, n: int) -> JudgeVerdict:
    """Read the judge's final YES/NO list for ``n`` constraints; whatever is unreadable counts NO.

    Looked for, in order: a bracketed list on the last line; for one constraint, a lone YES or NO
    there; the last bracketed list anywhere whose entries are all YES/NO (the judge added a closing
    remark). Code fences and blank lines around the answer are ignored.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    lines = [ln.strip() for ln in (text or "").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("```")]
    if not lines:
        return JudgeVerdict([False] * n, True, "empty answer")
    last = lines[-1]
    found = _BRACKETS.findall(last)
    if found:
        tokens = _tokens(found[-1])
    elif n == 1 and len(set(re.findall(r"\b(YES|NO)\b", last))) == 1:
        tokens = re.findall(r"\b(YES|NO)\b", last)[:1]
    else:
        lists = [t for t in map(_tokens, _BRACKETS.findall("\n".join(lines))) if t and set(t) <= {"YES", "NO"}]
        if not lists:
            return JudgeVerdict([False] * n, True, "no YES/NO list found")
        tokens = lists[-1]
    if len(tokens) != n:
        return JudgeVerdict([False] * n, True, f"list has {len(tokens)} entries, expected {n}")
    bad = [t for t in tokens if t not in ("YES", "NO")]
    problem = f"entries other than YES/NO: {bad[:3]}" if bad else None
    return JudgeVerdict([t == "YES" for t in tokens], bool(bad), problem)


# --- scoring ---------------------------------------------------------------------------------------

@dataclass
class JudgeParams:
    """Judge settings: greedy, room for the per-constraint reasoning before the final list."""

    temperature: float = 0.0
    max_tokens: int = 1024

    def request(self, prompt: str) -> ChatRequest:
        return ChatRequest(messages=[{"role": "user", "content": prompt}], temperature=self.temperature,
                           max_tokens=self.max_tokens)


@dataclass
class ItemResult:
    """The score of one response: ``constraints`` holds one boolean per added constraint."""

    category: str
    example_id: int
    level: int
    source: str
    method: Literal["rule", "judge"]
    response: str
    constraints: list[bool]
    malformed: bool = False
    judge_answer: str | None = None
    problem: str | None = None
    error: str | None = None

    @property
    def hard(self) -> bool:
        return all(self.constraints)

    @property
    def soft(self) -> float:
        # Upstream adds rule verdicts to its SSR sums as they are: all-or-nothing.
        if self.method == "rule":
            return float(self.hard)
        return sum(self.constraints) / len(self.constraints)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "hard": self.hard, "soft": self.soft}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ItemResult:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in names})


def score_items(
    items: Sequence[FollowBenchItem],
    responses: Mapping[Key, str],
    judge: Backend | None,
    *,
    paths: Mapping[Key, list[str]] | None = None,
    judge_params: JudgeParams | None = None,
    errors: Mapping[Key, str] | None = None,
) -> list[ItemResult]:
    """Score each item (level >= 1) that has a response: rules where FollowBench uses them, else the
    judge, asked in one batch. ``paths`` defaults to :func:`instruction_paths` of ``items``, so pass
    it when ``items`` is a subset of the levels. Judge items are left out when ``judge`` is None."""
    paths = instruction_paths(items) if paths is None else paths
    judge_params = judge_params or JudgeParams()
    errors = errors or {}
    results: list[ItemResult] = []
    pending: list[tuple[int, FollowBenchItem]] = []
    for it in items:
        if it.level < 1 or it.key not in responses:
            continue
        response = responses[it.key]
        if it.method == "rule":
            try:
                checks = rule_checks(it.category, it.source, it.example_id, it.level, it.target, response)
            except RuleDataError as exc:
                raise FollowBenchDataError(f"{it.category} example {it.example_id} level {it.level}: {exc}") from exc
            results.append(ItemResult(it.category, it.example_id, it.level, it.source, "rule", response, checks,
                                      error=errors.get(it.key)))
        elif judge is not None:
            if it.key not in paths:
                raise FollowBenchDataError(
                    f"{it.category} example {it.example_id} level {it.level}: the judge needs the instructions "
                    "of every lower level, and some are missing from the data"
                )
            results.append(ItemResult(it.category, it.example_id, it.level, it.source, "judge", response,
                                      [False] * it.level, error=errors.get(it.key)))
            pending.append((len(results) - 1, it))
    if pending:
        requests = [judge_params.request(build_judge_prompt(paths[it.key], results[i].response, it.category))
                    for i, it in pending]
        answers = judge.generate(requests)
        for (i, it), answer in zip(pending, answers):
            res = results[i]
            if not answer.ok:
                res.malformed, res.problem = True, f"judge error: {answer.error}"
                continue
            verdict = parse_judge_answer(answer.text, it.level)
            res.constraints, res.malformed, res.problem = verdict.satisfied, verdict.malformed, verdict.problem
            res.judge_answer = answer.text
    return results


# --- metrics ---------------------------------------------------------------------------------------

def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.fmean(values) if values else None


def _csl(results: Sequence[ItemResult]) -> tuple[float | None, int]:
    """Mean over example groups of the number of consecutive levels, from level 1, that pass."""
    groups: dict[int, dict[int, bool]] = defaultdict(dict)
    for r in results:
        groups[r.example_id][r.level] = r.hard
    runs = []
    for levels in groups.values():
        if 1 not in levels:
            continue
        run = 0
        while levels.get(run + 1):
            run += 1
        runs.append(run)
    return _mean(runs), len(runs)


def _split(hsr: Mapping[int, float | None]) -> dict[str, float | None]:
    def avg(levels: Sequence[int]) -> float | None:
        vals = [hsr.get(k) for k in levels]
        return None if any(v is None for v in vals) else statistics.fmean(vals)  # type: ignore[arg-type]
    return {"hsr_l1_l2": avg((1, 2)), "hsr_l3_l5": avg((3, 4, 5)), "hsr_avg": avg(LEVELS)}


def compute_metrics(results: Sequence[ItemResult]) -> dict[str, Any]:
    """HSR and SSR per category and level, CSL per category, and category-averaged overall numbers.

    Rates are fractions in [0, 1]; a level-average is None unless every level it spans was scored.
    """
    by_cat: dict[str, list[ItemResult]] = defaultdict(list)
    for r in results:
        by_cat[r.category].append(r)
    categories: dict[str, Any] = {}
    for cat in [c for c in CATEGORIES if c in by_cat] + sorted(set(by_cat) - set(CATEGORIES)):
        rs = by_cat[cat]
        levels = {}
        for level in sorted({r.level for r in rs}):
            at = [r for r in rs if r.level == level]
            levels[level] = {"n": len(at), "hsr": _mean(r.hard for r in at), "ssr": _mean(r.soft for r in at)}
        csl, groups = _csl(rs)
        categories[cat] = {
            "levels": levels,
            **_split({k: v["hsr"] for k, v in levels.items()}),
            "ssr_avg": _mean(v["ssr"] for v in levels.values()),
            "csl": csl,
            "csl_groups": groups,
            "n": len(rs),
            "rule_items": sum(r.method == "rule" for r in rs),
            "judge_items": sum(r.method == "judge" for r in rs),
            "malformed": sum(r.malformed for r in rs),
            "errors": sum(r.error is not None for r in rs),
        }
    overall_levels = {}
    for level in LEVELS:
        present = [c["levels"][level] for c in categories.values() if level in c["levels"]]
        if present:
            overall_levels[level] = {"hsr": _mean(p["hsr"] for p in present),
                                     "ssr": _mean(p["ssr"] for p in present), "categories": len(present)}
    csls = [c["csl"] for c in categories.values() if c["csl"] is not None]
    overall = {
        "levels": overall_levels,
        **_split({k: v["hsr"] for k, v in overall_levels.items()}),
        "ssr_avg": _mean(v["ssr"] for v in overall_levels.values()),
        "csl": _mean(csls),
        "n": len(results),
        "malformed": sum(r.malformed for r in results),
        "errors": sum(r.error is not None for r in results),
    }
    return {"categories": categories, "overall": overall}


# --- end to end ------------------------------------------------------------------------------------

@dataclass
class FollowBenchReport:
    results: list[ItemResult]
    summary: dict[str, Any]
    out_dir: Path | None = None
    missing: list[Key] = field(default_factory=list)


def _describe(backend: Backend | None) -> dict[str, Any] | None:
    if backend is None:
        return None
    inner = getattr(backend, "inner", backend)  # see through a cache wrapper
    return {"name": getattr(inner, "name", type(inner).__name__), "model": getattr(backend, "model", "")}


def _match_responses(items: Sequence[FollowBenchItem], by_key: Mapping[Key, str],
                     by_text: Mapping[str, str]) -> dict[Key, str]:
    out = {}
    for it in items:
        if it.key in by_key:
            out[it.key] = by_key[it.key]
        elif it.instruction in by_text:
            out[it.key] = by_text[it.instruction]
    return out


def run_followbench(
    backend: Backend | None,
    data: str | Path | Sequence[FollowBenchItem],
    judge_backend: Backend | None,
    out_dir: str | Path | None,
    *,
    categories: Iterable[str] | None = None,
    levels: Iterable[int] = LEVELS,
    gen_params: GenSettings | None = None,
    judge_params: JudgeParams | None = None,
    responses: str | Path | Mapping[Key, str] | None = None,
) -> FollowBenchReport:
    """Generate a response to every selected instruction, score them, and write the run directory.

    ``data`` is a path or Hub id for :func:`load_followbench`, or items already loaded. With
    ``responses`` (a file for :func:`read_responses`, or a mapping by key) nothing is generated and
    ``backend`` may be None. Wrap backends in ``crabkit.llm.cache.CachedBackend`` to make reruns free.
    Writes ``results.jsonl`` (one line per scored item) and ``summary.json`` under ``out_dir``.
    """
    # FollowBench runs the model greedy (GenSettings' default), with room for long answers.
    gen_params = gen_params or GenSettings(max_tokens=2048)
    judge_params = judge_params or JudgeParams()
    levels = sorted(set(levels))
    if not levels or not set(levels) <= set(LEVELS):
        raise FollowBenchDataError(f"levels {levels}: choose among 1-5 (level 0 has no constraints to score)")
    categories = None if categories is None else list(categories)
    wanted = _check_categories(categories)
    # Loading uses every level: the judge shows each item's lower levels too.
    all_items = load_followbench(data, categories) if isinstance(data, (str, Path)) else \
        [it for it in data if it.category in wanted]
    wanted = [c for c in wanted if any(it.category == c for it in all_items)]
    items = [it for it in all_items if it.level in levels]
    if not items:
        raise FollowBenchDataError(f"no items at levels {levels} in categories {', '.join(wanted)}")

    errors: dict[Key, str] = {}
    if responses is not None:
        if isinstance(responses, Mapping):
            given = {k: v for k, v in responses.items() if k in {it.key for it in items}}
        else:
            given = _match_responses(items, *read_responses(responses))
        if not given:
            raise FollowBenchDataError("none of the given responses matches a selected FollowBench item")
        generation = {"source": str(responses) if not isinstance(responses, Mapping) else "mapping"}
    else:
        if backend is None:
            raise FollowBenchDataError("pass a backend to generate responses, or responses to score")
        answers: list[ChatResult] = backend.generate([gen_params.request(it.instruction) for it in items])
        given = {}
        for it, ans in zip(items, answers):
            given[it.key] = ans.text if ans.ok else ""
            if not ans.ok:
                errors[it.key] = str(ans.error)
        generation = {"backend": _describe(backend), **asdict(gen_params)}
    missing = [it.key for it in items if it.key not in given]
    if missing:
        log.warning("%d of %d selected items have no response and are not scored", len(missing), len(items))
    if errors:
        log.warning("%d generations failed; they are scored as empty responses", len(errors))

    judged = [it for it in items if it.method == "judge" and it.key in given]
    if judged and judge_backend is None:
        log.warning("no judge backend: %d judge-scored items are left out", len(judged))
    results = score_items(items, given, judge_backend, paths=instruction_paths(all_items),
                          judge_params=judge_params, errors=errors)
    summary = {
        "benchmark": "FollowBench",
        "data": str(data) if isinstance(data, (str, Path)) else "items",
        "selected": {"categories": wanted, "levels": levels},
        "generation": generation,
        "judge": {"backend": _describe(judge_backend), "prompt": JUDGE_PROMPT, **asdict(judge_params)},
        "unscored": {"no_response": len(missing),
                     "no_judge": len(judged) if judge_backend is None else 0},
        **compute_metrics(results),
    }
    out = None
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "results.jsonl", "w", encoding="utf-8") as f:
            f.writelines(dumps(r.to_json()) + "\n" for r in results)
        (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return FollowBenchReport(results, summary, out, missing)


def render_summary(summary: Mapping[str, Any]):
    """A rich table with one column per category plus ``overall``: HSR per level, the L1-2 / L3-5
    split, SSR and CSL (transposed so that all six categories fit an 80-column terminal)."""
    from rich import box
    from rich.table import Table

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}"

    cols = [*summary["categories"].items(), ("overall", summary["overall"])]
    levels = [{int(k): v for k, v in m["levels"].items()} for _, m in cols]
    table = Table(title="FollowBench (rates in %)", box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("", no_wrap=True)
    for name, _ in cols:
        table.add_column(name, justify="right", no_wrap=True)
    for k in LEVELS:
        table.add_row(f"HSR L{k}", *(pct(lv[k]["hsr"]) if k in lv else "-" for lv in levels))
    rows = (("HSR L1-2", "hsr_l1_l2", pct), ("HSR L3-5", "hsr_l3_l5", pct), ("HSR avg", "hsr_avg", pct),
            ("SSR avg", "ssr_avg", pct), ("CSL", "csl", lambda v: "-" if v is None else f"{v:.2f}"),
            ("malformed", "malformed", str))
    for i, (label, key, fmt) in enumerate(rows):
        table.add_row(label, *(fmt(m[key]) for _, m in cols), end_section=i == 2)
    return table
