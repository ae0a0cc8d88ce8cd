"""Value rules as Spark expressions: the same rules as the Polars engine's
:mod:`abtool.engines.polars.hygiene` and :mod:`abtool.engines.polars.schema`, so both engines
leave out and count the same values under the same reasons (see docs/logs.md).

Every expression is safe under ANSI mode (Spark 4's default): no cast or division that could
fail on a value of the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
from pyspark.sql import Column
from pyspark.sql import functions as F

from abtool.engines.polars.schema import is_text
from abtool.engines.spark.source import col

Reason = tuple[str, Column]
_BLANK = r"(?U)^\s*$"  # empty or only (Unicode) white space, as Polars' strip_chars sees it


def is_float(dtype: pl.DataType) -> bool:
    return dtype.is_float()


def missing_value(column: str, dtype: pl.DataType) -> Column:
    """True where ``column`` holds no usable value: null, or NaN in a float column."""
    expr = col(column).isNull()
    if dtype.is_float():
        expr = expr | F.isnan(col(column))
    return expr


def infinite(column: str, dtype: pl.DataType) -> Column:
    """True where a float column holds +inf or -inf (never for other types or nulls)."""
    if not dtype.is_float():
        return F.lit(False)
    value = col(column).cast("double")
    return F.coalesce(F.abs(value) == F.lit(float("inf")), F.lit(False))


def unusable_number(column: str, dtype: pl.DataType) -> Column:
    """True where a number cannot enter a sum or a mean: null, NaN or infinite."""
    return missing_value(column, dtype) | infinite(column, dtype)


def finite_float(column: str | Column) -> Column:
    """The column as a double, null where it is null, NaN or infinite."""
    value = (col(column) if isinstance(column, str) else column).cast("double")
    return F.when(~F.isnan(value) & (F.abs(value) != F.lit(float("inf"))), value)


def latency_reasons(column: str, dtype: pl.DataType) -> list[Reason]:
    """Why a latency value cannot be used, in the order the reasons are attributed."""
    value = col(column).cast("double")
    return [
        (f"null or NaN {column}", missing_value(column, dtype)),
        (f"infinite {column}", infinite(column, dtype)),
        (f"negative {column}", F.coalesce(value < 0, F.lit(False))),
    ]


def first_reason(reasons: Sequence[Reason], prefix: str) -> tuple[Column, list[Column]]:
    """Whether a row has any problem, and one count per reason, each row counted under the
    first reason that applies; the counts are aliased ``{prefix}{i}``."""
    counts = []
    earlier = F.lit(False)
    for i, (_, expr) in enumerate(reasons):
        counts.append(count_if(expr & ~earlier).alias(f"{prefix}{i}"))
        earlier = earlier | expr
    return earlier, counts


def named_counts(reasons: Sequence[Reason], prefix: str, row: Any) -> dict[str, int]:
    """The non-zero counts of :func:`first_reason` by reason, from a collected row."""
    counts = {label: int(row[f"{prefix}{i}"] or 0) for i, (label, _) in enumerate(reasons)}
    return {label: n for label, n in counts.items() if n}


def unusable_latency(column: str, dtype: pl.DataType) -> Column:
    """True where a latency cannot be used: null, NaN, infinite or negative."""
    problem, _ = first_reason(latency_reasons(column, dtype), "")
    return problem


def count_if(condition: Column) -> Column:
    """How many rows satisfy ``condition`` (0, never null, on no rows)."""
    return F.coalesce(F.sum(F.when(condition, F.lit(1)).otherwise(F.lit(0))), F.lit(0))


def blank(text: Column) -> Column:
    """True where text is empty or only white space (null for null)."""
    return text.rlike(_BLANK)


def error_flag(column: str, dtype: pl.DataType) -> Column:
    """True where a request errored: a true flag, a non-zero code or a non-empty message."""
    value = col(column)
    if dtype == pl.Boolean:
        return F.coalesce(value, F.lit(False))
    if dtype.is_integer():
        return F.coalesce(value, F.lit(0)) != 0
    return ~blank(F.coalesce(value.cast("string"), F.lit("")))


def as_text(column: str, dtype: pl.DataType) -> Column:
    """A label column as text, spelled as Polars casts it to String."""
    value = col(column)
    if dtype == pl.Boolean:
        return F.when(value, F.lit("true")).when(~value, F.lit("false"))
    if is_text(dtype) or dtype == pl.String:
        return value.cast("string")
    return value.cast("string")
