"""canary-decide's metric analysis: lift with CIs at the randomization unit, per metric and segment.

Every comparison uses the delta method on per-unit sums (see :mod:`abtool.stats.ratio`), and
its intervals and p-values come from the active inference method (fixed horizon or a
confidence sequence, :mod:`abtool.stats.inference`);
proportions add a unit-level two-proportion test, continuous metrics Welch's t and the
Mann-Whitney U test on per-unit means, and families of tests get Holm-adjusted p-values.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from abtool.aggregates.canary import CanaryData, MetricData, UnitMoments, UnitSums
from abtool.errors import UsageError
from abtool.reports.intervals import interval_label
from abtool.results.canary import (
    Holm,
    LiftStats,
    MeanTest,
    MetricStats,
    ProportionUnitTest,
    SegmentLift,
    UnitCounts,
)
from abtool.stats.bootstrap import bootstrap_ratio_lift
from abtool.stats.inference import InferenceMethod, estimate_from_lift
from abtool.stats.means import WelchResult, mann_whitney, welch_from_moments, welch_t
from abtool.stats.multiple import holm
from abtool.stats.proportions import two_proportions
from abtool.stats.ratio import Lift, RatioEstimate, ratio_estimate, ratio_lift
from abtool.stats.ratio_series import ratio_from_moments

DELTA_METHOD = "delta method, ratio of per-unit sums (Deng et al. 2018)"


def metric_kind(metric: MetricData, requested: str, source: str) -> str:
    """``proportion`` or ``continuous`` for a metric, from ``--metric-type`` and its values.

    Raises:
        UsageError: ``proportion`` was requested for a column with values other than 0/1.
    """
    if requested == "proportion" and not metric.binary:
        raise UsageError(
            f"{source}: --metric-type proportion but column '{metric.name}' holds values "
            "other than 0 and 1"
        )
    if requested == "auto":
        return "proportion" if metric.binary else "continuous"
    return requested


def lift_stats(lift: Lift | None, method: InferenceMethod) -> LiftStats:
    """The lift with its two-sided intervals and p-value by ``method``.

    Both intervals come from the delta-method standard errors (absolute, and relative by
    :func:`abtool.stats.ratio.relative_lift_se`); the fixed-horizon method gives exactly the
    Wald intervals of :func:`abtool.stats.ratio.ratio_lift`.
    """
    if lift is None:
        return LiftStats()
    absolute = method.test(estimate_from_lift(lift))
    rel_low = rel_high = math.nan
    if lift.control.ratio != 0:
        relative = method.test(estimate_from_lift(lift, relative=True))
        rel_low, rel_high = relative.low, relative.high
    return LiftStats(
        control_mean=lift.control.ratio,
        treatment_mean=lift.treatment.ratio,
        lift_abs=lift.lift_abs,
        lift_rel=lift.lift_rel,
        ci_low=absolute.low,
        ci_high=absolute.high,
        rel_ci_low=rel_low,
        rel_ci_high=rel_high,
        z=lift.z,
        se=lift.se,
        pvalue=absolute.pvalue,
    )


def unit_lift(control: UnitSums, treatment: UnitSums, alpha: float) -> Lift | None:
    """The delta-method lift of two arms' per-unit sums (None with fewer than 2 units)."""
    if control.units < 2 or treatment.units < 2:
        return None
    return ratio_lift(_estimate(control), _estimate(treatment), alpha)


def _estimate(arm: UnitSums) -> RatioEstimate:
    """The delta-method estimate from the per-unit arrays, or from the engine's moments."""
    if arm.has_arrays:
        return ratio_estimate(arm.x, arm.y)
    m = arm.summary()
    found = ratio_from_moments(m.units, m.sum_x, m.sum_y, m.sum_xx, m.sum_yy, m.sum_xy)
    if found is None:
        raise ValueError("the delta method needs at least two units and positive rows")
    return found


def _unit_test(metric: MetricData, kind: str, alpha: float) -> ProportionUnitTest | MeanTest:
    c, t = metric.control, metric.treatment
    if kind == "proportion":
        return ProportionUnitTest(
            value=f"share of units with {metric.name} > 0",
            method="two-proportion z-test (pooled) = Pearson chi-square, per unit",
            test=two_proportions(
                c.summary().positive, c.units, t.summary().positive, t.units, alpha
            ),
        )
    value = f"per-unit mean of {metric.name}"
    if not (c.has_arrays and t.has_arrays):
        # Welch's test needs each group's size, mean and variance; Mann-Whitney needs ranks.
        mc, mt = c.summary(), t.summary()
        return MeanTest(value=value, welch=_welch(mc, mt, alpha), mann_whitney=None)
    per_unit_c, per_unit_t = c.x / c.y, t.x / t.y
    return MeanTest(
        value=value,
        welch=welch_t(per_unit_c, per_unit_t, alpha),
        mann_whitney=mann_whitney(per_unit_c, per_unit_t),
    )


