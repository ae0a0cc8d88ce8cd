"""shadow-report's grouped aggregates on Spark, above the array cap: time buckets (requests,
errors, timeouts, p99 latency per bucket) and segment tables.

Each is one grouped Spark query whose small result is finished by the Polars engine's own
functions (:mod:`abtool.engines.polars.shadow_timeline`,
:mod:`abtool.engines.polars.shadow_segments`), so the buckets, values, order and left-out
counts are the Polars engine's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from abtool.aggregates.shadow import SegmentCounts, ShadowRequest, ShadowTimeline
from abtool.engines.polars.shadow_columns import LATENCY_QUANTILES
from abtool.engines.polars.shadow_segments import (
    key,
    segment_tables,
    whole_label_counts,
    with_label_distances,
)
from abtool.engines.polars.shadow_timeline import BUCKET, timeline_from
from abtool.engines.spark.grouped_buckets import GROUP, VALUE, GroupedBuckets, quantiles_of_views
from abtool.engines.spark.source import col, polars_frame
from abtool.engines.spark.times import micros
from abtool.engines.spark.values import count_if, unusable_latency
from abtool.stats.bucketed import exact_quantiles
from abtool.times import NO_BUCKETS

SEGMENT_KS_NOTE = (
    "segment KS D of scores not computed: the log has more rows than the Spark engine's "
    "array cap (segment agreement is tested as usual)"
)


def spark_timeout_flag(
    error_col: str | None,
    error_dtype: pl.DataType | None,
    latency_col: str | None,
    timeout_ms: float | None,
    timeout_errors: tuple[str, ...],
) -> Column | None:
    """True where a shadow call timed out, as
    :func:`abtool.engines.polars.shadow_timeline.timeout_flag` (which has already refused a
    rule that does not fit the error column)."""
    parts: list[Column] = []
    if timeout_ms is not None and latency_col is not None:
        latency = col(latency_col).cast("double")
        parts.append(F.when(~F.isnan(latency), latency > F.lit(float(timeout_ms))))
    if timeout_errors and error_col is not None and error_dtype is not None:
        if error_dtype.is_integer():
            parts.append(col(error_col).isin([int(v) for v in timeout_errors]))
        else:
            wanted = sorted({v.strip().lower() for v in timeout_errors})
            parts.append(F.lower(F.trim(col(error_col).cast("string"))).isin(wanted))
    if not parts:
        return None
    flag = parts[0]
    for part in parts[1:]:
        flag = flag | part
    return F.coalesce(flag, F.lit(False))


@dataclass(frozen=True)
class Buckets:
    """The time buckets found: the timeline (None: no bucket or no timed row), the whole
    log's errors and timeouts (sums over the buckets), and each listed bucket's index."""

    timeline: ShadowTimeline | None
    errors: int | None
    timeouts: int | None
    indices: list[int]


def bucket_column(time_col: str, dtype: pl.DataType, width_seconds: int) -> Column:
    """Each row's bucket (``epoch_microseconds // width``, floored), null without a time."""
    stamp = micros(time_col, dtype)
    width = F.lit(width_seconds * 1_000_000)
    return ((stamp - F.pmod(stamp, width)) / width).cast("long")


def bucket_pass(
    frame: DataFrame,
    request: ShadowRequest,
    time: tuple[str, pl.DataType],
    errored: Column | None,
    timed_out: Column | None,
    name: str,
) -> Buckets:
    """Requests, errors and timeouts per time bucket in one grouped query."""
    per_bucket = [F.count(F.lit(1)).alias("rows")]
    if errored is not None:
        per_bucket.append(count_if(errored).alias("errors"))
    if timed_out is not None:
        per_bucket.append(count_if(timed_out).alias("timeouts"))
    timeline: ShadowTimeline | None = None
    indices: list[int] = []
    if request.bucket == NO_BUCKETS:
        groups = polars_frame(frame.agg(*per_bucket), name)
    else:
        width = request.bucket_seconds
        index = bucket_column(time[0], time[1], width).alias(BUCKET)
        groups = polars_frame(frame.groupBy(index).agg(*per_bucket), name)
        found = timeline_from(
            groups, request.bucket, width, errored is not None, timed_out is not None
        )
        if found is not None:
            timeline, indices = found
    errors = int(groups.get_column("errors").sum()) if errored is not None else None
    timeouts = int(groups.get_column("timeouts").sum()) if timed_out is not None else None
    return Buckets(timeline, errors, timeouts, indices)


