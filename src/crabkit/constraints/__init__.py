"""Constraint registry: every verifiable constraint type, usable for inference, wording and checking."""

from .base import ConstraintType, Params
from .registry import (
    UnknownConstraintType,
    all_types,
    get,
    get_by_benchmark_id,
    get_by_ifbench_id,
    get_by_ifeval_id,
    ids,
    is_ifeval_id,
    register,
)

__all__ = [
    "ConstraintType",
    "Params",
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
