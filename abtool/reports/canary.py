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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abtool.assignment import in_treatment
from abtool.config import CanaryThresholds
from abtool.errors import ConfigError, UsageError
from abtool.logs.canary import CanaryColumns, CanaryData, aggregate_canary
from abtool.logs.source import open_log, parse_time
from abtool.reports.canary_checks import canary_checks, signed_percent
from abtool.reports.canary_metrics import metric_kind, metric_stats, segment_stats, with_holm
from abtool.reports.result import Check, Report, Verdict
from abtool.stats.ks import ks_2samp_sorted, ks_statistic_sorted
from abtool.stats.srm import sample_ratio_mismatch

COMMAND = "canary-decide"
STAGES = (1.0, 5.0, 20.0, 50.0, 100.0)
ROLLBACK_TRIGGERS = ("error_rate", "latency_p99", "prediction_mean")
VALIDITY = ("srm", "assignment_consistency", "min_samples")
METRIC_TYPES = ("auto", "proportion", "continuous")


@dataclass(frozen=True)
class CanaryOptions:
    """Analysis options of canary-decide (the CLI's flags).

    Attributes:
        metrics: outcome columns; the first is primary, the others secondary.
        metric_type: ``auto`` (0/1 or boolean columns are proportions), ``proportion`` or
            ``continuous``; applies to every metric.
        segments: columns whose 3 largest values get their own primary-metric lift.
        control: control value of the variant column (default: first of the two, sorted).
        treatment: treatment value of the variant column.
        stage: current treatment share in percent (expected share for SRM).
        salt: assignment salt; count units logged against their md5 bucket.
        allow_neutral: promote when the primary metric is not significantly negative.
        bootstrap: replicates of a percentile bootstrap CI (0: none).
        seed: seed of the bootstrap.
        since: keep rows at or after this ISO time.
        until: keep rows before this ISO time.
    """

    metrics: Sequence[str] = ()
    metric_type: str = "auto"
    segments: Sequence[str] = ()
    control: str | None = None
    treatment: str | None = None
    stage: float | None = None
    salt: str | None = None
    allow_neutral: bool = False
    bootstrap: int = 0
    seed: int = 0
    since: str | None = None
    until: str | None = None


def next_stage(stage: float) -> float:
    """The next stage of the ladder 1 -> 5 -> 20 -> 50 -> 100 after ``stage`` percent."""
    return next((s for s in STAGES if s > stage), STAGES[-1])


def _validate(options: CanaryOptions) -> None:
    if options.metric_type not in METRIC_TYPES:
        raise UsageError(
            f"--metric-type must be one of {', '.join(METRIC_TYPES)}, got '{options.metric_type}'"
        )
    if options.stage is not None and not 0 < options.stage < 100:
        raise UsageError(
            f"--stage must be a percentage between 0 and 100 (exclusive), got {options.stage:g}"
        )
    if options.salt is not None and options.stage is None:
        raise UsageError("--salt needs --stage (the treatment share the buckets give)")
    if options.bootstrap < 0:
        raise UsageError(f"--bootstrap must be >= 0, got {options.bootstrap}")
    if len(set(options.metrics)) != len(options.metrics):
        raise UsageError("--metric lists a column twice")


def _validate_thresholds(thresholds: CanaryThresholds) -> None:
    window = thresholds.distribution_shift_window
    if window < 1 or window != int(window):
        raise ConfigError(f"distribution_shift_window must be a positive integer, got {window}")


def validate_settings(options: CanaryOptions, thresholds: CanaryThresholds) -> None:
    """Check options and thresholds as :func:`canary_report` does, without reading a log.

    Raises:
        UsageError: an option is out of range or inconsistent (e.g. ``salt`` without ``stage``).
        ConfigError: a threshold is unusable.
    """
    _validate(options)
    _validate_thresholds(thresholds)


