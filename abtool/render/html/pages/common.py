"""What the page builders share: the report type, caps on plotted items, small lookups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Report = dict[str, Any]

MAX_BARS = 25  # segment values per plot; the tables and the JSON hold all of them
MAX_POSITIONS = 20  # ranking positions per plot, as in the text tables


def check(report: Report, check_id: str) -> dict[str, Any] | None:
    """The report's check named ``check_id``, if it has one."""
    return next((c for c in report.get("checks", []) if c["id"] == check_id), None)


def roles(mapping: dict[str, Any], *keys: str) -> dict[str, list[Any]]:
    """{series name: [its value of each key]} for a {name: {key: value}} mapping."""
    return {name: [values.get(k) for k in keys] for name, values in mapping.items()}


def cut(values: Sequence[Any]) -> str:
    """A title suffix saying that only the first MAX_BARS values are drawn."""
    return f" (first {MAX_BARS} of {len(values)})" if len(values) > MAX_BARS else ""
