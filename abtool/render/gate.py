"""Sections of `abtool gate`: one table of all gates, then each gate's checklist."""

from __future__ import annotations

from typing import TYPE_CHECKING

from abtool.render.blocks import Block, Facts, Table, checklist_table

if TYPE_CHECKING:
    from abtool.gate.run import GateOutcome, GateRun


def sections(run: GateRun) -> list[Block]:
    """Blocks of a gate run, built from its outcomes."""
    rows = [
        [
            o.gate.name,
            o.gate.kind,
            "yes" if o.gate.required else "no",
            o.verdict,
            failed_checks(o),
            key_figures(o),
        ]
        for o in run.outcomes
    ]
    blocks: list[Block] = [
        Table(
            "Gates", ["gate", "kind", "required", "verdict", "failed checks", "key figures"], rows
        )
    ]
    for outcome in run.outcomes:
        title = f"{outcome.gate.name} ({outcome.command}): {outcome.verdict}"
        if outcome.report is None:
            blocks.append(
                Facts(
                    title,
                    [
                        ("error", str(outcome.error)),
                        ("paths", ", ".join(outcome.gate.paths)),
                        ("defined at", outcome.gate.location),
                    ],
                )
            )
        else:
            checklist = checklist_table(outcome.report.checks)
            blocks.append(Table(title, checklist.columns, checklist.rows, checklist.numeric))
    return blocks


def failed_checks(outcome: GateOutcome) -> str:
    """Ids of the gate's failed checks; advisory ones marked, '-' when none failed."""
    if outcome.report is None:
        return "(not evaluated)"
    failed = [
        c.id + (" (advisory)" if c.advisory else "")
        for c in outcome.report.checks
        if c.passed is False
    ]
    return ", ".join(failed) or "-"


def key_figures(outcome: GateOutcome) -> str:
    """The headline numbers of a gate's report, as its command's renderer formats them."""
    if outcome.report is None:
        return str(outcome.error)
    from abtool.render import render_module

    figures: str = render_module(outcome.command).key_figures(outcome.report)
    return figures
