"""The shadow report's numeric columns, read whole into numpy: latencies and predictions.

Columns are read raw (the two latencies in one query, then the two predictions in another);
nulls arrive as NaN and numpy handles them (a Polars filter on validity costs several times
the read itself). What is computed per time bucket or per segment value is computed here from
the same arrays, split by small integer codes read beside them, before each array is sorted
in place: no other pass over the log.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.aggregates.shadow import SegmentCounts
from abtool.engines.polars.hygiene import blank_non_finite, blank_unusable_latency
from abtool.engines.polars.shadow_segments import code_exprs
from abtool.engines.polars.shadow_timeline import BucketCodes
from abtool.engines.polars.source import owned_columns
from abtool.stats.descriptive import quantiles_by_partition, quantiles_ignoring_nan
from abtool.stats.grouped import (
    codes_in_order,
    grouped_ks_statistic,
    grouped_quantile_in_place,
)

THREADS = min(2, os.cpu_count() or 1)
"""Threads working on segment values side by side (each holds one value's rows), for a log
held in memory; a scanned (larger) log takes one value at a time, its peak as before."""

_BLANK_ROWS = 1_000_000

LATENCY_QUANTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}

Quantiles = tuple[dict[str, float], NDArray[np.float64] | None]


def latency_quantiles(
    frame: pl.LazyFrame,
    latency_cols: dict[str, str],
    buckets: BucketCodes | None,
    worker: ThreadPoolExecutor,
    name: str,
    rows: int | None,
) -> tuple[dict[str, dict[str, float]], dict[str, NDArray[np.float64]]]:
    """Exact quantiles of each latency column, and its p99 in each time bucket.

    The latency columns and the bucket codes come from one query: two queries need not give
    the rows in the same order (a log with duplicate copies dropped does not), and the codes
    are computed once for both columns. Then numpy works on each column on its own thread
    (``worker`` takes all but the last; it releases the GIL while it sorts).
    """
    if not latency_cols:
        return {}, {}
    wanted = [pl.col(col).cast(pl.Float64) for col in latency_cols.values()]
    codes: NDArray[Any] | None = None
    if buckets is not None:
        *arrays, offsets = owned_columns(frame, [*wanted, buckets.expr], name, rows)
        codes = buckets.codes(offsets)
        del offsets
    else:
        arrays = owned_columns(frame, wanted, name, rows)
    count = buckets.count if buckets is not None else 0
    *others, last = arrays
    del arrays
    pending = [worker.submit(_quantiles, values, codes, count) for values in others]
    del others
    mine = _quantiles(last, codes, count)
    found = [*(future.result() for future in pending), mine]
    overall = {role: q for role, (q, _) in zip(latency_cols, found, strict=True)}
    per_bucket = {
        role: p99 for role, (_, p99) in zip(latency_cols, found, strict=True) if p99 is not None
    }
    return overall, per_bucket


def _quantiles(values: NDArray[np.float64], codes: NDArray[Any] | None, buckets: int) -> Quantiles:
    # In slices: its boolean temporaries stay small while the other column's thread works.
    for start in range(0, len(values), _BLANK_ROWS):
        blank_unusable_latency(values[start : start + _BLANK_ROWS])
    # Per bucket first (each bucket's values sorted in place when the log is in time order),
    # then the whole column's: by a partition on values sorted bucket by bucket (about half
    # a full sort there), else by numpy's sort (faster than a partition on shuffled values).
    if codes is None:
        return quantiles_ignoring_nan(values, LATENCY_QUANTILES), None
    p99 = grouped_quantile_in_place(values, codes, buckets, 0.99)
    if codes_in_order(codes):
        return quantiles_by_partition(values, LATENCY_QUANTILES), p99
    return quantiles_ignoring_nan(values, LATENCY_QUANTILES), p99


def sorted_valid_pair(
    frame: pl.LazyFrame,
    primary: pl.Expr,
    shadow: pl.Expr,
    time_missing: pl.Expr | None,
    worker: ThreadPoolExecutor,
    name: str,
    rows: int | None,
    tables: dict[str, SegmentCounts],
    max_rows: int,
    threads: int = 1,
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
            distances, used = grouped_ks_statistic(
                first, second, row_codes, spec.values, max_rows, workers=threads
            )
            tables[spec.column] = replace(
                tables[spec.column], distances=distances, distance_rows=used
            )
    del code_arrays
    # numpy releases the GIL while sorting: the two sorts run side by side.
    sorting = worker.submit(first.sort)
    second.sort()
    sorting.result()
    return first[:valid], second[:valid], tables
