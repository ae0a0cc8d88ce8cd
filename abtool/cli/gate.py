"""`abtool gate POLICY.toml`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from abtool.cli.options import FormatOption, OutputOption
from abtool.cli.run import progress, show, write_output
from abtool.render import OutputFormat


def gate_command(
    policy: Annotated[
        Path,
        typer.Argument(
            help="Rollout policy TOML: [[gate]] tables of kind, paths, options, thresholds.",
            show_default=False,
        ),
    ],
    junit: Annotated[
        Path | None,
        typer.Option("--junit", help="Also write JUnit XML here: one test case per check."),
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option(
            "--markdown",
            help="Also write a markdown summary here (a PR comment or $GITHUB_STEP_SUMMARY).",
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Also write one HTML page: every gate's verdict, then its report."
        ),
    ] = None,
    fail_on_hold: Annotated[
        bool,
        typer.Option("--fail-on-hold", help="Exit 1 instead of 3 when a required gate says HOLD."),
    ] = False,
    fmt: FormatOption = OutputFormat.rich,
    output: OutputOption = None,
) -> None:
    """Run every gate of a rollout policy and exit with the worst verdict of the required ones."""
    from abtool.gate.junit import junit_xml
    from abtool.gate.policy import load_policy
    from abtool.gate.run import run_policy
    from abtool.render import render

    loaded = load_policy(policy)
    with progress(fmt) as update:
        run = run_policy(loaded, fail_on_hold=fail_on_hold, progress=update)
    if junit is not None:
        write_output(junit, junit_xml(run))
    if markdown is not None:
        write_output(markdown, render(run, OutputFormat.markdown))
    if html is not None:
        write_output(html, render(run, OutputFormat.html))
    show(run, fmt, output, width=120)
    for failed in run.errors:
        typer.echo(
            f"abtool: error: gate '{failed.gate.name}' ({failed.gate.location}): {failed.error}",
            err=True,
        )
    raise typer.Exit(run.exit_code)
