"""canary-decide on Spark: the Polars engine's steps (:mod:`abtool.engines.polars.canary`) as
Spark queries, filling the same :class:`CanaryData`.

1. the schema check, the time window and identical copies of a request dropped
   (:mod:`abtool.engines.spark.duplicates`);
2. the first pass: rows, null units and time range per variant value, and the largest values
   of each segment column; variants resolved and buckets chosen by the Polars engine's own
   functions;
3. the second pass: per-variant (and per-bucket) counts, and the unit table (one row per
   unit: its rows, role, mixed flag and each metric's sums), kept by Spark;
4. while the units number at most the array cap, the unit, segment and (unit, bucket) tables
   come back through Arrow and the Polars engine's own functions finish them (metric kinds,
   per-unit sums, segments, timeline, salt check, CUPED covariates), so both engines give the
   same records; above the cap, :mod:`abtool.engines.spark.canary_moments` computes each
   variant's moments in Spark instead;
5. :mod:`abtool.engines.spark.canary_figures`: latency quantiles, time range, predictions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from abtool.aggregates.canary import (
    CanaryData,
    CanaryRequest,
)
from abtool.commands.canary import CanaryColumns
from abtool.engines.polars.canary import _FirstPass
from abtool.engines.polars.canary_buckets import Buckets, choose_buckets
from abtool.engines.polars.canary_resolve import excluded_rows, resolve_variants
from abtool.engines.polars.canary_roles import ROLES, TREATED
from abtool.engines.polars.canary_schema import (
    check_canary_schema,
    experiment_since,
    scanned_columns,
)
from abtool.engines.polars.canary_units import (
    MIXED,
)
from abtool.engines.polars.canary_variants import variant_data
from abtool.engines.spark.canary_figures import BUCKET, value_counts, variant_figures
from abtool.engines.spark.canary_pre import covariate_sums
from abtool.engines.spark.canary_units import metric_sums, units_here
from abtool.engines.spark.duplicates import drop_duplicate_requests
from abtool.engines.spark.prepare import prepared, read_notes
from abtool.engines.spark.source import (
    SparkSource,
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
    unusable_latency,
    unusable_number,
)
from abtool.errors import InputError, UsageError

Progress = Callable[[str], None] | None


def aggregate_canary(
    source: SparkSource,
    columns: CanaryColumns,
    request: CanaryRequest,
    progress: Progress = None,
    array_cap: int = 0,
) -> CanaryData:
    """Validate the schema, then reduce the log to canary-decide's aggregates.

    Raises:
        InputError: as the Polars engine.
        UsageError: CUPED on a log with more units than the array cap.
    """
    source = prepared(
        source, time=columns.time, time_unit=request.time_unit, ids=[columns.unit, columns.request]
    )
    schema = check_canary_schema(source.schema, source.name, columns, request)
    needed, request_col = scanned_columns(columns, request, schema, set(source.schema))
    scanned = source.scan(needed)
    since = experiment_since(request)
    window = time_filter(columns.time, schema.time, since, request.until)
    if window is not None:
        scanned = scanned.where(window)
    scanned, duplicates = drop_duplicate_requests(scanned, request_col, source.name)
    dropped = duplicates.dropped if duplicates is not None else 0
    excluded_copies = {duplicates.excluded_reason: dropped} if duplicates and dropped else {}
    with cached(scanned) as rows:
        return _reduced(
            rows, source, columns, request, schema, window is not None, progress, array_cap,
            rows_dropped=(dropped, excluded_copies, duplicates),
        )  # fmt: skip


def _reduced(
    scanned: DataFrame,
    source: SparkSource,
    columns: CanaryColumns,
    request: CanaryRequest,
    schema: Any,
    windowed: bool,
    progress: Progress,
    array_cap: int,
    *,
    rows_dropped: tuple[int, dict[str, int], Any],
) -> CanaryData:
    """The passes over the log's rows (kept by Spark), after the window and duplicates."""
    dropped, excluded_copies, duplicates = rows_dropped
    if progress:
        progress(f"Scanning {len(source.files)} file(s) for variants")
    first = _first_pass(scanned, source.name, columns, request, schema.time, windowed)
    names = first.names
    buckets = None
    if request.timeline and first.time_min is not None and first.time_max is not None:
        buckets = choose_buckets(
            request.bucket, _micro_type(schema.time), first.time_min, first.time_max
        )
    variant = col(columns.variant).cast("string")
    frame = scanned.where(variant.isin(*names) & col(columns.unit).isNotNull()).withColumn(
        TREATED, variant == F.lit(names[1])
    )
    if buckets is not None:
        frame = frame.withColumn(BUCKET, _bucket_index(columns.time, schema.time, buckets))
    if progress:
        progress("Aggregating variants and units")
    summary_frame = polars_frame(
        _variant_summary(frame, columns, schema, buckets is not None), source.name
    )
    bucket_table = None
    if buckets is not None:
        bucket_table = summary_frame.filter(pl.col(BUCKET).is_not_null())
        summary_frame = summary_frame.drop(BUCKET).group_by(TREATED).sum()
    summary = {ROLES[int(row[TREATED])]: row for row in summary_frame.iter_rows(named=True)}
    units_frame = _unit_table(frame, columns, request, schema, buckets is not None)
    units_frame = units_frame.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counted = collect_row(units_frame.agg(F.count(F.lit(1)).alias("units")), source.name)
        if int(counted["units"]) == 0:
            raise InputError(
                f"{source.name}: no row of variants '{names[0]}' or '{names[1]}' has a "
                f"'{columns.unit}' value (all null)"
            )
        if int(counted["units"]) > array_cap:
            from abtool.engines.spark.canary_moments import units_in_spark

            if request.adjusts:
                raise UsageError(
                    f"{source.name}: CUPED needs each unit's covariate, and the log has "
                    f"{int(counted['units']):,} units, more than the Spark engine brings back "
                    f"({array_cap:,}); leave out the covariate options"
                )
            unit_part = units_in_spark(
                units_frame, frame, source.name, columns, request, schema, first, buckets
            )
        else:
            unit_part = units_here(
                units_frame, frame, source, columns, request, schema, first, buckets
            )
    finally:
        units_frame.unpersist()
    figures, p99, prediction_ks = variant_figures(
        frame, source.name, columns, schema.time, schema.prediction, schema.latency,
        request.recent_window, summary, buckets.count if buckets is not None else None,
        array_cap, request.ks, progress,
    )  # fmt: skip
    unusable = value_counts(
        frame,
        {
            **({columns.prediction: schema.prediction} if schema.prediction else {}),
            **schema.metrics,
        },
        (columns.latency, schema.latency) if schema.latency is not None else None,
        source.name,
    )
    variants = [
        variant_data(
            name,
            figures[role],
            unit_part.role_units[role],
            figures[role].pop("__predictions"),
            schema.latency is not None,
            schema.error is not None,
        )
        for role, name in zip(ROLES, names, strict=True)
    ]
    times = [
        figures[role][key]
        for role in ROLES
        for key in ("time_min", "time_max")
        if figures[role][key] is not None
    ]
    timeline = None
    if buckets is not None and bucket_table is not None:
        timeline = unit_part.timeline(buckets, bucket_table, schema.error is not None, p99)
    return CanaryData(
        rows=first.rows + dropped,
        excluded={**first.excluded, **excluded_copies},
        time_min=min(times) if times else None,
        time_max=max(times) if times else None,
        control=variants[0],
        treatment=variants[1],
        inconsistent_units=unit_part.inconsistent_units,
        inconsistent_rows=unit_part.inconsistent_rows,
        metrics=unit_part.metrics,
        segments=unit_part.segments,
        salt_mismatched_units=unit_part.salt_mismatched_units,
        variant_note=first.note,
        pre_period=unit_part.pre_period,
        timeline=timeline,
        prediction_ks=prediction_ks,
        read_notes=read_notes(
            source,
            excluded_values=unusable,
            notes=[duplicates.note if duplicates is not None else None],
        ),
    )


