"""Field declarations: a command's options, columns and thresholds, each with what it accepts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SETTING_KEY = "abtool.setting"
LIMIT_KEY = "abtool.limit"


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
            takes text. For a list of strings it is applied to each item (and returns the
            item's normalised text).
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
    return dataclasses.field(
        default=default, metadata={SETTING_KEY: Setting(flag, help, **details)}
    )


def column(default: str, flag: str, help: str) -> Any:
    """A field of a command's columns dataclass: a column name and the option that sets it."""
    return dataclasses.field(
        default=default, metadata={SETTING_KEY: Setting(flag, help, role=Role.COLUMN)}
    )


def column_list(default: tuple[str, ...], flag: str, help: str) -> Any:
    """A columns field holding several names (a repeatable option)."""
    return dataclasses.field(
        default=default, metadata={SETTING_KEY: Setting(flag, help, role=Role.COLUMN)}
    )


@dataclass(frozen=True)
class Limit:
    """What a threshold means and the values it accepts (a field of a thresholds dataclass)."""

    help: str
    range: Range = ANY
    integer: bool = False


def threshold(default: float, help: str, range: Range = ANY, *, integer: bool = False) -> Any:
    """A field of a command's thresholds dataclass (its name is a check id or qualifies one)."""
    return dataclasses.field(default=default, metadata={LIMIT_KEY: Limit(help, range, integer)})
