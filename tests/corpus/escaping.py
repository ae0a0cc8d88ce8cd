"""Escaping: values from the log reaching markdown, the terminal and JUnit XML."""

from __future__ import annotations

import polars as pl

from tests.corpus.base import (
    REPORTS,
    case,
    hostile_frame,
    junit_safe,
    markdown_safe,
    rich_safe,
    shadow_log,
)
from tests.corpus.inputs import shadow_frame

case(
    "hostile_markdown",
    "escape",
    "segment values with |, HTML, ANSI, newlines, links",
    lambda d: [
        "shadow-report",
        shadow_log(d, hostile_frame()),
        "-f",
        "markdown",
        "--min-segment-rows",
        "1",
    ],
    REPORTS,
    check=markdown_safe,
)
case(
    "hostile_rich",
    "escape",
    "the same values on the terminal renderer",
    lambda d: ["shadow-report", shadow_log(d, hostile_frame()), "--min-segment-rows", "1"],
    REPORTS,
    check=rich_safe,
)
case(
    "hostile_junit",
    "escape",
    "control characters reaching gate --junit",
    lambda d: (
        shadow_log(d, hostile_frame()),
        (d / "p.toml").write_text(
            '[[gate]]\nname = "x\\u001b[31m<&>\\u0001"\n'
            'kind = "shadow"\npaths = ["log.parquet"]\n'
            'segment = ["country"]\nmin_segment_rows = 1\n'
        ),
        ["gate", "p.toml", "--junit", "junit.xml", "-f", "json"],
    )[-1],
    REPORTS,
    check=junit_safe,
    writes=("junit.xml",),
)
case(
    "rich_markup_in_names",
    "escape",
    "a column and values written as Rich markup ([/], [bold])",
    lambda d: [
        "shadow-report",
        shadow_log(d, shadow_frame().with_columns(pl.lit("[/red] [bold]x").alias("seg[/]"))),
        "--segment",
        "seg[/]",
    ],
    REPORTS,
    check=lambda o: (
        ("[/red] [bold]x" in o.stdout and "seg[/]" in o.stdout)
        or (_ for _ in ()).throw(AssertionError(o.stdout))
    ),
)
