"""Markdown output, for pull-request comments and job summaries."""

from __future__ import annotations

from collections.abc import Sequence

from abtool.escape import code_fence, markdown_text, printable
from abtool.render.blocks import Block, Facts, Outcome, Preformatted, Table, checklist_table

VERDICT_EMOJI = {
    "GO": "✅",
    "PROMOTE": "✅",
    "NO_GO": "❌",
    "ROLLBACK": "❌",
    "HOLD": "⏸️",
    "WINNER": "✅",
    "CONTINUE": "⏸️",
    "ERROR": "⚠️",  # abtool gate: a gate could not be evaluated
    "INFO": "ℹ️",  # planning commands decide nothing
}


def _escape(cell: str) -> str:
    # Values come from the log (segment values, column names): shown as text, never as
    # markup, HTML or a broken table (see abtool.escape).
    return markdown_text(cell)


def _table(block: Table) -> list[str]:
    align = ["---:" if i in block.numeric else "---" for i in range(len(block.columns))]
    lines = [f"### {_escape(block.title)}", ""]
    lines.append("| " + " | ".join(_escape(c) or " " for c in block.columns) + " |")
    lines.append("| " + " | ".join(align) + " |")
    lines += ["| " + " | ".join(_escape(c) for c in row) + " |" for row in block.rows]
    return [*lines, ""]


def render_block(block: Block) -> list[str]:
    """Markdown lines of one block."""
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Facts):
        lines = [f"### {_escape(block.title)}", ""]
        lines += [f"- **{_escape(label)}**: {_escape(value)}" for label, value in block.items]
        return [*lines, ""]
    assert isinstance(block, Preformatted)
    text = printable(block.text, newlines=True)
    fence = code_fence(text)
    return [f"### {_escape(block.title)}", "", fence, text, fence, ""]


def render_markdown(report: Outcome, blocks: Sequence[Block]) -> str:
    """The whole report as GitHub-flavoured markdown."""
    verdict = str(report.verdict)
    lines = [f"## abtool {report.command}: {VERDICT_EMOJI.get(verdict, '')} {verdict}", ""]
    lines += [f"- {_escape(reason)}" for reason in report.reasons]
    lines.append("")
    if report.checks:
        lines += render_block(checklist_table(report.checks))
    for block in blocks:
        lines += render_block(block)
    if report.warnings:
        lines += ["### Warnings", ""] + [f"- {_escape(w)}" for w in report.warnings] + [""]
    return "\n".join(lines).rstrip() + "\n"
