"""The shadow report's numeric columns, read whole into numpy: latencies and predictions.

Columns are read raw, one at a time; nulls arrive as NaN and numpy handles them (a Polars
filter on validity costs several times the read itself). What is computed per time bucket or
per segment value is computed here from the same arrays, split by small integer codes read
beside them, before each array is sorted in place: no other pass over the log.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.aggregates.shadow import SegmentCounts
from abtool.engines.polars.hygiene import blank_non_finite, blank_unusable_latency
from abtool.engines.polars.shadow_segments import code_exprs
from abtool.engines.polars.shadow_timeline import BucketCodes
from abtool.engines.polars.source import owned_column, owned_columns
from abtool.stats.descriptive import quantiles_ignoring_nan
from abtool.stats.grouped import grouped_ks_statistic, grouped_quantile

LATENCY_QUANTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}

Quantiles = tuple[dict[str, float], NDArray[np.float64] | None]


def latency_quantiles(
    frame: pl.LazyFrame,
    latency_cols: dict[str, str],
    buckets: BucketCodes | None,
    worker: ThreadPoolExecutor,
    name: str,
    rows: int,
) -> tuple[dict[str, dict[str, float]], dict[str, NDArray[np.float64]]]:
    """Exact quantiles of each latency column, and its p99 in each time bucket.

    numpy works on one column while the next is read: the worker finishes a column before the
    next is handed over, so at most two columns are alive (each with its bucket codes). The
    codes are read in the same query as the column they split: two queries need not give the
    rows in the same order (a log with duplicate copies dropped does not).
    """
    pending: dict[str, Future[Quantiles]] = {}
    previous: Future[Quantiles] | None = None
    for role, col in latency_cols.items():
        values = pl.col(col).cast(pl.Float64)
        codes: NDArray[Any] | None = None
        if buckets is not None:
            values_array, offsets = owned_columns(frame, [values, buckets.expr], name, rows)
            codes = buckets.codes(offsets)
            del offsets
        else:
            values_array = owned_column(frame, values, name, rows)
        blank_unusable_latency(values_array)
        if previous is not None:
            previous.result()
        count = buckets.count if buckets is not None else 0
        previous = pending[role] = worker.submit(_quantiles, values_array, codes, count)
    found = {role: future.result() for role, future in pending.items()}
    overall = {role: q for role, (q, _) in found.items()}
    per_bucket = {role: p99 for role, (_, p99) in found.items() if p99 is not None}
    return overall, per_bucket


def _quantiles(values: NDArray[np.float64], codes: NDArray[Any] | None, buckets: int) -> Quantiles:
    # Per bucket first: the whole-column quantiles sort the array in place.
    p99 = grouped_quantile(values, codes, buckets, 0.99) if codes is not None else None
    return quantiles_ignoring_nan(values, LATENCY_QUANTILES), p99


def sorted_valid_pair(
    frame: pl.LazyFrame,
    primary: pl.Expr,
    shadow: pl.Expr,
    time_missing: pl.Expr | None,
    worker: ThreadPoolExecutor,
    name: str,
    rows: int,
    tables: dict[str, SegmentCounts],
    max_rows: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], dict[str, SegmentCounts]]:
    """Both prediction columns of the rows where both (and the time) are present, sorted,
    and the segment tables with each listed value's KS D (on at most ``max_rows`` rows).

    Both columns, the missing-time flag and every segment column's codes come from one query:
    two queries need not give the rows in the same order (a log with duplicate copies
    dropped does not), and the rows of one are aligned. A row missing on either side is set
    to NaN on both, so after an in-place sort the valid rows are the leading ``n`` of each
    array: no filtered copies, two columns at the peak (plus one byte or two a row of codes
    per segment column, and at most ``max_rows`` of one value's rows at a time).
    """
    specs = code_exprs(tables)
    wanted = [primary.cast(pl.Float64), shadow.cast(pl.Float64)]
    if time_missing is not None:
        wanted.append(time_missing)
    arrays = owned_columns(frame, wanted + [spec.expr for spec in specs], name, rows)
    first, second = arrays[0], arrays[1]
    no_time = arrays[2] if time_missing is not None else None
    code_arrays = arrays[len(wanted) :]
    del arrays
    blank_non_finite(first)
    blank_non_finite(second)
    invalid = np.isnan(first)
    invalid |= np.isnan(second)
    if no_time is not None:
        invalid |= no_time.astype(bool)
        del no_time
    first[invalid] = np.nan
    second[invalid] = np.nan
    valid = len(first) - int(np.count_nonzero(invalid))
    del invalid
    if specs:
        tables = dict(tables)
        for spec, row_codes in zip(specs, code_arrays, strict=True):
            distances, used = grouped_ks_statistic(first, second, row_codes, spec.values, max_rows)
            tables[spec.column] = replace(
                tables[spec.column], distances=distances, distance_rows=used
            )
    del code_arrays
    # numpy releases the GIL while sorting: the two sorts run side by side.
    sorting = worker.submit(first.sort)
    second.sort()
    sorting.result()
    return first[:valid], second[:valid], tables
