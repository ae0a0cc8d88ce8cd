"""canary-decide over time: the primary metric's lift per bucket and cumulatively, novelty, and
each variant's health per bucket.

The lifts come from the engine's per-(unit, bucket) sums through
:mod:`abtool.stats.ratio_series`: the cumulative point of a bucket is the lift canary-decide would
report on the log cut at that bucket's end (same units, same delta method), with the band of
the active method at that many units, so a confidence sequence's band is valid at every point
at once. Per-bucket lifts use each bucket's own traffic. Both are unadjusted (CUPED adjusts the
decision's estimate, not the series).

Novelty (Kohavi et al. 2020, ch. 23): with day buckets and at least three days, the first two
days' lift is compared with the later days' (:func:`abtool.stats.inference.novelty`); a
difference is a warning to read the later days and run whole weeks, never a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from abtool.aggregates.canary import Timeline, UnitBuckets, VariantBuckets
from abtool.reports.intervals import interval_label
from abtool.results.canary import HealthTimeline, LiftSeries, Novelty
from abtool.stats.inference import Estimate, InferenceMethod, estimate_from_lift
from abtool.stats.inference.novelty import DEFAULT_EARLY_DAYS, novelty_check
from abtool.stats.ratio import Lift, RatioEstimate, ratio_lift
from abtool.stats.ratio_series import Moments, bucket_moments, cumulative_moments, estimates


def _arm_moments(primary: UnitBuckets, treated: bool, count: int, cumulative: bool) -> Moments:
    mine = primary.treated == treated
    if cumulative:
        return cumulative_moments(
            primary.bucket[mine], primary.x[mine], primary.y[mine], primary.cum_x[mine],
            primary.cum_y[mine], primary.first[mine], count,
        )  # fmt: skip
    return bucket_moments(primary.bucket[mine], primary.x[mine], primary.y[mine], count)


def _lifts(timeline: Timeline, count: int, alpha: float, cumulative: bool) -> list[Lift | None]:
    def moments(treated: bool) -> Moments:
        if timeline.primary_moments is not None:  # computed by the engine
            return timeline.primary_moments[(treated, cumulative)]
        assert timeline.primary is not None
        return _arm_moments(timeline.primary, treated, count, cumulative)

    control, treatment = estimates(moments(False)), estimates(moments(True))
    return [_lift(c, t, alpha) for c, t in zip(control, treatment, strict=True)]


def _lift(
    control: RatioEstimate | None, treatment: RatioEstimate | None, alpha: float
) -> Lift | None:
    if control is None or treatment is None:
        return None
    return ratio_lift(control, treatment, alpha)


def _series(
    timeline: Timeline, lifts: Sequence[Lift | None], method: InferenceMethod
) -> LiftSeries:
    units: list[int] = []
    lift: list[float | None] = []
    low: list[float | None] = []
    high: list[float | None] = []
    rel: list[float | None] = []
    for item in lifts:
        if item is None:
            units.append(0)
            for values in (lift, low, high, rel):
                values.append(None)
            continue
        test = method.test(estimate_from_lift(item))
        units.append(test.units)
        lift.append(item.lift_abs)
        low.append(test.low)
        high.append(test.high)
        rel.append(item.lift_rel)
    return LiftSeries(list(timeline.starts), units, lift, low, high, rel, interval_label(method))


def metric_series(
    timeline: Timeline, method: InferenceMethod, novelty_alpha: float
) -> tuple[LiftSeries | None, LiftSeries | None, Novelty | None]:
    """The primary metric's cumulative and per-bucket lift, and the novelty test (day buckets).

    Args:
        timeline: the engine's buckets (with the primary metric's per-unit sums).
        method: the active method at the primary metric's level (the bands).
        novelty_alpha: level of the early-versus-late test.
    """
    if timeline.primary is None and timeline.primary_moments is None:
        return None, None, None
    count = len(timeline.starts)
    cumulative = _series(timeline, _lifts(timeline, count, method.alpha, True), method)
    per_bucket = _lifts(timeline, count, method.alpha, False)
    daily = _series(timeline, per_bucket, method)
    return cumulative, daily, _novelty(timeline, per_bucket, method.with_alpha(novelty_alpha))


def _novelty(
    timeline: Timeline, lifts: Sequence[Lift | None], method: InferenceMethod
) -> Novelty | None:
    if timeline.width != "day":
        return None
    days: list[Estimate] = [estimate_from_lift(x) for x in lifts if x is not None and x.se > 0]
    check = novelty_check(days, method, early_days=DEFAULT_EARLY_DAYS)
    if check.difference is None or check.early is None or check.late is None:
        return None
    test = check.difference
    return Novelty(
        early_days=check.early.days,
        late_days=check.late.days,
        early_lift=check.early.effect,
        late_lift=check.late.effect,
        difference=test.effect,
        ci_low=test.low,
        ci_high=test.high,
        pvalue=test.pvalue,
        alpha=method.alpha,
        differs=check.warning,
    )


def _rates(part: list[int] | None, whole: list[int]) -> list[float | None] | None:
    if part is None:
        return None
    return [p / w if w else None for p, w in zip(part, whole, strict=True)]


def _worst(treatment: Sequence[float | None], control: Sequence[float | None], ratio: bool) -> int:
    gaps = []
    for t, c in zip(treatment, control, strict=True):
        if t is None or c is None:
            gaps.append(-np.inf)
        elif ratio:
            gaps.append(t / c if c > 0 else -np.inf)
        else:
            gaps.append(t - c)
    return int(np.argmax(gaps))


def health_timeline(
    timeline: Timeline, names: tuple[str, str], error_failed: bool, latency_failed: bool
) -> HealthTimeline:
    """Each variant per bucket, keyed by variant name; the worst bucket of a failing trigger."""
    c, t = timeline.control, timeline.treatment
    arms: tuple[VariantBuckets, VariantBuckets] = (c, t)
    units_c, units_t = np.cumsum(c.new_units), np.cumsum(t.new_units)
    total = units_c + units_t
    share = [float(u / n) if n else None for u, n in zip(units_t, total, strict=True)]
    error_rate = None
    if c.errors is not None and t.errors is not None:
        error_rate = {
            name: _rates(arm.errors, arm.requests) or []
            for name, arm in zip(names, arms, strict=True)
        }
    p99 = None
    if c.latency_p99_ms is not None and t.latency_p99_ms is not None:
        p99 = {name: arm.latency_p99_ms or [] for name, arm in zip(names, arms, strict=True)}
    flagged = None
    if error_failed and error_rate is not None:
        flagged = _worst(error_rate[names[1]], error_rate[names[0]], ratio=False)
    elif latency_failed and p99 is not None:
        flagged = _worst(p99[names[1]], p99[names[0]], ratio=True)
    return HealthTimeline(
        bucket=timeline.width,
        start=list(timeline.starts),
        requests={name: arm.requests for name, arm in zip(names, arms, strict=True)},
        new_units={name: arm.new_units for name, arm in zip(names, arms, strict=True)},
        treatment_share=share,
        error_rate=error_rate,
        latency_p99_ms=p99,
        flagged_bucket=flagged,
    )
