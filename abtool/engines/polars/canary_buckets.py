"""canary-decide on Polars: the log cut into UTC time buckets (days or hours).

A row's bucket is ``floor(t / width) - origin`` on the time column's physical value (UTC epoch
for timestamps, naive ones taken as UTC; days for a date column), so buckets are whole UTC
days or hours and need no per-row calendar arithmetic. Per bucket and variant come requests,
errors (from the per-variant summary query, grouped by bucket too), the units first seen and the
p99 latency (:func:`role_latency_quantiles`, in numpy with the whole-log latency quantiles);
for the primary metric, one entry per (unit, bucket) with
the unit's sums in the bucket and through it (:func:`unit_bucket_table`), from which
:mod:`abtool.stats.ratio_series` computes the per-bucket and the cumulative lift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.aggregates.canary import Timeline, UnitBuckets, VariantBuckets
from abtool.engines.polars.canary_roles import ROLES, TREATED
from abtool.engines.polars.hygiene import unusable_number
from abtool.errors import UsageError
from abtool.stats.descriptive import quantile_of_sorted_runs, quantile_sorted
from abtool.stats.ratio_series import Moments, moments_by_role

BUCKET = "__bucket"
AUTO_HOURS = 36  # auto: day buckets once the log spans this many hours, hour buckets below
MAX_BUCKETS = 1000
_PER_SECOND = {"ns": 1_000_000_000, "us": 1_000_000, "ms": 1_000}


@dataclass(frozen=True)
class Buckets:
    """How rows map to buckets: ``index = physical // step - origin``."""

    width: str
    step: int
    origin: int
    count: int

    def index(self, column: str) -> pl.Expr:
        """The bucket index of each row (null where the time is null)."""
        physical = pl.col(column).to_physical().cast(pl.Int64)
        return ((physical // self.step) - self.origin).cast(pl.Int32).alias(BUCKET)

    def starts(self) -> list[datetime]:
        """Start of each bucket, in UTC."""
        size = timedelta(days=1) if self.width == "day" else timedelta(hours=1)
        first = datetime(1970, 1, 1, tzinfo=UTC) + self.origin * size
        return [first + k * size for k in range(self.count)]


def _physical(value: date | datetime, dtype: pl.DataType) -> int:
    return int(pl.Series([value], dtype=dtype).to_physical().cast(pl.Int64).item())


def choose_buckets(
    requested: str, dtype: pl.DataType, time_min: date | datetime, time_max: date | datetime
) -> Buckets:
    """The buckets of a log spanning ``time_min`` to ``time_max`` (its time column's values).

    Raises:
        UsageError: hour buckets on a date column, or more than ``MAX_BUCKETS`` buckets.
    """
    if isinstance(dtype, pl.Date):
        if requested == "hour":
            raise UsageError("--bucket hour needs timestamps; the time column holds dates")
        width, step = "day", 1
    else:
        unit = getattr(dtype, "time_unit", None) or "us"
        span = _physical(time_max, dtype) - _physical(time_min, dtype)
        per_day = 86_400 * _PER_SECOND[unit]
        width = requested
        if requested == "auto":
            width = "day" if span >= AUTO_HOURS * per_day // 24 else "hour"
        step = per_day if width == "day" else per_day // 24
    origin = _physical(time_min, dtype) // step
    count = _physical(time_max, dtype) // step - origin + 1
    if count > MAX_BUCKETS:
        raise UsageError(
            f"--bucket {width} cuts the log into {count:,} buckets (at most {MAX_BUCKETS:,}); "
            "use --bucket day or a shorter --since/--until window"
        )
    return Buckets(width, step, origin, count)


@dataclass(frozen=True)
class UnitBucketKey:
    """Integer units and buckets packed into one 64-bit key, ``(unit - origin) * count +
    bucket``: ordered as (unit, bucket), and a streaming group-by on one integer key holds
    about two thirds of the memory of one on two columns (1.0 against 1.45 GB at 50M rows)."""

    origin: int
    count: int

    @staticmethod
    def fitting(dtype: pl.DataType, low: Any, high: Any, count: int) -> UnitBucketKey | None:
        """The key for integer units from ``low`` to ``high`` in ``count`` buckets; None for
        other units or when the key could overflow."""
        if not dtype.is_integer() or low is None or high is None or count <= 0:
            return None
        if int(high) >= 2**63 or (int(high) - int(low) + 1) * count >= 2**62:
            return None
        return UnitBucketKey(int(low), count)

    def expr(self, unit: str) -> pl.Expr:
        """The key of each row."""
        code = pl.col(unit).cast(pl.Int64) - self.origin
        return (code * self.count + pl.col(BUCKET).cast(pl.Int64)).alias(_KEY)


_KEY = "__unit_bucket"


def unit_bucket_table(
    frame: pl.LazyFrame,
    unit: str,
    metric: str,
    dtype: pl.DataType,
    key: UnitBucketKey | None = None,
) -> pl.LazyFrame:
    """The primary metric's sums per (unit, bucket) where the unit has a value; with ``key``,
    grouped by the packed key (a column ``__unit_bucket`` instead of the unit and bucket)."""
    valid = ~unusable_number(metric, dtype)  # as the unit table's sums: finite values only
    rows = valid & pl.col(BUCKET).is_not_null()
    by: list[str | pl.Expr] = [unit, BUCKET]
    if key is not None:
        # Buckets outside 0..count-1 cannot occur (count is from the same rows' times), but
        # they would decode as another unit's, so they are never packed.
        rows = rows & pl.col(BUCKET).is_between(0, key.count - 1)
        by = [key.expr(unit)]
    return (
        frame.filter(rows)
        .group_by(*by)
        .agg(
            pl.col(metric).cast(pl.Float64).sum().alias("x"),
            pl.len().cast(pl.Float64).alias("y"),
            pl.col(TREATED).max().alias(TREATED),
        )
    )


def unit_buckets(table: pl.DataFrame, unit: str) -> UnitBuckets:
    """The (unit, bucket) entries sorted by unit and bucket, with running sums per unit.

    The running sums are one cumulative sum over all entries less its value where the unit
    starts (exact for counts; for other sums within rounding of the log's total).
    """
    ordered = table.sort(unit, BUCKET)
    ids = ordered[unit]
    first = (ids != ids.shift(1)).fill_null(True).to_numpy()
    x, y = ordered["x"].to_numpy(), ordered["y"].to_numpy()
    start = np.maximum.accumulate(np.where(first, np.arange(len(first)), 0))
    return UnitBuckets(
        bucket=ordered[BUCKET].cast(pl.Int64).to_numpy(),
        treated=ordered[TREATED].to_numpy(),
        x=x,
        y=y,
        cum_x=_running(x, start),
        cum_y=_running(y, start),
        first=first,
    )


def _running(values: NDArray[np.float64], start: NDArray[np.int64]) -> NDArray[np.float64]:
    """Cumulative sums that restart at each ``start`` index."""
    total = np.cumsum(values)
    return np.asarray(total - (total - values)[start], dtype=np.float64)


def role_latency_quantiles(
    columns: list[NDArray[Any]], count: int | None
) -> tuple[dict[str, dict[str, float]], dict[str, list[float | None]] | None]:
    """p50 and p99 latency of each role and, with ``count`` buckets, each role's p99 per
    bucket (None where a bucket has no latency).

    ``columns`` are the latency (NaN where unusable) and its group key
    (:func:`~abtool.engines.polars.canary_roles.group_key`); the list is
    emptied, so each array is freed as soon as it has been used. Rows are ordered by group
    (each role's rows contiguous) by :func:`_grouped`; each group is sorted in place (its
    p99; an unstable sort: the order of equal values cannot change a quantile, and there is
    no -0.0, see :func:`~abtool.engines.polars.hygiene.blank_unusable_latency`), and each
    role's p50 and p99 are found in its groups' sorted runs by binary search
    (:func:`~abtool.stats.descriptive.quantile_of_sorted_runs`), without sorting the role's
    values again. The quantiles equal ``numpy.quantile`` bit for bit. Memory: at most the
    latency, the key and the grouped copy (18 bytes a row).
    """
    latency, key = columns
    columns.clear()
    groups = count + 1 if count is not None else 1  # per role: the buckets and "no bucket"
    key[np.isnan(latency)] = 2 * groups  # unusable latencies sort last and are left out
    bounds = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=2 * groups + 1))])
    grouped = _grouped(latency, key, bounds)
    del key, latency
    by_bucket: dict[str, list[float | None]] = {"control": [], "treatment": []}
    overall: dict[str, dict[str, float]] = {}
    for r, role in enumerate(ROLES):
        runs = []
        for g in range(r * groups, (r + 1) * groups):
            part = grouped[bounds[g] : bounds[g + 1]]
            part.sort()
            runs.append(part)
            if count is not None and g - r * groups < count:
                by_bucket[role].append(quantile_sorted(part, 0.99) if len(part) else None)
        # The role's quantiles from its groups' sorted runs: no second sort of its values.
        overall[role] = {
            "p50": quantile_of_sorted_runs(runs, 0.50),
            "p99": quantile_of_sorted_runs(runs, 0.99),
        }
    return overall, by_bucket if count is not None else None


