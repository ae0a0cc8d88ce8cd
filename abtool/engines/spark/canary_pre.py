"""canary-decide on Spark: each unit's CUPED covariate, summed per unit like the metric, by the
rules of :mod:`abtool.engines.polars.canary_pre` (a covariate log opened by the Spark engine,
or the rows before ``--pre-until``; the experiment's own rows are summed with the units).

The per-unit table comes back through Arrow and is joined to the unit table by the Polars
engine's own :func:`~abtool.engines.polars.canary_pre.with_covariates`.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from pyspark.sql import Column
from pyspark.sql import functions as F

from abtool.aggregates.canary import CanaryRequest, PrePeriod
from abtool.engines.polars.canary_pre import (
    covariate_column,
    pre_period_columns,
    pre_x,
    pre_y,
    with_covariates,
)
from abtool.engines.spark.prepare import prepared
from abtool.engines.spark.source import SparkSource, col, collect_row, polars_frame
from abtool.engines.spark.times import time_filter
from abtool.engines.spark.types import spark_type
from abtool.engines.spark.values import count_if, finite_float, unusable_number
from abtool.errors import InputError


def covariate_sums(column: str, dtype: pl.DataType, metric: str) -> list[Column]:
    """Per-unit sum and rows with a value of ``column``, named for ``metric``."""
    valid = ~unusable_number(column, dtype)
    return [
        F.coalesce(F.sum(finite_float(column)), F.lit(0.0)).alias(pre_x(metric)),
        count_if(valid).cast("double").alias(pre_y(metric)),
    ]


def _pre_source(source: SparkSource, request: CanaryRequest, unit: str) -> tuple[SparkSource, str]:
    if request.pre_log is not None:
        pre = getattr(request.pre_log, "source", None)
        if not isinstance(pre, SparkSource):
            raise InputError("--covariate-log must be opened by the engine that reads the log")
        return prepared(pre, ids=[unit]), f"covariate log {', '.join(pre.paths)}"
    assert request.pre_until is not None
    return source, f"rows before {request.pre_until.isoformat()}"


def with_pre_period(
    source: SparkSource,
    consistent: pl.DataFrame,
    unit: str,
    time: str,
    request: CanaryRequest,
    rows: int,
    progress: Callable[[str], None] | None,
) -> tuple[pl.DataFrame, PrePeriod | None]:
    """The unit table with each metric's covariate sums, and where they came from."""
    if request.pre_log is None and request.pre_until is None:
        if request.covariate is not None:
            return consistent, PrePeriod(
                "experiment rows", rows, request.covariate, request.metrics
            )
        return consistent, None
    if progress:
        progress("Reading the pre-period")
    pre, described = _pre_source(source, request, unit)
    schema = pre.schema
    dtypes, adjusted, columns = pre_period_columns(
        schema, pre.name, unit, list(request.metrics), request
    )
    frame = pre.scan(columns + ([time] if request.pre_log is None else []))
    if request.pre_log is None:
        window = time_filter(time, schema[time], request.since, request.pre_until)
        assert window is not None
        frame = frame.where(window)
    sums = [
        e
        for m in adjusted
        for e in covariate_sums(covariate_column(m, request), dtypes[m], m)  # type: ignore[arg-type]
    ]
    count = int(collect_row(frame.agg(F.count(F.lit(1)).alias("rows")), pre.name)["rows"])
    info = PrePeriod(described, count, request.covariate, tuple(adjusted))
    if not sums:
        return consistent, info
    target = spark_type(source.schema[unit])
    key = (
        col(unit)
        if target is None
        else F.expr(f"try_cast(`{unit.replace('`', '``')}` as {target})")
    )
    keyed = frame.where(col(unit).isNotNull()).withColumn(unit, key)
    table = polars_frame(keyed.groupBy(unit).agg(*sums), pre.name)
    table = table.with_columns(pl.col(unit).cast(consistent.schema[unit], strict=False))
    return with_covariates(consistent, table, unit), info
