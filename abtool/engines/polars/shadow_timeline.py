"""Per-time-bucket aggregates of a shadow log.

Buckets are whole multiples of their width since the Unix epoch, in UTC (an hourly bucket
starts on the hour, a daily one at 00:00 UTC), so a bucket is the integer
``epoch_microseconds // width``: a group key any engine computes alike.

One pass grouped by bucket reads only the time and the error (and, for timeouts, the latency)
columns; the whole log's errors and timeouts are the sums over its buckets, so they are
counted once. The p99 latency per bucket is computed from the latency columns the report
reads into numpy anyway, split by bucket codes (:func:`bucket_codes`): a quantile inside a
streaming group-by holds every value of every group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.aggregates.shadow import ShadowTimeline
from abtool.errors import InputError, UsageError

BUCKET = "bucket"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_BUCKETS = 10_000  # buckets with rows; past that the timeline is a list nobody reads


def bucket_index(time_col: str, dtype: pl.DataType, width_seconds: int) -> pl.Expr:
    """Each row's bucket as an integer (null where the time is null)."""
    col = pl.col(time_col)
    if isinstance(dtype, pl.Date):
        col = col.cast(pl.Datetime("us"))
    return (col.dt.epoch("us") // (width_seconds * 1_000_000)).alias(BUCKET)


def timeout_flag(
    error_col: str | None,
    error_dtype: pl.DataType | None,
    latency_col: str | None,
    timeout_ms: float | None,
    timeout_errors: tuple[str, ...],
    log_name: str,
) -> pl.Expr | None:
    """True where a shadow call timed out: slower than ``timeout_ms``, or an error value
    listed in ``timeout_errors``. None when neither rule can be applied.

    Raises:
        InputError: error values are named but the error column is absent or boolean (a
            flag cannot say which errors were timeouts), or integer codes are not integers.
    """
    parts: list[pl.Expr] = []
    if timeout_ms is not None and latency_col is not None:
        parts.append(pl.col(latency_col).cast(pl.Float64).fill_nan(None).gt(timeout_ms))
    if timeout_errors:
        if error_col is None or error_dtype is None:
            raise InputError(
                f"{log_name}: --timeout-error needs an error column (set it with --error-col)"
            )
        col = pl.col(error_col)
        if error_dtype == pl.Boolean:
            raise InputError(
                f"{log_name}: column '{error_col}' is Boolean, so it cannot tell timeouts "
                "from other errors (--timeout-error needs error codes or messages)"
            )
        if error_dtype.is_integer():
            try:
                codes = [int(v) for v in timeout_errors]
            except ValueError:
                raise InputError(
                    f"{log_name}: column '{error_col}' holds integer codes, but --timeout-error "
                    f"got {', '.join(repr(v) for v in timeout_errors)}"
                ) from None
            parts.append(col.is_in(codes))
        else:
            wanted = sorted({v.strip().lower() for v in timeout_errors})
            parts.append(col.cast(pl.String).str.strip_chars().str.to_lowercase().is_in(wanted))
    if not parts:
        return None
    flag = parts[0]
    for part in parts[1:]:
        flag = flag | part
    return flag.fill_null(False)


@dataclass(frozen=True)
class BucketCodes:
    """How each row's time bucket is read as a small integer: ``expr`` gives the bucket's
    offset from the first (a row without a time: ``span``); ``positions[offset]`` is its
    place in the timeline (``count`` where the bucket is not listed). When every bucket from
    the first to the last holds rows, the offset is the place and ``positions`` is None."""

    expr: pl.Expr
    positions: NDArray[Any] | None
    count: int

    def codes(self, offsets: NDArray[Any]) -> NDArray[Any]:
        """The timeline position of each row (``count``: no bucket)."""
        if self.positions is None:
            return offsets
        codes: NDArray[Any] = self.positions[offsets]
        return codes


def bucket_codes(index: pl.Expr, first: int, indices: list[int]) -> BucketCodes | None:
    """Codes of each row's bucket relative to the first one (None past 2**32 buckets)."""
    span = indices[-1] - first + 1
    if span >= 2**32 - 1:
        return None
    count = len(indices)
    if span == count:  # no empty bucket in between: two bytes a row, no mapping
        dtype = pl.UInt16 if span < 65_535 else pl.UInt32
        expr = (index - first).cast(dtype).fill_null(pl.lit(span, dtype=dtype))
        return BucketCodes(expr, None, count)
    positions = np.full(span + 1, count, dtype=np.uint16 if count < 65_535 else np.uint32)
    positions[np.asarray(indices, dtype=np.int64) - first] = np.arange(count)
    expr = (index - first).cast(pl.UInt32).fill_null(span)
    return BucketCodes(expr, positions, count)


def timeline_from(
    groups: pl.DataFrame, bucket: str, width_seconds: int, errors: bool, timeouts: bool
) -> tuple[ShadowTimeline, list[int]] | None:
    """The timeline from the pass grouped by bucket (one row per bucket; the null bucket, rows
    without a time, is left out), and each listed bucket's index.

    Expects the columns ``bucket``, ``rows``, and where present ``errors`` and ``timeouts``;
    the per-bucket p99 latencies are filled in later, from the latency columns.

    Raises:
        UsageError: more than ``MAX_BUCKETS`` buckets hold rows.
    """
    timed = groups.filter(pl.col(BUCKET).is_not_null()).sort(BUCKET)
    if timed.height == 0:
        return None
    indices = [int(i) for i in timed.get_column(BUCKET).to_list()]
    if len(indices) > MAX_BUCKETS:
        raise UsageError(
            f"--bucket {bucket} cuts the log into {len(indices):,} buckets "
            f"(at most {MAX_BUCKETS:,}); use a wider --bucket, a shorter "
            "--since/--until window, or --bucket none"
        )
    # In UTC whatever the column's zone (a naive time is UTC), as canary-decide's buckets.
    starts = [EPOCH + timedelta(seconds=i * width_seconds) for i in indices]

    def counts(name: str) -> NDArray[np.int64]:
        return timed.get_column(name).cast(pl.Int64).to_numpy().copy()

    timeline = ShadowTimeline(
        bucket=bucket,
        starts=starts,
        requests=counts("rows"),
        errors=counts("errors") if errors else None,
        timeouts=counts("timeouts") if timeouts else None,
        latency_p99={},
    )
    return timeline, indices
