"""One declaration per command, from which its CLI, gate kind, ``--config`` table and docs derive.

A command declares three frozen dataclasses (see :mod:`abtool.commands`):

* its **columns** — each field made with :func:`column`: the log's column names;
* its **options** — each field made with :func:`option`: flag, help, range, choices;
* its **thresholds** — each field made with :func:`threshold`: named after a check id (or a
  qualifier of one), with its default, meaning and range;

plus a :class:`CommandSpec` that names them with the command's checks (:class:`CheckSpec`).
The Typer command (``abtool.cli.build``), the gate kind's policy keys (``abtool.gate.kinds``),
the ``--config`` table (``abtool.config``) and the reference tables in the docs
(``abtool.docs``) are all read from these declarations, and one :func:`validate` checks a value
wherever it comes from (command line, policy, Python call), so nothing is declared twice.

A setting's **key** is its flag without dashes, ``_`` for ``-`` (``--min-segment-rows`` ->
``min_segment_rows``): the policy key, the Python keyword and the Typer parameter name.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from functools import cache
from typing import Any

from abtool.errors import UsageError
from abtool.reports.result import Check, Consequence, Verdicts

_SETTING = "abtool.setting"
_LIMIT = "abtool.limit"


class Role(StrEnum):
    """Which dataclass of a command a setting fills."""

    OPTION = "options"
    COLUMN = "columns"


@dataclass(frozen=True)
class Range:
    """Accepted numbers: ``low``/``high`` bounds (None: unbounded), each open or closed."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def contains(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (
            self.high is not None and (value >= self.high if self.high_open else value > self.high)
        )

    def describe(self) -> str:
        """The range in words for messages and help: ``>= 1``, ``in (0, 1)``."""
        if self.low is not None and self.high is not None:
            left = "(" if self.low_open else "["
            right = ")" if self.high_open else "]"
            return f"in {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {self.high:g}"
        return "any number"


ANY = Range()
POSITIVE = Range(0, None, low_open=True)
NON_NEGATIVE = Range(0)
AT_LEAST_ONE = Range(1)
FRACTION = Range(0, 1)
OPEN_FRACTION = Range(0, 1, low_open=True, high_open=True)


