"""Value hygiene: which values a figure cannot use, and how many there were.

A value that cannot be used is left out of the figures that use it and counted under a
reason, never silently dropped and never allowed to turn a figure into NaN or infinity:

- a prediction, metric or latency that is null, NaN or infinite (±inf);
- a negative latency (a clock went backwards; a latency is a duration);
- an empty (or blank) unit, session or request id: read as no id at all (null).

The aggregation code uses these expressions and numpy helpers so that every engine step
applies one rule; the counts travel to the report in :class:`abtool.aggregates.hygiene.ReadNotes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.aggregates.hygiene import ReadNotes
from abtool.engines.polars.files import first_line
from abtool.engines.polars.schema import is_text, missing_value
from abtool.engines.polars.source import READ_ERRORS, LogSource, collect_each
from abtool.engines.polars.text_stats import may_hold_blank
from abtool.errors import InputError

Reason = tuple[str, pl.Expr]


def infinite(column: str, dtype: pl.DataType) -> pl.Expr:
    """True where a float column holds +inf or -inf (never for other types or nulls)."""
    if not dtype.is_float():
        return pl.lit(False)
    return pl.col(column).is_infinite().fill_null(False)


def unusable_number(column: str, dtype: pl.DataType) -> pl.Expr:
    """True where a number cannot enter a sum or a mean: null, NaN or infinite."""
    return missing_value(column, dtype) | infinite(column, dtype)


def finite_float(column: str) -> pl.Expr:
    """The column as Float64, null where it is NaN or infinite."""
    value = pl.col(column).cast(pl.Float64)
    return pl.when(value.is_finite()).then(value)


def latency_reasons(column: str, dtype: pl.DataType) -> list[Reason]:
    """Why a latency value cannot be used, in the order the reasons are attributed."""
    value = pl.col(column).cast(pl.Float64)
    return [
        (f"null or NaN {column}", missing_value(column, dtype)),
        (f"infinite {column}", infinite(column, dtype)),
        (f"negative {column}", (value < 0).fill_null(False)),
    ]


def first_reason(reasons: Sequence[Reason], prefix: str) -> tuple[pl.Expr, list[pl.Expr]]:
    """Whether a row has any problem, and one count per reason, each row counted under the
    first reason that applies (so the counts add up to the rows left out).

    The counts are aliased ``{prefix}{i}`` in the order of ``reasons``.
    """
    counts = []
    earlier = pl.lit(False)
    for i, (_, expr) in enumerate(reasons):
        counts.append((expr & ~earlier).sum().alias(f"{prefix}{i}"))
        earlier = earlier | expr
    return earlier, counts


def named_counts(reasons: Sequence[Reason], prefix: str, row: dict[str, Any]) -> dict[str, int]:
    """The non-zero counts of :func:`first_reason` by reason, from a collected row."""
    counts = {label: int(row[f"{prefix}{i}"] or 0) for i, (label, _) in enumerate(reasons)}
    return {label: n for label, n in counts.items() if n}


def blank_non_finite(values: NDArray[np.float64]) -> int:
    """Set ±inf to NaN in place (so sorts put them last, with the missing values); how many."""
    bad = np.isinf(values)
    count = int(np.count_nonzero(bad))
    if count:
        values[bad] = np.nan
    return count


def blank_unusable_latency(values: NDArray[np.float64]) -> None:
    """Set infinite and negative latencies to NaN in place (quantiles ignore NaN), and -0.0
    to 0.0 (so the order a sort leaves equal zeros in cannot give a quantile a sign)."""
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (values < 0)
    values[bad] = np.nan
    values += 0.0  # -0.0 + 0.0 is 0.0


def blank_ids(source: LogSource, column: str | None) -> LogSource:
    """``source`` with empty or blank text ids in ``column`` read as null (no id), counted in
    the notes. Non-text columns and absent ones are left as they are."""
    if column is None or column not in source.schema or not is_text(source.schema[column]):
        return source
    if source.frame is None and not may_hold_blank(source.files, column):
        return source  # the files' statistics rule out a blank value: no scan needed
    text = pl.col(column).cast(pl.String)
    blank = text.str.strip_chars().str.len_chars() == 0
    try:
        (count,) = source.scan([column]).select(blank.sum()).collect(engine="streaming").row(0)
    except READ_ERRORS as exc:
        raise InputError(f"{source.name}: cannot read log ({first_line(exc)})") from None
    if not count:
        return source
    note = f"{count:,} row(s) hold an empty '{column}': read as having none (null)"

    def transform(expr: pl.Expr) -> pl.Expr:
        value = expr.cast(pl.String)
        return pl.when(value.str.strip_chars().str.len_chars() > 0).then(value)

    return source.derive(column, transform, pl.String(), note)


def prepared(
    source: LogSource, *, time: str | None = None, time_unit: str = "auto", ids: Sequence[str] = ()
) -> LogSource:
    """``source`` as a report reads it: its time column as datetimes (epoch numbers and ISO
    text converted, see :mod:`abtool.engines.polars.timecol`) and empty ids as null."""
    from abtool.engines.polars.timecol import timed

    if time is not None:
        source = timed(source, time, time_unit)
    for column in dict.fromkeys(ids):
        source = blank_ids(source, column)
    return source


def read_notes(
    source: LogSource,
    *,
    excluded_values: dict[str, int] | None = None,
    notes: Sequence[str | None] = (),
) -> ReadNotes:
    """The engine-neutral record of what reading ``source`` noticed."""
    return ReadNotes(
        excluded_values={k: v for k, v in (excluded_values or {}).items() if v},
        notes=(*source.notes, *(n for n in notes if n)),
    )


def unusable_latency(column: str, dtype: pl.DataType) -> pl.Expr:
    """True where a latency cannot be used: null, NaN, infinite or negative."""
    problem, _ = first_reason(latency_reasons(column, dtype), "")
    return problem


def value_counts(
    frame: pl.LazyFrame,
    numbers: dict[str, pl.DataType],
    latency: tuple[str, pl.DataType] | None,
    name: str,
) -> dict[str, int]:
    """How many values of ``frame`` are infinite (``numbers``: predictions, metrics) or
    infinite or negative (the ``latency`` column), by reason (non-zero counts only)."""
    reasons: list[Reason] = [
        (f"infinite {column}", infinite(column, dtype))
        for column, dtype in numbers.items()
        if dtype.is_float()
    ]
    if latency is not None:
        reasons += latency_reasons(*latency)[1:]
    if not reasons:
        return {}
    queries = [frame.select([expr.sum().alias(f"v{i}") for i, (_, expr) in enumerate(reasons)])]
    (table,) = collect_each(queries, name)
    return named_counts(reasons, "v", table.row(0, named=True))