_GROUP_CHUNK = 1_000_000


def _grouped(
    values: NDArray[np.float64], key: NDArray[np.int16], bounds: NDArray[np.int64]
) -> NDArray[np.float64]:
    """``values`` ordered by ``key`` (stable), without the last group (the unusable values):
    ``values[np.argsort(key, kind="stable")]`` less its tail, element for element.

    A counting sort done a chunk at a time (each chunk ordered by numpy's radix sort of its
    16-bit key, its groups copied to where their group has got to), so no order of the
    whole column (8 bytes a row) is held.
    """
    groups = len(bounds) - 2  # the last group (unusable values) is left out
    grouped = np.empty(int(bounds[groups]), dtype=values.dtype)
    filled = bounds[:groups].copy()
    for start in range(0, len(values), _GROUP_CHUNK):
        part = key[start : start + _GROUP_CHUNK]
        order = np.argsort(part, kind="stable")
        chunk = values[start : start + _GROUP_CHUNK][order]
        ends = np.cumsum(np.bincount(part, minlength=groups + 1))
        begin = 0
        for g in range(groups):
            end = int(ends[g])
            grouped[filled[g] : filled[g] + end - begin] = chunk[begin:end]
            filled[g] += end - begin
            begin = end
    return grouped


def variant_buckets(
    table: pl.DataFrame,
    first_seen: pl.DataFrame,
    count: int,
    has_errors: bool,
    p99: dict[str, list[float | None]] | None,
) -> tuple[VariantBuckets, VariantBuckets]:
    """Control's and treatment's figures per bucket (requests, errors, new units, p99)."""
    result = []
    for role, treated in (("control", False), ("treatment", True)):
        mine = table.filter(pl.col(TREATED) == treated)
        requests = np.zeros(count, dtype=np.int64)
        errors = np.zeros(count, dtype=np.int64)
        index = mine[BUCKET].to_numpy()
        requests[index] = mine["requests"].to_numpy()
        if has_errors:
            errors[index] = mine["errors"].fill_null(0).to_numpy()
        new = first_seen.filter(pl.col(TREATED) == treated)
        units = np.zeros(count, dtype=np.int64)
        units[new[BUCKET].to_numpy()] = new["units"].to_numpy()
        result.append(
            VariantBuckets(
                requests=requests.tolist(),
                errors=errors.tolist() if has_errors else None,
                new_units=units.tolist(),
                latency_p99_ms=None if p99 is None else p99[role],
            )
        )
    return result[0], result[1]


