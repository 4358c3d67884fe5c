"""LLM back-translation: a refined instruction and judged soft constraints for each record.

Per pipeline block, :func:`run_llm_stage` makes three batched backend calls, so a concurrent backend
always has a whole block of work in flight:

1. refine + soft: for every record, a request that makes the instruction more specific to this
   response (CRAB's "define circumstances") and one that lists soft constraints as JSON;
2. judge: one request per soft constraint (see :mod:`crabkit.backtranslate.judge`);
3. re-judge: the constraints the judge rewrote, judged again before they are accepted.

Everything goes through the backend it is given (the pipeline hands it a ``CachedBackend``, so a
killed run re-sends nothing already answered). Requests are deterministic (temperature 0 unless
configured, the run seed in each request) and results are read by position, never by arrival order.
A record whose request failed after the backend's retries, or whose soft-constraint answer cannot be
read even after JSON repair, is reported as failed with the reason; the caller rejects it or keeps
it with its rule constraints only.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from crabkit import text as _text
from crabkit.backtranslate.rules import Backtranslated
from crabkit.backtranslate.soft_types import DESCRIPTIONS, SOFT_TYPES, resolve, type_id
from crabkit.llm.base import Backend, ChatRequest, ChatResult
from crabkit.records import Constraint

__all__ = [
    "PROMPTS",
    "BudgetExhausted",
    "LLMConfig",
    "StageResult",
    "build_backend",
    "check_refinement",
    "demo_script",
    "extract_tag",
    "load_json",
    "parse_refined",
    "parse_soft",
    "refine_request",
    "render_prompt",
    "run_llm_stage",
    "soft_request",
    "stage_one_requests",
]

PROMPTS = {
    "refine": "refine_instruction_v1.txt",
    "soft": "soft_constraints_v1.txt",
    "judge": "judge_soft_v1.txt",
}
BACKEND_NAMES = ("none", "openai", "local", "vllm", "scripted")
FAILURE_MODES = ("reject", "keep")

# What the CachedBackend answers once --max-requests is used up.
_CAP_ERROR = "max_requests reached"


class BudgetExhausted(RuntimeError):
    """``max_requests`` ran out inside a block: the block is not written, so a rerun redoes it
    (its answered requests come from the cache)."""


@dataclass
class LLMConfig:
    """The LLM stage of ``crab generate``. ``backend="none"`` (the default) turns it off.

    Only the fields that change what is generated enter the run fingerprint (see
    :meth:`fingerprint_fields`): a resumed run may point at other servers, use another concurrency,
    timeout or request cap. ``api_key_env`` names the environment variable holding the key; the key
    itself is never stored. ``cache`` defaults to ``RUN_DIR/llm_cache.sqlite``.
    """

    backend: str = "none"
    base_urls: list[str] = field(default_factory=list)
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 16
    timeout: float = 120.0
    max_retries: int = 3
    backoff_s: float = 0.5
    temperature: float = 0.0
    max_tokens: int = 1024
    cache: str | None = None
    dry_run: bool = False
    max_requests: int | None = None
    on_failure: str = "reject"
    #: Above this share of records failing in the LLM stage, the run ends with exit status 4.
    max_failure_share: float = 0.2
    headers: dict[str, str] = field(default_factory=dict)
    refine: bool = True
    soft: bool = True
    judge: bool = True
    refine_max_words: int = 300
    rouge_threshold: float = 0.6

    @property
    def enabled(self) -> bool:
        return self.backend != "none" and (self.refine or self.soft)

    def validate(self) -> None:
        if self.backend not in BACKEND_NAMES:
            raise ValueError(f"llm.backend: {self.backend!r} is not one of {', '.join(BACKEND_NAMES)}")
        if self.on_failure not in FAILURE_MODES:
            raise ValueError(f"llm.on_failure: {self.on_failure!r} is not one of {', '.join(FAILURE_MODES)}")
        if self.concurrency < 1:
            raise ValueError(f"llm.concurrency must be >= 1, got {self.concurrency}")
        if self.max_requests is not None and self.max_requests < 0:
            raise ValueError(f"llm.max_requests must be >= 0, got {self.max_requests}")
        if not 0 <= self.max_failure_share <= 1:
            raise ValueError(f"llm.max_failure_share must be between 0 and 1, got {self.max_failure_share}")

    def fingerprint_fields(self) -> dict[str, Any]:
        """The settings that decide the output (prompt versions included)."""
        keep = ("backend", "model", "temperature", "max_tokens", "on_failure", "refine", "soft", "judge",
                "refine_max_words", "rouge_threshold")
        return {**{k: getattr(self, k) for k in keep}, "prompts": dict(PROMPTS)}

    def cache_path(self, run_dir: str | Path) -> Path:
        return Path(self.cache) if self.cache else Path(run_dir) / "llm_cache.sqlite"


def build_backend(cfg: LLMConfig, run_dir: str | Path, *, dry_run: bool | None = None) -> Backend:
    """The configured backend wrapped in its response cache (a ``CachedBackend``)."""
    from crabkit.llm import make_backend

    cfg.validate()
    if cfg.backend == "openai":
        settings: dict[str, Any] = {
            "model": cfg.model, "api_key_env": cfg.api_key_env, "max_concurrency": cfg.concurrency,
            "timeout_s": cfg.timeout, "max_retries": cfg.max_retries, "backoff_base_s": cfg.backoff_s,
            "headers": dict(cfg.headers),
        }
        if cfg.base_urls:
            settings["base_url"] = list(cfg.base_urls)
    elif cfg.backend == "local":
        settings = {"model": cfg.model, "max_new_tokens": cfg.max_tokens}
    elif cfg.backend == "vllm":
        settings = {"model": cfg.model, "max_tokens": cfg.max_tokens}
    elif cfg.backend == "scripted":
        settings = {"script": demo_script, "model": cfg.model or "scripted-demo"}
    else:
        raise ValueError("the LLM stage is off (llm.backend is 'none')")
    dry = cfg.dry_run if dry_run is None else dry_run
    cache: str | Path = cfg.cache_path(run_dir)
    if dry and not Path(cache).exists():
        cache = ":memory:"  # a dry run writes nothing
    return make_backend(cfg.backend, cache=cache, dry_run=dry, max_requests=cfg.max_requests, **settings)


# -- prompts and JSON --------------------------------------------------------------------------


@cache
def _template(name: str) -> Template:
    return Template(files("crabkit").joinpath("prompts", name).read_text(encoding="utf-8"))


def render_prompt(kind: str, **values: str) -> str:
    """The ``kind`` prompt (refine / soft / judge) with its ``$placeholders`` filled."""
    return _template(PROMPTS[kind]).substitute(**values)


def extract_tag(prompt: str, tag: str) -> str | None:
    """The text between ``<tag>`` and ``</tag>`` lines of a rendered prompt (for scripted backends)."""
    m = re.search(rf"<{tag}>\n(.*?)\n</{tag}>", prompt, re.DOTALL)
    return m.group(1) if m else None


_FENCED = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n?```\s*$", re.DOTALL)


def load_json(answer: str) -> tuple[Any, bool]:
    """``(value, repaired)``: the answer parsed as JSON, repaired with json-repair when needed
    (code fences, chatter around the object, a cut-off end). Raises ValueError when nothing usable."""
    s = answer.strip()
    try:
        value = json.loads(s)
    except ValueError:
        pass
    else:
        if isinstance(value, (dict, list)):
            return value, False
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    fenced = _FENCED.match(s)
    if fenced:
        try:
            return json.loads(fenced.group(1)), True
        except ValueError:
            s = fenced.group(1)
    import json_repair

    try:
        value = json_repair.loads(s)
    except Exception as exc:  # noqa: BLE001 - json-repair gives up with assorted errors on odd input
        raise ValueError(f"not JSON even after repair ({type(exc).__name__})") from None
    if not isinstance(value, (dict, list)) or not value:
        raise ValueError(f"not JSON even after repair: {answer[:80]!r}")
    return value, True


def chat_request(prompt: str, schema: dict[str, Any], cfg: LLMConfig, run_seed: int) -> ChatRequest:
    """One user-turn request asking for JSON; the model is left for the backend to fill in."""
    return ChatRequest(
        messages=[{"role": "user", "content": prompt}],
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        seed=run_seed,
        json_schema=schema,
    )


# -- refined instruction -----------------------------------------------------------------------

REFINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"refined_instruction": {"type": "string"}},
    "required": ["refined_instruction"],
    "additionalProperties": False,
}
MIN_ADDED_WORDS, MAX_ADDED_WORDS = 3, 30
MIN_RETAINED = 0.6  # share of the original's words the refinement must keep, in order

_CODE = re.compile(r"(```|~~~)[^\n]*\n.*?\n\s*\1", re.DOTALL)
_TABLE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$", re.MULTILINE)
_QUOTED = re.compile(r"\"([^\"\n]{12,})\"|\u201c([^\u201d\n]{12,})\u201d|\u00ab([^\u00bb\n]{12,})\u00bb")


def _squash(s: str) -> str:
    return " ".join(s.split())


def _protected(original: str) -> list[tuple[str, str]]:
    """(what, text) spans a refinement must keep verbatim: code blocks, table rows, quoted text,
    and every paragraph after the first (where appended input lives)."""
    spans = [("code block", m.group(0)) for m in _CODE.finditer(original)]
    rest = _CODE.sub("", original)
    spans += [("table", m.group(0)) for m in _TABLE_ROW.finditer(rest)]
    spans += [("quoted text", next(g for g in m.groups() if g)) for m in _QUOTED.finditer(rest)]
    paragraphs = [p for p in re.split(r"\n\s*\n", _TABLE_ROW.sub("", rest).strip()) if p.strip()]
    spans += [("input", p) for p in paragraphs[1:]]
    return spans


def check_refinement(original: str, refined: str) -> str | None:
    """Why ``refined`` is not an acceptable refinement of ``original``, or None when it is.

    It must keep the protected spans (see :func:`_protected`), add between 3 and 30 words (the
    prompt asks for 10-20) and keep most of the original's wording in order.
    """
    from crabkit.backtranslate.dedup import rouge_l

    if not refined.strip():
        return "empty"
    flat = _squash(refined)
    for what, span in _protected(original):
        if _squash(span) not in flat:
            return f"dropped {what}"
    added = _text.count_words(refined) - _text.count_words(original)
    if added < MIN_ADDED_WORDS:
        return "too few words added"
    if added > MAX_ADDED_WORDS:
        return "too many words added"
    if rouge_l(original, refined).recall < MIN_RETAINED:
        return "rewrote the instruction"
    return None


def refine_request(seed_instruction: str, response: str, cfg: LLMConfig, run_seed: int) -> ChatRequest:
    prompt = render_prompt("refine", instruction=seed_instruction, response=response)
    return chat_request(prompt, REFINE_SCHEMA, cfg, run_seed)


@dataclass
class Refined:
    instruction: str | None  # None: fall back to the original
    reason: str | None = None  # why it was rejected
    repaired: bool = False


def parse_refined(original: str, answer: str) -> Refined:
    """Read a refine answer and validate the refinement against ``original``."""
    try:
        value, repaired = load_json(answer)
    except ValueError:
        return Refined(None, "unreadable answer")
    if isinstance(value, dict):
        value = value.get("refined_instruction", value.get("instruction"))
    if not isinstance(value, str):
        return Refined(None, "no refined_instruction", repaired)
    value = value.strip()
    reason = check_refinement(original, value)
    return Refined(None if reason else value, reason, repaired)


# -- soft constraints --------------------------------------------------------------------------

SOFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "constraints": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": list(SOFT_TYPES)},
                    "constraint": {"type": "string"},
                },
                "required": ["type", "constraint"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["constraints"],
    "additionalProperties": False,
}
MIN_CONSTRAINT_WORDS, MAX_CONSTRAINT_WORDS = 3, 60


class SoftItem(BaseModel):
    """One soft constraint as the model wrote it (type names are mapped afterwards)."""

    model_config = ConfigDict(extra="ignore")
    type: str = Field(validation_alias=AliasChoices("type", "kind", "category", "name"))
    constraint: str = Field(validation_alias=AliasChoices("constraint", "text", "description", "instruction"))


def _type_list() -> str:
    lines = [f"- {name} (global): {DESCRIPTIONS[name]}" for name in SOFT_TYPES[:6]]
    lines += [f"- {name} (local): {DESCRIPTIONS[name]}" for name in SOFT_TYPES[6:]]
    return "\n".join(lines)


def soft_request(seed_instruction: str, response: str, cfg: LLMConfig, run_seed: int) -> ChatRequest:
    prompt = render_prompt("soft", instruction=seed_instruction, response=response, types=_type_list())
    return chat_request(prompt, SOFT_SCHEMA, cfg, run_seed)


@dataclass
class SoftParse:
    """What a soft-constraint answer held. ``error`` set: nothing could be read at all."""

    constraints: list[tuple[str, str]] = field(default_factory=list)  # (vocabulary name, text)
    repaired: bool = False
    mapped: list[str] = field(default_factory=list)  # "given -> name"
    unknown: list[str] = field(default_factory=list)  # names dropped
    invalid: list[str] = field(default_factory=list)  # items dropped, with the reason
    error: str | None = None


def _raw_items(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("constraints"), list):
        return value["constraints"]
    if value and all(isinstance(v, str) for v in value.values()):
        # The paper's own shape: {"Desired_Writing_Style": "...", ...}
        return [{"type": k, "constraint": v} for k, v in value.items()]
    return None


def parse_soft(answer: str) -> SoftParse:
    """Read, repair, validate and map a soft-constraint answer. One constraint per type is kept
    (the first); unknown type names are mapped onto the vocabulary or dropped."""
    out = SoftParse()
    try:
        value, out.repaired = load_json(answer)
    except ValueError as exc:
        out.error = f"unreadable answer: {exc}"
        return out
    items = _raw_items(value)
    if items is None:
        out.error = f"no constraints list in the answer (got {type(value).__name__})"
        return out
    seen: set[str] = set()
    for n, raw in enumerate(items):
        try:
            item = SoftItem.model_validate(raw)
        except ValidationError as exc:
            out.invalid.append(f"item {n}: {exc.errors()[0]['msg']}")
            continue
        name = resolve(item.type)
        if name is None:
            out.unknown.append(item.type.strip()[:40])
            continue
        if _squash(item.type).lower() != name:
            out.mapped.append(f"{item.type.strip()[:40]} -> {name}")
        words = _text.count_words(item.constraint)
        if not MIN_CONSTRAINT_WORDS <= words <= MAX_CONSTRAINT_WORDS:
            out.invalid.append(f"item {n}: {words} words")
            continue
        if name in seen:
            out.invalid.append(f"item {n}: second {name}")
            continue
        seen.add(name)
        out.constraints.append((name, _squash(item.constraint)))
    return out


# -- the stage ---------------------------------------------------------------------------------


@dataclass
class StageResult:
    """Per record: the failure reason (None: the stage succeeded); and counters for stats.json."""

    failures: list[str | None]
    stats: dict[str, Any]


def _bump(stats: dict[str, Any], group: str, key: str, n: int = 1) -> None:
    bucket = stats.setdefault(group, {})
    bucket[key] = bucket.get(key, 0) + n


def _refinable(item: Backtranslated, cfg: LLMConfig) -> bool:
    return cfg.refine and _text.count_words(item.seed.instruction) <= cfg.refine_max_words


def stage_one_requests(
    items: Sequence[Backtranslated], cfg: LLMConfig, run_seed: int
) -> list[tuple[int, str, ChatRequest]]:
    """``(record index, "refine" | "soft", request)`` for the first call of a block."""
    out = []
    for i, it in enumerate(items):
        if _refinable(it, cfg):
            out.append((i, "refine", refine_request(it.seed.instruction, it.response, cfg, run_seed)))
        if cfg.soft:
            out.append((i, "soft", soft_request(it.seed.instruction, it.response, cfg, run_seed)))
    return out


def _call(backend: Backend, requests: list[ChatRequest]) -> list[ChatResult]:
    if not requests:
        return []
    results = backend.generate(requests)
    if len(results) != len(requests):  # a backend bug; never let it shift answers onto other records
        raise RuntimeError(f"backend {backend!r} returned {len(results)} results for {len(requests)} requests")
    if any(r.error == _CAP_ERROR for r in results):
        raise BudgetExhausted("--max-requests reached; rerun with a higher cap to continue (answers are cached)")
    return results


def run_llm_stage(
    items: list[Backtranslated], backend: Backend, cfg: LLMConfig, run_seed: int
) -> StageResult:
    """Refine, infer soft constraints, judge, re-judge and dedup for one block, in three calls.

    Successful records get their soft constraints appended to ``constraints`` and, when used,
    ``refined_instruction`` set. Failed records are left untouched.
    """
    from crabkit.backtranslate import judge as jd
    from crabkit.backtranslate.dedup import dedup_constraints, use_refined

    stats: dict[str, Any] = {}
    failures: list[str | None] = [None] * len(items)
    refined: list[str | None] = [None] * len(items)
    candidates: list[list[tuple[str, str]]] = [[] for _ in items]

    def fail(i: int, reason: str) -> None:
        if failures[i] is None:
            failures[i] = reason

    # 1. refine + soft, one call
    planned = stage_one_requests(items, cfg, run_seed)
    for it in items:
        if cfg.refine and not _refinable(it, cfg):
            _bump(stats, "refine", "skipped: long instruction")
    results = _call(backend, [r for _, _, r in planned])
    for (i, kind, _), res in zip(planned, results):
        if not res.ok:
            fail(i, f"{kind} request failed: {res.error}")
            continue
        if kind == "refine":
            ref = parse_refined(items[i].seed.instruction, res.text)
            refined[i] = ref.instruction
            if ref.repaired:
                _bump(stats, "json_repairs", "refine")
            if ref.reason:
                _bump(stats, "refine", f"rejected: {ref.reason}")
            continue
        soft = parse_soft(res.text)
        if soft.repaired:
            _bump(stats, "json_repairs", "soft")
        if soft.error:
            fail(i, f"soft constraints: {soft.error}")
            continue
        for name in soft.unknown:
            _bump(stats, "soft_types_dropped", name)
        for m in soft.mapped:
            _bump(stats, "soft_types_mapped", m)
        if soft.invalid:
            _bump(stats, "soft_items_invalid", "items", len(soft.invalid))
        candidates[i] = soft.constraints

    # 2. measurable checks (free), then one judge call for every remaining candidate
    def measurable_ok(i: int, text: str) -> bool:
        verdict = jd.check_measurable(text, items[i].response)
        if verdict is not None:
            _bump(stats, "soft_measurable", "passed" if verdict else "failed")
        return verdict is not False

    pending = [
        (i, name, t) for i in range(len(items)) if failures[i] is None
        for name, t in candidates[i] if measurable_ok(i, t)
    ]
    accepted: list[list[tuple[str, str]]] = [[] for _ in items]
    if not cfg.judge:
        for i, name, t in pending:
            accepted[i].append((name, t))
    else:
        def judged(entries: list[tuple[int, str, str]], what: str, verdict_stat: str):
            """Judge every (record, type, text) in one call; yield the readable verdicts."""
            requests = [jd.judge_request(items[i].seed.instruction, items[i].response, t, cfg, run_seed)
                        for i, _, t in entries]
            for (i, name, t), res in zip(entries, _call(backend, requests)):
                if not res.ok:
                    fail(i, f"{what} request failed: {res.error}")
                    continue
                v = jd.parse_verdict(res.text)
                if v.repaired:
                    _bump(stats, "json_repairs", "judge")
                _bump(stats, verdict_stat, v.label)
                yield i, name, t, v

        rejudge: list[tuple[int, str, str]] = []
        for i, name, t, v in judged(pending, "judge", "judge_verdicts"):
            if v.verdict == "satisfied":
                accepted[i].append((name, t))
            elif v.modified and _squash(v.modified) != t and measurable_ok(i, v.modified):
                rejudge.append((i, name, _squash(v.modified)))
        # 3. one call re-judging the rewritten constraints: accepted only if now satisfied
        for i, name, t, v in judged(rejudge, "re-judge", "rejudge_verdicts"):
            if v.verdict == "satisfied":
                accepted[i].append((name, t))

    # 4. per record: constraints, dedup, and whether to use the refined instruction
    for i, it in enumerate(items):
        if failures[i] is not None:
            continue
        order = {name: n for n, (name, _) in enumerate(candidates[i])}
        soft = [
            Constraint(type=type_id(name), params={}, text=t, verified=cfg.judge, source="llm")
            for name, t in sorted(accepted[i], key=lambda nt: order.get(nt[0], 0))
        ]
        result = dedup_constraints(it.constraints + soft, refined[i], cfg.rouge_threshold)
        if result.dropped:
            _bump(stats, "soft_dedup", "dropped", len(result.dropped))
        it.constraints = result.kept
        for c in result.kept:
            if c.source == "llm":
                _bump(stats, "soft_constraints_by_type", c.type)
        if refined[i] is not None:
            rng = random.Random(f"{run_seed}:{it.seed.id}:refined")
            if use_refined(result.refined_overlaps, rng):
                it.refined_instruction = refined[i]
                _bump(stats, "refine", "used")
            else:
                _bump(stats, "refine", "not used: overlaps soft constraints")
    stats["llm_failures"] = sum(f is not None for f in failures)
    return StageResult(failures, stats)


# -- an offline responder for `--llm scripted` --------------------------------------------------


def demo_script(request: ChatRequest) -> str:
    """Canned, deterministic answers to the three prompts: a smoke test of the whole LLM path with
    no model and no network (``crab generate --llm scripted``). Not a model: its constraints are
    generic and only as good as a few regexes."""
    prompt = request.messages[-1]["content"]
    instruction = extract_tag(prompt, "request") or ""
    response = extract_tag(prompt, "answer") or ""
    constraint = extract_tag(prompt, "constraint")
    if constraint is not None:
        return json.dumps({"reason": "scripted", "verdict": "satisfied", "modified_constraint": ""})
    if '"refined_instruction"' in prompt:
        addition = "Give a practical answer that covers the main points a reader would need here."
        return json.dumps({"refined_instruction": f"{instruction.rstrip()} {addition}"})
    found = [{"type": "writing_style", "constraint": "Write in a clear and informative tone."}]
    if _text.numbered_items(response):
        found.append({"type": "item_listing", "constraint": "Present the main points as a numbered list."})
    elif _text.bullets(response):
        found.append({"type": "item_listing", "constraint": "Use bullet points for the main items."})
    if _text.headings(response):
        found.append({"type": "hierarchical_structure", "constraint": "Organize the answer under markdown headings."})
    return json.dumps({"constraints": found})
