"""The stage's prompts and the JSON they ask for: rendering, reading back, repairing.

Every prompt about one seed starts with the same block, the request and the answer::

    <request>
    ...
    </request>

    <answer>
    ...
    </answer>

and only then says what to do, so the requests of one seed share a prefix that a server's prefix
cache (vLLM's automatic prefix caching, SGLang's radix cache) computes once. The answer is most of
every prompt.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from crabkit.llm.base import ChatRequest

__all__ = ["PROMPTS", "chat_request", "extract_tag", "load_json", "render_prompt"]

#: Prompt templates by kind (their file names are part of the run fingerprint).
PROMPTS = {
    "refine_soft": "refine_soft_v2.txt",
    "refine": "refine_v2.txt",
    "soft": "soft_v2.txt",
    "judge": "judge_v2.txt",
}


@cache
def _template(name: str) -> Template:
    return Template(files("crabkit").joinpath("prompts", name).read_text(encoding="utf-8"))


def render_prompt(kind: str, **values: str) -> str:
    """The ``kind`` prompt (see ``PROMPTS``) with its ``$placeholders`` filled."""
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
    except (ValueError, RecursionError):
        pass
    else:
        if isinstance(value, (dict, list)):
            return value, False
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    fenced = _FENCED.match(s)
    if fenced:
        try:
            return json.loads(fenced.group(1)), True
        except (ValueError, RecursionError):
            s = fenced.group(1)
    import json_repair

    try:
        value = json_repair.loads(s)
    except Exception as exc:  # noqa: BLE001 - json-repair gives up with assorted errors on odd input
        raise ValueError(f"not JSON even after repair ({type(exc).__name__})") from None
    if not isinstance(value, (dict, list)) or not value:
        raise ValueError(f"not JSON even after repair: {answer[:80]!r}")
    return value, True


def chat_request(prompt: str, schema: dict[str, Any], cfg: Any, run_seed: int, label: str) -> ChatRequest:
    """One user-turn request asking for JSON; the model is left for the backend to fill in.
    ``label`` names the step (usage is counted per step; it is not part of the cache key)."""
    extra: dict[str, Any] = dict(cfg.extra_body)
    if cfg.max_completion_tokens is not None:
        extra["max_completion_tokens"] = cfg.max_completion_tokens
    return ChatRequest(
        messages=[{"role": "user", "content": prompt}],
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        seed=run_seed,
        json_schema=schema,
        extra=extra,
        label=label,
    )