def latency_quantiles(
    frame: DataFrame,
    latency_cols: dict[str, str],
    dtypes: dict[str, Any],
    buckets: Buckets,
    time: tuple[str, pl.DataType],
    request: ShadowRequest,
    name: str,
    cap: int,
) -> tuple[dict[str, dict[str, float]], dict[str, NDArray[np.float64]]]:
    """Exact quantiles of each model's usable latencies and its p99 in each listed bucket
    (NaN where a bucket has none), from one shared counting pass.

    Group ``role * (span + 1) + offset``: ``offset`` is a row's bucket less the first listed
    one, ``span`` (one past the last offset) for rows without a bucket.
    """
    if not latency_cols:
        return {}, {}
    indices = buckets.indices
    first = indices[0] if indices else 0
    span = indices[-1] - first + 1 if indices else 0
    offset: Column = F.lit(0)
    if indices:
        bucket = bucket_column(time[0], time[1], request.bucket_seconds)
        offset = F.coalesce(bucket - F.lit(first), F.lit(span))
    stride = span + 1
    roles = list(latency_cols)
    usable = [
        F.struct(
            (F.lit(i * stride) + offset).cast("int").alias(GROUP),
            F.when(~unusable_latency(c, dtypes[f"latency:{role}"]), col(c).cast("double")).alias(
                VALUE
            ),
        )
        for i, (role, c) in enumerate(latency_cols.items())
    ]
    grouped = GroupedBuckets(
        frame.select(F.inline(F.array(*usable))), stride * len(roles), name, cap
    )
    groups = [list(range(i * stride, (i + 1) * stride)) for i in range(len(roles))]
    found = exact_quantiles(grouped.view(groups[0], groups[1] if len(roles) > 1 else []),
                            LATENCY_QUANTILES)  # fmt: skip
    overall = {roles[0]: found.a}
    if len(roles) > 1:
        overall[roles[1]] = found.b
    p99: dict[str, NDArray[np.float64]] = {}
    if indices:
        sizes = grouped.sizes()
        wanted = [i * stride + (k - first) for i in range(len(roles)) for k in indices]
        present = [g for g in wanted if sizes[g]]
        quantiles = quantiles_of_views(grouped, [([g], []) for g in present], {"p99": 0.99})
        by_group = {g: float(q.a["p99"]) for g, q in zip(present, quantiles, strict=True)}
        for i, role in enumerate(roles):
            p99[role] = np.array(
                [by_group.get(i * stride + (k - first), np.nan) for k in indices],
                dtype=np.float64,
            )
    return overall, p99


def segment_pass(
    frame: DataFrame,
    valid: Column,
    agree: Column,
    disagreement: Column,
    segments: list[str],
    request: ShadowRequest,
    labels: tuple[Column, Column] | None,
    name: str,
) -> tuple[dict[str, SegmentCounts], tuple[list[str], list[int], list[int]] | None]:
    """Each segment column's values with enough rows (one grouped query), and for class
    labels their distances and the whole log's label counts (one grouped query per model)."""
    keys = [col(c).cast("string").alias(key(i)) for i, c in enumerate(segments)]
    tables: dict[str, SegmentCounts] = {}
    if segments:
        groups = polars_frame(
            frame.where(valid)
            .groupBy(*keys)
            .agg(
                F.count(F.lit(1)).alias("rows"),
                count_if(agree).alias("agreements"),
                F.sum(disagreement).alias("disagreement_sum"),
            ),
            name,
        )
        tables = segment_tables(groups, segments, request.min_segment_rows)
    if labels is None:
        return tables, None
    counts = tuple(
        polars_frame(
            frame.where(valid)
            .groupBy(*keys, label.cast("string").alias("label"))
            .agg(F.count(F.lit(1)).alias("n")),
            name,
        ).with_columns(pl.col("n").cast(pl.Int64))
        for label in labels
    )
    first, second = counts
    return with_label_distances(tables, (first, second)), whole_label_counts((first, second))
