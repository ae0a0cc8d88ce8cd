"""`abtool shadow-report`: may the shadow candidate go to a 1% canary?"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from abtool.aggregates.shadow import ScoreFigures, ShadowData, ShadowRequest
from abtool.commands.shadow import SPEC, ShadowColumns, ShadowOptions, ShadowThresholds
from abtool.engines import Engine, LogInput, open_log
from abtool.reports.hygiene import check_threshold_range, excluded_values, read_warnings
from abtool.reports.result import Inputs, Report, decide
from abtool.reports.settings import resolve
from abtool.reports.shadow_checks import (
    distribution_check,
    duration_check,
    error_rate_check,
    error_spike_check,
    latency_checks,
    range_check,
    reasons,
    segment_check,
)
from abtool.reports.shadow_figures import (
    SegmentFinding,
    SpikeFindings,
    ecdf_from_figures,
    segment_figures,
    spike_findings,
    stability_bins,
    timeline_record,
)
from abtool.reports.shadow_scores import BOUNDS_METHOD, ks_test, score_figures
from abtool.results.shadow import (
    Histogram,
    LabelCounts,
    LatencyQuantiles,
    PredictionRange,
    PredictionSummary,
    ShadowStats,
)
from abtool.stats.categorical import label_shift
from abtool.stats.ks import KSResult
from abtool.stats.stability import psi_binned, psi_counts
from abtool.times import parse_time

COMMAND = SPEC.name


def shadow_report(
    data: LogInput,
    *,
    columns: ShadowColumns | None = None,
    options: ShadowOptions | None = None,
    thresholds: ShadowThresholds | dict[str, float] | None = None,
    config: str | Path | None = None,
    engine: str | Engine | None = None,
    progress: Callable[[str], None] | None = None,
    **settings: Any,
) -> Report[ShadowStats]:
    """Compare primary and shadow predictions and run the shadow -> canary checklist.

    Args:
        data: Parquet files, globs or (hive-partitioned) directories (a path or a list),
            a Polars or pandas DataFrame, or a log an engine opened.
        columns: column names, defaults to the documented shadow schema.
        options: decision threshold, segments, time window, buckets, timeouts, range.
        thresholds: checklist limits (defaults from the rollout checklist), or overrides
            by check id.
        config: a TOML file of thresholds, as ``--config``.
        engine: the engine that reads ``data``: "polars", "spark" or an engine object such
            as ``SparkEngine(session=spark)`` (default: the ``engine`` option, polars; a
            Spark DataFrame is read by Spark).
        progress: called with a short status line before long steps.
        settings: any option named as on the command line, ``_`` for ``-`` (e.g.
            ``threshold=0.6, segment=["country"], time_col="ts"``,
            ``expected_range=(0, 1)``).

    Returns:
        A Report with verdict GO or NO_GO.
    """
    limits: ShadowThresholds
    columns, options, limits = resolve(
        SPEC, settings, columns=columns, options=options, thresholds=thresholds, config=config
    )
    request = ShadowRequest(
        threshold=options.threshold,
        segments=options.segments,
        top=options.top,
        min_segment_rows=options.min_segment_rows,
        since=parse_time(options.since, "--since"),
        until=parse_time(options.until, "--until"),
        bucket=options.bucket,
        timeout_ms=options.timeout_ms,
        timeout_errors=options.timeout_errors,
        expected_range=options.expected_range,
        time_unit=options.time_unit,
        ks=options.ks,
        ks_limit=limits.distribution_shift,
        histogram_bins=options.histogram_bins,
        psi_bins=options.psi_bins,
    )
    log = open_log(data, engine, options)
    aggregates = log.shadow(columns, request, progress)
    threshold_warnings = []
    figures, ks = None, None
    if progress:
        progress("Comparing prediction distributions")
    if aggregates.mode == "score":
        figures, ks = _scores(aggregates, options, limits)
        threshold_warnings = check_threshold_range(options.threshold, figures.low, figures.high)
    stats, findings, spikes = _statistics(aggregates, options, limits, figures, ks)
    checks = [
        duration_check(stats, limits),
        SPEC.make_check(
            "agreement_rate",
            stats.agreement_rate > limits.agreement_rate,
            stats.agreement_rate,
            limits.agreement_rate,
            f"decision agreement {stats.agreement_rate:.2%} (need > {limits.agreement_rate:.0%})",
        ),
        segment_check(findings, list(aggregates.segments), limits, options),
        distribution_check(stats, limits, aggregates.mode),
        range_check(stats, limits),
        error_rate_check(stats, limits, columns),
        error_spike_check(stats, spikes, limits, columns),
        *latency_checks(stats, spikes, limits, columns),
    ]
    assert SPEC.verdicts is not None
    return Report(
        command=COMMAND,
        verdict=decide(checks, SPEC.verdicts),
        checks=checks,
        stats=stats,
        warnings=_warnings(aggregates, columns, options) + threshold_warnings,
        inputs=Inputs(list(log.paths), log.files, aggregates.rows),
        reasons=reasons(checks),
    )


def _scores(
    data: ShadowData, options: ShadowOptions, limits: ShadowThresholds
) -> tuple[ScoreFigures, KSResult | None]:
    """The scores' figures: the engine's, or computed from its sorted arrays."""
    if data.score_figures is not None:
        return data.score_figures, ks_test(data.score_figures)
    return score_figures(
        data.primary_sorted,
        data.shadow_sorted,
        options.histogram_bins,
        options.ks,
        limits.distribution_shift,
        options.psi_bins,
    )


def _statistics(
    data: ShadowData,
    options: ShadowOptions,
    limits: ShadowThresholds,
    figures: ScoreFigures | None,
    ks: KSResult | None,
) -> tuple[ShadowStats, list[SegmentFinding], SpikeFindings]:
    duration_hours = 0.0
    if data.time_min is not None and data.time_max is not None:
        duration_hours = (data.time_max - data.time_min).total_seconds() / 3600.0
    # The span of the timestamps falls short of the window the shadow ran by the gaps before
    # the first and after the last request: about two mean gaps (capped at 1% of the limit).
    tolerance = 0.0
    if data.valid_rows > 1:
        tolerance = min(2 * duration_hours / (data.valid_rows - 1), 0.01 * limits.duration)
    distribution: dict[str, Any]
    if figures is not None:
        stability = psi_binned(
            figures.psi_edges, figures.psi_primary, figures.psi_shadow, options.psi_bins
        )
        distribution = {
            "ks_statistic": ks.statistic if ks is not None else None,
            "ks_pvalue": ks.pvalue if ks is not None else None,
            "ks_method": ks.method if ks is not None else BOUNDS_METHOD,
            "ks_bounds": None if ks is not None else [figures.ks_low, figures.ks_high],
            "ecdf": ecdf_from_figures(figures),
            "decision_threshold": options.threshold,
            "predictions": {
                role: PredictionSummary(s.n, s.mean, s.p5, s.p50, s.p95)
                for role, s in (("primary", figures.primary), ("shadow", figures.shadow))
            },
            "histogram": Histogram(
                figures.histogram_edges, figures.histogram_primary, figures.histogram_shadow
            ),
        }
        if options.expected_range is not None and data.outside_range is not None:
            low, high = options.expected_range
            share = data.outside_range / data.shadow_scored if data.shadow_scored else 0.0
            distribution["prediction_range"] = PredictionRange(
                low, high, data.outside_range, data.shadow_scored, share
            )
    else:
        labels, counts_p, counts_s = data.label_counts["labels"]
        shift = label_shift(counts_p, counts_s)
        stability = psi_counts(labels, counts_p, counts_s)
        distribution = {
            "ks_statistic": shift.distance,
            "ks_pvalue": shift.pvalue,
            "ks_method": f"total variation distance; {shift.method}",
            "labels": LabelCounts(labels, counts_p, counts_s),
        }
    latency = {role: LatencyQuantiles(**q) for role, q in data.latency.items()}
    served = data.rows - data.dropped_copies
    segments, findings = segment_figures(data, limits, options.top)
    spikes = spike_findings(data, limits)
    stats = ShadowStats(
        rows=data.rows,
        excluded_rows=data.rows - data.valid_rows,
        excluded_reasons=data.excluded,
        compared_rows=data.valid_rows,
        time_start=data.time_min,
        time_end=data.time_max,
        duration_hours=duration_hours,
        prediction_kind=data.mode,
        agreement_rate=data.agreement_rate,
        mean_abs_disagreement=data.mean_abs_disagreement,
        segments=segments,
        latency=latency,
        # identical copies of a request were dropped: rates are per request served
        shadow_error_rate=(data.shadow_errors / served if data.shadow_errors is not None else None),
        shadow_errors=data.shadow_errors,
        excluded_values=excluded_values(data.read_notes),
        psi=stability.psi,
        psi_reading=stability.reading,
        psi_bins=stability_bins(stability),
        shift_measure=options.shift_measure,
        duration_tolerance_hours=tolerance,
        segments_tested=len(findings),
        segments_failed=sum(f.test.failed for f in findings),
        timeline=timeline_record(data.timeline, spikes) if data.timeline is not None else None,
        timeouts=data.timeouts,
        timeout_rate=data.timeouts / served if data.timeouts is not None else None,
        **distribution,
    )
    return stats, findings, spikes


def _warnings(data: ShadowData, columns: ShadowColumns, options: ShadowOptions) -> list[str]:
    warnings = []
    if data.excluded:
        reasons = ", ".join(f"{n:,} with {reason}" for reason, n in data.excluded.items())
        excluded = data.rows - data.valid_rows
        warnings.append(
            f"excluded {excluded:,} of {data.rows:,} rows from the comparison: {reasons}"
        )
    for segment, table in data.segments.items():
        if table.left_out:
            warnings.append(
                f"segment '{segment}': {table.left_out:,} value(s) with fewer than "
                f"{options.min_segment_rows} rows not ranked"
            )
    warnings += read_warnings(data.read_notes)
    if data.mode == "label":
        warnings.append(
            f"'{columns.primary}' and '{columns.shadow}' are class labels: agreement is the "
            "exact-match rate and the distribution test compares label frequencies"
        )
    if options.timeout_ms is not None and "shadow" not in data.latency:
        warnings.append(
            f"--timeout-ms {options.timeout_ms:g} has no effect: no '{columns.shadow_latency}' "
            "column"
        )
    if options.expected_range is not None and data.mode == "label":
        warnings.append("--expected-range has no effect on class labels")
    return warnings
