"""`abtool sample-size`: how many units (or sessions), and how many days, to detect an effect?

Solves for one unknown: the sample size (default), the minimum detectable effect (given
``n``) or the power (given ``n`` and an effect). The statistics live in
:mod:`abtool.stats.power`; this module validates options, picks the method, rounds to whole
units and days, and builds the :class:`Report` (verdict INFO, exit 0, no checks).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from abtool.commands.sample_size import SPEC, SampleSizeOptions, parse_ratio
from abtool.records import Record
from abtool.reports.result import Report, Verdict
from abtool.reports.sample_size_designs import interleaving, two_sample
from abtool.reports.sample_size_plans import cuped_factor, cuped_plan, sequential_of
from abtool.reports.sample_size_validate import share_warnings, validate_plan
from abtool.reports.settings import resolve
from abtool.results.sample_size import SampleSizeStats, SensitivityRow

__all__ = ["SampleSizeOptions", "duration_days", "parse_ratio", "sample_size_report"]

COMMAND = SPEC.name
WEEK = 7
WEEKLY_CYCLES_DAYS = 14


def duration_days(n_total: int, daily_units: float) -> tuple[int, int, str | None]:
    """Days to enrol ``n_total`` units at ``daily_units`` a day: (days, raw days, note).

    Fewer than two weeks cannot cover the weekly cycle twice, so such a duration is rounded
    up to whole weeks (7 or 14 days) to give every weekday equal weight; two weeks or more is
    kept to the day.
    """
    raw = max(1, math.ceil(n_total / daily_units))
    if raw >= WEEKLY_CYCLES_DAYS:
        return raw, raw, None
    days = WEEK * math.ceil(raw / WEEK)
    if days == raw:
        return days, raw, f"{raw} days is a whole number of weeks"
    return (
        days,
        raw,
        f"rounded up from {raw} to {days} days: under two weeks, run whole weeks so every "
        "weekday counts equally",
    )


@dataclass(frozen=True)
class PlanInputs(Record):
    """What a plan was asked: the options given (not None)."""

    options: dict[str, Any]


def sample_size_report(
    options: SampleSizeOptions | None = None, **settings: Any
) -> Report[SampleSizeStats]:
    """Answer a planning question: sample size, minimum detectable effect or power.

    Args:
        options: the question; exactly one of n / MDE / power is left for the solver.
        settings: any option named as on the command line, ``_`` for ``-`` (e.g.
            ``baseline=0.12, mde=0.01``); they override ``options``.

    Returns:
        A Report with verdict INFO (exit 0), no checks, and the stats documented in
        docs/sample-size.md (``n_per_group``, ``n_total``, ``effect_size``, ``method``,
        ``days`` and more).

    Raises:
        UsageError: an option is outside its domain or the options contradict each other.
    """
    _, options, _ = resolve(SPEC, settings, options=options)
    plan = validate_plan(options)
    factor = cuped_factor(options, plan.kind)
    if plan.kind == "interleaving":
        stats, warnings = interleaving(options, plan)
    else:
        stats, warnings = two_sample(options, plan)
    cuped = cuped_plan(stats, options, factor) if factor is not None else None
    sequential = sequential_of(stats, cuped)
    stats["daily_units"] = options.daily_units
    stats["days"] = stats["days_raw"] = stats["days_note"] = None
    if options.daily_units is not None:
        days, raw, note = duration_days(stats["n_total"], options.daily_units)
        stats["days"], stats["days_raw"], stats["days_note"] = days, raw, note
        for row in stats["sensitivity"]:
            row["days"] = duration_days(row["n_total"], options.daily_units)[0]
        if cuped is not None and cuped.n_total is not None:
            cuped = dataclasses.replace(
                cuped, days=duration_days(cuped.n_total, options.daily_units)[0]
            )
        if sequential.n_total is not None:
            sequential = dataclasses.replace(
                sequential, days=duration_days(sequential.n_total, options.daily_units)[0]
            )
    stats.update(tuning_units=sequential.tuning_units, sequential=sequential, cuped=cuped)
    stats["sensitivity"] = [SensitivityRow(**row) for row in stats["sensitivity"]]
    warnings = share_warnings(options) + warnings
    return Report(
        command=COMMAND,
        verdict=Verdict.INFO,
        checks=[],
        stats=SampleSizeStats(**stats),
        warnings=warnings,
        inputs=PlanInputs(_echo(options)),
        reasons=[_summary(stats)],
    )


def _echo(options: SampleSizeOptions) -> dict[str, Any]:
    return {k: v for k, v in options.__dict__.items() if v is not None}


def _summary(stats: dict[str, Any]) -> str:
    """One sentence answering the question."""
    tail = (
        f"at alpha {stats['alpha']:g}"
        + (
            f" (Bonferroni {stats['alpha_adjusted']:.4g} per variant)"
            if stats["variants"] > 1
            else ""
        )
        + f", {stats['sided']}-sided ({stats['method']})"
    )
    if stats["kind"] == "interleaving":
        effect = f"a win rate of {stats['win_rate']:.4g}"
        sessions = f"{stats['n_per_group']:,} decisive sessions ({stats['n_total']:,} in all)"
        if stats["solve_for"] == "n":
            text = f"{sessions} detect {effect} with power {stats['power']:g} {tail}"
        elif stats["solve_for"] == "mde":
            text = f"{sessions} detect {effect} or more with power {stats['power']:g} {tail}"
        else:
            text = f"{sessions} detect {effect} with power {stats['power']:.4f} {tail}"
    else:
        rel = f" ({stats['mde_rel']:+.2%} relative)" if stats["mde_rel"] is not None else ""
        effect = f"an absolute effect of {stats['mde_abs']:+.4g}{rel}"
        groups = (
            f"{stats['n_per_group']:,} units per group"
            if stats["ratio"] == 1.0 and stats["variants"] == 1
            else f"{stats['n_control']:,} control and {stats['n_treatment']:,} units per treatment"
        ) + f" ({stats['n_total']:,} in total)"
        if stats["solve_for"] == "n":
            text = f"{groups} detect {effect} with power {stats['power']:g} {tail}"
        elif stats["solve_for"] == "mde":
            text = f"{groups} detect {effect} or larger with power {stats['power']:g} {tail}"
        else:
            text = f"{groups} detect {effect} with power {stats['power']:.4f} {tail}"
    if stats.get("days") is not None:
        text += f"; {stats['days']} days at {stats['daily_units']:,g} a day"
    return text
