"""`abtool assign`: the deterministic bucket of each unit."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from abtool.cli.options import FormatOption
from abtool.render import OutputFormat


def assign_command(
    salt: Annotated[str, typer.Option(help="Experiment salt.", show_default=False)],
    percent: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=100.0,
            help="Treatment share in percent (5 for a 5% canary).",
            show_default=False,
        ),
    ] = None,
    fraction: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Deprecated, use --percent: treatment share as 0..1.",
            show_default=False,
        ),
    ] = None,
    users: Annotated[
        list[str] | None, typer.Argument(help="Unit ids to assign.", show_default=False)
    ] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from", help="File of unit ids, one per line.")
    ] = None,
    fmt: FormatOption = OutputFormat.rich,
) -> None:
    """Deterministic bucket of each unit: md5("SALT:unit") mod 10000 < PERCENT * 100."""
    from abtool.assignment import bucket
    from abtool.errors import UsageError

    fraction = _treatment_fraction(percent, fraction)
    units = list(users or [])
    if from_file is not None:
        try:
            text = from_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{from_file}: cannot read unit ids ({exc})") from None
        units += [line.strip() for line in text.splitlines() if line.strip()]
    if not units:
        raise UsageError("no unit ids given (pass them as arguments or with --from FILE)")
    buckets = [bucket(salt, unit) for unit in units]
    variants = ["treatment" if b < fraction * 10_000 else "control" for b in buckets]
    if fmt is OutputFormat.json:
        rows = [
            {"unit": u, "bucket": b, "variant": v}
            for u, b, v in zip(units, buckets, variants, strict=True)
        ]
        document = {"salt": salt, "percent": 100 * fraction, "fraction": fraction, "units": rows}
        sys.stdout.write(json.dumps(document, indent=2))
        sys.stdout.write("\n")
    elif fmt is OutputFormat.markdown:
        lines = ["| unit | bucket | variant |", "| --- | ---: | --- |"]
        lines += [f"| {u} | {b} | {v} |" for u, b, v in zip(units, buckets, variants, strict=True)]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        width = max(len(u) for u in units)
        for u, b, v in zip(units, buckets, variants, strict=True):
            sys.stdout.write(f"{u:<{width}}  {b:>5}  {v}\n")


def _treatment_fraction(percent: float | None, fraction: float | None) -> float:
    """The treatment share as a fraction, from --percent or the deprecated --fraction."""
    from abtool.errors import UsageError

    if percent is not None and fraction is not None:
        raise UsageError("give --percent or --fraction, not both")
    if fraction is not None:
        typer.echo(
            "abtool: warning: --fraction is deprecated and will be removed in the next release; "
            f"use --percent {100 * fraction:g}",
            err=True,
        )
        return fraction
    if percent is None:
        raise UsageError("--percent is required: the treatment share in percent (5 for 5%)")
    if 0 < percent < 1:
        typer.echo(
            f"abtool: warning: --percent {percent:g} means {percent:g}% of units; for a "
            f"{100 * percent:g}% share give --percent {100 * percent:g}",
            err=True,
        )
    return percent / 100.0
