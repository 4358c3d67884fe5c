"""Reading the kwargs of IFBench's format, task and repeat instructions, under the IFEval kwargs policy.

IFBench's ``build_description`` draws a random value for a missing field (``sep``, ``options``,
``n_start``...) or raises (``prompt_to_repeat``); neither is what a caller meant, so a missing or
unusable field is an ``IFEvalKwargsError`` naming the instruction id and the field. ``None`` values
and fields the instruction does not take are dropped (the Hugging Face layout fills every slot with
nulls), as ``ifeval_kwargs.normalize_kwargs`` does for IFEval's types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from .base import ConstraintType
from .ifeval_kwargs import IFEvalKwargsError

__all__ = ["Field", "IFBenchType", "IFEvalKwargsError", "nonempty_text", "read_kwargs", "text", "whole_index"]

Field = Callable[[Any], Any]  # the normalised value, or ValueError with the problem


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string (got {value!r})")  # noqa: TRY004 - one error type for kwargs
    return value


def nonempty_text(value: Any) -> str:
    if not text(value):
        raise ValueError("must not be empty (the reference refuses it)")
    return value


def whole_index(value: Any) -> int:
    # The reference slices with it: an int (a bool slices as 0 or 1), never a float.
    if isinstance(value, int):
        return int(value)
    raise ValueError(f"must be an integer (got {value!r}; the reference cannot slice with it)")


def read_kwargs(type_id: str, kwargs: Mapping[str, Any] | None, spec: Mapping[str, Field]) -> dict[str, Any]:
    """The params for ``type_id`` from reference ``kwargs``: every field of ``spec`` required and
    normalised, nulls and other keys dropped; ``IFEvalKwargsError`` (a ``ValueError``) otherwise."""
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise IFEvalKwargsError(type_id, "kwargs", f"must be an object (got {kwargs!r})")
    given = kwargs or {}
    params: dict[str, Any] = {}
    for name, field in spec.items():
        value = given.get(name)
        if value is None:
            raise IFEvalKwargsError(
                type_id, name, "is missing (the reference would draw a random value or refuse)"
            )
        try:
            params[name] = field(value)
        except ValueError as exc:
            raise IFEvalKwargsError(type_id, name, str(exc)) from None
    return params


class IFBenchType(ConstraintType):
    """An IFBench instruction type: inferred only when asked for (``suite``), its params read from the
    reference kwargs by ``fields`` (name -> normaliser), and written back unchanged."""

    suite = "ifbench"
    #: The reference kwargs this instruction takes, each with its normaliser; all are required.
    fields: ClassVar[Mapping[str, Field]] = {}

    def from_kwargs(self, kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
        return read_kwargs(self.id, kwargs, self.fields)

    def to_kwargs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {name: params[name] for name in self.fields if name in params}
