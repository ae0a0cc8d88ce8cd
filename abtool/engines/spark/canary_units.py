"""canary-decide on Spark under the array cap: the unit-level tables brought back through Arrow
and finished by the Polars engine's own functions (metric kinds, per-unit sums, segments,
timeline, salt check, CUPED covariates), so both engines give the same records. Above the cap
:mod:`abtool.engines.spark.canary_moments` fills the same :class:`UnitPart` in Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from abtool.aggregates.canary import (
    CanaryRequest,
    MetricData,
    PrePeriod,
    SegmentData,
    Timeline,
)
from abtool.commands.canary import CanaryColumns
from abtool.engines.polars.canary import _FirstPass
from abtool.engines.polars.canary_buckets import Buckets, bucket_timeline
from abtool.engines.polars.canary_pre import PRE
from abtool.engines.polars.canary_roles import ROLES, TREATED
from abtool.engines.polars.canary_units import (
    MIXED,
    metric_kinds,
    metric_records,
    salt_mismatches,
    segments_of,
)
from abtool.engines.polars.canary_variants import is_role
from abtool.engines.spark.canary_figures import BUCKET
from abtool.engines.spark.canary_pre import with_pre_period
from abtool.engines.spark.source import SparkSource, col, polars_frame
from abtool.engines.spark.values import count_if, finite_float, unusable_number


def unit_bucket_table(frame: DataFrame, unit: str, metric: str, dtype: pl.DataType) -> DataFrame:
    """The metric's sums per (unit, bucket) where the unit has a value, as the Polars engine's
    :func:`~abtool.engines.polars.canary_buckets.unit_bucket_table` (without a packed key)."""
    valid = ~unusable_number(metric, dtype)
    return (
        frame.where(valid & F.col(BUCKET).isNotNull())
        .groupBy(col(unit).alias(unit), F.col(BUCKET))
        .agg(
            F.sum(col(metric).cast("double")).alias("x"),
            F.count(F.lit(1)).cast("double").alias("y"),
            F.max(F.col(TREATED)).alias(TREATED),
        )
    )


def metric_sums(metric: str, dtype: pl.DataType) -> list[Column]:
    """A unit's sum of the metric's finite values and their number."""
    valid = ~unusable_number(metric, dtype)
    return [
        F.coalesce(F.sum(finite_float(metric)), F.lit(0.0)).alias(f"{metric}__x"),
        count_if(valid).alias(f"{metric}__y"),
    ]


TimelineMaker = Callable[
    [Buckets, pl.DataFrame, bool, dict[str, list[float | None]] | None], Timeline
]
"""Builds the timeline from the buckets, the per-bucket summary, whether errors are logged and
each role's p99 per bucket."""


@dataclass(frozen=True)
class UnitPart:
    """What the unit-level tables give the record, wherever they were finished."""

    role_units: dict[str, int]
    inconsistent_units: int
    inconsistent_rows: int
    metrics: list[MetricData]
    segments: dict[str, list[SegmentData]]
    salt_mismatched_units: int | None
    pre_period: PrePeriod | None
    timeline: TimelineMaker


def units_here(
    units_frame: DataFrame,
    frame: DataFrame,
    source: SparkSource,
    columns: CanaryColumns,
    request: CanaryRequest,
    schema: Any,
    first: _FirstPass,
    buckets: Buckets | None,
) -> UnitPart:
    name, unit = source.name, columns.unit
    units = polars_frame(units_frame, name)
    inconsistent = units.filter(pl.col(MIXED))
    consistent = units.filter(~pl.col(MIXED)).sort(unit)
    consistent, pre_period = with_pre_period(
        source, consistent, unit, columns.time, request, first.rows, None
    )
    kinds = metric_kinds(units, schema.metrics)
    adjusted = set(pre_period.metrics) if pre_period is not None else set()
    metrics = metric_records(consistent, kinds, request.metrics, adjusted, PRE)
    primary = request.metrics[0] if request.metrics else None
    inconsistent_ids = inconsistent.select(unit).unique()
    segments = {}
    if primary is not None:
        for segment in request.segments:
            value = col(segment).cast("string")
            table = (
                frame.where(value.isin(*first.top_values[segment]))
                .groupBy(value.alias("value"), col(unit).alias(unit), F.col(TREATED))
                .agg(
                    F.count(F.lit(1)).alias("rows"),
                    *metric_sums(primary, schema.metrics[primary]),
                )
            )
            segments[segment] = segments_of(
                polars_frame(table, name), inconsistent_ids, unit, primary
            )
    unit_buckets = None
    if buckets is not None and primary is not None:
        table = unit_bucket_table(frame, unit, primary, schema.metrics[primary])
        unit_buckets = polars_frame(table, name)
    consistent_units, ids = consistent, inconsistent_ids

    def timeline(
        buckets: Buckets,
        bucket_table: pl.DataFrame,
        has_errors: bool,
        p99: dict[str, list[float | None]] | None,
    ) -> Timeline:
        return bucket_timeline(
            buckets, bucket_table, unit_buckets, consistent_units, ids, unit, has_errors, p99
        )

    return UnitPart(
        role_units={role: consistent.filter(is_role(role)).height for role in ROLES},
        inconsistent_units=inconsistent.height,
        inconsistent_rows=int(inconsistent["rows"].sum()) if inconsistent.height else 0,
        metrics=metrics,
        segments=segments,
        salt_mismatched_units=salt_mismatches(consistent, unit, request),
        pre_period=pre_period,
        timeline=timeline,
    )
