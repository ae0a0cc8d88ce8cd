"""The one validation rule: a setting's value, from wherever it comes, checked and converted."""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from abtool.errors import UsageError
from abtool.spec.fields import LIMIT_KEY, SETTING_KEY, Limit, Range, Role, Setting


class ValueType(Enum):
    """The type a setting takes, named the way messages name it."""

    TEXT = "a string"
    INTEGER = "an integer"
    NUMBER = "a number"
    BOOLEAN = "true or false"
    TEXT_LIST = "a string or a list of strings"


@dataclass(frozen=True)
class BoundSetting:
    """A setting with the field it fills: what every edge needs to offer and check it."""

    key: str
    field: str
    setting: Setting
    type: ValueType
    optional: bool
    default: Any

    @property
    def role(self) -> Role:
        return self.setting.role


_TYPES: dict[Any, ValueType] = {
    str: ValueType.TEXT,
    int: ValueType.INTEGER,
    float: ValueType.NUMBER,
    bool: ValueType.BOOLEAN,
    tuple[str, ...]: ValueType.TEXT_LIST,
}


def _value_type(hint: Any) -> tuple[ValueType, bool]:
    args = typing.get_args(hint)
    optional = type(None) in args
    if optional:
        (hint,) = [a for a in args if a is not type(None)]
    if hint not in _TYPES:
        raise TypeError(f"unsupported setting type {hint!r}")
    return _TYPES[hint], optional


@cache
def bound_settings(*classes: Any) -> tuple[BoundSetting, ...]:
    """The settings declared in dataclasses ``classes``, in declaration order."""
    found = []
    for cls in classes:
        hints = typing.get_type_hints(cls)
        for item in dataclasses.fields(cls):
            setting = item.metadata.get(SETTING_KEY)
            if setting is None:
                continue
            value_type, optional = _value_type(hints[item.name])
            found.append(
                BoundSetting(setting.key, item.name, setting, value_type, optional, item.default)
            )
    keys = [b.key for b in found]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise TypeError(f"settings declared twice: {sorted(duplicates)}")
    return tuple(found)


@dataclass(frozen=True)
class BoundLimit:
    """A threshold field with its declaration."""

    name: str
    limit: Limit
    default: float


def bound_limits(cls: Any) -> tuple[BoundLimit, ...]:
    """The thresholds declared in dataclass ``cls``, in declaration order."""
    return tuple(
        BoundLimit(f.name, f.metadata[LIMIT_KEY], float(f.default))  # type: ignore[arg-type]
        for f in dataclasses.fields(cls)
        if LIMIT_KEY in f.metadata
    )


class Problem(UsageError):
    """A value a setting does not accept; ``problem`` is the message without the name."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name} {problem}")
        self.problem = problem


def _number_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def check_number(name: str, value: Any, range_: Range | None, *, integer: bool) -> Any:
    """A finite number (an integer if ``integer``) inside ``range_``.

    Raises:
        Problem: the value is of the wrong type, not finite, or out of range.
    """
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Problem(name, f"must be {kind}, got {_type_name(value)} {value!r}")
    if integer and not isinstance(value, int):
        if not (math.isfinite(value) and value == int(value)):
            raise Problem(name, f"must be {kind}, got {value!r}")
        value = int(value)
    if not math.isfinite(value):
        raise Problem(name, f"must be a finite number, got {value}")
    if range_ is not None and not range_.contains(value):
        raise Problem(name, f"must be {range_.describe()}, got {_number_text(value)}")
    return value if integer else float(value)


def validate(bound: BoundSetting, value: Any, name: str) -> Any:
    """``value`` as the field wants it, or a :class:`Problem` naming ``name`` (flag or key).

    Accepts the field's Python type, and text wherever the setting parses text.
    """
    if value is None and bound.optional:
        return None
    setting = bound.setting
    text_list = bound.type is ValueType.TEXT_LIST
    if setting.parse is not None and isinstance(value, str) and not text_list:
        try:
            value = setting.parse(value)
        except ValueError as exc:
            raise Problem(name, str(exc)) from None
    kind = bound.type
    if kind is ValueType.TEXT:
        if not isinstance(value, str):
            raise Problem(name, f"must be {kind.value}, got {_type_name(value)} {value!r}")
        if not value:
            raise Problem(name, "must not be empty")
        if setting.choices is not None and value not in setting.choices:
            raise Problem(name, f"must be one of {', '.join(setting.choices)}; got {value!r}")
        return value
    if kind is ValueType.BOOLEAN:
        if not isinstance(value, bool):
            raise Problem(name, f"must be {kind.value}, got {_type_name(value)} {value!r}")
        return value
    if kind is ValueType.TEXT_LIST:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(v, str) and v for v in items):
            raise Problem(name, f"must be {kind.value}, got {_type_name(value)} {value!r}")
        if not items:
            raise Problem(name, "must not be an empty list")
        if setting.parse is not None:
            # A repeatable option whose items have a syntax (e.g. ``COL:decrease:0.05``):
            # each item is parsed, and kept as the text the parser normalises it to.
            try:
                items = [setting.parse(item) for item in items]
            except ValueError as exc:
                raise Problem(name, str(exc)) from None
        return tuple(items)
    return check_number(name, value, setting.range, integer=kind is ValueType.INTEGER)


def _type_name(value: Any) -> str:
    """The TOML name of a value's type, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__


type_name = _type_name
