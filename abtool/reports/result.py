"""The result records every command returns, and the one rule that turns checks into a verdict.

Every check carries the consequence of its failure (:class:`Consequence`), so a new check can
never be ignored by the verdict: :func:`decide` reads the consequences, not a list of ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from abtool.records import Record, clean, optional_key

SCHEMA_VERSION = 1


class Verdict(StrEnum):
    """A command's decision, with the exit code CI gates on."""

    GO = "GO"
    NO_GO = "NO_GO"
    PROMOTE = "PROMOTE"
    ROLLBACK = "ROLLBACK"
    HOLD = "HOLD"
    INFO = "INFO"  # planning commands (sample-size) decide nothing
    WINNER = "WINNER"  # bandit-report: one arm is best (stop the bandit, roll it out)
    CONTINUE = "CONTINUE"  # bandit-report: keep the bandit running

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
    Verdict.WINNER: 0,
    Verdict.CONTINUE: 3,
}


class Consequence(StrEnum):
    """What a failed check does to the verdict.

    ``rollback`` and ``no_go`` stop the rollout (exit 1), ``hold`` waits for more data (exit 3),
    ``advisory`` is shown but changes nothing.
    """

    ROLLBACK = "rollback"
    NO_GO = "no_go"
    HOLD = "hold"
    ADVISORY = "advisory"

    @property
    def stops(self) -> bool:
        return self in (Consequence.ROLLBACK, Consequence.NO_GO)


@dataclass(frozen=True)
class Verdicts:
    """The verdicts a command speaks: when every check passes, when one stops, when one holds."""

    passed: Verdict
    stopped: Verdict
    held: Verdict = Verdict.HOLD


SHADOW_VERDICTS = Verdicts(Verdict.GO, Verdict.NO_GO)
CANARY_VERDICTS = Verdicts(Verdict.PROMOTE, Verdict.ROLLBACK)
PREFERENCE_VERDICTS = Verdicts(Verdict.GO, Verdict.NO_GO)
BANDIT_VERDICTS = Verdicts(Verdict.WINNER, Verdict.ROLLBACK, Verdict.CONTINUE)


@dataclass(frozen=True)
class Check:
    """One line of a checklist.

    Attributes:
        id: stable check id (see the README's check tables).
        passed: True / False, or None when the check could not be evaluated (skipped).
        value: the measured figure the threshold applies to.
        threshold: the configured limit.
        message: one human sentence: what was measured against what.
        consequence: what a failure does to the verdict (no default: every check says).
        required: a check that must be evaluated: skipped, it counts as failed.
    """

    id: str
    passed: bool | None
    value: float | None
    threshold: float | None
    message: str
    consequence: Consequence
    required: bool = False

    @property
    def advisory(self) -> bool:
        return self.consequence is Consequence.ADVISORY

    @property
    def failing(self) -> bool:
        """Whether this check counts against the verdict."""
        if self.advisory:
            return False
        return self.passed is False or (self.passed is None and self.required)

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
            "consequence": self.consequence.value,
        }


def decide(checks: Sequence[Check], verdicts: Verdicts) -> Verdict:
    """The verdict of a checklist: the one rule for every command.

    Any failing check whose consequence stops the rollout gives ``verdicts.stopped``; else any
    failing ``hold`` check gives ``verdicts.held``; else ``verdicts.passed``. Advisory checks
    never change it, and a required check that was skipped counts as failing.
    """
    failing = [c for c in checks if c.failing]
    if any(c.consequence.stops for c in failing):
        return verdicts.stopped
    if failing:
        return verdicts.held
    return verdicts.passed


def failing_messages(checks: Sequence[Check], *consequences: Consequence) -> list[str]:
    """Messages of the failing checks with one of ``consequences``, in checklist order."""
    return [c.message for c in checks if c.failing and c.consequence in consequences]


StatsT = TypeVar("StatsT", bound=Record)


@dataclass(frozen=True)
class Inputs(Record):
    """What a report read: the paths as given, files resolved, rows scanned."""

    paths: list[str]
    files: int
    rows: int
    log_format: str | None = optional_key()


@dataclass(frozen=True)
class Report(Generic[StatsT]):
    """What a command found: verdict, checklist, statistics, warnings and what it read."""

    command: str
    verdict: Verdict
    checks: Sequence[Check]
    stats: StatsT
    warnings: Sequence[str] = ()
    inputs: Record | None = None
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
            "stats": self.stats.to_dict(),
            "warnings": list(self.warnings),
            "inputs": self.inputs.to_dict() if self.inputs is not None else {},
        }