def _micro_type(dtype: pl.DataType) -> pl.DataType:
    """The time type whose physical values Spark hands (microseconds; dates stay dates)."""
    if isinstance(dtype, pl.Datetime):
        return pl.Datetime("us", dtype.time_zone)
    return dtype


def _bucket_index(column: str, dtype: pl.DataType, buckets: Buckets) -> Column:
    """``floor(t / step) - origin`` on microseconds since 1970 UTC (days for dates)."""
    if isinstance(dtype, pl.Date):
        physical = F.datediff(col(column), F.lit("1970-01-01").cast("date"))
    else:
        physical = micros(column, dtype)
    return (F.floor(physical / F.lit(buckets.step)) - F.lit(buckets.origin)).cast("int")


def _first_pass(
    frame: DataFrame,
    name: str,
    columns: CanaryColumns,
    request: CanaryRequest,
    time_dtype: pl.DataType,
    windowed: bool,
) -> _FirstPass:
    variant = col(columns.variant).cast("string")
    stamp = micros(columns.time, time_dtype)
    found = collect_rows(
        frame.groupBy(variant.alias("variant")).agg(
            F.count(F.lit(1)).alias("rows"),
            count_if(col(columns.unit).isNull()).alias("null_units"),
            F.min(stamp).alias("time_min"),
            F.max(stamp).alias("time_max"),
        ),
        name,
    )
    by_variant = pl.DataFrame(
        {
            "variant": [r["variant"] for r in found],
            "rows": [int(r["rows"]) for r in found],
            "null_units": [int(r["null_units"]) for r in found],
        },
        schema={"variant": pl.String, "rows": pl.Int64, "null_units": pl.Int64},
    )
    rows = int(by_variant["rows"].sum()) if by_variant.height else 0
    if rows == 0:
        window_text = " in the --since/--until window" if windowed else ""
        raise InputError(f"{name}: log has no rows{window_text}")
    present = [v for v in by_variant["variant"].to_list() if v is not None]
    rows_by_value = {r["variant"]: int(r["rows"]) for r in found if r["variant"] is not None}
    control, treatment, note = resolve_variants(
        present, request.control, request.treatment, name, columns.variant,
        rows_by_value, request.stage,
    )  # fmt: skip
    chosen = [r for r in found if r["variant"] in (control, treatment)]
    lows = [r["time_min"] for r in chosen if r["time_min"] is not None]
    highs = [r["time_max"] for r in chosen if r["time_max"] is not None]
    top_values = {}
    for segment in request.segments:
        value = col(segment).cast("string")
        top = (
            frame.where(col(segment).isNotNull())
            .groupBy(value.alias("value"))
            .agg(F.count(F.lit(1)).alias("rows"))
            .orderBy(F.col("rows").desc(), F.col("value").asc())
            .limit(request.top_segment_values)
        )
        top_values[segment] = [r["value"] for r in collect_rows(top, name)]
    return _FirstPass(
        rows=rows,
        names=(control, treatment),
        note=note,
        excluded=excluded_rows(by_variant, (control, treatment), columns),
        top_values=top_values,
        time_min=python_time(min(lows), _micro_type(time_dtype)) if lows else None,
        time_max=python_time(max(highs), _micro_type(time_dtype)) if highs else None,
    )


