"""`abtool shadow-report`."""

from __future__ import annotations

from typing import Annotated

import typer

from abtool.cli.options import (
    ConfigOption,
    FormatOption,
    OutputOption,
    Paths,
    SinceOption,
    UntilOption,
    run_report,
)
from abtool.render import OutputFormat


def shadow_report_command(
    paths: Paths,
    threshold: Annotated[
        float, typer.Option(help="Decision threshold on scores for the agreement rate.")
    ] = 0.5,
    segment: Annotated[
        list[str] | None,
        typer.Option(
            "--segment",
            "-s",
            help="Segment column (repeatable). Default: every string/categorical non-id column.",
        ),
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Segment values shown per column.")] = 10,
    min_segment_rows: Annotated[
        int, typer.Option(min=1, help="Segment values with fewer rows are not ranked.")
    ] = 30,
    since: SinceOption = None,
    until: UntilOption = None,
    time_col: Annotated[str, typer.Option(help="Timestamp column.")] = "ts",
    primary_col: Annotated[str, typer.Option(help="Primary (serving) model's prediction.")] = (
        "primary_prediction"
    ),
    shadow_col: Annotated[str, typer.Option(help="Shadow (candidate) model's prediction.")] = (
        "shadow_prediction"
    ),
    primary_latency_col: Annotated[str, typer.Option(help="Primary latency (ms).")] = (
        "primary_latency_ms"
    ),
    shadow_latency_col: Annotated[str, typer.Option(help="Shadow latency (ms).")] = (
        "shadow_latency_ms"
    ),
    error_col: Annotated[
        str, typer.Option(help="Shadow error flag (bool, code or message).")
    ] = "shadow_error",
    id_col: Annotated[
        list[str] | None,
        typer.Option(help="Id columns never used as segments (repeatable)."),
    ] = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.rich,
    output: OutputOption = None,
) -> None:
    """Can the shadow candidate go to a 1% canary? KS test, agreement, segments, latency."""
    from abtool.config import ShadowThresholds, load_thresholds
    from abtool.logs.shadow import ShadowColumns
    from abtool.reports.shadow import ShadowOptions, shadow_report

    thresholds = load_thresholds(ShadowThresholds, "shadow", config)
    columns = ShadowColumns(
        time=time_col,
        primary=primary_col,
        shadow=shadow_col,
        primary_latency=primary_latency_col,
        shadow_latency=shadow_latency_col,
        shadow_error=error_col,
        id_columns=tuple(id_col or ("request_id",)),
    )
    options = ShadowOptions(
        threshold=threshold,
        segments=segment or None,
        top=top,
        min_segment_rows=min_segment_rows,
        since=since,
        until=until,
    )
    run_report(
        shadow_report,
        paths,
        columns=columns,
        options=options,
        thresholds=thresholds,
        fmt=fmt,
        output=output,
    )
