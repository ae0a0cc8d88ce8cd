"""sample-size: the plan's power against units and its detectable effect against days.

Both curves are the same solvers the answer comes from, evaluated on a grid around the plan,
so the HTML page plots what the report computed.
"""

from __future__ import annotations

import math
from typing import Any

from abtool.commands.sample_size import SampleSizeOptions
from abtool.reports.sample_size_designs import (
    group_sizes,
    mde_for_effect,
    power_function,
    standardized_effect,
)
from abtool.reports.sample_size_validate import Plan
from abtool.results.sample_size import MdeByDays, PowerCurve
from abtool.stats import power as pw

UNIT_FACTORS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)
# Each day is a root search; these days draw the curve (the MDE falls like 1/sqrt(days)).
DAYS = (1, 2, 3, 4, 5, 7, 10, 14, 21, 28)


def power_curve(o: SampleSizeOptions, plan: Plan, stats: dict[str, Any]) -> PowerCurve:
    """Power at the plan's effect for a grid of sizes around the plan's (units in all)."""
    units: list[int] = []
    power: list[float] = []
    if plan.kind == "interleaving":
        decisive_share = 1.0 - (stats["tie_rate"] or 0.0)
        for factor in UNIT_FACTORS:
            sessions = max(1, round(stats["n_per_group"] * factor))
            units.append(math.ceil(sessions / decisive_share - 1e-9))
            power.append(pw.sign_test_power(stats["win_rate"], sessions, o.alpha))
        return PowerCurve(units, power)
    fn = power_function(plan.method)
    effect = abs(standardized_effect(plan, o.baseline, stats["mde_abs"]))
    for factor in UNIT_FACTORS:
        nobs1 = stats["n_per_group_exact"] * factor
        if nobs1 < pw.MIN_NOBS1:
            continue
        units.append(group_sizes(plan, nobs1)[2])  # whole units, rounded as the answer is
        power.append(fn(effect, nobs1, plan.alpha_adjusted, plan.ratio, plan.alternative))
    return PowerCurve(units, power)


def mde_by_days(o: SampleSizeOptions, plan: Plan, stats: dict[str, Any]) -> MdeByDays | None:
    """The smallest effect detectable at the target power after each day (with --daily-units).

    For interleaving the effect is the win rate's distance from 1/2.
    """
    if o.daily_units is None:
        return None
    horizon = max(14, 2 * (stats["days"] or 1))
    days: list[int] = []
    mde: list[float | None] = []
    for day in (d for d in DAYS if d <= horizon):
        total = day * o.daily_units
        if plan.kind == "interleaving":
            decisive = math.floor(total * (1.0 - (stats["tie_rate"] or 0.0)))
            found = (
                pw.sign_test_detectable_win_rate(decisive, o.alpha, o.power) if decisive else None
            )
            days.append(day)
            mde.append(None if found is None else found - 0.5)
            continue
        nobs1 = total / (1.0 + plan.variants * plan.ratio)
        if nobs1 < pw.MIN_NOBS1:
            continue
        effect = pw.solve_effect_size(
            power_function(plan.method),
            nobs1,
            plan.alpha_adjusted,
            o.power,
            plan.ratio,
            plan.alternative,
        )
        days.append(day)
        mde.append(mde_for_effect(plan, o.baseline, effect))
    return MdeByDays(days, mde)
