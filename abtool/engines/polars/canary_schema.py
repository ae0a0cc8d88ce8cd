"""canary-decide's columns, checked against a log's schema before any pass, on every engine.

The schema is in Polars types on both engines, so one function says which columns a canary
log must hold, how each is read, which columns a report scans and where its rows start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from abtool.aggregates.canary import CanaryRequest
from abtool.commands.canary import CanaryColumns
from abtool.engines.polars.schema import Kind, optional, require, require_columns


@dataclass(frozen=True)
class CanarySchema:
    """The dtypes of the columns a canary needs (None: an optional column is absent)."""

    time: pl.DataType
    metrics: dict[str, pl.DataType]
    prediction: pl.DataType | None
    latency: pl.DataType | None
    error: pl.DataType | None
    covariate: pl.DataType | None = None


def covariate_on_experiment(request: CanaryRequest) -> bool:
    """``--covariate`` without a pre-period: summed over the experiment's own rows."""
    return request.covariate is not None and request.pre_log is None and request.pre_until is None


def scanned_columns(
    columns: CanaryColumns, request: CanaryRequest, schema: CanarySchema, present: set[str]
) -> tuple[list[str], str | None]:
    """The columns canary-decide reads (on every engine), and the request id column (None:
    not in the log)."""
    needed = [columns.time, columns.unit, columns.variant, *request.metrics, *request.segments]
    request_col = columns.request if columns.request in present else None
    needed += [request_col] if request_col is not None else []
    optional_columns = (
        (columns.prediction, schema.prediction),
        (columns.latency, schema.latency),
        (columns.error, schema.error),
    )
    needed += [col for col, dtype in optional_columns if dtype is not None]
    if covariate_on_experiment(request):
        assert request.covariate is not None
        needed.append(request.covariate)
    return needed, request_col


def experiment_since(request: CanaryRequest) -> datetime | None:
    """Where the experiment's rows start: ``--since``, or the end of the pre-period."""
    since = request.since
    if request.pre_until is not None:
        since = request.pre_until if since is None else max(since, request.pre_until)
    return since


def check_canary_schema(
    schema: dict[str, pl.DataType], name: str, columns: CanaryColumns, request: CanaryRequest
) -> CanarySchema:
    """Every needed column exists with a usable type.

    Raises:
        InputError: a column is missing or of an unusable type (names the log and column).
    """
    require_columns(
        schema,
        name,
        {
            columns.time: "--time-col",
            columns.unit: "--unit",
            columns.variant: "--variant-col",
            **{metric: "--metric" for metric in request.metrics},
            **{segment: "--segment" for segment in request.segments},
        },
    )
    time_dtype = require(schema, name, columns.time, Kind.TIME, "--time-col")
    require(schema, name, columns.unit, Kind.KEY, "--unit")
    require(schema, name, columns.variant, Kind.LABEL, "--variant-col")
    metrics = {m: require(schema, name, m, Kind.NUMBER, "--metric") for m in request.metrics}
    for segment in request.segments:
        require(schema, name, segment, Kind.SEGMENT, "--segment")
    covariate = None
    if covariate_on_experiment(request):
        assert request.covariate is not None
        covariate = require(schema, name, request.covariate, Kind.NUMBER, "--covariate")
    return CanarySchema(
        time=time_dtype,
        metrics=metrics,
        prediction=optional(schema, name, columns.prediction, Kind.NUMBER),
        latency=optional(schema, name, columns.latency, Kind.NUMBER),
        error=optional(schema, name, columns.error, Kind.BOOL_OR_TEXT),
        covariate=covariate,
    )
