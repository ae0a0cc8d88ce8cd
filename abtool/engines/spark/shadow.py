"""shadow-report on Spark: the Polars engine's reduction (:mod:`abtool.engines.polars.shadow`) as
Spark queries, filling the same :class:`ShadowData`.

One aggregation gives the counts, exclusions by reason, time range, agreement and
disagreement sums and errors; one grouped query all segment columns' sums; latency
quantiles are exact from bucket counts (:mod:`abtool.engines.spark.grouped_buckets`). The
valid scores come back sorted through Arrow while they number at most the array cap; above
it the engine computes the report's figures itself (:class:`ScoreFigures`: KS D, or its
bounds with ``--ks approximate``, and quantiles from bucket counts; histogram counts and
means by aggregation), so no global sort and no column leaves Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from abtool.aggregates.shadow import ScoreFigures, ScoreSummary, ShadowData, ShadowRequest
from abtool.commands.shadow import ShadowColumns
from abtool.engines.polars.schema import Kind, optional, require, require_columns
from abtool.engines.polars.shadow import LATENCY_QUANTILES, default_segments
from abtool.engines.spark.duplicates import drop_duplicate_requests
from abtool.engines.spark.grouped_buckets import GROUP, VALUE, GroupedBuckets
from abtool.engines.spark.prepare import prepared, read_notes
from abtool.engines.spark.source import (
    SparkSource,
    arrow_columns,
    cached,
    col,
    collect_row,
    collect_rows,
    polars_frame,
)
from abtool.engines.spark.times import micros, python_time, time_filter
from abtool.engines.spark.values import (
    count_if,
    error_flag,
    first_reason,
    infinite,
    latency_reasons,
    missing_value,
    named_counts,
)
from abtool.engines.spark_buckets import SparkBucketSource
from abtool.errors import InputError
from abtool.results.shadow import SegmentDisagreement
from abtool.stats.bucketed import exact_ks, exact_quantiles, ks_bounds

SUMMARY_QUANTILES = {"p5": 0.05, "p50": 0.50, "p95": 0.95}


def aggregate_shadow(
    source: SparkSource,
    columns: ShadowColumns,
    request: ShadowRequest,
    progress: Callable[[str], None] | None = None,
    array_cap: int = 0,
) -> ShadowData:
    """Validate the schema, then reduce the log to the shadow report's aggregates.

    Raises:
        InputError: as the Polars engine.
    """
    source = prepared(source, time=columns.time, time_unit=request.time_unit, ids=[columns.request])
    schema, name = source.schema, source.name
    require_columns(
        schema,
        name,
        {
            columns.time: "--time-col",
            columns.primary: "--primary-col",
            columns.shadow: "--shadow-col",
            **{segment: "--segment" for segment in request.segments or ()},
        },
    )
    time_dtype = require(schema, name, columns.time, Kind.TIME, "--time-col")
    primary_dtype = require(schema, name, columns.primary, Kind.LABEL, "--primary-col")
    shadow_dtype = require(schema, name, columns.shadow, Kind.LABEL, "--shadow-col")
    mode = "score" if primary_dtype.is_float() and shadow_dtype.is_float() else "label"
    if mode == "label" and primary_dtype.is_float() != shadow_dtype.is_float():
        raise InputError(
            f"{name}: column '{columns.primary}' is {primary_dtype} but '{columns.shadow}' is "
            f"{shadow_dtype}; both must be scores (float) or both class labels"
        )
    latency_dtypes = {
        role: optional(schema, name, c, Kind.NUMBER)
        for role, c in (("primary", columns.primary_latency), ("shadow", columns.shadow_latency))
    }
    error_dtype = optional(schema, name, columns.shadow_error, Kind.BOOL_OR_TEXT)
    segments = (
        list(request.segments)
        if request.segments is not None
        else default_segments(
            {k: v for k, v in schema.items() if k not in source.partition_keys}, columns
        )
    )
    for segment in segments:
        require(schema, name, segment, Kind.SEGMENT, "--segment")
    latency_cols = {
        role: c
        for role, c in (("primary", columns.primary_latency), ("shadow", columns.shadow_latency))
        if latency_dtypes[role] is not None
    }
    needed = [columns.time, columns.primary, columns.shadow, *segments]
    needed += list(latency_cols.values())
    if error_dtype is not None:
        needed.append(columns.shadow_error)
    request_col = columns.request if columns.request in schema else None
    if request_col is not None:
        needed.append(request_col)
    frame = source.scan(needed)
    window = time_filter(columns.time, time_dtype, request.since, request.until)
    if window is not None:
        frame = frame.where(window)
    frame, duplicates = drop_duplicate_requests(frame, request_col, name)
    dtypes = {
        "time": time_dtype,
        "primary": primary_dtype,
        "shadow": shadow_dtype,
        "error": error_dtype,
        **{f"latency:{role}": latency_dtypes[role] for role in latency_cols},
    }
    with cached(frame) as rows:
        return _reduced(
            rows, source, columns, request, mode, dtypes, segments, latency_cols,
            window is not None, duplicates, array_cap, progress,
        )  # fmt: skip


def _reduced(
    frame: DataFrame,
    source: SparkSource,
    columns: ShadowColumns,
    request: ShadowRequest,
    mode: str,
    dtypes: dict[str, Any],
    segments: list[str],
    latency_cols: dict[str, str],
    windowed: bool,
    duplicates: Any,
    array_cap: int,
    progress: Callable[[str], None] | None,
) -> ShadowData:
    name = source.name
    primary_dtype, shadow_dtype = dtypes["primary"], dtypes["shadow"]
    t_missing = col(columns.time).isNull()
    reasons = [
        (f"null {columns.time}", t_missing),
        (f"null or NaN {columns.primary}", missing_value(columns.primary, primary_dtype)),
        (f"null or NaN {columns.shadow}", missing_value(columns.shadow, shadow_dtype)),
        (f"infinite {columns.primary}", infinite(columns.primary, primary_dtype)),
        (f"infinite {columns.shadow}", infinite(columns.shadow, shadow_dtype)),
    ]
    invalid, reason_counts = first_reason(reasons, "excl_")
    valid = ~invalid
    latency_checks = {
        role: latency_reasons(c, dtypes[f"latency:{role}"]) for role, c in latency_cols.items()
    }
    p, s = col(columns.primary), col(columns.shadow)
    threshold = request.threshold
    if mode == "score":
        disagreement = F.abs(p - s).cast("double")
        agree = (p >= F.lit(threshold)) == (s >= F.lit(threshold))
    else:
        disagreement = (p.cast("string") != s.cast("string")).cast("double")
        agree = p.cast("string") == s.cast("string")
    stamp = micros(columns.time, dtypes["time"])
    aggregations = [
        F.count(F.lit(1)).alias("rows"),
        count_if(valid).alias("valid_rows"),
        count_if(t_missing).alias("excl_time"),
        *reason_counts,
        *[c for role, r in latency_checks.items() for c in first_reason(r, f"{role}_")[1]],
        F.min(F.when(valid, stamp)).alias("time_min"),
        F.max(F.when(valid, stamp)).alias("time_max"),
        count_if(valid & agree).alias("agree_sum"),
        F.coalesce(F.sum(F.when(valid, disagreement)), F.lit(0.0)).alias("disagreement_sum"),
    ]
    if dtypes["error"] is not None:
        aggregations.append(
            count_if(error_flag(columns.shadow_error, dtypes["error"])).alias("errors")
        )
    if mode == "score":
        aggregations.append(count_if(valid).alias("scores"))
    if progress:
        progress(f"Scanning {len(source.files)} file(s)")
    summary = collect_row(frame.agg(*aggregations), name).asDict()
    rows = int(summary["rows"])
    if rows == 0:
        window_text = " in the --since/--until window" if windowed else ""
        raise InputError(f"{name}: log has no rows{window_text}")
    valid_rows = int(summary["valid_rows"])
    if valid_rows == 0:
        raise InputError(
            f"{name}: no row has both '{columns.primary}' and '{columns.shadow}' "
            f"(all {rows} rows are null, NaN or infinite in one of them)"
        )
    excluded = named_counts(reasons, "excl_", summary)
    if duplicates is not None and duplicates.dropped:
        excluded[duplicates.excluded_reason] = duplicates.dropped
    latency_excluded = {
        role: named_counts(r, f"{role}_", summary) for role, r in latency_checks.items()
    }
    segment_rows, left_out = _segments(frame, valid, disagreement, segments, request, name)
    if progress and (latency_cols or mode == "score"):
        progress("Latency quantiles and prediction distributions")
    latency = _latency_quantiles(frame, latency_cols, dtypes, name, array_cap)
    empty = np.empty(0, dtype=np.float64)
    primary_sorted, shadow_sorted, figures = empty, empty, None
    label_counts: dict[str, tuple[list[str], list[int], list[int]]] = {}
    if mode == "score":
        scores = frame.where(valid).select(
            p.cast("double").alias("primary"), s.cast("double").alias("shadow")
        )
        if valid_rows <= array_cap:
            table = arrow_columns(scores, name)
            primary_sorted = np.sort(table["primary"].astype(np.float64))
            shadow_sorted = np.sort(table["shadow"].astype(np.float64))
        else:
            figures = _score_figures(scores, valid_rows, request, name)
    else:
        label_counts["labels"] = _label_counts(frame.where(valid), p, s, name)
    latency = {
        role: q for role, q in latency.items() if sum(latency_excluded[role].values()) < rows
    }
    dropped = duplicates.dropped if duplicates is not None else 0
    return ShadowData(
        mode=mode,
        rows=rows + dropped,
        valid_rows=valid_rows,
        excluded=excluded,
        time_min=python_time(summary["time_min"], dtypes["time"]),
        time_max=python_time(summary["time_max"], dtypes["time"]),
        agreement_rate=float(summary["agree_sum"]) / valid_rows,
        mean_abs_disagreement=float(summary["disagreement_sum"]) / valid_rows,
        shadow_errors=int(summary["errors"]) if dtypes["error"] is not None else None,
        latency=latency,
        segments=segment_rows,
        segments_left_out=left_out,
        primary_sorted=primary_sorted,
        shadow_sorted=shadow_sorted,
        score_figures=figures,
        label_counts=label_counts,
        read_notes=read_notes(
            source,
            excluded_values={
                k: n for counts in latency_excluded.values() for k, n in counts.items()
            },
            notes=[duplicates.note if duplicates is not None else None],
        ),
        dropped_copies=dropped,
    )


def _segments(
    frame: DataFrame,
    valid: Column,
    disagreement: Column,
    segments: list[str],
    request: ShadowRequest,
    name: str,
) -> tuple[dict[str, list[SegmentDisagreement]], dict[str, int]]:
    """Every segment column's values in one grouped query, then ranked as on Polars."""
    segment_rows: dict[str, list[SegmentDisagreement]] = {}
    left_out: dict[str, int] = {}
    if not segments:
        return segment_rows, left_out
    keys = [col(c).cast("string").alias(f"segment_{i}") for i, c in enumerate(segments)]
    groups = polars_frame(
        frame.where(valid)
        .groupBy(*keys)
        .agg(
            F.count(F.lit(1)).alias("valid_rows"),
            F.sum(disagreement).alias("disagreement_sum"),
        ),
        name,
    )
    for i, segment in enumerate(segments):
        table = (
            groups.group_by(pl.col(f"segment_{i}").alias("value"))
            .agg(pl.col("valid_rows").sum().alias("rows"), pl.col("disagreement_sum").sum())
            .filter(pl.col("rows") > 0)
            .with_columns(
                (pl.col("disagreement_sum") / pl.col("rows")).alias("mean_abs_disagreement")
            )
        )
        big = table.filter(pl.col("rows") >= request.min_segment_rows)
        left_out[segment] = table.height - big.height
        ranked = big.sort(
            ["mean_abs_disagreement", "rows", "value"],
            descending=[True, True, False],
            nulls_last=True,
        ).head(request.top)
        segment_rows[segment] = [
            SegmentDisagreement(r["value"], int(r["rows"]), float(r["mean_abs_disagreement"]))
            for r in ranked.iter_rows(named=True)
        ]
    return segment_rows, left_out


