"""Render a Report as rich text, JSON or markdown; every format reads ``Report.to_dict()``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from abtool.render.blocks import Block


class OutputFormat(StrEnum):
    """The ``--format`` choices."""

    rich = "rich"
    json = "json"
    markdown = "markdown"


# command -> module with `sections(report_dict) -> list[Block]` for its own figures.
_SECTION_MODULES = {
    "shadow-report": "abtool.render.shadow",
    "sample-size": "abtool.render.sample_size",
    "gate": "abtool.render.gate",
    "interleave-report": "abtool.render.interleave",
    "canary-decide": "abtool.render.canary",
}


def sections_for(command: str) -> Callable[[dict[str, Any]], list[Block]]:
    """The section builder of a command (no sections for a command without one)."""
    module_name = _SECTION_MODULES.get(command)
    if module_name is None:
        return lambda _report: []
    module = importlib.import_module(module_name)
    builder: Callable[[dict[str, Any]], list[Block]] = module.sections
    return builder


def render(
    report: dict[str, Any], fmt: OutputFormat, *, width: int | None = None, color: bool = False
) -> str:
    """Render a report dictionary as text in the chosen format."""
    if fmt is OutputFormat.json:
        from abtool.render.json import render_json

        return render_json(report)
    blocks = sections_for(report["command"])(report)
    if fmt is OutputFormat.markdown:
        from abtool.render.markdown import render_markdown

        return render_markdown(report, blocks)
    from abtool.render.rich import render_rich

    return render_rich(report, blocks, width=width, color=color)
