"""canary-decide's metrics with their CUPED adjustment, and the estimate each decision reads.

A metric whose units carry a pre-period covariate (``UnitSums.pre_x``/``pre_y``) is adjusted
by :func:`abtool.stats.cuped.cuped` (Deng et al. 2013; 2018 for ratios): the metric keeps its
plain delta-method figures in ``cuped.unadjusted``, the adjusted ones go to ``cuped.adjusted``
and to the metric's own lift keys, and the adjusted lift and standard error are the estimate
the decision tests (sequential or fixed, whichever is active). Relative intervals of both are
taken on the log scale, as :mod:`abtool.stats.cuped` does; the fixed-horizon method then gives
exactly its (and tea-tasting's) intervals.
"""

from __future__ import annotations

import dataclasses
import math

from abtool.aggregates.canary import MetricData, PrePeriod
from abtool.reports.canary_metrics import metric_stats
from abtool.results.canary import CupedStats, LiftStats, MetricStats
from abtool.stats.cuped import CupedArm, CupedResult, LiftEstimate, cuped
from abtool.stats.inference import Estimate, InferenceMethod


def cuped_lift(estimate: LiftEstimate, units: int, method: InferenceMethod) -> LiftStats:
    """One CUPED estimate (adjusted or not) with its intervals and p-value by ``method``."""
    absolute = method.test(Estimate(estimate.lift_abs, estimate.se, units))
    rel_low = rel_high = math.nan
    ratio = estimate.lift_rel + 1.0
    if math.isfinite(ratio) and ratio > 0 and math.isfinite(estimate.rel_se):
        # log(T/C) with se(T/C) / (T/C), back-transformed: the log-scale interval.
        log_scale = method.test(Estimate(math.log(ratio), estimate.rel_se / ratio, units))
        rel_low, rel_high = math.expm1(log_scale.low), math.expm1(log_scale.high)
    return LiftStats(
        control_mean=estimate.control,
        treatment_mean=estimate.treatment,
        lift_abs=estimate.lift_abs,
        lift_rel=estimate.lift_rel,
        ci_low=absolute.low,
        ci_high=absolute.high,
        rel_ci_low=rel_low,
        rel_ci_high=rel_high,
        z=estimate.z,
        se=estimate.se,
        pvalue=absolute.pvalue,
    )


def _arm(sums: MetricData, treatment: bool) -> CupedArm | None:
    arm = sums.treatment if treatment else sums.control
    if arm.pre_x is None or arm.pre_y is None:
        return None
    return CupedArm.ratio(arm.x, arm.y, arm.pre_x, arm.pre_y)


def adjust(metric: MetricData, alpha: float) -> CupedResult | None:
    """The CUPED result of a metric with a covariate (None without one, or untestable)."""
    control, treatment = _arm(metric, False), _arm(metric, True)
    if control is None or treatment is None:
        return None
    try:
        return cuped(control, treatment, alpha=alpha)
    except ValueError:  # fewer than two units in an arm, or no rows: left unadjusted
        return None


def analysed_metric(
    metric: MetricData,
    kind: str,
    method: InferenceMethod,
    warnings: list[str],
    pre_period: PrePeriod | None,
    *,
    bootstrap: int = 0,
    seed: int = 0,
) -> tuple[MetricStats, Estimate | None]:
    """A metric's statistics (CUPED-adjusted when it has a covariate) and the estimate of
    its absolute lift that the decision tests (None when it could not be tested)."""
    stats = metric_stats(metric, kind, method, warnings, bootstrap=bootstrap, seed=seed)
    if not stats.tested:
        return stats, None
    units = stats.units.control + stats.units.treatment
    result = adjust(metric, method.alpha) if pre_period is not None else None
    if result is None:
        lift = stats.lift
        assert lift.lift_abs is not None and lift.se is not None
        return stats, Estimate(lift.lift_abs, lift.se, units)
    assert pre_period is not None
    adjusted = cuped_lift(result.adjusted, units, method)
    record = CupedStats(
        covariate=pre_period.covariate or metric.name,
        source=pre_period.source,
        variance_reduction_pct=result.variance_reduction_pct,
        theta=result.theta,
        theta_missing=result.theta_missing,
        units_without_pre=result.units_without_pre,
        unadjusted=cuped_lift(result.unadjusted, units, method),
        adjusted=adjusted,
    )
    stats = dataclasses.replace(
        stats, lift=adjusted, cuped=record, method=f"CUPED (Deng et al. 2013), {stats.method}"
    )
    return stats, Estimate(result.adjusted.lift_abs, result.adjusted.se, units)
