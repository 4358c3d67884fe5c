"""The one per-instruction verdict of IFEval-style scoring (IFEval, IFBench): strict and loose.

Both references (google-research ``evaluation_lib`` and IFBench's copy of it) build each instruction
from its kwargs, pass the prompt to the types that take one, and then:

* strict: the response is not blank and the checker accepts it;
* loose: some one of eight variants (the response; without its first line, its last line, both;
  each of those with every ``*`` removed) is not blank and the checker accepts it.

``instruction_verdict`` does the same with the registered type that ``resolve`` finds for the id:
``resolve_ifeval`` (IFEval's 25 ids) or ``resolve_ifbench`` (IFBench's 58 new ids, then its copies
of IFEval's 25). Kwargs the type cannot take raise ``IFEvalKwargsError`` (a ``ValueError``) naming
the instruction id and the field; an id no type has raises ``UnknownConstraintType`` (a
``KeyError``), and ids in ``crabkit.constraints.ifbench_unsupported.UNSUPPORTED`` say why in it.

>>> instruction_verdict("count:numbers", {"N": 2}, "Give two facts.", "Founded in 1999, 40 staff.")
(True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from crabkit.constraints import ConstraintType, get_by_benchmark_id, get_by_ifeval_id

__all__ = ["Resolver", "instruction_verdict", "loose_variants", "resolve_ifbench", "resolve_ifeval"]

#: How a benchmark's instruction id finds its registered type (raises ``UnknownConstraintType``).
Resolver = Callable[[str], ConstraintType]


def resolve_ifeval(instruction_id: str) -> ConstraintType:
    """The registered type that scores IFEval's ``instruction_id``."""
    return get_by_ifeval_id(instruction_id)


def resolve_ifbench(instruction_id: str) -> ConstraintType:
    """The registered type that scores IFBench's ``instruction_id`` (its new types and its copies of
    IFEval's: the registry's benchmark ids); an unsupported id raises ``UnknownConstraintType`` with
    the reason."""
    return get_by_benchmark_id(instruction_id)


def loose_variants(response: str) -> list[str]:
    """The reference's eight loose variants, without repeats or blanks; the response itself comes first.

    Dropping repeats and blanks changes no verdict: a check is a pure function of the text, and the
    reference fails a blank variant before checking it.
    """
    lines = response.split("\n")
    no_first = "\n".join(lines[1:]).strip()
    no_last = "\n".join(lines[:-1]).strip()
    no_both = "\n".join(lines[1:-1]).strip()
    variants = [response, no_first, no_last, no_both]
    variants += [v.replace("*", "") for v in variants]
    seen: set[str] = set()
    unique = []
    for variant in variants:
        if variant not in seen and variant.strip():
            seen.add(variant)
            unique.append(variant)
    return unique


def instruction_verdict(
    instruction_id: str,
    kwargs: Mapping[str, Any] | None,
    prompt: str,
    response: str | None,
    *,
    resolve: Resolver = resolve_ifbench,
    variants: Sequence[str] | None = None,
) -> tuple[bool, bool]:
    """``(strict, loose)`` for one instruction of a prompt, as the reference scores it.

    ``kwargs`` may hold the Hugging Face layout's nulls (dropped); ``prompt`` is passed to the type
    as the kwarg ``"prompt"`` (types that do not take it ignore it), as the reference passes it.
    ``response=None`` (no response) checks the kwargs and fails. ``variants``: the response's
    ``loose_variants``, when the caller scores several instructions on one response.
    """
    ctype = resolve(instruction_id)
    given = {k: v for k, v in (kwargs or {}).items() if v is not None}
    params = ctype.from_kwargs({**given, "prompt": prompt})
    if response is None or not response.strip():
        return False, False
    if ctype.check(response, params):
        return True, True
    others = loose_variants(response)[1:] if variants is None else variants[1:]
    return False, any(ctype.check(variant, params) for variant in others)
