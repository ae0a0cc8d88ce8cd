"""sample-size's two companion plans: the always-valid test's units (and its N*), and CUPED.

* **Sequential.** canary-decide and interleave-report test with a confidence sequence by
  default, which needs more units than a fixed-horizon test for the same effect and power.
  :func:`abtool.stats.inference.plan.sequential_plan` gives the factor (normal
  approximation, tuned at the units it reaches); the plan prints the total and the
  ``--tuning-units`` that fits it. With CUPED, N* fits the adjusted total.
* **CUPED.** An expected variance reduction (or covariate correlation ``rho``) leaves the
  fraction ``1 - rho^2`` of the variance (:mod:`abtool.stats.cuped_sample_size`): each group
  shrinks by that factor, the MDE at the same units by its square root, and the power at the
  same units is the power of the standardized effect divided by its square root (exact for a
  z-test on a mean; for Cohen's h and the t-test a close approximation).
"""

from __future__ import annotations

import math
from typing import Any

from abtool.commands.sample_size import SampleSizeOptions
from abtool.errors import UsageError
from abtool.results.sample_size import CupedPlan, SequentialPlan
from abtool.stats import power as pw
from abtool.stats.cuped_sample_size import cuped_sample_size, variance_factor
from abtool.stats.inference.plan import sequential_plan


def cuped_factor(o: SampleSizeOptions, kind: str) -> float | None:
    """The variance factor CUPED leaves, or None when no reduction was given.

    Raises:
        UsageError: both options, an interleaving plan, or a value out of range.
    """
    if o.variance_reduction is None and o.covariate_correlation is None:
        return None
    if o.variance_reduction is not None and o.covariate_correlation is not None:
        raise UsageError("give --variance-reduction or --covariate-correlation, not both")
    if kind == "interleaving":
        raise UsageError("--variance-reduction applies to two-sample plans, not interleaving")
    try:
        return variance_factor(
            correlation=o.covariate_correlation, variance_reduction_pct=o.variance_reduction
        )
    except ValueError as exc:
        option = (
            "--variance-reduction"
            if o.covariate_correlation is None
            else ("--covariate-correlation")
        )
        raise UsageError(f"{option}: {exc}") from None


def cuped_plan(stats: dict[str, Any], o: SampleSizeOptions, factor: float) -> CupedPlan:
    """The plan's answer with CUPED's variance factor applied."""
    solve_for = stats["solve_for"]
    reduction = o.variance_reduction
    if reduction is None:
        assert o.covariate_correlation is not None
        reduction = 100.0 * o.covariate_correlation**2
    plan = CupedPlan(variance_factor=factor, variance_reduction_pct=reduction)
    if solve_for == "n":
        control = cuped_sample_size(
            stats["n_control"], variance_reduction_pct=plan.variance_reduction_pct
        )
        treatment = cuped_sample_size(
            stats["n_treatment"], variance_reduction_pct=plan.variance_reduction_pct
        )
        total = control.adjusted_units + stats["variants"] * treatment.adjusted_units
        return CupedPlan(
            variance_factor=factor,
            variance_reduction_pct=plan.variance_reduction_pct,
            n_per_group=control.adjusted_units,
            n_control=control.adjusted_units,
            n_treatment=treatment.adjusted_units,
            n_total=total,
        )
    if solve_for == "mde":
        return CupedPlan(
            factor, plan.variance_reduction_pct, mde_abs=stats["mde_abs"] * math.sqrt(factor)
        )
    fn = pw.normal_power if stats["method"] == "cohen-h" else pw.ttest_power
    alternative: pw.Alternative = "two-sided" if stats["sided"] == "two" else "larger"
    power = fn(
        abs(stats["effect_size"]) / math.sqrt(factor),
        stats["n_per_group_exact"],
        stats["alpha_adjusted"],
        stats["ratio"],
        alternative,
    )
    return CupedPlan(factor, plan.variance_reduction_pct, power=power)


def sequential_of(stats: dict[str, Any], cuped: CupedPlan | None) -> SequentialPlan:
    """The always-valid plan: its units (solving for n) or MDE, and the N* that fits."""
    fixed_total = cuped.n_total if cuped is not None and cuped.n_total else stats["n_total"]
    power = stats["power"] if stats["solve_for"] != "power" else stats["power_at_n"]
    # A solved power can round to 1 (or fall to alpha) at extreme designs; the sequential
    # factor is then taken just inside (0, 1), where it is defined.
    power = min(max(power, 1e-9), 1.0 - 1e-9)
    found = sequential_plan(
        max(1.0, float(fixed_total)),
        stats["alpha_adjusted"],
        power,
        two_sided=stats["sided"] == "two",
    )
    if stats["solve_for"] == "n":
        return SequentialPlan(tuning_units=found.units, factor=found.factor, n_total=found.units)
    mde = stats["mde_abs"] * found.mde_factor if stats["solve_for"] == "mde" else None
    return SequentialPlan(tuning_units=max(1, round(fixed_total)), factor=found.factor, mde_abs=mde)
