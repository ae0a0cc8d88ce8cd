"""Per-time-bucket aggregates of a shadow log: the expressions of the first grouped pass.

The shadow report's first pass groups the log by time bucket. Every whole-log count is a sum
over the buckets, so the timeline costs the pass a group key and two quantiles, not a scan.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.aggregates.shadow import ShadowTimeline
from abtool.errors import InputError

BUCKET = "bucket"


def bucket_key(time_col: str, dtype: pl.DataType, bucket: str) -> pl.Expr:
    """The start of each row's bucket (null where the time is null); ``bucket`` as ``1h``."""
    col = pl.col(time_col)
    if isinstance(dtype, pl.Date):
        col = col.cast(pl.Datetime("us"))
    return col.dt.truncate(bucket).alias(BUCKET)


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


def latency_p99(column: str) -> pl.Expr:
    """The p99 (linear interpolation, as numpy) of a latency column, NaN ignored."""
    return pl.col(column).cast(pl.Float64).fill_nan(None).quantile(0.99, "linear")


def timeline_from(
    groups: pl.DataFrame, bucket: str, latency_roles: list[str], errors: bool, timeouts: bool
) -> ShadowTimeline | None:
    """The timeline from the grouped first pass (one row per bucket, null bucket included).

    Expects the columns ``bucket``, ``rows``, and where present ``errors``, ``timeouts`` and
    ``p99_<role>``.
    """
    timed = groups.filter(pl.col(BUCKET).is_not_null()).sort(BUCKET)
    if timed.height == 0:
        return None
    starts: list[datetime] = timed.get_column(BUCKET).to_list()

    def counts(name: str) -> NDArray[np.int64]:
        return timed.get_column(name).cast(pl.Int64).to_numpy().copy()

    return ShadowTimeline(
        bucket=bucket,
        starts=starts,
        requests=counts("rows"),
        errors=counts("errors") if errors else None,
        timeouts=counts("timeouts") if timeouts else None,
        latency_p99={
            role: timed.get_column(f"p99_{role}").cast(pl.Float64).fill_null(np.nan).to_numpy()
            for role in latency_roles
        },
    )
