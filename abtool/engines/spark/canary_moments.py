"""canary-decide on Spark above the array cap: each variant's unit-level moments computed in
Spark instead of per-unit arrays.

The delta method needs per variant only ``n, sum x, sum y, sum x^2, sum y^2, sum x y`` of the
units' sums (Deng et al. 2018, eq. 3); the unit-level proportion test the units with
``x > 0``; Welch's test the sums of the per-unit means and of their squares
(:class:`abtool.aggregates.canary.UnitMoments`). Segments get the same per value, and the
timeline the primary metric's moments per bucket and of the units' running sums through each
bucket (:mod:`abtool.stats.ratio_series`: the running sums come from a window per unit). The
salt check hashes each unit in Spark as :func:`abtool.assignment.bucket` does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from abtool.aggregates.canary import (
    CanaryRequest,
    MetricData,
    SegmentData,
    Timeline,
    UnitMoments,
    UnitSums,
)
from abtool.assignment import BUCKETS
from abtool.commands.canary import CanaryColumns
from abtool.engines.polars.canary import _FirstPass
from abtool.engines.polars.canary_buckets import Buckets, variant_buckets
from abtool.engines.polars.canary_roles import ROLES, TREATED
from abtool.engines.polars.canary_units import MIXED
from abtool.engines.spark.canary_figures import BUCKET
from abtool.engines.spark.canary_units import UnitPart, metric_sums, unit_bucket_table
from abtool.engines.spark.source import col, collect_row, collect_rows, polars_frame
from abtool.engines.spark.values import count_if
from abtool.stats.ratio_series import Moments

_EMPTY = np.empty(0, dtype=np.float64)


def moment_columns(x: Column, y: Column) -> list[Column]:
    """The aggregations of :class:`UnitMoments` over units with sums ``x`` and ``y``."""
    mean = x / y
    return [
        F.count(F.lit(1)).alias("units"),
        F.coalesce(F.sum(x), F.lit(0.0)).alias("sum_x"),
        F.coalesce(F.sum(y), F.lit(0.0)).alias("sum_y"),
        F.coalesce(F.sum(x * x), F.lit(0.0)).alias("sum_xx"),
        F.coalesce(F.sum(y * y), F.lit(0.0)).alias("sum_yy"),
        F.coalesce(F.sum(x * y), F.lit(0.0)).alias("sum_xy"),
        count_if(x > 0).alias("positive"),
        F.coalesce(F.sum(mean), F.lit(0.0)).alias("sum_mean"),
        F.coalesce(F.sum(mean * mean), F.lit(0.0)).alias("sum_mean2"),
        F.coalesce(F.max(y), F.lit(0.0)).alias("max_y"),
    ]


def _moments(row: Any) -> UnitMoments:
    if row is None:
        return UnitMoments(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0)
    return UnitMoments(
        units=int(row["units"]),
        sum_x=float(row["sum_x"]),
        sum_y=float(row["sum_y"]),
        sum_xx=float(row["sum_xx"]),
        sum_yy=float(row["sum_yy"]),
        sum_xy=float(row["sum_xy"]),
        positive=int(row["positive"]),
        sum_mean=float(row["sum_mean"]),
        sum_mean2=float(row["sum_mean2"]),
        max_y=float(row["max_y"]),
    )


def _sums(moments: UnitMoments) -> UnitSums:
    return UnitSums(_EMPTY, _EMPTY, moments=moments)


def units_in_spark(
    units: DataFrame,
    frame: DataFrame,
    name: str,
    columns: CanaryColumns,
    request: CanaryRequest,
    schema: Any,
    first: _FirstPass,
    buckets: Buckets | None,
) -> UnitPart:
    """The unit-level figures of a log whose units stay in Spark."""
    unit = columns.unit
    consistent = units.where(~F.col(MIXED))
    mixed_ids = units.where(F.col(MIXED)).select(unit)
    totals = [
        count_if(F.col(MIXED)).alias("inconsistent_units"),
        F.coalesce(F.sum(F.when(F.col(MIXED), F.col("rows"))), F.lit(0)).alias("inconsistent_rows"),
        count_if(~F.col(MIXED) & ~F.col(TREATED)).alias("control_units"),
        count_if(~F.col(MIXED) & F.col(TREATED)).alias("treatment_units"),
    ]
    for metric in schema.metrics:
        totals += [
            F.sum(f"{metric}__other").alias(f"{metric}__other"),
            F.sum(f"{metric}__missing").alias(f"{metric}__missing"),
        ]
    row = collect_row(units.agg(*totals), name)
    metrics = []
    for metric in request.metrics:
        x, y = F.col(f"{metric}__x").cast("double"), F.col(f"{metric}__y").cast("double")
        found = _by_role(consistent.where(y > 0), x, y, name)
        metrics.append(
            MetricData(
                name=metric,
                binary=int(row[f"{metric}__other"] or 0) == 0,
                missing_rows=int(row[f"{metric}__missing"] or 0),
                control=_sums(found[False]),
                treatment=_sums(found[True]),
            )
        )
    primary = request.metrics[0] if request.metrics else None
    segments = {}
    if primary is not None:
        for segment in request.segments:
            segments[segment] = _segment(
                frame, mixed_ids, unit, segment, first.top_values[segment], primary, schema, name
            )
    timeline_parts: dict[str, Any] = {}
    if buckets is not None:
        first_seen = polars_frame(
            consistent.where(F.col(BUCKET).isNotNull())
            .groupBy(BUCKET, TREATED)
            .agg(F.count(F.lit(1)).cast("int").alias("units")),
            name,
        )
        timeline_parts["first_seen"] = first_seen
        timeline_parts["moments"] = (
            _bucket_moments(frame, mixed_ids, unit, primary, schema, buckets.count, name)
            if primary is not None
            else None
        )

    def timeline(
        buckets: Buckets,
        bucket_table: pl.DataFrame,
        has_errors: bool,
        p99: dict[str, list[float | None]] | None,
    ) -> Timeline:
        control, treatment = variant_buckets(
            bucket_table, timeline_parts["first_seen"], buckets.count, has_errors, p99
        )
        return Timeline(
            buckets.width, buckets.starts(), control, treatment, None, timeline_parts["moments"]
        )

    return UnitPart(
        role_units={
            "control": int(row["control_units"]),
            "treatment": int(row["treatment_units"]),
        },
        inconsistent_units=int(row["inconsistent_units"]),
        inconsistent_rows=int(row["inconsistent_rows"]),
        metrics=metrics,
        segments=segments,
        salt_mismatched_units=_salt_mismatches(consistent, unit, request, name),
        pre_period=None,
        timeline=timeline,
    )


def _by_role(units: DataFrame, x: Column, y: Column, name: str) -> dict[bool, UnitMoments]:
    found = {
        bool(r[TREATED]): r
        for r in collect_rows(units.groupBy(TREATED).agg(*moment_columns(x, y)), name)
    }
    return {treated: _moments(found.get(treated)) for treated in (False, True)}


def _segment(
    frame: DataFrame,
    mixed_ids: DataFrame,
    unit: str,
    segment: str,
    values: list[str],
    metric: str,
    schema: Any,
    name: str,
) -> list[SegmentData]:
    value = col(segment).cast("string")
    table = (
        frame.where(value.isin(*values))
        .groupBy(value.alias("value"), col(unit).alias(unit), F.col(TREATED))
        .agg(F.count(F.lit(1)).alias("rows"), *metric_sums(metric, schema.metrics[metric]))
        .join(mixed_ids, on=unit, how="left_anti")
    )
    x, y = F.col(f"{metric}__x").cast("double"), F.col(f"{metric}__y").cast("double")
    rows = {
        r["value"]: int(r["rows"])
        for r in collect_rows(table.groupBy("value").agg(F.sum("rows").alias("rows")), name)
    }
    found = {
        (r["value"], bool(r[TREATED])): r
        for r in collect_rows(
            table.where(y > 0).groupBy("value", TREATED).agg(*moment_columns(x, y)), name
        )
    }
    ordered = sorted(rows.items(), key=lambda item: (-item[1], item[0]))
    return [
        SegmentData(
            value=str(v),
            rows=n,
            control=_sums(_moments(found.get((v, False)))),
            treatment=_sums(_moments(found.get((v, True)))),
        )
        for v, n in ordered
    ]


def _bucket_moments(
    frame: DataFrame,
    mixed_ids: DataFrame,
    unit: str,
    metric: str,
    schema: Any,
    count: int,
    name: str,
) -> dict[tuple[bool, bool], Moments]:
    """The primary metric's moments per bucket and of the running sums, by role."""
    entries = unit_bucket_table(frame, unit, metric, schema.metrics[metric]).join(
        mixed_ids, on=unit, how="left_anti"
    )
    order = Window.partitionBy(unit).orderBy(BUCKET)
    running = (
        Window.partitionBy(unit)
        .orderBy(BUCKET)
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    x, y = F.col("x"), F.col("y")
    with_running = entries.select(
        BUCKET,
        TREATED,
        x,
        y,
        F.sum(x).over(running).alias("cx"),
        F.sum(y).over(running).alias("cy"),
        (F.row_number().over(order) == 1).alias("first"),
    )
    cx, cy = F.col("cx"), F.col("cy")
    px, py = cx - x, cy - y
    table = polars_frame(
        with_running.groupBy(TREATED, BUCKET).agg(
            F.count(F.lit(1)).alias("units"),
            F.sum(x).alias("sum_x"),
            F.sum(y).alias("sum_y"),
            F.sum(x * x).alias("sum_xx"),
            F.sum(y * y).alias("sum_yy"),
            F.sum(x * y).alias("sum_xy"),
            count_if(F.col("first")).alias("new_units"),
            F.sum(cx * cx - px * px).alias("inc_xx"),
            F.sum(cy * cy - py * py).alias("inc_yy"),
            F.sum(cx * cy - px * py).alias("inc_xy"),
        ),
        name,
    )
    result: dict[tuple[bool, bool], Moments] = {}
    for treated in (False, True):
        mine = table.filter(pl.col(TREATED) == treated)
        index = mine[BUCKET].to_numpy().astype(np.int64)

        def spread(column: str, mine: pl.DataFrame = mine, index: Any = index) -> Any:
            values = np.zeros(count, dtype=np.float64)
            values[index] = mine[column].cast(pl.Float64).to_numpy()
            return values

        per_bucket = Moments(
            units=spread("units").astype(np.int64),
            sum_x=spread("sum_x"),
            sum_y=spread("sum_y"),
            sum_xx=spread("sum_xx"),
            sum_yy=spread("sum_yy"),
            sum_xy=spread("sum_xy"),
        )
        result[(treated, False)] = per_bucket
        result[(treated, True)] = Moments(
            units=np.cumsum(spread("new_units").astype(np.int64)),
            sum_x=np.cumsum(per_bucket.sum_x),
            sum_y=np.cumsum(per_bucket.sum_y),
            sum_xx=np.cumsum(spread("inc_xx")),
            sum_yy=np.cumsum(spread("inc_yy")),
            sum_xy=np.cumsum(spread("inc_xy")),
        )
    return result


def _salt_mismatches(
    consistent: DataFrame, unit: str, request: CanaryRequest, name: str
) -> int | None:
    """Units logged under a variant their md5 bucket of the salt does not give:
    ``int(md5(f"{salt}:{unit}"), 16) % 10000 < share * 10000``, in 32-bit pieces."""
    if request.salt is None:
        return None
    digest = F.md5(F.concat(F.lit(f"{request.salt}:"), col(unit).cast("string")))
    remainder: Column = F.lit(0).cast("long")
    for start in (1, 9, 17, 25):
        piece = F.conv(F.substring(digest, start, 8), 16, 10).cast("long")
        remainder = (remainder * F.lit(2**32 % BUCKETS) + piece) % F.lit(BUCKETS)
    treated = remainder < F.lit(request.treatment_share * BUCKETS)
    row = collect_row(consistent.agg(count_if(treated != F.col(TREATED)).alias("wrong")), name)
    return int(row["wrong"])


__all__ = ["ROLES", "units_in_spark"]
