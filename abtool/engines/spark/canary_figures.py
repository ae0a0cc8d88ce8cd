"""canary-decide on Spark: each variant's time range, predictions and latency quantiles.

As the Polars engine's :func:`~abtool.engines.polars.canary_variants.variant_figures`, filling
the same summary keys in the same order:

- time range, missing times, prediction mean and missing predictions: one aggregation per
  variant role;
- latency p50/p99 per variant and p99 per (variant, bucket): exact, from bucket counts shared
  by every group (:mod:`abtool.engines.spark.grouped_buckets`), unusable latencies (null,
  NaN, infinite, negative) left out;
- the sorted valid predictions through Arrow while both variants hold at most ``cap``; above,
  none, and the all-rows KS D from bucket counts instead (exact, or its bounds with
  ``--ks approximate``);
- the ``window`` latest valid predictions of each variant: time, then prediction, both
  descending (a top-k per variant, no global sort).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from abtool.aggregates.canary import PredictionKS
from abtool.commands.canary import CanaryColumns
from abtool.engines.polars.canary_roles import ROLES, TREATED
from abtool.engines.spark.grouped_buckets import (
    GROUP,
    VALUE,
    GroupedBuckets,
    quantiles_of_views,
)
from abtool.engines.spark.source import arrow_columns, col, collect_rows
from abtool.engines.spark.times import micros, python_time
from abtool.engines.spark.values import count_if, finite_float, unusable_latency
from abtool.engines.spark_buckets import SparkBucketSource
from abtool.stats.bucket_source import ArrayBucketSource
from abtool.stats.bucketed import exact_ks, exact_quantiles, ks_bounds

BUCKET = "__bucket"
Floats = NDArray[np.float64]


def latency_quantiles(
    frame: DataFrame,
    column: str,
    dtype: pl.DataType,
    name: str,
    buckets: int | None,
    cap: int,
) -> tuple[dict[str, dict[str, float]], dict[str, list[float | None]] | None]:
    """p50 and p99 of each variant's usable latencies; with ``buckets`` (their number), also
    each variant's p99 per bucket (None where a bucket has no latency)."""
    treated = F.col(TREATED).cast("int")
    if buckets is None:
        group: Column = treated
        groups = 2
    else:
        bucket = F.coalesce(F.col(BUCKET), F.lit(buckets))  # no time: in no bucket
        group, groups = 2 * bucket + treated, 2 * buckets + 2
    value = F.when(~unusable_latency(column, dtype), col(column).cast("double"))
    grouped = GroupedBuckets(
        frame.select(group.alias(GROUP), value.alias(VALUE)), groups, name, cap
    )
    evens, odds = list(range(0, groups, 2)), list(range(1, groups, 2))
    overall = exact_quantiles(grouped.view(evens, odds), {"p50": 0.5, "p99": 0.99})
    by_role = {"control": overall.a, "treatment": overall.b}
    if buckets is None:
        return by_role, None
    p99: dict[str, list[float | None]] = {"control": [], "treatment": []}
    sizes = grouped.sizes()
    present = [g for g in range(2 * buckets) if sizes[g]]
    found = quantiles_of_views(grouped, [([g], []) for g in present], {"p99": 0.99})
    by_group = {g: float(q.a["p99"]) for g, q in zip(present, found, strict=True)}
    for k in range(buckets):
        p99["control"].append(by_group.get(2 * k))
        p99["treatment"].append(by_group.get(2 * k + 1))
    return by_role, p99


