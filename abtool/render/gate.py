"""Sections of `abtool gate`: one table of all gates, then each gate's checklist."""

from __future__ import annotations

from typing import Any

from abtool.render.blocks import Block, Facts, Table, checklist_table


def sections(report: dict[str, Any]) -> list[Block]:
    """Blocks of a gate run, built only from its JSON dictionary."""
    rows = [
        [
            gate["name"],
            gate["kind"],
            "yes" if gate["required"] else "no",
            gate["verdict"],
            failed_checks(gate),
            key_figures(gate),
        ]
        for gate in report["gates"]
    ]
    blocks: list[Block] = [
        Table(
            "Gates", ["gate", "kind", "required", "verdict", "failed checks", "key figures"], rows
        )
    ]
    for gate in report["gates"]:
        title = f"{gate['name']} ({gate['command']}): {gate['verdict']}"
        if gate["verdict"] == "ERROR":
            blocks.append(
                Facts(
                    title,
                    [
                        ("error", gate["error"]),
                        ("paths", ", ".join(gate["inputs"]["paths"])),
                        ("defined at", gate["location"]),
                    ],
                )
            )
        else:
            checklist = checklist_table(gate)
            blocks.append(Table(title, checklist.columns, checklist.rows, checklist.numeric))
    return blocks


def failed_checks(gate: dict[str, Any]) -> str:
    """Ids of the gate's failed checks; advisory ones marked, '-' when none failed."""
    if gate["verdict"] == "ERROR":
        return "(not evaluated)"
    failed = [
        c["id"] + (" (advisory)" if c["advisory"] else "")
        for c in gate["checks"]
        if c["passed"] is False
    ]
    return ", ".join(failed) or "-"


def key_figures(gate: dict[str, Any]) -> str:
    """The headline numbers of a gate's report, as its kind formats them."""
    if gate["verdict"] == "ERROR":
        return str(gate["error"])
    from abtool.gate.kinds import get_kind, kind_names

    if gate["kind"] not in kind_names():
        return ""
    return get_kind(gate["kind"]).key_figures(gate)
