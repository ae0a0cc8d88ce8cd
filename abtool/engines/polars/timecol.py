"""Time columns as pipelines write them: epoch numbers, ISO-8601 text, zoned datetimes.

A report's time column may be

- a ``Datetime`` (naive means UTC, any zone is kept) or a ``Date``: read as it is;
- integer or float **epoch** numbers: seconds, milliseconds, microseconds or nanoseconds
  since 1970-01-01 UTC, as ``--time-unit`` says. ``auto`` (the default) decides by
  magnitude: a time between 1973 and 5138 is below 1e11 in seconds, in [1e11, 1e14) in
  milliseconds, in [1e14, 1e17) in microseconds and at least 1e17 in nanoseconds, so the
  smallest and the largest value must fall in the same band, which is then the unit; the
  report's warnings state the unit taken. Whatever the unit, the times must lie between
  1900 and 2500, or the column is refused (a wrong unit gives absurd years);
- **ISO-8601 text** (``2025-04-29T12:00:00``, ``... 12:00:00.123Z``, ``...+02:00``, or a
  bare date): times with an offset are converted to UTC, naive ones are taken as UTC; text
  that is not such a time counts as a missing time, and the warnings say how many.

Epoch and text times become naive UTC ``Datetime("us")``, so a report on them is the report
on the same log written with datetimes.
"""

from __future__ import annotations

import polars as pl

from abtool.engines.polars.files import first_line
from abtool.engines.polars.schema import is_text
from abtool.engines.polars.source import READ_ERRORS, LogSource
from abtool.errors import InputError

UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
# Lower bound of each unit's band: values of a 1973..5138 time in that unit.
_BANDS = (("s", 1e8), ("ms", 1e11), ("us", 1e14), ("ns", 1e17))
_YEARS = (1900, 2500)
_ZONED = ("%Y-%m-%dT%H:%M:%S%.f%#z",)
_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


def timed(source: LogSource, column: str, unit: str = "auto") -> LogSource:
    """``source`` with ``column`` read as a datetime if it holds epoch numbers or ISO text.

    Any other type is left for the schema check to report.

    Raises:
        InputError: epoch numbers whose unit ``auto`` cannot tell, or that give times outside
            1900..2500 in the unit taken; text of which no value is an ISO-8601 time.
    """
    dtype = source.schema.get(column)
    if dtype is None or isinstance(dtype, pl.Datetime | pl.Date):
        return source
    if dtype.is_integer() or dtype.is_float():
        return _epoch(source, column, dtype, unit)
    if is_text(dtype):
        return _iso(source, column)
    return source


def _epoch(source: LogSource, column: str, dtype: pl.DataType, unit: str) -> LogSource:
    value = _finite(pl.col(column).cast(pl.Float64))
    query = source.scan([column]).select(
        value.abs().min().alias("abs_low"),
        value.abs().max().alias("abs_high"),
        value.min().alias("low"),
        value.max().alias("high"),
    )
    try:
        abs_low, abs_high, low, high = query.collect(engine="streaming").row(0)
    except READ_ERRORS as exc:
        raise InputError(f"{source.name}: cannot read log ({first_line(exc)})") from None
    note = None
    if low is None:  # no value: nothing to convert, the report says the time is missing
        unit = "s" if unit == "auto" else unit
    else:
        if unit == "auto":
            unit = _auto_unit(source.name, column, abs_low, abs_high)
            note = (
                f"'{column}' holds epoch numbers: read as {UNIT_NAMES[unit]} since "
                "1970-01-01 UTC (--time-unit auto, from their magnitude; set --time-unit "
                "to say otherwise)"
            )
        _check_years(source.name, column, unit, low, high)
    per_second = _PER_SECOND[unit]
    integer = dtype.is_integer()

    def transform(expr: pl.Expr) -> pl.Expr:
        if integer and per_second <= 1_000_000:
            micros = expr.cast(pl.Int64) * (1_000_000 // per_second)
        elif integer:
            micros = expr.cast(pl.Int64) // (per_second // 1_000_000)
        else:
            micros = (_finite(expr.cast(pl.Float64)) * (1_000_000 / per_second)).round()
        return micros.cast(pl.Int64).cast(pl.Datetime("us"))

    return source.derive(column, transform, pl.Datetime("us"), note)


def _finite(expr: pl.Expr) -> pl.Expr:
    """NaN and infinite epoch numbers as missing times."""
    return pl.when(expr.is_finite()).then(expr)


def _auto_unit(name: str, column: str, low: float, high: float) -> str:
    def band(value: float) -> str | None:
        found = None
        for unit, floor in _BANDS:
            if value >= floor:
                found = unit
        return found

    small, large = band(low), band(high)
    if small is None or small != large:
        raise InputError(
            f"{name}: column '{column}' holds epoch numbers from {low:.6g} to {high:.6g}, "
            "which no single unit reads as times after 1973; set --time-unit s|ms|us|ns"
        )
    return small


def _check_years(name: str, column: str, unit: str, low: float, high: float) -> None:
    def year(value: float) -> float:
        return 1970 + value / _PER_SECOND[unit] / 31_556_952  # mean Gregorian year

    first, last = year(low), year(high)
    if first < _YEARS[0] or last > _YEARS[1]:
        raise InputError(
            f"{name}: column '{column}' read as {UNIT_NAMES[unit]} since 1970 gives years "
            f"{first:.0f} to {last:.0f}; set --time-unit to the unit the log uses"
        )


def _parsed(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars().str.replace(" ", "T", literal=True, n=1)
    zoned = [
        text.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC").dt.replace_time_zone(
            None
        )
        for f in _ZONED
    ]
    naive = [text.str.to_datetime(f, strict=False, time_unit="us") for f in _NAIVE]
    return pl.coalesce([*zoned, *naive])


def _iso(source: LogSource, column: str) -> LogSource:
    raw = pl.col(column)
    query = source.scan([column]).select(
        raw.is_not_null().sum().alias("given"),
        (raw.is_not_null() & _parsed(raw).is_null()).sum().alias("bad"),
        raw.filter(raw.is_not_null() & _parsed(raw).is_null()).first().cast(pl.String),
    )
    try:
        given, bad, example = query.collect(engine="streaming").row(0)
    except READ_ERRORS as exc:
        raise InputError(f"{source.name}: cannot read log ({first_line(exc)})") from None
    if given and bad == given:
        raise InputError(
            f"{source.name}: column '{column}' is text but no value is an ISO-8601 time "
            f"(e.g. {example!r}); expected a timestamp, epoch numbers or ISO-8601 text"
        )
    note = (
        f"'{column}' holds ISO-8601 text: read as times (offsets converted to UTC, "
        "times without one taken as UTC)"
    )
    if bad:
        note += f"; {bad:,} value(s) are not ISO-8601 times (e.g. {example!r}) and count as missing"
    return source.derive(column, _parsed, pl.Datetime("us"), note)
