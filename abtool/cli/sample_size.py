"""`abtool sample-size`.

This command parses its own options with argparse instead of Typer: Typer coerces every
typed option through pydantic, whose import alone costs about 0.15-0.25 s, and a planning
command is expected to answer at once (under 0.3 s for the whole process). The options and
``--format``/``--output`` behave as in every other command; errors are one line, exit 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

import typer

from abtool.errors import UsageError
from abtool.render import OutputFormat

# Typer hands every argument to the command untouched; `--help` is argparse's.
COMMAND_SETTINGS: dict[str, Any] = {
    "context_settings": {"allow_extra_args": True, "ignore_unknown_options": True},
    "add_help_option": False,
}

HELP = "How many units (or sessions), and how many days, to detect an effect?"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="abtool sample-size",
        description=HELP
        + " Proportions use Cohen's h with a normal power solver (or --method t-approx),"
        " continuous metrics a two-sample t-test, interleaving an exact sign test."
        " See docs/sample-size.md.",
        allow_abbrev=False,
    )
    add = p.add_argument
    add("--baseline", type=float, help="control proportion (0-1), or control mean")
    add("--sd", type=float, help="standard deviation per unit: makes the metric continuous")
    add("--mde", type=float, help="minimum detectable effect, absolute (treatment - control)")
    add("--mde-rel", type=float, help="minimum detectable effect relative to --baseline")
    add(
        "--n",
        type=int,
        help="control units (decisive sessions): solve for the MDE, or with --mde the power",
    )
    add("--n-total", type=int, help="all units over every group, instead of --n")
    add("--alpha", type=float, default=0.05, help="family-wise significance level (0.05)")
    add("--power", type=float, default=0.8, help="target power (0.8)")
    add("--sided", default="two", help="two (default) or one, in the MDE's direction")
    add(
        "--ratio",
        help="treatment:control allocation: 0.05/0.95 (a 5%% canary), 5:95, or treatment "
        "units per control unit (1)",
    )
    add("--variants", type=int, help="treatments sharing the control: Bonferroni alpha/K (1)")
    add("--kind", help="proportion, continuous or interleaving (default: from the options)")
    add("--method", help="proportion: cohen-h (default) or t-approx; continuous: t-test")
    add("--win-rate", type=float, help="interleaving: share of decisive sessions B wins")
    add("--tie-rate", type=float, help="interleaving: share of sessions without preference (0)")
    add("--daily-units", type=float, help="units (sessions) entering per day: gives the days")
    add(
        "--format",
        "-f",
        dest="fmt",
        default=OutputFormat.rich.value,
        choices=[f.value for f in OutputFormat],
        help="output format: rich (terminal), json or markdown",
    )
    add("--output", "-o", type=Path, help="write the report to this file instead of stdout")
    return p


def sample_size_command(ctx: typer.Context) -> None:
    """How many units (or sessions), and how many days, to detect an effect?"""
    run(ctx.args)


def run(argv: list[str]) -> None:
    """Parse ``argv`` (the arguments after ``sample-size``), plan, emit, and exit.

    :func:`abtool.cli.main` calls this directly, before Typer parses anything: even the root
    group's ``--help`` flag goes through Typer's pydantic coercion when it is absent.
    """
    from abtool.cli.options import emit
    from abtool.reports.sample_size import SampleSizeOptions, parse_ratio, sample_size_report

    args = _parser().parse_args(argv)
    options = SampleSizeOptions(
        kind=args.kind,
        baseline=args.baseline,
        sd=args.sd,
        mde=args.mde,
        mde_rel=args.mde_rel,
        win_rate=args.win_rate,
        n=args.n,
        n_total=args.n_total,
        alpha=args.alpha,
        power=args.power,
        sided=args.sided,
        ratio=None if args.ratio is None else parse_ratio(args.ratio),
        variants=args.variants,
        method=args.method,
        daily_units=args.daily_units,
        tie_rate=args.tie_rate,
    )
    try:
        emit(sample_size_report(options), OutputFormat(args.fmt), args.output)
    except typer.Exit as done:  # outside a Typer app nobody turns Exit into an exit code
        raise SystemExit(done.exit_code) from None
