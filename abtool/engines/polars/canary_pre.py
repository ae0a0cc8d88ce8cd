"""canary-decide on Polars: each unit's CUPED covariate, summed per unit like the metric.

The covariate of a metric is, per unit, a sum and a count of rows with a value (a ratio, as
the metric), taken from one of three places:

* a covariate log (``--covariate-log``): another log of the same schema, read before the
  canary; its variant column is ignored (every row counts for its unit);
* the rows of the same log before ``--pre-until`` (and from ``--since``);
* the experiment's own rows (``--covariate COL`` alone): only sound for a column fixed before
  assignment, such as a pre-computed activity score.

The covariate column is ``--covariate`` or, by default, each metric's own column. The sums are
joined to the analysed units by unit id (the covariate log's ids cast to the log's type);
a unit without a covariate value gets 0 and counts as having no pre-period data.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from abtool.aggregates.canary import CanaryRequest, PrePeriod
from abtool.engines.polars.hygiene import finite_float, prepared, unusable_number
from abtool.engines.polars.schema import Kind, optional, require
from abtool.engines.polars.source import LogSource, collect_each, time_filter
from abtool.errors import InputError

PRE = "__pre"  # a metric's covariate columns are <metric>__pre_x and <metric>__pre_y


def covariate_column(metric: str, request: CanaryRequest) -> str:
    return request.covariate or metric


def pre_x(metric: str) -> str:
    return f"{metric}{PRE}_x"


def pre_y(metric: str) -> str:
    return f"{metric}{PRE}_y"


def covariate_sums(column: str, dtype: pl.DataType, metric: str) -> list[pl.Expr]:
    """Per-unit sum and rows with a value of ``column``, named for ``metric``."""
    valid = ~unusable_number(column, dtype)  # finite values, as the metric's own sums
    return [
        finite_float(column).sum().alias(pre_x(metric)),
        valid.sum().cast(pl.Float64).alias(pre_y(metric)),
    ]


def _pre_source(source: LogSource, request: CanaryRequest, unit: str) -> tuple[LogSource, str]:
    if request.pre_log is not None:
        pre = getattr(request.pre_log, "source", None)
        if not isinstance(pre, LogSource):
            raise InputError("--covariate-log must be opened by the engine that reads the log")
        # Read as the log is: empty ids are none (its time column is not needed).
        return prepared(pre, ids=[unit]), f"covariate log {', '.join(pre.paths)}"
    assert request.pre_until is not None
    return source, f"rows before {request.pre_until.isoformat()}"


def pre_period_columns(
    schema: dict[str, pl.DataType],
    name: str,
    unit: str,
    metrics: list[str],
    request: CanaryRequest,
) -> tuple[dict[str, pl.DataType | None], list[str], list[str]]:
    """The pre-period's covariate type per metric (None: the column is absent there), the
    metrics it adjusts and the columns to read (on every engine).

    Raises:
        InputError: the pre-period lacks the unit column or the ``--covariate`` column.
    """
    require(schema, name, unit, Kind.KEY, "--unit")
    if request.covariate is not None:
        require(schema, name, request.covariate, Kind.NUMBER, "--covariate")
    dtypes = {m: optional(schema, name, covariate_column(m, request), Kind.NUMBER) for m in metrics}
    adjusted = [m for m, dtype in dtypes.items() if dtype is not None]
    columns = [unit] + [covariate_column(m, request) for m in adjusted]
    return dtypes, adjusted, columns


def pre_period_table(
    source: LogSource,
    unit: str,
    time: str,
    unit_dtype: pl.DataType,
    metrics: list[str],
    request: CanaryRequest,
) -> tuple[pl.DataFrame, PrePeriod]:
    """Per-unit covariate sums of each metric over the pre-period, and where they came from.

    Raises:
        InputError: the pre-period lacks the unit column or the ``--covariate`` column, or
            cannot be read.
    """
    pre, described = _pre_source(source, request, unit)
    schema = pre.schema
    dtypes, adjusted, columns = pre_period_columns(schema, pre.name, unit, metrics, request)
    frame = pre.scan(columns + ([time] if request.pre_log is None else []))
    if request.pre_log is None:
        window = time_filter(time, schema[time], request.since, request.pre_until)
        assert window is not None
        frame = frame.filter(window)
    sums = [
        e
        for m in adjusted
        for e in covariate_sums(covariate_column(m, request), dtypes[m], m)  # type: ignore[arg-type]
    ]
    keyed = frame.filter(pl.col(unit).is_not_null()).with_columns(
        pl.col(unit).cast(unit_dtype, strict=False)
    )
    table, rows = collect_each(
        [keyed.group_by(unit).agg(sums), frame.select(pl.len().alias("rows"))], pre.name
    )
    info = PrePeriod(described, int(rows["rows"][0]), request.covariate, tuple(adjusted))
    return table, info


def with_covariates(units: pl.DataFrame, table: pl.DataFrame, unit: str) -> pl.DataFrame:
    """The unit table with the covariate sums joined (0 where a unit has none)."""
    joined = units.join(table, on=unit, how="left")
    names = [c for c in table.columns if c != unit]
    return joined.with_columns(pl.col(names).fill_null(0.0))


def with_pre_period(
    source: LogSource,
    consistent: pl.DataFrame,
    unit: str,
    time: str,
    request: CanaryRequest,
    rows: int,
    progress: Callable[[str], None] | None,
) -> tuple[pl.DataFrame, PrePeriod | None]:
    """The unit table with each metric's covariate sums, and where they came from.

    A covariate log or a ``pre_until`` split is read here; a per-row covariate without a
    pre-period was summed with the unit table already (its columns carry the same names).
    """
    if request.pre_log is not None or request.pre_until is not None:
        if progress:
            progress("Reading the pre-period")
        table, pre_period = pre_period_table(
            source, unit, time, source.schema[unit], list(request.metrics), request
        )
        return with_covariates(consistent, table, unit), pre_period
    if request.covariate is not None:
        return consistent, PrePeriod("experiment rows", rows, request.covariate, request.metrics)
    return consistent, None
