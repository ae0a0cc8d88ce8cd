"""Format-neutral building blocks that the rich and markdown renderers both draw."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from abtool.reports.result import Check


@dataclass(frozen=True)
class Facts:
    """A titled list of label: value lines (a summary panel)."""

    title: str
    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    """A titled table; ``numeric`` marks right-aligned columns by index."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Preformatted:
    """Fixed-width text such as a text histogram."""

    title: str
    text: str


Block = Facts | Table | Preformatted


class Outcome(Protocol):
    """What every output format reads from a result: a report or a gate run."""

    @property
    def command(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def reasons(self) -> Sequence[str]: ...
    @property
    def checks(self) -> Sequence[Check]: ...
    @property
    def warnings(self) -> Sequence[str]: ...


STATUS_MARKS = {"pass": "✓", "fail": "✗", "warn": "!", "skip": "-"}


def fmt_number(value: Any, digits: int = 4) -> str:
    """A number for people: integers with separators, floats with ``digits`` significant digits."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}g}" if abs(value) < 1 else f"{value:,.{max(digits - 2, 1)}f}"
    return str(value)


def fmt_rate(value: Any) -> str:
    """A fraction in [0, 1] as a percentage."""
    return "n/a" if value is None else f"{100 * value:.2f}%"


def fmt_pvalue(value: Any) -> str:
    """A p-value: scientific notation below 0.001."""
    if value is None:
        return "n/a"
    return f"{value:.3g}" if value >= 1e-3 else f"{value:.2e}"


def checklist_table(checks: Sequence[Check]) -> Table:
    """The checklist every command shows: mark, check id, value, threshold, message."""
    rows = [
        [
            STATUS_MARKS[c.status],
            c.id,
            fmt_number(c.value),
            fmt_number(c.threshold),
            c.message + (" (advisory)" if c.advisory else ""),
        ]
        for c in checks
    ]
    return Table(
        "Checklist", ["", "check", "value", "threshold", "detail"], rows, frozenset({2, 3})
    )


def bar_chart(labels: Sequence[str], series: dict[str, Sequence[int]], width: int = 28) -> str:
    """A text histogram: one row per bin, one bar per series, scaled to the largest count."""
    names = list(series)
    largest = max((max(v) for v in series.values() if len(v)), default=0) or 1
    glyphs = ["█", "░", "▒", "▓"]
    label_width = max(len(label) for label in labels)
    lines = [
        " " * (label_width + 1)
        + "   ".join(f"{glyphs[i % len(glyphs)]} {name}" for i, name in enumerate(names))
    ]
    for row, label in enumerate(labels):
        for i, name in enumerate(names):
            count = series[name][row]
            bar = glyphs[i % len(glyphs)] * round(width * count / largest)
            prefix = label.rjust(label_width) if i == 0 else " " * label_width
            lines.append(f"{prefix} {bar} {count:,}")
    return "\n".join(lines)