def _variant_summary(
    frame: DataFrame, columns: CanaryColumns, schema: Any, bucketed: bool
) -> DataFrame:
    aggregations = [F.count(F.lit(1)).alias("requests")]
    if schema.error is not None:
        aggregations.append(count_if(error_flag(columns.error, schema.error)).alias("errors"))
    if schema.latency is not None:
        unusable = unusable_latency(columns.latency, schema.latency)
        aggregations.append(count_if(unusable).alias(f"missing:{columns.latency}"))
    by = [TREATED, BUCKET] if bucketed else [TREATED]
    return frame.groupBy(*by).agg(*aggregations)


def _unit_table(
    frame: DataFrame, columns: CanaryColumns, request: CanaryRequest, schema: Any, bucketed: bool
) -> DataFrame:
    """One row per unit, as :func:`abtool.engines.polars.canary_units.unit_table`."""
    treated_rows = count_if(F.col(TREATED))
    rows = F.count(F.lit(1))
    aggregations = [
        rows.alias("rows"),
        (treated_rows > 0).alias(TREATED),
        ((treated_rows > 0) & (treated_rows < rows)).alias(MIXED),
    ]
    if bucketed:
        aggregations.append(F.min(BUCKET).alias(BUCKET))
    if schema.covariate is not None:
        assert request.covariate is not None
        aggregations += [
            e
            for m in request.metrics
            for e in covariate_sums(request.covariate, schema.covariate, m)
        ]
    for metric, dtype in schema.metrics.items():
        valid = ~unusable_number(metric, dtype)
        value = col(metric).cast("double")
        aggregations += metric_sums(metric, dtype)
        aggregations += [
            count_if(valid & (value != 0.0) & (value != 1.0)).alias(f"{metric}__other"),
            count_if(~valid).alias(f"{metric}__missing"),
        ]
    return frame.groupBy(col(columns.unit).alias(columns.unit)).agg(*aggregations)
