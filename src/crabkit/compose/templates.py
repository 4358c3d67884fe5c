"""Wording for composed examples, written for crabkit. Every choice is made with a seeded rng."""

from __future__ import annotations

import random

__all__ = [
    "FORWARD_TEMPLATES",
    "LIST_STYLES",
    "REVERSE_FORMATS",
    "REVERSE_PROMPTS",
    "SHAPES",
    "format_list",
    "join_forward",
    "prompt_shape",
]

#: How a prompt carries its constraints: ``inline`` as sentences right after the request, in its
#: paragraph (IFEval's way); ``paragraph`` as sentences in a paragraph of their own; ``list`` as a
#: list after the request; ``headed`` as a list under a heading ("Requirements:").
SHAPES = ("inline", "paragraph", "list", "headed")

# {instruction} and {constraints} (an already formatted list) under a heading. Varied in register.
FORWARD_TEMPLATES: tuple[str, ...] = (
    "{instruction}\n\nRequirements:\n{constraints}",
    "{instruction}\n\nPlease follow these constraints:\n{constraints}",
    "{instruction}\n\nYour answer must satisfy all of the following:\n{constraints}",
    "{instruction}\n\nConstraints:\n{constraints}",
    "Task: {instruction}\n\nRules for the response:\n{constraints}",
    "{instruction}\n\nWhen you write your reply, keep to these points:\n{constraints}",
    "Here is what I need: {instruction}\n\nA few conditions:\n{constraints}",
    "{instruction}\n\nFormatting and content requirements:\n{constraints}",
    "Instructions:\n{instruction}\n\nAdditional requirements:\n{constraints}",
    "{instruction}\n\nMake sure the response meets every one of these conditions:\n{constraints}",
    "{instruction}\n\nImportant - stick to these guidelines:\n{constraints}",
)

LIST_STYLES: tuple[str, ...] = ("numbered", "dash", "star", "paren")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in ".!?\"'" else text + "."


def format_list(items: list[str], style: str) -> str:
    """Render constraint texts as a list in ``style`` (see ``LIST_STYLES``)."""
    if style == "numbered":
        return "\n".join(f"{i}. {t}" for i, t in enumerate(items, 1))
    if style == "dash":
        return "\n".join(f"- {t}" for t in items)
    if style == "star":
        return "\n".join(f"* {t}" for t in items)
    if style == "paren":
        return "\n".join(f"({chr(ord('a') + i)}) {t}" for i, t in enumerate(items))
    if style == "prose":
        return " ".join(_sentence(t) for t in items)
    raise ValueError(f"unknown list style {style!r}; choose from {', '.join(LIST_STYLES)}")


def _can_inline(instruction: str) -> bool:
    """A one-paragraph request can take its constraints as sentences of the same paragraph; one
    that ends in a code block, a quotation or data cannot."""
    return "\n" not in instruction and not instruction.endswith((":", "```", '"', "'"))


def join_forward(
    instruction: str, constraint_texts: list[str], rng: random.Random, shape: str | None = None
) -> str:
    """The instruction with its constraints in ``shape`` (see ``SHAPES``; drawn when None)."""
    instruction = instruction.strip()
    if not constraint_texts:
        return instruction
    if shape is None:
        shape = rng.choice(SHAPES)
    if shape == "inline" and not _can_inline(instruction):
        shape = "paragraph"
    if shape == "inline":
        return f"{_sentence(instruction)} {format_list(constraint_texts, 'prose')}"
    if shape == "paragraph":
        return f"{instruction}\n\n{format_list(constraint_texts, 'prose')}"
    style = rng.choice(LIST_STYLES)
    if shape == "list":
        return f"{instruction}\n\n{format_list(constraint_texts, style)}"
    if shape == "headed":
        template = rng.choice(FORWARD_TEMPLATES)
        return template.format(instruction=instruction, constraints=format_list(constraint_texts, style))
    raise ValueError(f"unknown prompt shape {shape!r}; choose from {', '.join(SHAPES)}")


def prompt_shape(prompt: str, constraint_texts: list[str]) -> str | None:
    """Which of ``SHAPES`` a composed prompt has, read from its text (None: the texts are not all in it)."""
    import re

    lines = prompt.split("\n")
    where = []
    for t in constraint_texts:
        t = t.strip()
        row = next((i for i, line in enumerate(lines) if t in line or _sentence(t) in line), None)
        if row is None:
            return None
        where.append(row)
    if not where:
        return None
    first = min(where)
    listed = any(re.match(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)]|\([a-z]\))\s", lines[i]) for i in where)
    if listed:
        header = first > 0 and lines[first - 1].rstrip().endswith(":")
        return "headed" if header else "list"
    if first > 0 and lines[first - 1].rstrip().endswith(":"):
        return "headed"
    line = lines[first]
    opening = min(line.find(t.strip()) for t in constraint_texts if t.strip() in line) if any(
        t.strip() in line for t in constraint_texts
    ) else 0
    return "inline" if opening > 0 else "paragraph"


# Reverse task: given instruction + response, name the constraints the response satisfies.
# {instruction}, {response}, {format_hint}.
REVERSE_PROMPTS: tuple[str, ...] = (
    (
        "Below is an instruction and a response to it. List the constraints that the response "
        "satisfies, so that the instruction with those constraints added would describe the response "
        "exactly.\n\n### Instruction\n{instruction}\n\n### Response\n{response}\n\n{format_hint}"
    ),
    (
        "Read the request and the answer that follows. Which verifiable requirements (length, format, "
        "wording, structure, style) does the answer already meet? \n\nRequest:\n{instruction}\n\n"
        "Answer:\n{response}\n\n{format_hint}"
    ),
    (
        "Instruction: {instruction}\n\nResponse: {response}\n\nWrite down the constraints this response "
        "follows, as if they had been part of the instruction. {format_hint}"
    ),
    (
        "You are given a user instruction and a model response.\n\n[Instruction]\n{instruction}\n\n"
        "[Response]\n{response}\n\nExtract the constraints that the response fulfils. {format_hint}"
    ),
    (
        "Here is a prompt and its reply.\n\nPROMPT:\n{instruction}\n\nREPLY:\n{response}\n\n"
        "Back-translate the reply into the constraints it satisfies. {format_hint}"
    ),
)

# name -> hint shown in the prompt
REVERSE_FORMATS: dict[str, str] = {
    "json": "Answer with a JSON list of strings, one constraint per string.",
    "bullets": "Answer with a bulleted list, one constraint per line.",
    "numbered": "Answer with a numbered list, one constraint per line.",
    "headed": "Answer under the heading '## Constraints', one constraint per bullet.",
}
