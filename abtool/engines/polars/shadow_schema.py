"""shadow-report's columns, checked against a log's schema before any pass, on every engine.

The schema is in Polars types on both engines (the Spark engine reads its files' schemas as
Polars does), so one function says which columns a shadow log must hold, how each is read
and which columns a report scans.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from abtool.aggregates.shadow import ShadowRequest
from abtool.commands.shadow import ShadowColumns
from abtool.engines.polars.schema import Kind, is_text, optional, require, require_columns
from abtool.errors import InputError


@dataclass(frozen=True)
class ShadowSchema:
    """How a shadow log's columns are read.

    Attributes:
        mode: ``score`` (both predictions float) or ``label`` (class labels).
        time, primary, shadow: the types of the required columns.
        error: the error column's type (None: no error column).
        latency_cols: each model's latency column present in the log, by role.
        latency: their types, by role.
        segments: the segment columns (given, or every text column that is no id).
        request: the request id column (None: not in the log).
        needed: every column the report scans.
    """

    mode: str
    time: pl.DataType
    primary: pl.DataType
    shadow: pl.DataType
    error: pl.DataType | None
    latency_cols: dict[str, str]
    latency: dict[str, pl.DataType]
    segments: list[str]
    request: str | None
    needed: list[str]


def shadow_schema(
    schema: dict[str, pl.DataType],
    name: str,
    partition_keys: frozenset[str],
    columns: ShadowColumns,
    request: ShadowRequest,
) -> ShadowSchema:
    """Check the log's columns and say how each is read.

    Raises:
        InputError: a required column is missing or mistyped, or one prediction is a score
            and the other a class label.
    """
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
    latency: dict[str, pl.DataType] = {}
    for role, col in (("primary", columns.primary_latency), ("shadow", columns.shadow_latency)):
        dtype = optional(schema, name, col, Kind.NUMBER)
        if dtype is not None:
            latency[role] = dtype
    latency_cols = {
        role: col
        for role, col in (("primary", columns.primary_latency), ("shadow", columns.shadow_latency))
        if role in latency
    }
    error_dtype = optional(schema, name, columns.shadow_error, Kind.BOOL_OR_TEXT)
    segments = (
        list(request.segments)
        if request.segments is not None
        else default_segments({k: v for k, v in schema.items() if k not in partition_keys}, columns)
    )
    for segment in segments:
        require(schema, name, segment, Kind.SEGMENT, "--segment")
    needed = [columns.time, columns.primary, columns.shadow, *segments, *latency_cols.values()]
    if error_dtype is not None:
        needed.append(columns.shadow_error)
    request_col = columns.request if columns.request in schema else None
    if request_col is not None:
        needed.append(request_col)
    return ShadowSchema(
        mode=mode,
        time=time_dtype,
        primary=primary_dtype,
        shadow=shadow_dtype,
        error=error_dtype,
        latency_cols=latency_cols,
        latency=latency,
        segments=segments,
        request=request_col,
        needed=needed,
    )


def require_compared_rows(
    name: str, rows: int, valid_rows: int, columns: ShadowColumns, windowed: bool
) -> None:
    """Refuse a log (or window) with no rows, or no row holding both predictions and a time.

    Raises:
        InputError: one line naming the log.
    """
    if rows == 0:
        window_text = " in the --since/--until window" if windowed else ""
        raise InputError(f"{name}: log has no rows{window_text}")
    if valid_rows == 0:
        raise InputError(
            f"{name}: no row has both '{columns.primary}' and '{columns.shadow}' "
            f"(all {rows} rows are null, NaN or infinite in one of them)"
        )


def default_segments(schema: dict[str, pl.DataType], columns: ShadowColumns) -> list[str]:
    """Every string/categorical column that is not an id or one of the known columns."""
    known = {
        columns.time,
        columns.primary,
        columns.shadow,
        columns.shadow_error,
        columns.request,
        *columns.id_columns,
    }
    return [
        name
        for name, dtype in schema.items()
        if is_text(dtype) and name not in known and not _looks_like_id(name)
    ]


def _looks_like_id(name: str) -> bool:
    lowered = name.lower()
    return lowered == "id" or lowered.endswith(("_id", "_uuid", "_key"))
