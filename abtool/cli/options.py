"""Options every analysis command shares, and the one way a report reaches the user."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from abtool.render import OutputFormat

if TYPE_CHECKING:
    from abtool.reports.result import Report

Paths = Annotated[
    list[str],
    typer.Argument(
        help="Parquet files, globs or (hive-partitioned) directories.", show_default=False
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="Output format: rich (terminal), json or markdown."),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the report to this file instead of stdout."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML file of thresholds by check id (see README)."),
]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Keep rows at or after this ISO time (UTC if naive).")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Keep rows before this ISO time (UTC if naive).")
]


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


def run_report(
    report_function: Callable[..., Report],
    paths: list[str],
    *,
    columns: Any,
    options: Any,
    thresholds: Any,
    fmt: OutputFormat,
    output: Path | None,
) -> None:
    """Run a log report (with a spinner on a terminal), then emit it and exit with its code."""
    with progress(fmt) as update:
        report = report_function(
            paths, columns=columns, options=options, thresholds=thresholds, progress=update
        )
    emit(report, fmt, output)


def emit(report: Report, fmt: OutputFormat, output: Path | None) -> None:
    """Render the report, write it to stdout or ``output``, and exit with its code."""
    from abtool.render import render

    to_terminal = output is None and sys.stdout.isatty()
    width = shutil.get_terminal_size((100, 24)).columns if to_terminal else 100
    text = render(report.to_dict(), fmt, width=width, color=to_terminal)
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            from abtool.errors import UsageError

            raise UsageError(f"{output}: cannot write output ({exc.strerror or exc})") from None
        typer.echo(f"abtool: wrote {output} (verdict {report.verdict.value})", err=True)
    raise typer.Exit(report.exit_code)
