"""One rule turns any checklist into a verdict, and a failing check can never be ignored.

Every check carries the consequence of its failure (rollback, no_go, hold, advisory);
``decide`` reads consequences, not a list of check ids, so a check that a future change adds
and forgets to "list" still stops or holds the rollout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import abtool
from abtool.commands import all_specs, command_spec
from abtool.reports.result import Check, Consequence, Verdict, Verdicts, decide

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
CANARY = Verdicts(Verdict.PROMOTE, Verdict.ROLLBACK)
SHADOW = Verdicts(Verdict.GO, Verdict.NO_GO)


def check(consequence: Consequence, passed: bool | None = False, **extra) -> Check:
    return Check("new_check", passed, 1.0, 0.5, "a check nobody listed", consequence, **extra)


@pytest.mark.parametrize(
    ("consequences", "verdict"),
    [
        ([], Verdict.PROMOTE),
        ([Consequence.ADVISORY], Verdict.PROMOTE),
        ([Consequence.HOLD], Verdict.HOLD),
        ([Consequence.HOLD, Consequence.ADVISORY], Verdict.HOLD),
        ([Consequence.ROLLBACK], Verdict.ROLLBACK),
        ([Consequence.HOLD, Consequence.ROLLBACK], Verdict.ROLLBACK),  # stopping beats waiting
        ([Consequence.NO_GO, Consequence.HOLD], Verdict.ROLLBACK),  # the command's stop verdict
    ],
)
def test_the_rule(consequences: list[Consequence], verdict: Verdict) -> None:
    assert decide([check(c) for c in consequences], CANARY) is verdict


def test_passing_and_skipped_checks_do_not_count_unless_required() -> None:
    assert decide([check(Consequence.ROLLBACK, passed=True)], CANARY) is Verdict.PROMOTE
    assert decide([check(Consequence.ROLLBACK, passed=None)], CANARY) is Verdict.PROMOTE
    required = check(Consequence.HOLD, passed=None, required=True)
    assert decide([required], CANARY) is Verdict.HOLD
    advisory = check(Consequence.ADVISORY, passed=None, required=True)
    assert decide([advisory], SHADOW) is Verdict.GO


def passing_report(name: str) -> abtool.Report:
    """A real report of each command on the sample logs, whose verdict is the passing one."""
    if name == "shadow-report":
        return abtool.shadow_report(SAMPLES / "shadow.parquet")
    if name == "canary-decide":
        return abtool.canary_report(
            SAMPLES / "canary.parquet", metric=["clicked"], stage=50, salt="canary"
        )
    if name == "bandit-report":
        from abtool.reports.bandit import bandit_report
        from tests.bandit_logs import WINNER, generate

        return bandit_report(generate(WINNER), draws=20_000)
    # The sample interleaving passes the fixed-horizon sign test (one planned look).
    return abtool.interleave_report(
        SAMPLES / "interleave.parquet", bootstrap=500, inference="fixed"
    )


DECIDING = [spec for spec in all_specs() if spec.verdicts is not None]


@pytest.mark.parametrize("spec", DECIDING, ids=[s.name for s in DECIDING])
@pytest.mark.parametrize("consequence", [Consequence.ROLLBACK, Consequence.NO_GO, Consequence.HOLD])
def test_a_new_failing_check_never_yields_go_or_promote(spec, consequence) -> None:
    report = passing_report(spec.name)
    assert spec.verdicts is not None
    assert report.verdict is spec.verdicts.passed  # the sample passes as it is
    verdict = decide([*report.checks, check(consequence)], spec.verdicts)
    assert verdict is not spec.verdicts.passed
    assert verdict.exit_code != 0


@pytest.mark.parametrize("spec", DECIDING, ids=[s.name for s in DECIDING])
def test_every_check_a_report_emits_is_declared_in_its_spec(spec) -> None:
    report = passing_report(spec.name)
    assert [c.id for c in report.checks] == [c.id for c in spec.checks]
    for emitted in report.checks:
        declared = spec.check_spec(emitted.id).consequence
        # A check may soften its declared consequence for the direction of an effect
        # (interleaving: B not yet ahead holds), never turn advisory.
        assert emitted.advisory == (declared is Consequence.ADVISORY)


def test_an_undeclared_check_cannot_be_made() -> None:
    with pytest.raises(KeyError):
        command_spec("shadow-report").make_check("not_declared", False, 1.0, 0.5, "x")
