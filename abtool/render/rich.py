"""Rich terminal output: a verdict panel, the checklist, then the command's sections."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from abtool.escape import printable
from abtool.render.blocks import Block, Facts, Outcome, Preformatted, Table, checklist_table

VERDICT_STYLE = {
    "GO": "bold green",
    "PROMOTE": "bold green",
    "NO_GO": "bold red",
    "ROLLBACK": "bold red",
    "HOLD": "bold yellow",
    "WINNER": "bold green",
    "CONTINUE": "bold yellow",
    "INFO": "bold",
    "ERROR": "bold red",  # abtool gate: a gate could not be evaluated
}
STATUS_STYLE = {"✓": "green", "✗": "red", "!": "yellow", "-": "dim"}


def _table(block: Table) -> RichTable:
    # Values from the log reach a terminal: control characters are stripped (abtool.escape).
    table = RichTable(title=Text(printable(block.title)), title_justify="left", expand=False)
    for i, name in enumerate(block.columns):
        table.add_column(Text(printable(name)), justify="right" if i in block.numeric else "left")
    for row in block.rows:
        cells = [Text(printable(c), style=STATUS_STYLE.get(c, "")) for c in row]
        table.add_row(*cells)
    return table


def to_renderable(block: Block) -> RenderableType:
    """The Rich renderable of one block."""
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Facts):
        grid = RichTable.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for label, value in block.items:
            grid.add_row(Text(printable(label)), Text(printable(value)))
        return Panel(grid, title=Text(printable(block.title)), title_align="left", expand=False)
    assert isinstance(block, Preformatted)
    text = Text(printable(block.text, newlines=True))
    return Panel(text, title=Text(printable(block.title)), title_align="left", expand=False)


def render_rich(report: Outcome, blocks: Sequence[Block], *, width: int | None, color: bool) -> str:
    """The report as terminal text (ANSI colours only when ``color``)."""
    console = Console(
        width=width or 100,
        record=True,
        force_terminal=color,
        color_system="auto" if color else None,
        file=io.StringIO(),
    )
    verdict = str(report.verdict)
    header = Text.assemble(
        ("abtool " + report.command + "  ", "bold"),
        (verdict, VERDICT_STYLE.get(verdict, "bold")),
    )
    reasons = Text("\n".join(f"• {printable(r)}" for r in report.reasons))
    parts: list[RenderableType] = [Panel(Group(header, reasons), expand=False)]
    if report.checks:
        parts.append(_table(checklist_table(report.checks)))
    parts += [to_renderable(b) for b in blocks]
    if report.warnings:
        warnings = "\n".join(f"warning: {printable(w)}" for w in report.warnings)
        parts.append(Text(warnings, style="yellow"))
    for part in parts:
        console.print(part)
    return console.export_text(styles=color)
