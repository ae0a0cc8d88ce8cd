"""Run every gate of a policy and combine their verdicts into one exit code.

Exit code of a run (the CI contract):

- ``2`` if any gate, required or not, could not be evaluated (a path matches nothing, a log
  lacks a column ...). Every gate still runs and is reported, the broken one as ``ERROR``
  with the one-line reason: a typo in an optional gate's path must not rot unnoticed.
- otherwise the worst verdict of the *required* gates: NO_GO/ROLLBACK ``1`` > HOLD ``3`` >
  GO/PROMOTE ``0``; with ``fail_on_hold`` a HOLD exits ``1``. Gates with
  ``required = false`` are run and reported but never change the exit code.

The run's verdict is that of the first required gate with the worst rank (``ERROR`` when a
gate errored).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from abtool.errors import EXIT_USAGE, AbtoolError
from abtool.gate.kinds import get_kind
from abtool.gate.policy import Gate, Policy
from abtool.reports.result import SCHEMA_VERSION, Check, Report

COMMAND = "gate"
ERROR = "ERROR"
EXIT_FAIL = 1
EXIT_HOLD = 3
# Worse outcomes rank higher; a run exits with the highest-ranked code of its required gates.
_RANK = {0: 0, EXIT_HOLD: 1, EXIT_FAIL: 2}


@dataclass(frozen=True)
class GateOutcome:
    """What one gate found: its report, or the error that kept it from running.

    Attributes:
        gate: the validated gate.
        command: the command the gate's kind mirrors (``shadow-report``).
        report: the report, None when the gate errored.
        error: the one-line error message, None when the gate ran.
        seconds: wall time the gate took.
    """

    gate: Gate
    command: str
    report: Report[Any] | None
    error: str | None
    seconds: float

    @property
    def verdict(self) -> str:
        return self.report.verdict.value if self.report is not None else ERROR

    @property
    def exit_code(self) -> int:
        return self.report.exit_code if self.report is not None else EXIT_USAGE

    def to_dict(self) -> dict[str, Any]:
        """The gate's identity followed by its full report dict (or an error record)."""
        head = {
            "name": self.gate.name,
            "kind": self.gate.kind,
            "required": self.gate.required,
            "location": self.gate.location,
            "elapsed_seconds": round(self.seconds, 3),
        }
        if self.report is not None:
            return {**head, **self.report.to_dict()}
        return {
            **head,
            "schema_version": SCHEMA_VERSION,
            "command": self.command,
            "verdict": ERROR,
            "exit_code": EXIT_USAGE,
            "error": self.error,
            "reasons": [self.error],
            "checks": [],
            "stats": {},
            "warnings": [],
            "inputs": {"paths": list(self.gate.paths)},
        }


@dataclass(frozen=True)
class GateRun:
    """Every gate's outcome and the combined verdict and exit code."""

    policy: Policy
    outcomes: tuple[GateOutcome, ...]
    fail_on_hold: bool = False

    command: ClassVar[str] = COMMAND
    checks: ClassVar[tuple[Check, ...]] = ()  # each gate's checks are in its outcome

    @property
    def verdict(self) -> str:
        return combine(self.outcomes, fail_on_hold=self.fail_on_hold)[0]

    @property
    def exit_code(self) -> int:
        return combine(self.outcomes, fail_on_hold=self.fail_on_hold)[1]

    @property
    def errors(self) -> list[GateOutcome]:
        """The gates that could not be evaluated."""
        return [o for o in self.outcomes if o.error is not None]

    @property
    def reasons(self) -> list[str]:
        return [_reason(o) for o in self.outcomes]

    @property
    def warnings(self) -> list[str]:
        return [
            f"gate '{o.gate.name}': {w}"
            for o in self.outcomes
            if o.report is not None
            for w in o.report.warnings
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``abtool gate`` (``schema_version`` 1).

        ``checks`` is always empty (each gate's checks are under ``gates[i]``); it is there so
        that every command's dict has the same top-level keys.
        """
        verdict, exit_code = combine(self.outcomes, fail_on_hold=self.fail_on_hold)
        return {
            "schema_version": SCHEMA_VERSION,
            "command": COMMAND,
            "verdict": verdict,
            "exit_code": exit_code,
            "policy": self.policy.path,
            "fail_on_hold": self.fail_on_hold,
            "reasons": self.reasons,
            "checks": [],
            "warnings": self.warnings,
            "gates": [o.to_dict() for o in self.outcomes],
        }


def combine(outcomes: Sequence[GateOutcome], *, fail_on_hold: bool = False) -> tuple[str, int]:
    """The run's verdict and exit code (rules in the module docstring).

    Raises:
        ValueError: no gate is required (the policy loader rejects such policies).
    """
    if any(o.error is not None for o in outcomes):
        return ERROR, EXIT_USAGE
    counted = [o for o in outcomes if o.gate.required]
    if not counted:
        raise ValueError("a gate run needs at least one required gate")
    worst = max(counted, key=lambda o: _RANK[o.exit_code])  # max keeps the first of equals
    code = worst.exit_code
    if code == EXIT_HOLD and fail_on_hold:
        code = EXIT_FAIL
    return worst.verdict, code


def run_policy(
    policy: Policy,
    *,
    fail_on_hold: bool = False,
    progress: Callable[[str], None] | None = None,
) -> GateRun:
    """Run every gate of a validated policy, in file order.

    A gate whose logs cannot be used becomes an ``ERROR`` outcome; the other gates still run.

    Args:
        policy: from :func:`abtool.gate.policy.load_policy`.
        fail_on_hold: a HOLD of a required gate exits 1 instead of 3.
        progress: called with a short status line before long steps.
    """
    from abtool.engines import engine_settings

    outcomes = []
    for gate in policy.gates:
        spec = get_kind(gate.kind)
        if progress:
            progress(f"gate '{gate.name}': reading logs")
        started = time.perf_counter()
        try:
            report = spec.runner()(
                list(gate.paths),
                columns=gate.columns,
                options=gate.options,
                thresholds=gate.thresholds,
                progress=_prefixed(progress, gate.name),
                # engine = "spark" (and spark_master) in the gate; gates share one session
                **engine_settings(gate.options),
            )
        except AbtoolError as exc:
            outcomes.append(
                GateOutcome(gate, spec.name, None, exc.message, time.perf_counter() - started)
            )
            continue
        outcomes.append(GateOutcome(gate, spec.name, report, None, time.perf_counter() - started))
    return GateRun(policy, tuple(outcomes), fail_on_hold)


def _prefixed(progress: Callable[[str], None] | None, name: str) -> Callable[[str], None] | None:
    if progress is None:
        return None

    def update(message: str) -> None:
        progress(f"gate '{name}': {message}")

    return update


def _reason(outcome: GateOutcome) -> str:
    gate = outcome.gate
    text = f"{gate.name} ({gate.kind}): {outcome.verdict}"
    if outcome.exit_code != 0:
        reasons = [outcome.error] if outcome.report is None else list(outcome.report.reasons)
        text += " - " + "; ".join(r for r in reasons if r)
    if not gate.required:
        unusable = outcome.error is not None
        text += " [not required; unusable logs still exit 2]" if unusable else " [not required]"
    return text
