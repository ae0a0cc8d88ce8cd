"""`abtool shadow-report`: may the shadow candidate go to a 1% canary?"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from abtool.aggregates.shadow import ScoreFigures, ShadowData, ShadowRequest
from abtool.commands.shadow import SPEC, ShadowColumns, ShadowOptions, ShadowThresholds
from abtool.engines import Engine, LogInput, open_log
from abtool.reports.hygiene import check_threshold_range, excluded_values, read_warnings
from abtool.reports.result import (
    Check,
    Consequence,
    Inputs,
    Report,
    decide,
    failing_messages,
)
from abtool.reports.settings import resolve
from abtool.reports.shadow_scores import BOUNDS_METHOD, ks_test, score_figures
from abtool.results.shadow import (
    Histogram,
    LabelCounts,
    LatencyQuantiles,
    PredictionSummary,
    ShadowStats,
)
from abtool.stats.categorical import label_shift
from abtool.stats.ks import KSResult
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
        options: decision threshold, segments, time window.
        thresholds: checklist limits (defaults from the rollout checklist), or overrides
            by check id.
        config: a TOML file of thresholds, as ``--config``.
        engine: the engine that reads ``data``: "polars", "spark" or an engine object such
            as ``SparkEngine(session=spark)`` (default: the ``engine`` option, polars; a
            Spark DataFrame is read by Spark).
        progress: called with a short status line before long steps.
        settings: any option named as on the command line, ``_`` for ``-`` (e.g.
            ``threshold=0.6, segment=["country"], time_col="ts"``).

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
        time_unit=options.time_unit,
        ks=options.ks,
        ks_limit=limits.distribution_shift,
        histogram_bins=options.histogram_bins,
    )
    log = open_log(data, engine, options)
    aggregates = log.shadow(columns, request, progress)
    threshold_warnings = []
    figures, ks = None, None
    if aggregates.mode == "score":
        if progress:
            progress("Comparing prediction distributions")
        figures, ks = _scores(aggregates, options, limits)
        threshold_warnings = check_threshold_range(options.threshold, figures.low, figures.high)
    stats = _statistics(aggregates, options, figures, ks)
    checks = _checks(stats, aggregates, limits, columns)
    assert SPEC.verdicts is not None
    return Report(
        command=COMMAND,
        verdict=decide(checks, SPEC.verdicts),
        checks=checks,
        stats=stats,
        warnings=_warnings(aggregates, columns, options) + threshold_warnings,
        inputs=Inputs(list(log.paths), log.files, aggregates.rows),
        reasons=failing_messages(checks, *Consequence) or ["every check passed"],
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
    )


def _statistics(
    data: ShadowData,
    options: ShadowOptions,
    figures: ScoreFigures | None,
    ks: KSResult | None,
) -> ShadowStats:
    duration_hours = 0.0
    if data.time_min is not None and data.time_max is not None:
        duration_hours = (data.time_max - data.time_min).total_seconds() / 3600.0
    distribution: dict[str, Any]
    if figures is not None:
        distribution = {
            "ks_statistic": ks.statistic if ks is not None else None,
            "ks_pvalue": ks.pvalue if ks is not None else None,
            "ks_method": ks.method if ks is not None else BOUNDS_METHOD,
            "decision_threshold": options.threshold,
            "predictions": {
                role: PredictionSummary(s.n, s.mean, s.p5, s.p50, s.p95)
                for role, s in (("primary", figures.primary), ("shadow", figures.shadow))
            },
            "histogram": Histogram(
                figures.histogram_edges, figures.histogram_primary, figures.histogram_shadow
            ),
            "ks_bounds": None if ks is not None else [figures.ks_low, figures.ks_high],
        }
    else:
        labels, counts_p, counts_s = data.label_counts["labels"]
        shift = label_shift(counts_p, counts_s)
        distribution = {
            "ks_statistic": shift.distance,
            "ks_pvalue": shift.pvalue,
            "ks_method": f"total variation distance; {shift.method}",
            "labels": LabelCounts(labels, counts_p, counts_s),
        }
    return ShadowStats(
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
        segments=data.segments,
        latency={role: LatencyQuantiles(**q) for role, q in data.latency.items()},
        shadow_error_rate=(
            # identical copies of a request were dropped: the rate is per request served
            data.shadow_errors / (data.rows - data.dropped_copies)
            if data.shadow_errors is not None
            else None
        ),
        shadow_errors=data.shadow_errors,
        excluded_values=excluded_values(data.read_notes),
        **distribution,
    )


def _checks(
    stats: ShadowStats, data: ShadowData, limits: ShadowThresholds, columns: ShadowColumns
) -> list[Check]:
    hours = stats.duration_hours
    checks = [
        SPEC.make_check(
            "duration",
            hours >= limits.duration,
            hours,
            limits.duration,
            f"shadow ran {hours:.1f} h (need >= {limits.duration:g} h)",
        ),
        SPEC.make_check(
            "agreement_rate",
            stats.agreement_rate > limits.agreement_rate,
            stats.agreement_rate,
            limits.agreement_rate,
            f"decision agreement {stats.agreement_rate:.2%} (need > {limits.agreement_rate:.0%})",
        ),
    ]
    checks.append(_shift_check(stats, data, limits))
    rate = stats.shadow_error_rate
    if rate is None:
        checks.append(
            SPEC.make_check(
                "shadow_error_rate",
                None,
                None,
                limits.shadow_error_rate,
                f"skipped: no '{columns.shadow_error}' column",
            )
        )
    else:
        checks.append(
            SPEC.make_check(
                "shadow_error_rate",
                rate <= limits.shadow_error_rate,
                rate,
                limits.shadow_error_rate,
                f"shadow error rate {rate:.2%} (need <= {limits.shadow_error_rate:.2%})",
            )
        )
    latency = stats.latency
    if "primary" in latency and "shadow" in latency:
        base, cand = latency["primary"].p99_ms, latency["shadow"].p99_ms
        ratio = cand / base if base > 0 else (1.0 if cand == 0 else float("inf"))
        checks.append(
            SPEC.make_check(
                "latency_p99",
                ratio <= limits.latency_p99,
                ratio,
                limits.latency_p99,
                f"shadow p99 {cand:.1f} ms = {ratio:.2f}x primary p99 {base:.1f} ms "
                f"(need <= {limits.latency_p99:g}x)",
            )
        )
    else:
        checks.append(
            SPEC.make_check(
                "latency_p99",
                None,
                None,
                limits.latency_p99,
                f"skipped: needs '{columns.primary_latency}' and '{columns.shadow_latency}'",
            )
        )
    return checks


def _shift_check(stats: ShadowStats, data: ShadowData, limits: ShadowThresholds) -> Check:
    limit = limits.distribution_shift
    d = stats.ks_statistic
    if d is None:  # --ks approximate: bounds that decide the check
        assert stats.ks_bounds is not None
        low, high = stats.ks_bounds
        passed = high <= limit
        return SPEC.make_check(
            "distribution_shift",
            passed,
            high if passed else low,
            limit,
            f"KS D between {low:.4f} and {high:.4f} between primary and shadow (need <= "
            f"{limit:g}; {BOUNDS_METHOD})",
        )
    what = "KS D" if data.mode == "score" else "label distance"
    return SPEC.make_check(
        "distribution_shift",
        d <= limit,
        d,
        limit,
        f"{what} {d:.4f} between primary and shadow (need <= {limit:g};"
        f" p = {stats.ks_pvalue:.3g}, not gated)",
    )


def _warnings(data: ShadowData, columns: ShadowColumns, options: ShadowOptions) -> list[str]:
    warnings = []
    if data.excluded:
        reasons = ", ".join(f"{n:,} with {reason}" for reason, n in data.excluded.items())
        excluded = data.rows - data.valid_rows
        warnings.append(
            f"excluded {excluded:,} of {data.rows:,} rows from the comparison: {reasons}"
        )
    for segment, n in data.segments_left_out.items():
        if n:
            warnings.append(
                f"segment '{segment}': {n:,} value(s) with fewer than "
                f"{options.min_segment_rows} rows not ranked"
            )
    warnings += read_warnings(data.read_notes)
    if data.mode == "label":
        warnings.append(
            f"'{columns.primary}' and '{columns.shadow}' are class labels: agreement is the "
            "exact-match rate and the distribution test compares label frequencies"
        )
    return warnings
