"""Times on Spark: the ``--since``/``--until`` window, and times leaving Spark.

A time leaves Spark as microseconds since 1970 UTC (``unix_micros``) and becomes the Python
value the Polars engine gives for the column's type: a naive ``datetime`` for a naive column,
an aware one in the column's zone for a zoned column, a ``date`` for a date column. So no
figure depends on the driver's or the session's time zone (abtool sets the session's to UTC,
which Spark needs to read naive times as UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from pyspark.sql import Column
from pyspark.sql import functions as F

from abtool.engines.spark.source import col

_EPOCH = datetime(1970, 1, 1)


def micros(column: str | Column, dtype: pl.DataType) -> Column:
    """A time column as microseconds since 1970 UTC (dates: their UTC midnight)."""
    value = col(column) if isinstance(column, str) else column
    if isinstance(dtype, pl.Date) or getattr(dtype, "time_zone", None) is None:
        return F.unix_micros(value.cast("timestamp"))  # the session's zone is UTC
    return F.unix_micros(value)


def python_time(value: Any, dtype: pl.DataType) -> Any:
    """Microseconds since 1970 UTC (or a collected date) as the column type's Python value."""
    if value is None:
        return None
    if isinstance(dtype, pl.Date):
        if isinstance(value, date):
            return value
        return (_EPOCH + timedelta(microseconds=int(value))).date()
    naive = _EPOCH + timedelta(microseconds=int(value))
    zone = getattr(dtype, "time_zone", None)
    if zone is None:
        return naive
    return naive.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))


def time_filter(
    column: str, dtype: pl.DataType, since: datetime | None, until: datetime | None
) -> Column | None:
    """Rows with ``since <= column < until`` (None when neither is given), compared as
    instants: a naive column's times are UTC, a date is compared as a date."""
    if since is None and until is None:
        return None
    value = col(column)
    expr = F.lit(True)
    if isinstance(dtype, pl.Date):
        if since is not None:
            expr = expr & (value >= F.lit(since.date()))
        if until is not None:
            expr = expr & (value < F.lit(until.date()))
        return expr
    stamp = micros(column, dtype)
    if since is not None:
        expr = expr & (stamp >= F.lit(_micros_of(since)))
    if until is not None:
        expr = expr & (stamp < F.lit(_micros_of(until)))
    return expr


def _micros_of(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    delta = aware.astimezone(UTC).replace(tzinfo=None) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
