"""`abtool sample-size`."""

from __future__ import annotations

from typing import Annotated

import typer

from abtool.cli.options import FormatOption, OutputOption, emit
from abtool.render import OutputFormat


def sample_size_command(
    baseline: Annotated[
        float | None,
        typer.Option(help="Control proportion (0-1), or control mean of a continuous metric."),
    ] = None,
    sd: Annotated[
        float | None, typer.Option(help="Standard deviation per unit: makes the metric continuous.")
    ] = None,
    mde: Annotated[
        float | None,
        typer.Option(help="Minimum detectable effect, absolute (treatment - control)."),
    ] = None,
    mde_rel: Annotated[
        float | None,
        typer.Option(help="Minimum detectable effect relative to --baseline (0.05 = 5%)."),
    ] = None,
    n: Annotated[
        int | None,
        typer.Option(
            "--n",
            help="Control units (decisive sessions): solve for the MDE, or with --mde the power.",
        ),
    ] = None,
    n_total: Annotated[
        int | None, typer.Option(help="All units over every group, instead of --n.")
    ] = None,
    alpha: Annotated[float, typer.Option(help="Family-wise significance level.")] = 0.05,
    power: Annotated[float, typer.Option(help="Target power.")] = 0.8,
    sided: Annotated[str, typer.Option(help="two or one (one: in the MDE's direction).")] = "two",
    ratio: Annotated[
        str | None,
        typer.Option(
            help="Treatment:control allocation: 0.05/0.95 (a 5% canary), 5:95, or treatment "
            "units per control unit. Default 1."
        ),
    ] = None,
    variants: Annotated[
        int | None,
        typer.Option(
            help="Treatments sharing the control (Bonferroni alpha / variants). Default 1."
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="proportion, continuous or interleaving (default: from the options)."),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(help="proportion: cohen-h (default) or t-approx; continuous: t-test."),
    ] = None,
    win_rate: Annotated[
        float | None,
        typer.Option(help="Interleaving: share of decisive sessions the new ranker wins."),
    ] = None,
    tie_rate: Annotated[
        float | None,
        typer.Option(help="Interleaving: share of sessions without a preference. Default 0."),
    ] = None,
    daily_units: Annotated[
        float | None, typer.Option(help="Units (sessions) entering per day: gives the days.")
    ] = None,
    fmt: FormatOption = OutputFormat.rich,
    output: OutputOption = None,
) -> None:
    """How many units (or sessions), and how many days, to detect an effect?"""
    from abtool.reports.sample_size import SampleSizeOptions, parse_ratio, sample_size_report

    options = SampleSizeOptions(
        kind=kind,
        baseline=baseline,
        sd=sd,
        mde=mde,
        mde_rel=mde_rel,
        win_rate=win_rate,
        n=n,
        n_total=n_total,
        alpha=alpha,
        power=power,
        sided=sided,
        ratio=None if ratio is None else parse_ratio(ratio),
        variants=variants,
        method=method,
        daily_units=daily_units,
        tie_rate=tie_rate,
    )
    emit(sample_size_report(options), fmt, output)
