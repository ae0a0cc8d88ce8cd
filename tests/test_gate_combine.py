"""How gate verdicts combine into one exit code, and how checks map onto JUnit test cases.

Shadow reports decide only GO/NO_GO, so HOLD, ROLLBACK, PROMOTE and advisory checks are
exercised here with Report records as the canary and interleave commands return them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest

from abtool.gate.junit import junit_xml
from abtool.gate.policy import Gate, Policy
from abtool.gate.run import GateOutcome, GateRun, combine
from abtool.records import Record
from abtool.reports.result import Check, Consequence, Report, Verdict


@dataclass(frozen=True)
class NoStats(Record):
    """A report's statistics where the test needs none."""


def outcome(name: str, verdict: Verdict | None, *, required: bool = True, checks=()) -> GateOutcome:
    gate = Gate(name, "shadow", ("logs/",), required, None, None, None, f"policy.toml:{name}")
    if verdict is None:
        return GateOutcome(gate, "shadow-report", None, "logs/: no such file or directory", 0.1)
    report = Report(
        "shadow-report", verdict, list(checks), NoStats(), reasons=[f"{name} said {verdict.value}"]
    )
    return GateOutcome(gate, "shadow-report", report, None, 0.25)


@pytest.mark.parametrize(
    ("verdicts", "fail_on_hold", "expected"),
    [
        ([Verdict.GO], False, ("GO", 0)),
        ([Verdict.PROMOTE, Verdict.GO], False, ("PROMOTE", 0)),  # first of equals
        ([Verdict.GO, Verdict.HOLD], False, ("HOLD", 3)),
        ([Verdict.GO, Verdict.HOLD], True, ("HOLD", 1)),
        ([Verdict.HOLD, Verdict.ROLLBACK], False, ("ROLLBACK", 1)),
        ([Verdict.NO_GO, Verdict.HOLD], True, ("NO_GO", 1)),
        ([Verdict.ROLLBACK, Verdict.NO_GO], False, ("ROLLBACK", 1)),
        ([Verdict.GO, None], False, ("ERROR", 2)),
        ([Verdict.NO_GO, None], True, ("ERROR", 2)),
    ],
)
def test_worst_required_verdict_decides(verdicts, fail_on_hold, expected):
    outcomes = [outcome(f"g{i}", v) for i, v in enumerate(verdicts)]
    assert combine(outcomes, fail_on_hold=fail_on_hold) == expected


def test_gates_not_required_never_change_the_exit_code_but_errors_do():
    go = outcome("a", Verdict.GO)
    assert combine([go, outcome("b", Verdict.ROLLBACK, required=False)]) == ("GO", 0)
    assert combine([go, outcome("b", Verdict.HOLD, required=False)], fail_on_hold=True) == (
        "GO",
        0,
    )
    assert combine([go, outcome("b", None, required=False)]) == ("ERROR", 2)


def test_run_dict_keeps_each_report_and_the_combined_code():
    run = GateRun(
        Policy("policy.toml", ()),
        (outcome("shadow", Verdict.GO), outcome("canary", Verdict.HOLD)),
        fail_on_hold=True,
    )
    data = run.to_dict()
    assert (data["command"], data["verdict"], data["exit_code"]) == ("gate", "HOLD", 1)
    assert data["fail_on_hold"] is True
    canary = data["gates"][1]
    assert canary["name"] == "canary" and canary["required"] is True
    assert canary["verdict"] == "HOLD" and canary["exit_code"] == 3  # the gate's own code
    assert canary["reasons"] == ["canary said HOLD"]


def test_junit_maps_statuses_onto_test_cases():
    checks = [
        Check("error_rate", True, 0.004, 0.01, "error rate 0.40%", Consequence.ROLLBACK),
        Check("latency_p99", False, 1.9, 1.5, "p99 1.9x baseline", Consequence.ROLLBACK),
        Check("distribution_shift", False, 0.2, 0.1, "KS D 0.2", Consequence.ADVISORY),
        Check("primary_metric", None, None, 0.05, "skipped: no metric", Consequence.HOLD),
    ]
    run = GateRun(
        Policy("policy.toml", ()),
        (
            outcome("canary", Verdict.ROLLBACK, checks=checks),
            outcome("interleave", Verdict.HOLD, required=False, checks=checks[1:2]),
            outcome("broken", None, required=False),
        ),
    )
    root = ET.fromstring(junit_xml(run).split("\n", 1)[1])
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "8",  # 4 + 1 + 0 checks, + 3 verdict cases
        "2",  # the canary's latency check and its verdict
        "1",  # the broken gate
        "1",
    )
    canary = suites["canary"]
    failure = canary.find("testcase[@name='latency_p99']/failure")
    assert failure.get("message") == "latency_p99: value 1.90, threshold 1.50: p99 1.9x baseline"
    advisory = canary.find("testcase[@name='distribution_shift']")
    assert advisory.find("failure") is None
    assert advisory.findtext("system-out").startswith("advisory: distribution_shift: value 0.2")
    assert canary.find("testcase[@name='primary_metric']/skipped").get("message") == (
        "skipped: no metric"
    )
    assert canary.find("testcase[@name='verdict']/failure").get("type") == "ROLLBACK"
    # Not required: the failed check and the HOLD are reported, not failed.
    interleave = suites["interleave"]
    assert interleave.get("failures") == "0"
    assert interleave.findtext("testcase[@name='verdict']/system-out") == (
        "not required: HOLD: interleave said HOLD"
    )
    # An unusable gate is an error whatever `required` says: it exits 2.
    error = suites["broken"].find("testcase[@name='verdict']/error")
    assert error.get("message") == "logs/: no such file or directory"
    assert error.text == "policy.toml:broken: logs/: no such file or directory"