def _welch(control: UnitMoments, treatment: UnitMoments, alpha: float) -> WelchResult:
    """Welch's test on per-unit means from their sums (sample variances, ddof 1)."""

    def mean_var(m: UnitMoments) -> tuple[float, float]:
        mean = m.sum_mean / m.units
        return mean, (m.sum_mean2 - m.sum_mean * mean) / (m.units - 1)

    (mean_c, var_c), (mean_t, var_t) = mean_var(control), mean_var(treatment)
    return welch_from_moments(control.units, mean_c, var_c, treatment.units, mean_t, var_t, alpha)


def metric_stats(
    metric: MetricData,
    kind: str,
    method: InferenceMethod,
    warnings: list[str],
    *,
    bootstrap: int = 0,
    seed: int = 0,
) -> MetricStats:
    """One metric: delta-method lift with intervals by ``method``, plus the unit-level tests.

    Args:
        metric: per-unit sums of the metric in each variant.
        kind: ``proportion`` or ``continuous``.
        method: the active inference method; its alpha is the metric's level.
        warnings: receives a message when the metric cannot be tested.
        bootstrap: replicates of the percentile bootstrap CI (0: none).
        seed: seed of the bootstrap.
    """
    c, t = metric.control, metric.treatment
    alpha = method.alpha
    lift = unit_lift(c, t, alpha)
    result = MetricStats(
        name=metric.name,
        type=kind,
        method=DELTA_METHOD,
        alpha=alpha,
        units=UnitCounts(c.units, t.units),
        rows=UnitCounts(int(c.summary().sum_y), int(t.summary().sum_y)),
        missing_rows=metric.missing_rows,
        lift=lift_stats(lift, method),
        interval=interval_label(method),
    )
    if lift is None:
        warnings.append(
            f"metric '{metric.name}': fewer than 2 units with a value in a variant; not tested"
        )
        return result
    estimator = DELTA_METHOD
    if c.summary().max_y <= 1 and t.summary().max_y <= 1:
        estimator = "unit-level z-test (one row per unit; delta method reduces to it)"
    boot = None
    if bootstrap and not (c.has_arrays and t.has_arrays):
        raise UsageError(
            f"--bootstrap resamples units, and metric '{metric.name}' has more units than "
            "the engine brings back (its array cap); leave out --bootstrap"
        )
    if bootstrap:
        boot = bootstrap_ratio_lift(
            c.x, c.y, t.x, t.y, replicates=bootstrap, seed=seed, alpha=alpha
        )
    return dataclasses.replace(
        result, method=estimator, unit_test=_unit_test(metric, kind, alpha), bootstrap=boot
    )


def holm_family(pvalues: Sequence[float | None], alpha: float) -> list[Holm]:
    """Holm-adjusted p-values over the tested entries (None: untested)."""
    tested = [p for p in pvalues if p is not None]
    adjusted = iter(holm(tested))
    result = []
    for p in pvalues:
        if p is None:
            result.append(Holm(None, None))
        else:
            value = next(adjusted)
            result.append(Holm(value, value <= alpha))
    return result


def with_holm(results: Sequence[MetricStats], alpha: float) -> list[MetricStats]:
    """The metrics with Holm-adjusted p-values over the tested ones."""
    family = holm_family([r.lift.pvalue for r in results], alpha)
    return [dataclasses.replace(r, holm=h) for r, h in zip(results, family, strict=True)]


def segment_stats(data: CanaryData, method: InferenceMethod) -> dict[str, list[SegmentLift]]:
    """Primary-metric lift per segment value, Holm-adjusted over every segment test.

    An entry is a ``regression`` when its adjusted p-value (by the active method; always
    valid p-values stay valid under Holm) is at most ``alpha`` and the lift is negative.
    """
    alpha = method.alpha
    entries = [
        (column, segment, lift_stats(unit_lift(segment.control, segment.treatment, alpha), method))
        for column, values in data.segments.items()
        for segment in values
    ]
    family = holm_family([lift.pvalue for _, _, lift in entries], alpha)
    by_column: dict[str, list[SegmentLift]] = {column: [] for column in data.segments}
    for (column, segment, lift), adjusted in zip(entries, family, strict=True):
        regression = bool(adjusted.significant) and (lift.lift_abs or 0.0) < 0
        by_column[column].append(
            SegmentLift(
                value=segment.value,
                rows=segment.rows,
                units_control=segment.control.units,
                units_treatment=segment.treatment.units,
                lift=lift,
                holm=adjusted,
                regression=regression,
            )
        )
    return by_column