@dataclass(frozen=True)
class Setting:
    """What a command-line option (or column option) is, beyond its Python type.

    Attributes:
        flag: the long flag, e.g. ``--min-segment-rows``.
        help: one sentence for ``--help`` and the docs.
        role: which dataclass it fills (options or columns).
        short: a one-letter alias such as ``-s``.
        range: the accepted numbers (integers and floats).
        choices: the accepted strings.
        parse: turns text (command line, policy string) into the field's value, e.g. a
            ratio ``5:95``, raising ValueError with the problem; the command line then
            takes text.
        cli: offered on the command line.
        policy: offered as a key of a gate in a rollout policy.
        metavar: how ``--help`` names the value.
    """

    flag: str
    help: str
    role: Role = Role.OPTION
    short: str | None = None
    range: Range | None = None
    choices: tuple[str, ...] | None = None
    parse: Callable[[str], Any] | None = None
    cli: bool = True
    policy: bool = True
    metavar: str | None = None

    @property
    def key(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


def option(default: Any, flag: str, help: str, **details: Any) -> Any:
    """A field of a command's options dataclass, declared with its flag and help."""
    return dataclasses.field(default=default, metadata={_SETTING: Setting(flag, help, **details)})


def column(default: str, flag: str, help: str) -> Any:
    """A field of a command's columns dataclass: a column name and the option that sets it."""
    return dataclasses.field(
        default=default, metadata={_SETTING: Setting(flag, help, role=Role.COLUMN)}
    )


def column_list(default: tuple[str, ...], flag: str, help: str) -> Any:
    """A columns field holding several names (a repeatable option)."""
    return dataclasses.field(
        default=default, metadata={_SETTING: Setting(flag, help, role=Role.COLUMN)}
    )


@dataclass(frozen=True)
class Limit:
    """What a threshold means and the values it accepts (a field of a thresholds dataclass)."""

    help: str
    range: Range = ANY
    integer: bool = False


def threshold(default: float, help: str, range: Range = ANY, *, integer: bool = False) -> Any:
    """A field of a command's thresholds dataclass (its name is a check id or qualifies one)."""
    return dataclasses.field(default=default, metadata={_LIMIT: Limit(help, range, integer)})


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
            setting = item.metadata.get(_SETTING)
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
        BoundLimit(f.name, f.metadata[_LIMIT], float(f.default))  # type: ignore[arg-type]
        for f in dataclasses.fields(cls)
        if _LIMIT in f.metadata
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
    if setting.parse is not None and isinstance(value, str):
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


@dataclass(frozen=True)
class CheckSpec:
    """A check a command runs: its id, what a failure does, and when it passes (for the docs).

    Attributes:
        id: the check id (and the name of its threshold field, where it has one).
        consequence: what its failure does; a check whose consequence depends on the
            direction of an effect lists the harsher one here and says so in ``passes``.
        passes: when it passes, in words (the docs' "passes when" column).
    """

    id: str
    consequence: Consequence
    passes: str


@dataclass(frozen=True)
class CommandSpec:
    """Everything that defines one command (see the module docstring).

    Attributes:
        name: the command, e.g. ``shadow-report``.
        summary: one line for ``abtool --help`` and the docs.
        options: the options dataclass.
        run: ``module:function`` of the library function that runs it.
        render: the module with ``sections(report)`` (and ``key_figures``) of its output.
        columns: the columns dataclass (commands that read logs).
        thresholds: the thresholds dataclass (commands with checks).
        checks: the checks, in checklist order.
        verdicts: the verdicts it speaks.
        kind: its gate kind in a rollout policy (None: not a gate kind).
        section: its table in a ``--config`` file.
        check: checks of combinations of settings, ``check(columns, options, thresholds)``,
            run before any log is read (raises an AbtoolError).
    """

    name: str
    summary: str
    options: type[Any]
    run: str
    render: str
    columns: type[Any] | None = None
    thresholds: type[Any] | None = None
    checks: tuple[CheckSpec, ...] = ()
    verdicts: Verdicts | None = None
    kind: str | None = None
    section: str | None = None
    check: Callable[[Any, Any, Any], None] | None = None

    @property
    def reads_logs(self) -> bool:
        return self.columns is not None

    def settings(self) -> tuple[BoundSetting, ...]:
        """Every setting: options first, then columns."""
        classes = (self.options,) if self.columns is None else (self.options, self.columns)
        return bound_settings(*classes)

    def setting(self, key: str) -> BoundSetting:
        for bound in self.settings():
            if bound.key == key:
                return bound
        raise KeyError(key)

    def check_spec(self, check_id: str) -> CheckSpec:
        for spec in self.checks:
            if spec.id == check_id:
                return spec
        raise KeyError(check_id)

    def make_check(
        self,
        check_id: str,
        passed: bool | None,
        value: float | None,
        threshold: float | None,
        message: str,
        *,
        consequence: Consequence | None = None,
        required: bool = False,
    ) -> Check:
        """A check result carrying its declared consequence (KeyError: undeclared id).

        ``consequence`` overrides the declared one for a check whose failure depends on the
        direction of an effect (declared as the harsher of the two).
        """
        declared = self.check_spec(check_id).consequence
        return Check(check_id, passed, value, threshold, message, consequence or declared, required)

    def runner(self) -> Callable[..., Any]:
        """The library function that runs the command (imported on first use)."""
        import importlib

        module, _, function = self.run.partition(":")
        runner: Callable[..., Any] = getattr(importlib.import_module(module), function)
        return runner

    def build(
        self,
        values: Mapping[str, Any],
        *,
        name: Callable[[BoundSetting], str] = lambda b: b.key,
        columns: Any = None,
        options: Any = None,
    ) -> tuple[Any, Any]:
        """The (columns, options) dataclasses from setting values by key, each validated.

        ``columns``/``options`` are the bases the values override (default: the defaults).

        Raises:
            Problem: a value is not accepted (the message names it with ``name(bound)``).
            KeyError: an unknown key.
        """
        changes: dict[Role, dict[str, Any]] = {Role.OPTION: {}, Role.COLUMN: {}}
        for key, value in values.items():
            bound = self.setting(key)
            changes[bound.role][bound.field] = validate(bound, value, name(bound))
        built_options = dataclasses.replace(
            options if options is not None else self.options(), **changes[Role.OPTION]
        )
        if self.columns is None:
            return None, built_options
        built_columns = dataclasses.replace(
            columns if columns is not None else self.columns(), **changes[Role.COLUMN]
        )
        return built_columns, built_options


def check_all(spec: CommandSpec, columns: Any, options: Any) -> None:
    """Every setting's value in ``columns``/``options`` that is not its default is accepted.

    Raises:
        Problem: names the setting by its key.
    """
    for bound in spec.settings():
        holder = options if bound.role is Role.OPTION else columns
        value = getattr(holder, bound.field)
        if value != bound.default:  # defaults are valid by declaration
            validate(bound, value, bound.key)


def check_thresholds(cls: type[Any], values: Any, where: str) -> None:
    """Every threshold of ``values`` inside its declared range.

    Raises:
        Problem: names ``where`` and the threshold.
    """
    for bound in bound_limits(cls):
        value = getattr(values, bound.name)
        check_number(
            f"{where}threshold '{bound.name}'",
            value,
            bound.limit.range,
            integer=bound.limit.integer,
        )


def flags_of(specs: Sequence[BoundSetting]) -> list[str]:
    """The flags of settings, for messages."""
    return [b.setting.flag for b in specs]
