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
    fraction: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Treatment share, 0..1.", show_default=False)
    ],
    users: Annotated[
        list[str] | None, typer.Argument(help="Unit ids to assign.", show_default=False)
    ] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from", help="File of unit ids, one per line.")
    ] = None,
    fmt: FormatOption = OutputFormat.rich,
) -> None:
    """Deterministic bucket of each unit: md5("SALT:unit") mod 10000 < FRACTION * 10000."""
    from abtool.assignment import bucket
    from abtool.errors import UsageError

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
        sys.stdout.write(json.dumps({"salt": salt, "fraction": fraction, "units": rows}, indent=2))
        sys.stdout.write("\n")
    elif fmt is OutputFormat.markdown:
        lines = ["| unit | bucket | variant |", "| --- | ---: | --- |"]
        lines += [f"| {u} | {b} | {v} |" for u, b, v in zip(units, buckets, variants, strict=True)]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        width = max(len(u) for u in units)
        for u, b, v in zip(units, buckets, variants, strict=True):
            sys.stdout.write(f"{u:<{width}}  {b:>5}  {v}\n")
