"""The one registry of constraint types. Adding a type is one class plus the ``@register`` line."""

from __future__ import annotations

from collections.abc import Iterator

from .base import ConstraintType

__all__ = [
    "UnknownConstraintType",
    "all_types",
    "get",
    "get_by_benchmark_id",
    "get_by_ifbench_id",
    "get_by_ifeval_id",
    "ids",
    "is_ifeval_id",
    "register",
]

_TYPES: dict[str, ConstraintType] = {}
_BY_IFEVAL: dict[str, ConstraintType] = {}
_BY_IFBENCH: dict[str, ConstraintType] = {}


class UnknownConstraintType(KeyError):
    """A constraint id that no registered type has."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


def register(cls: type[ConstraintType]) -> type[ConstraintType]:
    """Class decorator: instantiate and register a constraint type under its ``id``."""
    inst = cls()
    if ":" not in inst.id:
        raise ValueError(f"constraint id {inst.id!r} lacks a family prefix ('family:name')")
    if inst.id in _TYPES:
        raise ValueError(f"constraint id {inst.id!r} registered twice")
    _TYPES[inst.id] = inst
    if inst.ifeval_id:
        _BY_IFEVAL[inst.ifeval_id] = inst
    if inst.ifbench_id:
        _BY_IFBENCH[inst.ifbench_id] = inst
    return cls


_loaded: list[bool] = []


def _load() -> None:
    # Importing the family modules runs their @register lines (once: scoring looks types up per check).
    if not _loaded:
        from . import families  # noqa: F401

        _loaded.append(True)


def get(type_id: str) -> ConstraintType:
    _load()
    try:
        return _TYPES[type_id]
    except KeyError:
        raise UnknownConstraintType(f"unknown constraint type {type_id!r}") from None


def get_by_ifeval_id(ifeval_id: str) -> ConstraintType:
    _load()
    try:
        return _BY_IFEVAL[ifeval_id]
    except KeyError:
        raise UnknownConstraintType(f"no constraint type for IFEval id {ifeval_id!r}") from None


def get_by_ifbench_id(ifbench_id: str) -> ConstraintType:
    """The type that scores IFBench's instruction ``ifbench_id`` (its 58 new types; IFBench's copies
    of IFEval's 25 are found by ``get_by_ifeval_id``)."""
    _load()
    try:
        return _BY_IFBENCH[ifbench_id]
    except KeyError:
        raise UnknownConstraintType(f"no constraint type for IFBench id {ifbench_id!r}") from None


def is_ifeval_id(instruction_id: str) -> bool:
    """Whether ``instruction_id`` is one of IFEval's ids (IFBench's are not)."""
    _load()
    return instruction_id in _BY_IFEVAL


def get_by_benchmark_id(instruction_id: str) -> ConstraintType:
    """The type behind a ground-truth row's instruction id: an IFEval id, else an IFBench id (the two
    sets are disjoint), as ``ifeval_ground_truth.jsonl`` lists them."""
    _load()
    ctype = _BY_IFEVAL.get(instruction_id) or _BY_IFBENCH.get(instruction_id)
    if ctype is None:
        from .ifbench_unsupported import UNSUPPORTED

        if instruction_id in UNSUPPORTED:
            raise UnknownConstraintType(
                f"IFBench id {instruction_id!r} is not supported: {UNSUPPORTED[instruction_id]}"
            )
        raise UnknownConstraintType(f"no constraint type for IFEval or IFBench id {instruction_id!r}")
    return ctype


def all_types() -> Iterator[ConstraintType]:
    """Every registered type, in id order (stable, so samplers are reproducible)."""
    _load()
    for type_id in sorted(_TYPES):
        yield _TYPES[type_id]


def ids() -> list[str]:
    _load()
    return sorted(_TYPES)