def _latency_quantiles(
    frame: DataFrame,
    latency_cols: dict[str, str],
    dtypes: dict[str, Any],
    name: str,
    cap: int,
) -> dict[str, dict[str, float]]:
    """Exact quantiles of each model's usable latencies (null, NaN, infinite and negative
    left out), both models in one counting pass."""
    if not latency_cols:
        return {}
    from abtool.engines.spark.values import unusable_latency

    roles = list(latency_cols)
    usable = [
        F.struct(
            F.lit(i).alias(GROUP),
            F.when(~unusable_latency(c, dtypes[f"latency:{role}"]), col(c).cast("double")).alias(
                VALUE
            ),
        )
        for i, (role, c) in enumerate(latency_cols.items())
    ]
    long = frame.select(F.inline(F.array(*usable)))
    grouped = GroupedBuckets(long, len(roles), name, cap)
    found = exact_quantiles(grouped.view([0], [1] if len(roles) > 1 else []), LATENCY_QUANTILES)
    out = {roles[0]: found.a}
    if len(roles) > 1:
        out[roles[1]] = found.b
    return out


def _label_counts(
    frame: DataFrame, p: Column, s: Column, name: str
) -> tuple[list[str], list[int], list[int]]:
    counts = [
        {
            r["label"]: int(r["n"])
            for r in collect_rows(
                frame.groupBy(expr.cast("string").alias("label")).agg(F.count(F.lit(1)).alias("n")),
                name,
            )
        }
        for expr in (p, s)
    ]
    labels = sorted(set(counts[0]) | set(counts[1]), key=str)
    return (
        [str(x) for x in labels],
        [counts[0].get(x, 0) for x in labels],
        [counts[1].get(x, 0) for x in labels],
    )


