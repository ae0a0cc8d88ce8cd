"""JUnit XML of a gate run, so that CI systems show each check as a test.

One ``<testsuite>`` per gate and one ``<testcase>`` per check, plus a ``verdict`` test case per
gate (a gate can HOLD or error without any failed check). The rule: a test case fails exactly
when it is a reason the run exits non-zero, so a CI test report and the exit code agree.

- failed gating check of a required gate: ``<failure>`` whose message carries the value and
  the threshold;
- check that could not be evaluated: ``<skipped>`` with the reason;
- failed advisory check, or failed check of a ``required = false`` gate: a passing test case
  whose ``<system-out>`` says what failed and why it does not gate;
- ``verdict``: ``<error>`` when the gate could not run; ``<failure>`` when a required gate
  says NO_GO/ROLLBACK or HOLD; passing otherwise.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from abtool.escape import xml_text
from abtool.render.blocks import fmt_number

if TYPE_CHECKING:
    from abtool.gate.run import GateOutcome, GateRun
    from abtool.reports.result import Check


def junit_xml(run: GateRun) -> str:
    """The JUnit XML document of a gate run."""
    root = ET.Element("testsuites", name=f"abtool gate {run.policy.path}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for outcome in run.outcomes:
        suite = _suite(outcome)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    _set_counts(root, totals)
    root.set("time", f"{sum(round(o.seconds, 3) for o in run.outcomes):.3f}")
    _xml_safe(root)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _xml_safe(root: ET.Element) -> None:
    """Drop characters XML 1.0 cannot hold from every text and attribute (values from the
    log could otherwise make the whole file unparseable); ElementTree escapes the rest."""
    for element in root.iter():
        if element.text:
            element.text = xml_text(element.text)
        for key, value in element.attrib.items():
            element.set(key, xml_text(value))


def _suite(outcome: GateOutcome) -> ET.Element:
    gate = outcome.gate
    suite = ET.Element("testsuite", name=gate.name, time=f"{outcome.seconds:.3f}")
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("kind", gate.kind),
        ("command", outcome.command),
        ("required", str(gate.required).lower()),
        ("verdict", outcome.verdict),
        ("location", gate.location),
    ):
        ET.SubElement(properties, "property", name=name, value=str(value))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    classname = f"abtool.gate.{gate.name}"
    checks = outcome.report.checks if outcome.report is not None else ()
    for check in checks:
        case = ET.SubElement(suite, "testcase", classname=classname, name=check.id)
        counts["tests"] += 1
        detail = _detail(check)
        if check.status == "skip":
            ET.SubElement(case, "skipped", message=check.message)
            counts["skipped"] += 1
        elif check.status == "fail" and gate.required:
            failure = ET.SubElement(case, "failure", message=detail, type="check_failed")
            failure.text = detail
            counts["failures"] += 1
        elif check.status == "fail":
            _out(case, f"not required: {detail} (the gate has required = false)")
        elif check.status == "warn":
            _out(case, f"advisory: {detail} (advisory checks do not change the verdict)")
        else:
            _out(case, detail)
    case = ET.SubElement(suite, "testcase", classname=classname, name="verdict")
    counts["tests"] += 1
    reasons = [outcome.error] if outcome.report is None else list(outcome.report.reasons)
    summary = f"{outcome.verdict}: " + "; ".join(r for r in reasons if r)
    if outcome.report is None:
        error = ET.SubElement(case, "error", message=str(outcome.error), type="unusable_input")
        error.text = f"{gate.location}: {outcome.error}"
        counts["errors"] += 1
    elif outcome.exit_code != 0 and gate.required:
        failure = ET.SubElement(case, "failure", message=summary, type=outcome.verdict)
        failure.text = summary
        counts["failures"] += 1
    elif outcome.exit_code != 0:
        _out(case, f"not required: {summary}")
    else:
        _out(case, summary)
    _set_counts(suite, counts)
    return suite


def _detail(check: Check) -> str:
    return (
        f"{check.id}: value {fmt_number(check.value)}, threshold "
        f"{fmt_number(check.threshold)}: {check.message}"
    )


def _out(case: ET.Element, text: str) -> None:
    ET.SubElement(case, "system-out").text = text


def _set_counts(element: ET.Element, counts: dict[str, int]) -> None:
    for key, value in counts.items():
        element.set(key, str(value))
