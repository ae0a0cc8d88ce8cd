"""Run a spec-declared command from its parsed command line, and emit its report."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from abtool.render import OutputFormat
from abtool.spec import CommandSpec

if TYPE_CHECKING:
    from abtool.reports.result import Report


def run_command(spec: CommandSpec, values: dict[str, Any]) -> None:
    """Validate the values, run the command's library function, emit, exit with its code.

    Values that were not given (None) keep the field's default; every other value is checked
    by :meth:`CommandSpec.build` with the flag in the message.
    """
    paths = values.pop("paths", None)
    config = values.pop("config", None)
    fmt: OutputFormat = values.pop("fmt")
    output: Path | None = values.pop("output")
    given = {key: value for key, value in values.items() if value is not None}
    columns, options = spec.build(given, name=lambda bound: bound.setting.flag)
    runner = spec.runner()
    if not spec.reads_logs:
        emit(runner(options=options), fmt, output)
        return
    from abtool.config import load_thresholds

    thresholds = load_thresholds(spec, config) if spec.thresholds is not None else None
    from abtool.engines import engine_settings

    # --engine and --spark-master; imports the engine (Polars) before the prefetch starts:
    # two imports side by side only take turns holding the GIL, while the read that follows
    # releases it.
    settings = engine_settings(options)
    if spec.prefetch:
        from abtool.prefetch import prefetch

        prefetch(*spec.prefetch)
    with progress(fmt) as update:
        report = runner(
            paths,
            columns=columns,
            options=options,
            thresholds=thresholds,
            progress=update,
            **settings,
        )
    emit(report, fmt, output)


@contextmanager
def progress(fmt: OutputFormat) -> Iterator[Callable[[str], None] | None]:
    """A Rich status spinner on stderr while the command works.

    Shown only for rich output on an interactive terminal, never in json/markdown output or
    in CI logs.
    """
    if fmt is not OutputFormat.rich or not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("Reading logs") as status:

        def update(message: str) -> None:
            status.update(message)

        yield update


def emit(report: Report[Any], fmt: OutputFormat, output: Path | None) -> None:
    """Render the report, write it to stdout or ``output``, and exit with its code."""
    show(report, fmt, output)
    if output is not None:
        typer.echo(f"abtool: wrote {output} (verdict {report.verdict.value})", err=True)
    raise typer.Exit(report.exit_code)


def show(result: Any, fmt: OutputFormat, output: Path | None, width: int = 100) -> None:
    """Render a report or gate run to stdout (the terminal's width and colours) or a file."""
    from abtool.render import render

    to_terminal = output is None and sys.stdout.isatty()
    if to_terminal:
        width = shutil.get_terminal_size((width, 24)).columns
    from abtool.escape import unicode_safe

    text = unicode_safe(render(result, fmt, width=width, color=to_terminal))
    if output is None:
        sys.stdout.write(text)
    else:
        write_output(output, text)


def write_output(path: Path, text: str) -> None:
    """Write a report file: atomically, and never over an input of the run
    (:func:`abtool.outputs.write_text`).

    Raises:
        UsageError: the file is an input of the run or cannot be written (one line naming it).
    """
    from abtool.outputs import write_text

    write_text(path, text)