def _score_figures(scores: DataFrame, n: int, request: ShadowRequest, name: str) -> ScoreFigures:
    """The report's figures of the valid scores without bringing them back: KS D and the
    quantiles from bucket counts (one shared counting pass), means and histogram counts by
    aggregation over the edges numpy's histogram would use."""
    source = SparkBucketSource.from_columns(scores, "primary", "shadow", paired=False)
    extent = source.extent()
    exact = True
    if request.ks == "approximate" and request.ks_limit is not None:
        bounds = ks_bounds(source, extent=extent)
        low, high, exact = bounds.lower, bounds.upper, False
        if not bounds.decides(request.ks_limit):
            low = high = exact_ks(source, extent=extent).statistic
            exact = True
    else:
        low = high = exact_ks(source, extent=extent).statistic
    quantiles = exact_quantiles(source, SUMMARY_QUANTILES, extent=extent)
    value_low, value_high = _value_range(scores, name)
    top = value_high if value_high > value_low else value_low + 1.0
    edges = np.linspace(value_low, top, request.histogram_bins + 1)
    below = [
        count_if(F.col(role) < F.lit(float(edge))).alias(f"{role}_{i}")
        for role in ("primary", "shadow")
        for i, edge in enumerate(edges[:-1])
    ]
    row = collect_row(
        scores.agg(
            F.avg("primary").alias("mean_primary"), F.avg("shadow").alias("mean_shadow"), *below
        ),
        name,
    )
    histograms = {}
    for role in ("primary", "shadow"):
        positions = [int(row[f"{role}_{i}"]) for i in range(len(edges) - 1)] + [n]
        histograms[role] = [int(c) for c in np.diff(positions)]
    return ScoreFigures(
        n=n,
        ks_low=low,
        ks_high=high,
        primary=ScoreSummary(n, float(row["mean_primary"]), *_three(quantiles.a)),
        shadow=ScoreSummary(n, float(row["mean_shadow"]), *_three(quantiles.b)),
        histogram_edges=[float(e) for e in edges],
        histogram_primary=histograms["primary"],
        histogram_shadow=histograms["shadow"],
        low=value_low,
        high=value_high,
        ks_exact=exact,
    )


def _three(found: dict[str, float]) -> tuple[float, float, float]:
    return found["p5"], found["p50"], found["p95"]


def _value_range(scores: DataFrame, name: str) -> tuple[float, float]:
    """The smallest and largest valid score of either model (infinities are not valid)."""
    row = collect_row(
        scores.agg(
            F.least(F.min("primary"), F.min("shadow")).alias("low"),
            F.greatest(F.max("primary"), F.max("shadow")).alias("high"),
        ),
        name,
    )
    return float(row["low"]), float(row["high"])
