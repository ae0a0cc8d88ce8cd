"""Options every report command shares: format, output, config, and the log paths."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from abtool.render import OutputFormat

Paths = Annotated[
    list[str],
    typer.Argument(
        help="Parquet files, globs or (hive-partitioned) directories.",
        show_default=False,
        metavar="PATH...",
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        help="Output format: rich (terminal), json, markdown or html (a self-contained page).",
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the report to this file instead of stdout."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML file of thresholds by check id (see README)."),
]
