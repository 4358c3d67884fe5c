"""An offline responder for ``--llm scripted``: canned, deterministic answers to the stage's prompts.

A smoke test of the whole LLM path with no model and no network. Not a model: its constraints are
generic and only as good as a few regexes.
"""

from __future__ import annotations

import json
import re

from crabkit import text as _text
from crabkit.llm.base import ChatRequest

from .prompts import extract_tag

__all__ = ["demo_script", "prompt_kind"]


def prompt_kind(prompt: str) -> str:
    """Which of the stage's prompts this is: ``judge``, ``refine_soft``, ``refine`` or ``soft``."""
    if "<constraints>" in prompt:
        return "judge"
    refine = '"refined_instruction"' in prompt
    soft = '"constraints"' in prompt
    return "refine_soft" if refine and soft else "refine" if refine else "soft"


def demo_script(request: ChatRequest) -> str:
    """The scripted backend's answer to one of the stage's requests."""
    prompt = request.messages[-1]["content"]
    instruction = extract_tag(prompt, "request") or ""
    response = extract_tag(prompt, "answer") or ""
    kind = prompt_kind(prompt)
    if kind == "judge":
        listed = re.findall(r"^(\d+)\. ", extract_tag(prompt, "constraints") or "", re.MULTILINE)
        verdicts = [{"n": int(n), "reason": "scripted", "verdict": "satisfied", "modified_constraint": ""}
                    for n in listed]  # fmt: skip
        return json.dumps({"verdicts": verdicts})
    answer: dict[str, object] = {}
    if kind in ("refine", "refine_soft"):
        addition = "Give a practical answer that covers the main points a reader would need here."
        answer["refined_instruction"] = f"{instruction.rstrip()} {addition}"
    if kind in ("soft", "refine_soft"):
        found = [{"type": "writing_style", "constraint": "Write in a clear and informative tone."}]
        if _text.numbered_items(response):
            found.append({"type": "item_listing", "constraint": "Present the main points as a numbered list."})
        elif _text.bullets(response):
            found.append({"type": "item_listing", "constraint": "Use bullet points for the main items."})
        if _text.headings(response):
            found.append({"type": "hierarchical_structure", "constraint": "Organize the answer under markdown headings."})
        answer["constraints"] = found
    return json.dumps(answer)
