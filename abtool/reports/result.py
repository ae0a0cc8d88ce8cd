"""The result records every command returns and every output format renders."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = 1


class Verdict(StrEnum):
    """A command's decision, with the exit code CI gates on."""

    GO = "GO"
    NO_GO = "NO_GO"
    PROMOTE = "PROMOTE"
    ROLLBACK = "ROLLBACK"
    HOLD = "HOLD"
    INFO = "INFO"  # planning commands (sample-size) decide nothing

    @property
    def exit_code(self) -> int:
        return _EXIT_CODES[self]


_EXIT_CODES = {
    Verdict.GO: 0,
    Verdict.PROMOTE: 0,
    Verdict.INFO: 0,
    Verdict.NO_GO: 1,
    Verdict.ROLLBACK: 1,
    Verdict.HOLD: 3,
}


@dataclass(frozen=True)
class Check:
    """One line of a checklist.

    Attributes:
        id: stable check id (see the README's JSON table).
        passed: True / False, or None when the check could not be evaluated (skipped).
        value: the measured figure the threshold applies to.
        threshold: the configured limit.
        message: one human sentence: what was measured against what.
        advisory: a failed advisory check is shown but does not change the verdict.
    """

    id: str
    passed: bool | None
    value: float | None
    threshold: float | None
    message: str
    advisory: bool = False

    @property
    def status(self) -> str:
        if self.passed is None:
            return "skip"
        if self.passed:
            return "pass"
        return "warn" if self.advisory else "fail"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "passed": self.passed,
            "status": self.status,
            "value": clean(self.value),
            "threshold": clean(self.threshold),
            "message": self.message,
            "advisory": self.advisory,
        }


@dataclass(frozen=True)
class Report:
    """What a command found: verdict, checklist, statistics, warnings and what it read."""

    command: str
    verdict: Verdict
    checks: Sequence[Check]
    stats: dict[str, Any]
    warnings: Sequence[str] = ()
    inputs: dict[str, Any] = field(default_factory=dict)
    reasons: Sequence[str] = ()

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    def check(self, check_id: str) -> Check:
        """The check with this id (KeyError if the command has none)."""
        for item in self.checks:
            if item.id == check_id:
                return item
        raise KeyError(check_id)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON contract (``schema_version`` 1)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "command": self.command,
            "verdict": self.verdict.value,
            "exit_code": self.exit_code,
            "reasons": list(self.reasons),
            "checks": [c.to_dict() for c in self.checks],
            "stats": clean(self.stats),
            "warnings": list(self.warnings),
            "inputs": clean(self.inputs),
        }


def verdict_from_checks(checks: Sequence[Check], passed: Verdict, failed: Verdict) -> Verdict:
    """``failed`` if any gating (non-advisory) check failed, else ``passed``."""
    if any(c.passed is False and not c.advisory for c in checks):
        return failed
    return passed


def failed_reasons(checks: Sequence[Check]) -> list[str]:
    """The messages of gating checks that failed, in checklist order."""
    return [c.message for c in checks if c.passed is False and not c.advisory]


def clean(value: Any) -> Any:
    """Make a value JSON-safe: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
