"""`abtool canary-decide`: promote a canary to the next stage, hold it, or roll it back?

Order of the decision:

1. ROLLBACK when an auto-rollback trigger fires (error rate, p99 latency, prediction mean).
2. HOLD when the experiment is not valid (sample-ratio mismatch, inconsistent assignment),
   has too few units, or the primary metric is not significantly positive (with
   ``allow_neutral``: is significantly negative).
3. PROMOTE otherwise, to the next stage of the ladder 1 -> 5 -> 20 -> 50 -> 100.

A prediction distribution shift is an advisory alert: a better model is expected to predict
differently, so it never changes the verdict by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from abtool.aggregates.canary import CanaryData, CanaryRequest
from abtool.commands.canary import SPEC, CanaryColumns, CanaryOptions, CanaryThresholds
from abtool.engines import Engine, LogInput, open_log
from abtool.reports.canary_checks import canary_checks, signed_percent
from abtool.reports.canary_metrics import metric_kind, metric_stats, segment_stats, with_holm
from abtool.reports.hygiene import excluded_values, read_warnings
from abtool.reports.result import (
    CANARY_VERDICTS,
    Check,
    Consequence,
    Inputs,
    Report,
    Verdict,
    decide,
)
from abtool.reports.settings import resolve
from abtool.results.canary import (
    CanaryStats,
    Health,
    PredictionShift,
    Validity,
    Variants,
    VariantStats,
)
from abtool.stats.ks import ks_2samp_sorted, ks_statistic_sorted
from abtool.stats.srm import sample_ratio_mismatch
from abtool.times import parse_time

COMMAND = SPEC.name
STAGES = (1.0, 5.0, 20.0, 50.0, 100.0)


def next_stage(stage: float) -> float:
    """The next stage of the ladder 1 -> 5 -> 20 -> 50 -> 100 after ``stage`` percent."""
    return next((s for s in STAGES if s > stage), STAGES[-1])


def canary_report(
    data: LogInput,
    *,
    columns: CanaryColumns | None = None,
    options: CanaryOptions | None = None,
    thresholds: CanaryThresholds | dict[str, float] | None = None,
    config: str | Path | None = None,
    engine: str | Engine | None = None,
    progress: Callable[[str], None] | None = None,
    **settings: Any,
) -> Report[CanaryStats]:
    """Run the canary stage gate on a canary / A/B log.

    Args:
        data: Parquet files, globs or (hive-partitioned) directories (a path or a list),
            a Polars or pandas DataFrame, or a log an engine opened.
        columns: column names, defaults to the documented canary schema.
        options: metrics, variants, stage, segments, time window.
        thresholds: rollback triggers and validity limits (defaults: rollout checklist), or
            overrides by check id.
        config: a TOML file of thresholds, as ``--config``.
        engine: the engine that reads ``data``: "polars", "spark" or an engine object such
            as ``SparkEngine(session=spark)`` (default: the ``engine`` option, polars; a
            Spark DataFrame is read by Spark).
        progress: called with a short status line before long steps.
        settings: any option named as on the command line, ``_`` for ``-`` (e.g.
            ``metric=["clicked"], stage=5``).

    Returns:
        A Report with verdict PROMOTE, HOLD or ROLLBACK.
    """
    limits: CanaryThresholds
    columns, options, limits = resolve(
        SPEC, settings, columns=columns, options=options, thresholds=thresholds, config=config
    )
    request = CanaryRequest(
        metrics=tuple(options.metrics),
        segments=tuple(options.segments),
        control=options.control,
        treatment=options.treatment,
        recent_window=int(limits.distribution_shift_window),
        since=parse_time(options.since, "--since"),
        until=parse_time(options.until, "--until"),
        salt=options.salt,
        treatment_share=_treatment_share(options),
        time_unit=options.time_unit,
    )
    log = open_log(data, engine, options)
    data = log.canary(columns, request, progress)
    if progress:
        progress("Computing statistics")
    kinds = [metric_kind(m, options.metric_type, log.name) for m in data.metrics]
    alpha = limits.primary_metric
    warnings: list[str] = []
    health = _health(data)
    validity = _validity(data, options)
    shift = _shift(data)
    results = [
        metric_stats(m, kind, alpha, warnings, bootstrap=options.bootstrap, seed=options.seed)
        for m, kind in zip(data.metrics, kinds, strict=True)
    ]
    metric = results[0] if results else None
    checks = canary_checks(
        health.variants, validity, shift, metric, limits, columns, options.allow_neutral
    )
    verdict = decide(checks, CANARY_VERDICTS)
    reasons = _reasons(verdict, checks)
    following = _whole(_next_stage(verdict, options.stage))
    if verdict is Verdict.PROMOTE and following is not None:
        reasons.append(f"promote from {options.stage:g}% to {following:g}%")
    stats = CanaryStats(
        health=health,
        validity=validity,
        shift=shift,
        metric=metric,
        secondary_metrics=with_holm(results[1:], alpha),
        segments=segment_stats(data, alpha),
        stage=_whole(options.stage),
        next_stage=following,
    )
    warnings = _warnings(data, stats, checks, options) + warnings
    return Report(
        command=COMMAND,
        verdict=verdict,
        checks=checks,
        stats=stats,
        warnings=warnings,
        inputs=Inputs(list(log.paths), log.files, data.rows),
        reasons=reasons,
    )


def _rate(part: int | None, whole: int) -> float | None:
    return None if part is None or whole == 0 else part / whole


def _health(data: CanaryData) -> Health:
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


def _treatment_share(options: CanaryOptions) -> float:
    """The treatment's expected share of units (--stage; an even split without it)."""
    return (options.stage if options.stage is not None else 50.0) / 100.0


