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
from abtool.engines.polars.canary_variants import ROLES, TREATED
from abtool.engines.polars.hygiene import unusable_number
from abtool.errors import UsageError
from abtool.stats.descriptive import quantile_sorted

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


def unit_bucket_table(
    frame: pl.LazyFrame, unit: str, metric: str, dtype: pl.DataType
) -> pl.LazyFrame:
    """The primary metric's sums per (unit, bucket) where the unit has a value."""
    valid = ~unusable_number(metric, dtype)  # as the unit table's sums: finite values only
    return (
        frame.filter(valid & pl.col(BUCKET).is_not_null())
        .group_by(unit, BUCKET)
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


def group_key(treated: str, bucket: str | None, count: int) -> pl.Expr:
    """The group of each row for :func:`role_latency_quantiles`, a 16-bit integer: role, then
    bucket (``count`` for a row without one); ``bucket`` None: one group per role."""
    groups = count + 1 if bucket is not None else 1
    key = pl.col(treated).cast(pl.Int16) * groups
    if bucket is not None:
        index = pl.col(bucket)
        inside = index.is_not_null() & (index >= 0)
        key = key + pl.when(inside).then(index).otherwise(count).cast(pl.Int16)
    return key.cast(pl.Int16)


def role_latency_quantiles(
    columns: list[NDArray[Any]], count: int | None
) -> tuple[dict[str, dict[str, float]], dict[str, list[float | None]] | None]:
    """p50 and p99 latency of each role and, with ``count`` buckets, each role's p99 per
    bucket (None where a bucket has no latency).

    ``columns`` are the latency (NaN where unusable) and its :func:`group_key`; the list is
    emptied, so each array is freed as soon as it has been used. Rows are ordered by group
    (each role's rows contiguous) with numpy's radix sort of the 16-bit key and gathered once;
    each group is sorted in place (its p99), then each role's run of sorted groups is merged
    by a stable sort (timsort merges sorted runs) for its p50 and p99. The quantiles are
    :func:`~abtool.stats.descriptive.quantile_sorted` of the sorted values, equal to
    ``numpy.quantile`` bit for bit. Memory: at most the latency, the key, the order and the
    gathered copy (26 bytes a row).
    """
    latency, key = columns
    columns.clear()
    groups = count + 1 if count is not None else 1  # per role: the buckets and "no bucket"
    key[np.isnan(latency)] = 2 * groups  # unusable latencies sort last and are left out
    order = np.argsort(key, kind="stable")  # radix sort for 16-bit keys: linear
    bounds = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=2 * groups + 1))])
    del key
    grouped = latency[order]
    del order, latency
    by_bucket: dict[str, list[float | None]] = {"control": [], "treatment": []}
    overall: dict[str, dict[str, float]] = {}
    for r, role in enumerate(ROLES):
        for g in range(r * groups, (r + 1) * groups):
            part = grouped[bounds[g] : bounds[g + 1]]
            part.sort()
            if count is not None and g - r * groups < count:
                by_bucket[role].append(quantile_sorted(part, 0.99) if len(part) else None)
        values = grouped[bounds[r * groups] : bounds[(r + 1) * groups]]
        values.sort(kind="stable")
        overall[role] = {"p50": quantile_sorted(values, 0.50), "p99": quantile_sorted(values, 0.99)}
    return overall, by_bucket if count is not None else None


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
    first_seen = (
        consistent.filter(pl.col(BUCKET).is_not_null())
        .group_by(BUCKET, TREATED)
        .agg(pl.len().alias("units"))
    )
    control, treatment = variant_buckets(bucket_table, first_seen, buckets.count, has_errors, p99)
    primary = None
    if unit_bucket_table is not None:
        table = unit_bucket_table.join(inconsistent_ids, on=unit, how="anti")
        primary = unit_buckets(table, unit)
    return Timeline(buckets.width, buckets.starts(), control, treatment, primary)