def unit_bucket_moments(
    tables: list[pl.DataFrame],
    inconsistent_ids: pl.DataFrame,
    unit: str,
    count: int,
    key: UnitBucketKey | None = None,
) -> dict[tuple[bool, bool], Moments]:
    """The primary metric's moments per bucket by (treated, cumulative), for
    ``Timeline.primary_moments``: the report's sums of the (unit, bucket) entries of
    :func:`unit_buckets` (the same values, order and calls, so the same figures bit for bit).

    ``tables`` holds the :func:`unit_bucket_table` (grouped by ``key`` if given); the list
    is emptied, so each copy of the entries (without the inconsistent units, sorted, as numpy
    arrays) is freed as soon as the next is made. Computed in the engine so that the
    per-entry arrays (about 40 bytes an entry) are freed here rather than carried into the
    report.
    """
    (table,) = tables
    tables.clear()
    if key is None:
        if inconsistent_ids.height:
            table = table.join(inconsistent_ids, on=unit, how="anti")
        ordered = table.sort(unit, BUCKET)
        del table
        ids = ordered[unit]
        first = (ids != ids.shift(1)).fill_null(True).to_numpy()
        del ids
        ordered = ordered.drop(unit)
        bucket = ordered[BUCKET].to_numpy()
    else:
        code = pl.col(_KEY) // key.count
        if inconsistent_ids.height:
            unit_codes = inconsistent_ids[unit].cast(pl.Int64) - key.origin
            table = table.filter(~code.is_in(unit_codes.implode()))
        ordered = table.sort(_KEY)
        del table
        decoded = ordered.select(
            (pl.col(_KEY) % key.count).alias(BUCKET),
            (code != code.shift(1)).fill_null(True).alias("first"),
        )
        bucket, first = decoded[BUCKET].to_numpy(), decoded["first"].to_numpy()
        del decoded
        ordered = ordered.drop(_KEY)
    x, y = ordered["x"].to_numpy(), ordered["y"].to_numpy()
    return entry_moments(bucket, first, x, y, ordered[TREATED].to_numpy(), count)


