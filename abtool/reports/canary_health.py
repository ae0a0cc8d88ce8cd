"""canary-decide's health and validity figures: per-variant health, the split, the shift.

Also the ``--stage`` hint: a split that fails SRM against a stage typed as a fraction
(``--stage 0.05`` for 5%), or against the 50/50 assumed without ``--stage``, names the stage
the observed share suggests.
"""

from __future__ import annotations

from collections.abc import Sequence

from abtool.aggregates.canary import CanaryData
from abtool.commands.canary import CanaryOptions, CanaryThresholds
from abtool.reports.canary_timeline import health_timeline
from abtool.reports.hygiene import excluded_values
from abtool.reports.result import Check
from abtool.results.canary import (
    Health,
    HealthTimeline,
    PredictionShift,
    Validity,
    Variants,
    VariantStats,
)
from abtool.stats.ks import ks_2samp_sorted, ks_statistic_sorted
from abtool.stats.srm import sample_ratio_mismatch

STAGES = (1.0, 5.0, 20.0, 50.0, 100.0)


def _rate(part: int | None, whole: int) -> float | None:
    return None if part is None or whole == 0 else part / whole


def health(data: CanaryData) -> Health:
    duration = None
    if data.time_min is not None and data.time_max is not None:
        duration = (data.time_max - data.time_min).total_seconds() / 3600.0
    variants = [
        VariantStats(
            name=v.name,
            requests=v.requests,
            units=v.units,
            errors=v.errors,
            error_rate=_rate(v.errors, v.requests),
            latency_p50_ms=v.latency_p50_ms,
            latency_p99_ms=v.latency_p99_ms,
            prediction_mean=v.prediction_mean,
        )
        for v in (data.control, data.treatment)
    ]
    return Health(
        rows=data.rows,
        excluded_rows=sum(data.excluded.values()),
        excluded_reasons=data.excluded,
        excluded_values=excluded_values(data.read_notes),
        time_start=data.time_min,
        time_end=data.time_max,
        duration_hours=duration,
        variants=Variants(*variants),
    )


def treatment_share(options: CanaryOptions) -> float:
    """The treatment's expected share of units (--stage; an even split without it)."""
    return (options.stage if options.stage is not None else 50.0) / 100.0


def validity_of(data: CanaryData, options: CanaryOptions) -> Validity:
    share = treatment_share(options)
    chi2 = pvalue = None
    if data.analysed_units:
        srm = sample_ratio_mismatch(
            [data.control.units, data.treatment.units], [1.0 - share, share]
        )
        chi2, pvalue = srm.chi2, srm.pvalue
    return Validity(
        expected_treatment_share=share,
        observed_treatment_share=(
            data.treatment.units / data.analysed_units if data.analysed_units else None
        ),
        srm_chi2=chi2,
        srm_pvalue=pvalue,
        units=data.total_units,
        inconsistent_units=data.inconsistent_units,
        inconsistent_share=(
            data.inconsistent_units / data.total_units if data.total_units else None
        ),
        inconsistent_rows=data.inconsistent_rows,
        salt_mismatched_units=data.salt_mismatched_units,
    )


def prediction_shift(data: CanaryData) -> PredictionShift:
    c, t = data.control, data.treatment
    recent_n = [len(c.recent_sorted), len(t.recent_sorted)]
    computed = data.prediction_ks  # the all-rows D from an engine's bucket counts
    if computed is None and not (len(c.predictions_sorted) and len(t.predictions_sorted)):
        return PredictionShift(None, None, None, recent_n)
    if not (len(c.recent_sorted) and len(t.recent_sorted)):
        return PredictionShift(None, None, None, recent_n)
    recent = ks_2samp_sorted(c.recent_sorted, t.recent_sorted)
    if computed is None:
        statistic: float | None = ks_statistic_sorted(c.predictions_sorted, t.predictions_sorted)
        bounds = None
    else:
        statistic = computed.statistic
        bounds = None if statistic is not None else [computed.low, computed.high]
    return PredictionShift(
        ks_statistic=statistic,
        ks_pvalue=recent.pvalue,
        ks_recent_statistic=recent.statistic,
        ks_recent_n=recent_n,
        ks_bounds=bounds,
    )


def timeline_of(data: CanaryData, checks: Sequence[Check]) -> HealthTimeline | None:
    if data.timeline is None:
        return None
    failing = {c.id for c in checks if c.passed is False}
    names = (data.control.name, data.treatment.name)
    return health_timeline(data.timeline, names, "error_rate" in failing, "latency_p99" in failing)


def stage_hint(validity: Validity, options: CanaryOptions, limits: CanaryThresholds) -> str | None:
    """A likely mistyped or missing ``--stage``, when the split fails SRM because of it."""
    observed, p = validity.observed_treatment_share, validity.srm_pvalue
    if observed is None or p is None or p >= limits.srm or observed <= 0:
        return None
    percent = 100.0 * observed
    stage = options.stage
    if stage is not None:
        as_percent = 100.0 * stage  # --stage 0.05 meant as a fraction
        if stage < 1 and abs(percent - as_percent) <= 0.2 * as_percent:
            return f"observed {percent:.2f}%: did you mean --stage {as_percent:g}?"
        return None
    nearest = min(STAGES[:-1], key=lambda s: abs(percent - s) / s)
    guess = nearest if abs(percent - nearest) <= 0.25 * nearest else max(1, round(percent))
    return f"observed {percent:.2f}% in treatment and no --stage: did you mean --stage {guess:g}?"
