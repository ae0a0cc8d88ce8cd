"""`abtool shadow-report`: may the shadow candidate go to a 1% canary?"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abtool.config import ShadowThresholds
from abtool.logs.shadow import ShadowColumns, ShadowData, aggregate_shadow, check_threshold
from abtool.logs.source import open_log, parse_time
from abtool.prefetch import prefetch
from abtool.reports.result import (
    Check,
    Report,
    Verdict,
    failed_reasons,
    verdict_from_checks,
)
from abtool.stats.categorical import label_shift
from abtool.stats.descriptive import shared_histogram, summarize_sorted
from abtool.stats.ks import ks_2samp_sorted

COMMAND = "shadow-report"


@dataclass(frozen=True)
class ShadowOptions:
    """Analysis options of the shadow report (the CLI's flags)."""

    threshold: float = 0.5
    segments: Sequence[str] | None = None
    top: int = 10
    min_segment_rows: int = 30
    since: str | None = None
    until: str | None = None
    histogram_bins: int = 10


def shadow_report(
    paths: Sequence[str | Path],
    *,
    columns: ShadowColumns | None = None,
    options: ShadowOptions | None = None,
    thresholds: ShadowThresholds | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Compare primary and shadow predictions and run the shadow -> canary checklist.

    Args:
        paths: Parquet files, globs or (hive-partitioned) directories.
        columns: column names, defaults to the DESIGN.md shadow schema.
        options: decision threshold, segments, time window.
        thresholds: checklist limits (defaults from the rollout checklist).
        progress: called with a short status line before long steps.

    Returns:
        A Report with verdict GO or NO_GO.
    """
    columns = columns or ShadowColumns()
    options = options or ShadowOptions()
    thresholds = thresholds or ShadowThresholds()
    check_threshold(options.threshold)
    prefetch("scipy.stats")
    since = parse_time(options.since, "--since")
    until = parse_time(options.until, "--until")
    source = open_log(paths)
    data = aggregate_shadow(
        source,
        columns,
        threshold=options.threshold,
        segments=options.segments,
        top=options.top,
        min_segment_rows=options.min_segment_rows,
        since=since,
        until=until,
        progress=progress,
    )
    if progress:
        progress("Comparing prediction distributions")
    stats = _statistics(data, options)
    checks = _checks(stats, data, thresholds, columns)
    verdict = verdict_from_checks(checks, Verdict.GO, Verdict.NO_GO)
    return Report(
        command=COMMAND,
        verdict=verdict,
        checks=checks,
        stats=stats,
        warnings=_warnings(data, columns, options),
        inputs={"paths": [str(p) for p in paths], "files": len(source.files), "rows": data.rows},
        reasons=failed_reasons(checks) or ["every check passed"],
    )


def _statistics(data: ShadowData, options: ShadowOptions) -> dict[str, Any]:
    duration_hours = 0.0
    if data.time_min is not None and data.time_max is not None:
        duration_hours = (data.time_max - data.time_min).total_seconds() / 3600.0
    stats: dict[str, Any] = {
        "rows": data.rows,
        "excluded_rows": data.rows - data.valid_rows,
        "excluded_reasons": data.excluded,
        "compared_rows": data.valid_rows,
        "time_start": data.time_min.isoformat() if data.time_min else None,
        "time_end": data.time_max.isoformat() if data.time_max else None,
        "duration_hours": duration_hours,
        "prediction_kind": data.mode,
    }
    if data.mode == "score":
        ks = ks_2samp_sorted(data.primary_sorted, data.shadow_sorted)
        edges, (hist_p, hist_s) = shared_histogram(
            [data.primary_sorted, data.shadow_sorted], options.histogram_bins
        )
        stats.update(
            ks_statistic=ks.statistic,
            ks_pvalue=ks.pvalue,
            ks_method=ks.method,
            decision_threshold=options.threshold,
            predictions={
                "primary": summarize_sorted(data.primary_sorted).to_dict(),
                "shadow": summarize_sorted(data.shadow_sorted).to_dict(),
            },
            histogram={"edges": edges, "primary": hist_p, "shadow": hist_s},
        )
    else:
        labels, counts_p, counts_s = data.label_counts["labels"]
        shift = label_shift(counts_p, counts_s)
        stats.update(
            ks_statistic=shift.distance,
            ks_pvalue=shift.pvalue,
            ks_method=f"total variation distance; {shift.method}",
            labels={"values": labels, "primary": counts_p, "shadow": counts_s},
        )
    stats.update(
        agreement_rate=data.agreement_rate,
        mean_abs_disagreement=data.mean_abs_disagreement,
        segments={
            column: [
                {"value": r.value, "rows": r.rows, "mean_abs_disagreement": r.mean_abs_disagreement}
                for r in rows
            ]
            for column, rows in data.segments.items()
        },
        latency=data.latency,
        shadow_error_rate=(
            data.shadow_errors / data.rows if data.shadow_errors is not None else None
        ),
        shadow_errors=data.shadow_errors,
    )
    return stats


def _checks(
    stats: dict[str, Any], data: ShadowData, limits: ShadowThresholds, columns: ShadowColumns
) -> list[Check]:
    hours = stats["duration_hours"]
    checks = [
        Check(
            "duration",
            hours >= limits.duration,
            hours,
            limits.duration,
            f"shadow ran {hours:.1f} h (need >= {limits.duration:g} h)",
        ),
        Check(
            "agreement_rate",
            stats["agreement_rate"] > limits.agreement_rate,
            stats["agreement_rate"],
            limits.agreement_rate,
            f"decision agreement {stats['agreement_rate']:.2%} "
            f"(need > {limits.agreement_rate:.0%})",
        ),
    ]
    d = stats["ks_statistic"]
    what = "KS D" if data.mode == "score" else "label distance"
    checks.append(
        Check(
            "distribution_shift",
            d <= limits.distribution_shift,
            d,
            limits.distribution_shift,
            f"{what} {d:.4f} between primary and shadow (need <= {limits.distribution_shift:g};"
            f" p = {stats['ks_pvalue']:.3g}, not gated)",
        )
    )
    rate = stats["shadow_error_rate"]
    if rate is None:
        checks.append(
            Check(
                "shadow_error_rate",
                None,
                None,
                limits.shadow_error_rate,
                f"skipped: no '{columns.shadow_error}' column",
            )
        )
    else:
        checks.append(
            Check(
                "shadow_error_rate",
                rate <= limits.shadow_error_rate,
                rate,
                limits.shadow_error_rate,
                f"shadow error rate {rate:.2%} (need <= {limits.shadow_error_rate:.2%})",
            )
        )
    latency = stats["latency"]
    if "primary" in latency and "shadow" in latency:
        base, cand = latency["primary"]["p99_ms"], latency["shadow"]["p99_ms"]
        ratio = cand / base if base > 0 else float("inf")
        checks.append(
            Check(
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
            Check(
                "latency_p99",
                None,
                None,
                limits.latency_p99,
                f"skipped: needs '{columns.primary_latency}' and '{columns.shadow_latency}'",
            )
        )
    return checks


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
    if data.mode == "label":
        warnings.append(
            f"'{columns.primary}' and '{columns.shadow}' are class labels: agreement is the "
            "exact-match rate and the distribution test compares label frequencies"
        )
    return warnings
