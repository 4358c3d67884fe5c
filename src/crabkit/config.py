"""Build nested dataclass configs from YAML/JSON mappings, with errors that name the bad key."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["ConfigError", "from_mapping", "load_mapping"]

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or value that does not fit the config dataclass."""


def load_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON file holding one mapping."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {p}: {exc.strerror}") from None
    import yaml

    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"config {p} is not valid {'JSON' if p.suffix == '.json' else 'YAML'}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {p} must hold a mapping at the top level, not {type(data).__name__}")
    return data


def _typed(value: Any, hint: Any, path: str) -> Any:
    """``value`` if it has the field's type (ints pass for floats; "8" does not pass for an int),
    else a ConfigError naming the key, the type it needs and what it got."""
    from pydantic import TypeAdapter, ValidationError

    try:
        adapter = TypeAdapter(hint)
    except Exception:  # noqa: BLE001 - a type pydantic cannot check: taken as given
        return value
    try:
        checked = adapter.validate_python(value, strict=True)
    except ValidationError:
        if isinstance(value, int) and not isinstance(value, bool) and _allows(hint, float):
            return float(value)
        raise ConfigError(
            f"config key {path!r} must be {_name(hint)}, got {value!r} ({type(value).__name__})"
        ) from None
    return checked if not isinstance(value, tuple) else tuple(checked)


def _allows(hint: Any, kind: type) -> bool:
    return hint is kind or kind in typing.get_args(hint)


def _name(hint: Any) -> str:
    names = {int: "a whole number", float: "a number", bool: "true or false", str: "a string"}
    if hint in names:
        return names[hint]
    return str(hint).replace("typing.", "")


def from_mapping(cls: type[T], data: dict[str, Any], base: T | None = None, where: str = "") -> T:
    """A ``cls`` instance from ``data`` (nested dataclasses included), starting from ``base``."""
    obj = base if base is not None else cls()
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key, value in data.items():
        path = f"{where}{key}"
        if key not in names:
            raise ConfigError(f"unknown config key {path!r}; known keys: {', '.join(sorted(names))}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"config key {path!r} must be a mapping")
            value = from_mapping(type(current), value, current, where=path + ".")
        else:
            if typing.get_origin(hints[key]) is tuple and isinstance(value, list):
                value = tuple(value)
            value = _typed(value, hints[key], path)
        setattr(obj, key, value)
    check = getattr(obj, "__post_init__", None)
    if check is not None:  # the dataclass's own value checks, on the values the mapping set
        try:
            check()
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"config {where.rstrip('.') or 'file'}: {exc}") from None
    return obj