def entry_moments(
    bucket: NDArray[Any],
    first: NDArray[np.bool_],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    treated: NDArray[np.bool_],
    count: int,
) -> dict[tuple[bool, bool], Moments]:
    """The moments per bucket by (treated, cumulative) of the (unit, bucket) entries, in
    (unit, bucket) order: each entry's bucket, whether it is its unit's first, its sums and
    its unit's role. The report's sums of :func:`unit_buckets` (same values, order and calls)."""
    start = np.where(first, np.arange(len(first)), 0)
    np.maximum.accumulate(start, out=start)
    cum_x, cum_y = _running(x, start), _running(y, start)
    del start
    return moments_by_role(bucket, treated, x, y, cum_x, cum_y, first, count)


def variant_timeline(
    buckets: Buckets,
    bucket_table: pl.DataFrame,
    first_seen: pl.DataFrame,
    primary_moments: dict[tuple[bool, bool], Moments] | None,
    has_errors: bool,
    p99: dict[str, list[float | None]] | None,
) -> Timeline:
    """The timeline record from the bucket table, the units first seen per bucket
    (:func:`first_seen_units`) and the primary metric's moments (:func:`unit_bucket_moments`)."""
    control, treatment = variant_buckets(bucket_table, first_seen, buckets.count, has_errors, p99)
    return Timeline(
        buckets.width, buckets.starts(), control, treatment, None, primary_moments=primary_moments
    )


def first_seen_units(consistent: pl.DataFrame) -> pl.DataFrame:
    """Consistent units per (first bucket, role): a small table, so the unit table can go."""
    return (
        consistent.filter(pl.col(BUCKET).is_not_null())
        .group_by(BUCKET, TREATED)
        .agg(pl.len().alias("units"))
    )


def bucket_timeline(
    buckets: Buckets,
    bucket_table: pl.DataFrame,
    unit_bucket_table: pl.DataFrame | None,
    consistent: pl.DataFrame,
    inconsistent_ids: pl.DataFrame,
    unit: str,
    has_errors: bool,
    p99: dict[str, list[float | None]] | None,
) -> Timeline:
    """The timeline record from the collected bucket tables and the unit table.

    ``consistent`` holds one row per consistent unit with its first bucket (``BUCKET``);
    units seen under both variants (``inconsistent_ids``) are left out of the primary metric.
    """
    first_seen = first_seen_units(consistent)
    control, treatment = variant_buckets(bucket_table, first_seen, buckets.count, has_errors, p99)
    primary = None
    if unit_bucket_table is not None:
        table = unit_bucket_table.join(inconsistent_ids, on=unit, how="anti")
        primary = unit_buckets(table, unit)
    return Timeline(buckets.width, buckets.starts(), control, treatment, primary)