def canary_report(
    paths: Sequence[str | Path],
    *,
    columns: CanaryColumns | None = None,
    options: CanaryOptions | None = None,
    thresholds: CanaryThresholds | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run the canary stage gate on a canary / A/B log.

    Args:
        paths: Parquet files, globs or (hive-partitioned) directories.
        columns: column names, defaults to the DESIGN.md canary schema.
        options: metrics, variants, stage, segments, time window.
        thresholds: rollback triggers and validity limits (defaults: rollout checklist).
        progress: called with a short status line before long steps.

    Returns:
        A Report with verdict PROMOTE, HOLD or ROLLBACK.
    """
    columns = columns or CanaryColumns()
    options = options or CanaryOptions()
    thresholds = thresholds or CanaryThresholds()
    validate_settings(options, thresholds)
    source = open_log(paths)
    data = aggregate_canary(
        source,
        columns,
        metrics=options.metrics,
        segments=options.segments,
        control=options.control,
        treatment=options.treatment,
        recent_window=int(thresholds.distribution_shift_window),
        since=parse_time(options.since, "--since"),
        until=parse_time(options.until, "--until"),
        progress=progress,
    )
    if progress:
        progress("Computing statistics")
    kinds = [metric_kind(m, options.metric_type, source.name) for m in data.metrics]
    alpha = thresholds.primary_metric
    warnings: list[str] = []
    stats = _health_stats(data)
    stats.update(_validity_stats(data, options))
    stats.update(_distribution_stats(data))
    results = [
        metric_stats(m, kind, alpha, warnings, bootstrap=options.bootstrap, seed=options.seed)
        for m, kind in zip(data.metrics, kinds, strict=True)
    ]
    stats["metric"] = results[0] if results else None
    stats["secondary_metrics"] = with_holm(results[1:], alpha)
    stats["segments"] = segment_stats(data, alpha)
    checks = canary_checks(stats, data, thresholds, columns, options.allow_neutral)
    verdict, reasons = _decide(checks, stats, options)
    stats["stage"] = _whole(options.stage)
    stats["next_stage"] = _whole(_next_stage(verdict, options.stage))
    if verdict is Verdict.PROMOTE and stats["next_stage"] is not None:
        reasons.append(f"promote from {options.stage:g}% to {stats['next_stage']:g}%")
    warnings = _warnings(data, stats, checks, options) + warnings
    return Report(
        command=COMMAND,
        verdict=verdict,
        checks=checks,
        stats=stats,
        warnings=warnings,
        inputs={"paths": [str(p) for p in paths], "files": len(source.files), "rows": data.rows},
        reasons=reasons,
    )


def _rate(part: int | None, whole: int) -> float | None:
    return None if part is None or whole == 0 else part / whole


def _health_stats(data: CanaryData) -> dict[str, Any]:
    duration = None
    if data.time_min is not None and data.time_max is not None:
        duration = (data.time_max - data.time_min).total_seconds() / 3600.0
    variants = {
        role: {
            "name": v.name,
            "requests": v.requests,
            "units": v.units,
            "errors": v.errors,
            "error_rate": _rate(v.errors, v.requests),
            "latency_p50_ms": v.latency_p50_ms,
            "latency_p99_ms": v.latency_p99_ms,
            "prediction_mean": v.prediction_mean,
        }
        for role, v in (("control", data.control), ("treatment", data.treatment))
    }
    return {
        "rows": data.rows,
        "excluded_rows": sum(data.excluded.values()),
        "excluded_reasons": data.excluded,
        "time_start": data.time_min.isoformat() if data.time_min else None,
        "time_end": data.time_max.isoformat() if data.time_max else None,
        "duration_hours": duration,
        "variants": variants,
    }


def _validity_stats(data: CanaryData, options: CanaryOptions) -> dict[str, Any]:
    share = (options.stage if options.stage is not None else 50.0) / 100.0
    stats: dict[str, Any] = {
        "expected_treatment_share": share,
        "observed_treatment_share": (
            data.treatment.units / data.analysed_units if data.analysed_units else None
        ),
        "srm_chi2": None,
        "srm_pvalue": None,
        "units": data.total_units,
        "inconsistent_units": data.inconsistent_units,
        "inconsistent_share": (
            data.inconsistent_units / data.total_units if data.total_units else None
        ),
        "inconsistent_rows": data.inconsistent_rows,
        "salt_mismatched_units": None,
    }
    if data.analysed_units:
        srm = sample_ratio_mismatch(
            [data.control.units, data.treatment.units], [1.0 - share, share]
        )
        stats.update(srm_chi2=srm.chi2, srm_pvalue=srm.pvalue)
    if options.salt is not None:
        salt, fraction = options.salt, share
        wrong = sum(in_treatment(salt, u, fraction) for u in data.unit_ids["control"])
        wrong += sum(not in_treatment(salt, u, fraction) for u in data.unit_ids["treatment"])
        stats["salt_mismatched_units"] = wrong
    return stats


def _distribution_stats(data: CanaryData) -> dict[str, Any]:
    c, t = data.control, data.treatment
    stats: dict[str, Any] = {
        "ks_statistic": None,
        "ks_pvalue": None,
        "ks_recent_statistic": None,
        "ks_recent_n": [len(c.recent_sorted), len(t.recent_sorted)],
    }
    if len(c.predictions_sorted) and len(t.predictions_sorted):
        stats["ks_statistic"] = ks_statistic_sorted(c.predictions_sorted, t.predictions_sorted)
        recent = ks_2samp_sorted(c.recent_sorted, t.recent_sorted)
        stats.update(ks_pvalue=recent.pvalue, ks_recent_statistic=recent.statistic)
    return stats


def _decide(
    checks: Sequence[Check], stats: dict[str, Any], options: CanaryOptions
) -> tuple[Verdict, list[str]]:
    failed = {c.id: c for c in checks if c.passed is False and not c.advisory}
    triggers = [failed[i].message for i in ROLLBACK_TRIGGERS if i in failed]
    if triggers:
        return Verdict.ROLLBACK, triggers
    holds = [failed[i].message for i in (*VALIDITY, "primary_metric") if i in failed]
    primary = next(c for c in checks if c.id == "primary_metric")
    if primary.passed is None and not options.allow_neutral:
        holds.append(
            f"primary metric {primary.message}; give --metric, or --allow-neutral to promote "
            "on guardrails alone"
        )
    if holds:
        return Verdict.HOLD, holds
    reasons = ["guardrails hold"]
    if primary.passed:
        reasons.append(primary.message)
    return Verdict.PROMOTE, reasons


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
    data: CanaryData, stats: dict[str, Any], checks: Sequence[Check], options: CanaryOptions
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
                f"{n:,} {variant.name} rows with a null {column} left out of the figures "
                f"that use '{column}'"
            )
    if data.inconsistent_units:
        warnings.append(
            f"{data.inconsistent_units:,} unit(s) with {data.inconsistent_rows:,} rows were logged "
            "under both variants: they count in the per-variant health figures but are left "
            "out of SRM, metrics and segments"
        )
    for check in checks:
        if check.id in ROLLBACK_TRIGGERS and check.passed is None:
            warnings.append(f"rollback trigger '{check.id}' not evaluated: {check.message}")
    if options.stage is None:
        warnings.append(
            "no --stage given: SRM assumes an equal split and no next stage is proposed"
        )
    metric = stats["metric"]
    for entry in [metric, *stats["secondary_metrics"]] if metric else []:
        if entry["missing_rows"]:
            warnings.append(
                f"metric '{entry['name']}': {entry['missing_rows']:,} rows with a null or NaN "
                "value left out of it"
            )
    for column, entries in stats["segments"].items():
        for entry in entries:
            if entry.get("regression"):
                warnings.append(
                    f"segment {column} = {entry['value']}: {metric['name'] if metric else ''} "
                    f"significantly worse ({signed_percent(entry['lift_rel'])}, Holm p = "
                    f"{entry['pvalue_holm']:.3g})"
                )
    untested = metric is None or metric.get("pvalue") is None
    if options.allow_neutral and not untested and metric["pvalue"] >= metric["alpha"]:
        warnings.append("--allow-neutral: the primary metric is not significant either way")
    return warnings