def variant_figures(
    frame: DataFrame,
    name: str,
    columns: CanaryColumns,
    time_dtype: pl.DataType,
    prediction_dtype: pl.DataType | None,
    latency_dtype: pl.DataType | None,
    recent_window: int,
    summary: dict[str, dict[str, Any]],
    buckets: int | None,
    cap: int,
    ks: str,
    progress: Callable[[str], None] | None,
) -> tuple[dict[str, dict[str, Any]], dict[str, list[float | None]] | None, PredictionKS | None]:
    """Each role's summary with latency quantiles, time range and predictions added, each
    role's p99 per bucket, and the all-rows KS D when it was computed here."""
    quantiles: dict[str, dict[str, float]] = {}
    p99 = None
    if latency_dtype is not None:
        if progress:
            progress("Latency quantiles")
        quantiles, p99 = latency_quantiles(
            frame, columns.latency, latency_dtype, name, buckets, cap
        )
    if progress:
        progress("Predictions")
    stamp = micros(columns.time, time_dtype)
    aggregations = [
        F.min(stamp).alias("time_min"),
        F.max(stamp).alias("time_max"),
        count_if(col(columns.time).isNull()).alias("missing_time"),
    ]
    valid: Column = F.lit(False)
    if prediction_dtype is not None:
        value = finite_float(columns.prediction)
        valid = value.isNotNull()
        aggregations += [
            F.avg(value).alias("pred_mean"),
            count_if(~valid).alias("missing_prediction"),
            count_if(valid).alias("valid_predictions"),
        ]
    found = {
        bool(r[TREATED]): r.asDict()
        for r in collect_rows(frame.groupBy(TREATED).agg(*aggregations), name)
    }
    arrays: dict[str, tuple[Floats, Floats]] = {}
    prediction_ks = None
    empty = np.empty(0, dtype=np.float64)
    if prediction_dtype is not None:
        counts = [int(found.get(t, {}).get("valid_predictions") or 0) for t in (False, True)]
        sorted_values, prediction_ks = _sorted_predictions(
            frame, columns, valid, counts, cap, ks, name
        )
        recent = _recent(frame, columns, time_dtype, valid, recent_window, name)
        arrays = {role: (sorted_values[i], recent[i]) for i, role in enumerate(ROLES)}
    figures_by_role: dict[str, dict[str, Any]] = {}
    for i, role in enumerate(ROLES):
        row = dict(summary.get(role, {}))
        row.update(quantiles.get(role, {}))
        figures = found.get(bool(i), {})
        figures_by_role[role] = {
            "requests": row.get("requests", 0),
            "time_min": python_time(figures.get("time_min"), time_dtype),
            "time_max": python_time(figures.get("time_max"), time_dtype),
            f"missing:{columns.time}": int(figures.get("missing_time") or 0),
            **{k: v for k, v in row.items() if k != "requests"},
            "pred_mean": figures.get("pred_mean") if prediction_dtype is not None else None,
            f"missing:{columns.prediction}": int(figures.get("missing_prediction") or 0),
            "__predictions": arrays.get(role, (empty, empty)),
        }
    return figures_by_role, p99, prediction_ks


def _sorted_predictions(
    frame: DataFrame,
    columns: CanaryColumns,
    valid: Column,
    counts: list[int],
    cap: int,
    ks: str,
    name: str,
) -> tuple[tuple[Floats, Floats], PredictionKS | None]:
    """Both variants' valid predictions sorted (at most ``cap`` each), or none and the KS D."""
    value = finite_float(columns.prediction)
    empty = np.empty(0, dtype=np.float64)
    if max(counts) <= cap:
        table = arrow_columns(frame.where(valid).select(F.col(TREATED), value.alias(VALUE)), name)
        treated = table[TREATED].astype(bool)
        values = table[VALUE].astype(np.float64)
        control, treatment = np.sort(values[~treated]), np.sort(values[treated])
        found = None
        if ks == "approximate" and len(control) and len(treatment):
            bounds = ks_bounds(ArrayBucketSource(control, treatment))
            found = PredictionKS(None, bounds.lower, bounds.upper)
        return (control, treatment), found
    if not (counts[0] and counts[1]):
        return (empty, empty), None
    valid_rows = frame.where(valid).select(F.col(TREATED), value.alias(VALUE))
    source = SparkBucketSource.from_frames(
        valid_rows.where(~F.col(TREATED)), VALUE, valid_rows.where(F.col(TREATED)), VALUE
    )
    if ks == "approximate":
        bounds = ks_bounds(source)
        return (empty, empty), PredictionKS(None, bounds.lower, bounds.upper)
    exact = exact_ks(source)
    return (empty, empty), PredictionKS(exact.statistic, exact.statistic, exact.statistic)


def _recent(
    frame: DataFrame,
    columns: CanaryColumns,
    time_dtype: pl.DataType,
    valid: Column,
    window: int,
    name: str,
) -> tuple[Floats, Floats]:
    """Each variant's ``window`` latest valid predictions (ties: the largest), sorted."""
    value = finite_float(columns.prediction)
    eligible = frame.where(valid & col(columns.time).isNotNull()).select(
        F.col(TREATED), micros(columns.time, time_dtype).alias("__t"), value.alias(VALUE)
    )
    found = []
    for treated in (False, True):
        latest = (
            eligible.where(F.col(TREATED) == F.lit(treated))
            .orderBy(F.col("__t").desc(), F.col(VALUE).desc())
            .limit(window)
            .select(VALUE)
        )
        found.append(np.sort(arrow_columns(latest, name)[VALUE].astype(np.float64)))
    return found[0], found[1]


def value_counts(
    frame: DataFrame,
    numbers: dict[str, pl.DataType],
    latency: tuple[str, pl.DataType] | None,
    name: str,
) -> dict[str, int]:
    """Infinite predictions and metrics, infinite or negative latencies, by reason."""
    from abtool.engines.spark.values import infinite, latency_reasons

    reasons = [
        (f"infinite {column}", infinite(column, dtype))
        for column, dtype in numbers.items()
        if dtype.is_float()
    ]
    if latency is not None:
        reasons += latency_reasons(*latency)[1:]
    if not reasons:
        return {}
    (row,) = collect_rows(
        frame.agg(*[count_if(expr).alias(f"v{i}") for i, (_, expr) in enumerate(reasons)]), name
    )
    counts = {label: int(row[f"v{i}"] or 0) for i, (label, _) in enumerate(reasons)}
    return {label: n for label, n in counts.items() if n}
