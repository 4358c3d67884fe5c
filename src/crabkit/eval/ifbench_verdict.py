"""crabkit's strict and loose verdict for one IFBench instruction, as the reference's evaluation gives it.

The reference (IFBench ``evaluation_lib``) builds each instruction from its kwargs (nulls dropped),
passes the prompt to the types that take one, and then:

* strict: the response is not blank and the checker accepts it;
* loose: some one of eight variants (the response; without its first line, its last line, both;
  each of those with every ``*`` removed) is not blank and the checker accepts it.

``instruction_verdict`` does the same with the registered type. A type is found by its IFBench id
(the 58 new types), else by its IFEval id (IFBench's copies of IFEval's 25). Kwargs the type cannot
take raise ``IFEvalKwargsError`` (a ``ValueError``) naming the instruction id and the field; an id
no type has raises ``UnknownConstraintType`` (a ``KeyError``), and ids in
``crabkit.constraints.ifbench_unsupported.UNSUPPORTED`` say why in that error.

>>> instruction_verdict("count:numbers", {"N": 2}, "Give two facts.", "Founded in 1999, 40 staff.")
(True, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crabkit.constraints import ConstraintType, UnknownConstraintType, get_by_ifbench_id, get_by_ifeval_id
from crabkit.constraints.ifbench_unsupported import UNSUPPORTED

from .ifeval import loose_variants

__all__ = ["instruction_type", "instruction_verdict"]


def instruction_type(instruction_id: str) -> ConstraintType:
    """The registered type that scores IFBench's ``instruction_id``."""
    if instruction_id in UNSUPPORTED:
        raise UnknownConstraintType(
            f"IFBench id {instruction_id!r} is not supported: {UNSUPPORTED[instruction_id]}"
        )
    try:
        return get_by_ifbench_id(instruction_id)
    except UnknownConstraintType:
        pass
    try:
        return get_by_ifeval_id(instruction_id)
    except UnknownConstraintType:
        raise UnknownConstraintType(f"no constraint type for IFBench id {instruction_id!r}") from None


def instruction_verdict(
    instruction_id: str, kwargs: Mapping[str, Any] | None, prompt: str, response: str
) -> tuple[bool, bool]:
    """``(strict, loose)`` for one instruction of an IFBench prompt, as the reference scores it.

    ``kwargs`` may hold the Hugging Face layout's nulls; ``prompt`` is passed to the type as the kwarg
    ``"prompt"`` (types that do not take it ignore it), as the reference passes it.
    """
    ctype = instruction_type(instruction_id)
    given = {k: v for k, v in (kwargs or {}).items() if v is not None}
    params = ctype.from_kwargs({**given, "prompt": prompt})
    if not response.strip():
        return False, False
    if ctype.check(response, params):
        return True, True
    return False, any(ctype.check(variant, params) for variant in loose_variants(response)[1:])