def _validity(data: CanaryData, options: CanaryOptions) -> Validity:
    share = _treatment_share(options)
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


def _shift(data: CanaryData) -> PredictionShift:
    c, t = data.control, data.treatment
    recent_n = [len(c.recent_sorted), len(t.recent_sorted)]
    if not (len(c.predictions_sorted) and len(t.predictions_sorted)):
        return PredictionShift(None, None, None, recent_n)
    recent = ks_2samp_sorted(c.recent_sorted, t.recent_sorted)
    return PredictionShift(
        ks_statistic=ks_statistic_sorted(c.predictions_sorted, t.predictions_sorted),
        ks_pvalue=recent.pvalue,
        ks_recent_statistic=recent.statistic,
        ks_recent_n=recent_n,
    )


def _reasons(verdict: Verdict, checks: Sequence[Check]) -> list[str]:
    """Why: the failing checks that decided, or what the promotion rests on."""
    failing = [c for c in checks if c.failing]
    if verdict is not Verdict.PROMOTE:
        stopping = verdict is Verdict.ROLLBACK
        return [_reason(c) for c in failing if c.consequence.stops == stopping]
    reasons = ["guardrails hold"]
    primary = next(c for c in checks if c.id == "primary_metric")
    if primary.passed:
        reasons.append(primary.message)
    return reasons


def _reason(check: Check) -> str:
    if check.passed is None:  # a required check that could not be evaluated
        return (
            f"primary metric {check.message}; give --metric, or --allow-neutral to promote "
            "on guardrails alone"
        )
    return check.message


def _whole(value: float | None) -> float | int | None:
    """Stages as integers in JSON when they are whole percentages (5, not 5.0)."""
    return int(value) if value is not None and value == int(value) else value


def _next_stage(verdict: Verdict, stage: float | None) -> float | None:
    if verdict is Verdict.ROLLBACK:
        return 0.0
    if stage is None:
        return None
    return next_stage(stage) if verdict is Verdict.PROMOTE else stage


def _warnings(
    data: CanaryData, stats: CanaryStats, checks: Sequence[Check], options: CanaryOptions
) -> list[str]:
    warnings = []
    if data.excluded:
        reasons = ", ".join(f"{n:,} with {reason}" for reason, n in data.excluded.items())
        warnings.append(
            f"excluded {sum(data.excluded.values()):,} of {data.rows:,} rows: {reasons}"
        )
    for variant in (data.control, data.treatment):
        for column, n in variant.missing.items():
            warnings.append(
                f"{n:,} {variant.name} rows with a null or unusable {column} left out of the "
                f"figures that use '{column}'"
            )
    warnings += read_warnings(data.read_notes)
    if data.inconsistent_units:
        warnings.append(
            f"{data.inconsistent_units:,} unit(s) with {data.inconsistent_rows:,} rows were logged "
            "under both variants: they count in the per-variant health figures but are left "
            "out of SRM, metrics and segments"
        )
    for check in checks:
        if check.consequence is Consequence.ROLLBACK and check.passed is None:
            warnings.append(f"rollback trigger '{check.id}' not evaluated: {check.message}")
    if options.stage is None:
        warnings.append(
            "no --stage given: SRM assumes an equal split and no next stage is proposed"
        )
    metric = stats.metric
    for entry in [metric, *stats.secondary_metrics] if metric else []:
        if entry.missing_rows:
            warnings.append(
                f"metric '{entry.name}': {entry.missing_rows:,} rows with a null, NaN or "
                "infinite value left out of it"
            )
    for column, entries in stats.segments.items():
        for segment in entries:
            if segment.regression:
                warnings.append(
                    f"segment {column} = {segment.value}: {metric.name if metric else ''} "
                    f"significantly worse ({signed_percent(segment.lift.lift_rel)}, Holm p = "
                    f"{segment.holm.pvalue_holm:.3g})"
                )
    neutral = metric is not None and (metric.lift.pvalue or 0.0) >= metric.alpha
    if options.allow_neutral and neutral:
        warnings.append("--allow-neutral: the primary metric is not significant either way")
    return warnings
