"""A log as a report reads it, on Spark: Decimal columns as numbers, time columns of epoch
numbers or ISO-8601 text as times, empty ids as none.

The same rules, notes and errors as the Polars engine (:mod:`abtool.engines.polars.normalize`,
:mod:`abtool.engines.polars.timecol`, :func:`abtool.engines.polars.hygiene.blank_ids`); the
unit decision and the year check are the Polars engine's own functions. ISO-8601 text is
parsed by one regular expression that accepts what the Polars engine's formats accept (a date,
``T`` or a space, hours and minutes, optional seconds with any fraction truncated to the
microsecond, an offset ``Z``, ``+HH``, ``+HHMM`` or ``+HH:MM`` after seconds), the date and
time checked by Spark's own calendar.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from pyspark.sql import Column
from pyspark.sql import functions as F

from abtool.aggregates.hygiene import ReadNotes
from abtool.engines.polars.schema import is_text
from abtool.engines.polars.timecol import UNIT_NAMES, _auto_unit, _check_years
from abtool.engines.spark.source import SparkSource, col, collect_row
from abtool.engines.spark.values import blank, count_if, finite_float
from abtool.errors import InputError

_INT64_DIGITS = 18
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_ISO = (
    r"^([+-]\d{1,6}|\d{1,4})-(\d{1,2})-(\d{1,2})"
    r"(?:T *(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?)?$"
)


def normalized(source: SparkSource) -> SparkSource:
    """``source`` with every Decimal column read as a double (or a bigint, scale 0)."""
    for column, dtype in list(source.schema.items()):
        if not isinstance(dtype, pl.Decimal):
            continue
        scale = dtype.scale or 0
        precision = dtype.precision if dtype.precision is not None else 38
        if scale > 0:
            source = source.derive(column, lambda e: e.cast("double"), pl.Float64())
        elif precision <= _INT64_DIGITS:
            source = source.derive(column, lambda e: e.cast("bigint"), pl.Int64())
    return source


def prepared(
    source: SparkSource,
    *,
    time: str | None = None,
    time_unit: str = "auto",
    ids: Sequence[str] = (),
) -> SparkSource:
    """``source`` with its time column as times and empty text ids as null."""
    if time is not None:
        source = timed(source, time, time_unit)
    for column in dict.fromkeys(ids):
        source = blank_ids(source, column)
    return source


def read_notes(
    source: SparkSource,
    *,
    excluded_values: dict[str, int] | None = None,
    notes: Sequence[str | None] = (),
) -> ReadNotes:
    """The engine-neutral record of what reading ``source`` noticed."""
    return ReadNotes(
        excluded_values={k: v for k, v in (excluded_values or {}).items() if v},
        notes=(*source.notes, *(n for n in notes if n)),
    )


def blank_ids(source: SparkSource, column: str | None) -> SparkSource:
    """Empty or blank text ids read as null (no id), counted in the notes."""
    if column is None or column not in source.schema or not is_text(source.schema[column]):
        return source
    text = col(column).cast("string")
    row = collect_row(source.scan([column]).agg(count_if(blank(text)).alias("n")), source.name)
    count = int(row["n"])
    if not count:
        return source
    note = f"{count:,} row(s) hold an empty '{column}': read as having none (null)"

    def transform(expr: Column) -> Column:
        value = expr.cast("string")
        return F.when(~blank(value), value)

    return source.derive(column, transform, pl.String(), note)


def timed(source: SparkSource, column: str, unit: str = "auto") -> SparkSource:
    """``column`` read as a naive UTC time if it holds epoch numbers or ISO-8601 text."""
    dtype = source.schema.get(column)
    if dtype is None or isinstance(dtype, pl.Datetime | pl.Date):
        return source
    if dtype.is_integer() or dtype.is_float():
        return _epoch(source, column, dtype, unit)
    if is_text(dtype):
        return _iso(source, column)
    return source


def _epoch(source: SparkSource, column: str, dtype: pl.DataType, unit: str) -> SparkSource:
    value = finite_float(column)
    row = collect_row(
        source.scan([column]).agg(
            F.min(F.abs(value)).alias("abs_low"),
            F.max(F.abs(value)).alias("abs_high"),
            F.min(value).alias("low"),
            F.max(value).alias("high"),
        ),
        source.name,
    )
    note = None
    if row["low"] is None:
        unit = "s" if unit == "auto" else unit
    else:
        if unit == "auto":
            unit = _auto_unit(source.name, column, row["abs_low"], row["abs_high"])
            note = (
                f"'{column}' holds epoch numbers: read as {UNIT_NAMES[unit]} since "
                "1970-01-01 UTC (--time-unit auto, from their magnitude; set --time-unit "
                "to say otherwise)"
            )
        _check_years(source.name, column, unit, row["low"], row["high"])
    per_second = _PER_SECOND[unit]
    integer = dtype.is_integer()

    def transform(expr: Column) -> Column:
        if integer and per_second <= 1_000_000:
            micros = expr.cast("bigint") * F.lit(1_000_000 // per_second)
        elif integer:
            # Floor division, exact in decimals (a double holds no 19-digit nanosecond count).
            whole = expr.cast("decimal(20,0)") / F.lit(per_second // 1_000_000)
            micros = F.floor(whole).cast("bigint")
        else:
            micros = F.bround(finite_float(expr) * F.lit(1_000_000 / per_second), 0)
            micros = micros.cast("bigint")
        return F.timestamp_micros(micros).cast("timestamp_ntz")

    return source.derive(column, transform, pl.Datetime("us"), note)


def parsed_iso(expr: Column) -> Column:
    """ISO-8601 text as a naive UTC time (null where the text is not such a time)."""
    text = F.regexp_replace(expr.cast("string"), r"(?U)^\s+|\s+$", "")
    text = F.regexp_replace(text, r"^([^ ]*) ", "$1T")  # the first space separates date and time

    def part(i: int) -> Column:
        return F.regexp_extract(text, _ISO, i)

    def number(i: int, default: int = 0) -> Column:
        found = part(i)
        return F.when(found == "", F.lit(default)).otherwise(found.cast("bigint"))

    matches = text.rlike(_ISO)
    day = F.try_make_timestamp(
        number(1), number(2), number(3), F.lit(0), F.lit(0), F.lit(0), F.lit("UTC")
    )
    hours, minutes, seconds = number(4), number(5), number(6)
    in_range = (hours <= 23) & (minutes <= 59) & (seconds <= 60)
    fraction = F.rpad(F.substring(part(7), 1, 6), 6, "0")
    micros = F.when(part(7) == "", F.lit(0)).otherwise(fraction.cast("bigint"))
    offset_h, offset_m = number(10), number(11)
    offset_ok = (offset_h <= 23) & (offset_m <= 59)
    sign = F.when(part(9) == "-", F.lit(-1)).otherwise(F.lit(1))
    offset = sign * (offset_h * 3600 + offset_m * 60)
    total = (
        F.unix_micros(day)
        + (hours * 3600 + minutes * 60 + seconds - offset) * F.lit(1_000_000)
        + micros
    )
    usable = matches & in_range & offset_ok & day.isNotNull()
    return F.when(usable, F.timestamp_micros(total).cast("timestamp_ntz"))


def _iso(source: SparkSource, column: str) -> SparkSource:
    raw = col(column)
    bad = raw.isNotNull() & parsed_iso(raw).isNull()
    row = collect_row(
        source.scan([column]).agg(
            count_if(raw.isNotNull()).alias("given"),
            count_if(bad).alias("bad"),
            F.min(F.when(bad, raw.cast("string"))).alias("example"),
        ),
        source.name,
    )
    given, bad_count, example = int(row["given"]), int(row["bad"]), row["example"]
    if given and bad_count == given:
        raise InputError(
            f"{source.name}: column '{column}' is text but no value is an ISO-8601 time "
            f"(e.g. {example!r}); expected a timestamp, epoch numbers or ISO-8601 text"
        )
    note = (
        f"'{column}' holds ISO-8601 text: read as times (offsets converted to UTC, "
        "times without one taken as UTC)"
    )
    if bad_count:
        note += (
            f"; {bad_count:,} value(s) are not ISO-8601 times (e.g. {example!r}) and count "
            "as missing"
        )
    return source.derive(column, parsed_iso, pl.Datetime("us"), note)
