"""`abtool canary-decide` and `abtool assign`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
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


def canary_decide_command(
    paths: Paths,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            "-m",
            help="Outcome column (repeatable): the first is primary, the others secondary.",
        ),
    ] = None,
    metric_type: Annotated[
        str,
        typer.Option(help="auto (0/1 or boolean = proportion), proportion or continuous."),
    ] = "auto",
    stage: Annotated[
        float | None,
        typer.Option(help="Current treatment share in percent (SRM expectation, next stage)."),
    ] = None,
    control: Annotated[
        str | None, typer.Option(help="Control value of the variant column.")
    ] = None,
    treatment: Annotated[
        str | None, typer.Option(help="Treatment value of the variant column.")
    ] = None,
    segment: Annotated[
        list[str] | None,
        typer.Option(
            "--segment",
            "-s",
            help="Segment column (repeatable): primary-metric lift in its 3 largest values.",
        ),
    ] = None,
    allow_neutral: Annotated[
        bool,
        typer.Option(help="Promote when the primary metric is not significantly negative."),
    ] = False,
    bootstrap: Annotated[
        int, typer.Option(min=0, help="Add a percentile bootstrap CI with N unit resamples.")
    ] = 0,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the bootstrap.")] = 0,
    salt: Annotated[
        str | None,
        typer.Option(help="Assignment salt: count units logged against their md5 bucket."),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    unit: Annotated[str, typer.Option(help="Randomization unit column.")] = "user_id",
    variant_col: Annotated[str, typer.Option(help="Variant column.")] = "model_variant",
    time_col: Annotated[str, typer.Option(help="Timestamp column.")] = "ts",
    prediction_col: Annotated[str, typer.Option(help="Model prediction (score).")] = "prediction",
    latency_col: Annotated[str, typer.Option(help="Latency (ms).")] = "latency_ms",
    error_col: Annotated[str, typer.Option(help="Error flag (bool, code or message).")] = "error",
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.rich,
    output: OutputOption = None,
) -> None:
    """Promote, hold or roll back a canary / A/B split: guardrails, SRM, lift and significance."""
    from abtool.config import CanaryThresholds, load_thresholds
    from abtool.logs.canary import CanaryColumns
    from abtool.reports.canary import CanaryOptions, canary_report

    thresholds = load_thresholds(CanaryThresholds, "canary", config)
    columns = CanaryColumns(
        time=time_col,
        unit=unit,
        variant=variant_col,
        prediction=prediction_col,
        latency=latency_col,
        error=error_col,
    )
    options = CanaryOptions(
        metrics=tuple(metric or ()),
        metric_type=metric_type,
        segments=tuple(segment or ()),
        control=control,
        treatment=treatment,
        stage=stage,
        salt=salt,
        allow_neutral=allow_neutral,
        bootstrap=bootstrap,
        seed=seed,
        since=since,
        until=until,
    )
    run_report(
        canary_report,
        paths,
        columns=columns,
        options=options,
        thresholds=thresholds,
        fmt=fmt,
        output=output,
    )


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
