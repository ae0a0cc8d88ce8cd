"""Render a report (or a gate run) as rich text, JSON, markdown or HTML, all from one result.

JSON is the result's ``to_dict()``; the other formats read the result's attributes through
each command's ``sections(result)`` (format-neutral :mod:`abtool.render.blocks`), found from
the command's spec.
"""

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
    html = "html"


def render_module(command: str) -> Any:
    """The module with ``sections(result)`` and ``key_figures(result)`` of a command."""
    if command == "gate":
        return importlib.import_module("abtool.render.gate")
    from abtool.commands import command_spec

    return importlib.import_module(command_spec(command).render)


def sections_for(command: str) -> Callable[[Any], list[Block]]:
    """The section builder of a command."""
    builder: Callable[[Any], list[Block]] = render_module(command).sections
    return builder


def render(result: Any, fmt: OutputFormat, *, width: int | None = None, color: bool = False) -> str:
    """Render a report (or a gate run) as text in the chosen format."""
    if fmt is OutputFormat.json:
        from abtool.render.json import render_json

        return render_json(result.to_dict())
    blocks = sections_for(result.command)(result)
    if fmt is OutputFormat.html:
        from abtool.render.html import render_html

        return render_html(result, blocks)
    if fmt is OutputFormat.markdown:
        from abtool.render.markdown import render_markdown

        return render_markdown(result, blocks)
    from abtool.render.rich import render_rich

    return render_rich(result, blocks, width=width, color=color)
