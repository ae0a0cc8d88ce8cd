"""Aggregate a shadow log: one lazy Polars pass for counts, rates and quantiles.

Only aggregates and the two sorted prediction columns (for the exact KS statistic) leave
Polars; everything else is reduced where it lies.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.aggregates.shadow import SegmentCounts, ShadowData, ShadowRequest
from abtool.commands.shadow import ShadowColumns
from abtool.engines.polars.schema import Kind, error_flag, is_text, missing_value, optional, require
from abtool.engines.polars.shadow_segments import (
    code_exprs,
    label_queries,
    segment_query,
    segment_tables,
    whole_label_counts,
    with_ks_distances,
    with_label_distances,
)
from abtool.engines.polars.shadow_timeline import (
    bucket_key,
    latency_p99,
    timeline_from,
    timeout_flag,
)
from abtool.engines.polars.source import (
    LogSource,
    collect_each,
    owned_column,
    owned_columns,
    time_filter,
)
from abtool.errors import InputError
from abtool.stats.descriptive import quantiles_ignoring_nan

LATENCY_QUANTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}


def default_segments(schema: dict[str, pl.DataType], columns: ShadowColumns) -> list[str]:
    """Every string/categorical column that is not an id or one of the known columns."""
    known = {
        columns.time,
        columns.primary,
        columns.shadow,
        columns.shadow_error,
        *columns.id_columns,
    }
    return [
        name
        for name, dtype in schema.items()
        if is_text(dtype) and name not in known and not _looks_like_id(name)
    ]


def _looks_like_id(name: str) -> bool:
    lowered = name.lower()
    return lowered == "id" or lowered.endswith(("_id", "_uuid", "_key"))


def aggregate_shadow(
    source: LogSource,
    columns: ShadowColumns,
    request: ShadowRequest,
    progress: Callable[[str], None] | None = None,
) -> ShadowData:
    """Validate the schema, then reduce the log to the shadow report's aggregates.

    Raises:
        InputError: a required column is missing or mistyped, the log (after --since/--until)
            is empty, no row has both predictions, or a timeout rule does not fit the error
            column.
    """
    schema, name = source.schema, source.name
    threshold = request.threshold
    time_dtype = require(schema, name, columns.time, Kind.TIME, "--time-col")
    primary_dtype = require(schema, name, columns.primary, Kind.LABEL, "--primary-col")
    shadow_dtype = require(schema, name, columns.shadow, Kind.LABEL, "--shadow-col")
    mode = "score" if primary_dtype.is_float() and shadow_dtype.is_float() else "label"
    if mode == "label" and primary_dtype.is_float() != shadow_dtype.is_float():
        raise InputError(
            f"{name}: column '{columns.primary}' is {primary_dtype} but '{columns.shadow}' is "
            f"{shadow_dtype}; both must be scores (float) or both class labels"
        )
    latency_dtypes = {
        role: optional(schema, name, col, Kind.NUMBER)
        for role, col in (("primary", columns.primary_latency), ("shadow", columns.shadow_latency))
    }
    error_dtype = optional(schema, name, columns.shadow_error, Kind.BOOL_OR_TEXT)
    segments = (
        list(request.segments)
        if request.segments is not None
        else default_segments(schema, columns)
    )
    for segment in segments:
        require(schema, name, segment, Kind.ANY, "--segment")

    needed = [columns.time, columns.primary, columns.shadow, *segments]
    latency_cols = {
        role: col
        for role, col in (("primary", columns.primary_latency), ("shadow", columns.shadow_latency))
        if latency_dtypes[role] is not None
    }
    needed += list(latency_cols.values())
    if error_dtype is not None:
        needed.append(columns.shadow_error)
    timed_out = timeout_flag(
        columns.shadow_error if error_dtype is not None else None,
        error_dtype,
        latency_cols.get("shadow"),
        request.timeout_ms,
        request.timeout_errors,
        name,
    )

    frame = source.scan(needed)
    window = time_filter(columns.time, time_dtype, request.since, request.until)
    if window is not None:
        frame = frame.filter(window)

    p_missing = missing_value(columns.primary, primary_dtype)
    s_missing = missing_value(columns.shadow, shadow_dtype)
    t_missing = pl.col(columns.time).is_null()
    valid = ~(p_missing | s_missing | t_missing)
    p, s = pl.col(columns.primary), pl.col(columns.shadow)
    if mode == "score":
        disagreement = (p - s).abs()
        agree = (p >= threshold) == (s >= threshold)
    else:
        disagreement = (p.cast(pl.String) != s.cast(pl.String)).cast(pl.Float64)
        agree = p.cast(pl.String) == s.cast(pl.String)

    when_valid = pl.when(valid)
    aggregations = [
        pl.len().alias("rows"),
        valid.sum().alias("valid_rows"),
        t_missing.sum().alias("excl_time"),
        (p_missing & ~t_missing).sum().alias("excl_primary"),
        (s_missing & ~p_missing & ~t_missing).sum().alias("excl_shadow"),
        when_valid.then(pl.col(columns.time)).min().alias("time_min"),
        when_valid.then(pl.col(columns.time)).max().alias("time_max"),
        when_valid.then(agree).sum().alias("agree_sum"),
        when_valid.then(disagreement).sum().alias("disagreement_sum"),
        (~s_missing).sum().alias("shadow_scored"),
    ]
    if error_dtype is not None:
        aggregations.append(error_flag(columns.shadow_error, error_dtype).sum().alias("errors"))
    if timed_out is not None:
        aggregations.append(timed_out.sum().alias("timeouts"))
    if mode == "score" and request.expected_range is not None:
        low, high = request.expected_range
        aggregations.append(((s < low) | (s > high)).and_(~s_missing).sum().alias("outside"))
    aggregations += [latency_p99(col).alias(f"p99_{role}") for role, col in latency_cols.items()]

    # Pass 1 (streaming): counts, rates and quantiles per time bucket; the whole log's
    # figures are sums over the buckets.
    if progress:
        progress(f"Scanning {len(source.files)} file(s)")
    bucket = bucket_key(columns.time, time_dtype, request.bucket)
    (groups,) = collect_each([frame.group_by(bucket).agg(aggregations)], name)
    summary = _totals(groups)
    rows = int(summary["rows"])
    if rows == 0:
        window_text = " in the --since/--until window" if window is not None else ""
        raise InputError(f"{name}: log has no rows{window_text}")
    valid_rows = int(summary["valid_rows"])
    if valid_rows == 0:
        raise InputError(
            f"{name}: no row has both '{columns.primary}' and '{columns.shadow}' "
            f"(all {rows} rows are null or NaN in one of them)"
        )
    excluded = {
        f"null {columns.time}": int(summary["excl_time"]),
        f"null or NaN {columns.primary}": int(summary["excl_primary"]),
        f"null or NaN {columns.shadow}": int(summary["excl_shadow"]),
    }
    excluded = {reason: n for reason, n in excluded.items() if n}
    timeline = timeline_from(
        groups, request.bucket, list(latency_cols), error_dtype is not None, timed_out is not None
    )

    # Pass 2 (streaming): all segment columns in one grouped pass.
    tables: dict[str, SegmentCounts] = {}
    label_tables: tuple[pl.DataFrame, pl.DataFrame] | None = None
    if segments:
        (segment_groups,) = collect_each(
            [segment_query(frame, valid, segments, agree, disagreement)], name
        )
        tables = segment_tables(segment_groups, segments, request.min_segment_rows)
    if mode == "label":
        # Label counts per segment combination give the whole log's counts too.
        first, second = collect_each(label_queries(frame, valid, segments, (p, s)), name)
        label_tables = (first, second)
        tables = with_label_distances(tables, label_tables)

    empty = np.empty(0, dtype=np.float64)
    primary_sorted, shadow_sorted = empty, empty
    label_counts: dict[str, tuple[list[str], list[int], list[int]]] = {}

    # Pass 3: whole float columns, read raw, one at a time. Nulls arrive as NaN and numpy
    # handles them: a Polars filter on validity costs several times the read itself.
    if progress and (latency_cols or mode == "score"):
        progress("Reading latency and prediction columns")
    with ThreadPoolExecutor(max_workers=1) as worker:
        latency = _latency_quantiles(frame, latency_cols, worker, name, rows)
        if mode == "score":
            time_missing = None
            if summary["excl_time"]:
                time_missing = owned_column(frame, t_missing, name, rows)
            primary_sorted, shadow_sorted, tables = _sorted_valid_pair(
                frame, p, s, time_missing, worker, name, rows, tables
            )
    if label_tables is not None:
        label_counts["labels"] = whole_label_counts(label_tables)

    return ShadowData(
        mode=mode,
        rows=rows,
        valid_rows=valid_rows,
        excluded=excluded,
        time_min=summary["time_min"],
        time_max=summary["time_max"],
        agreements=int(summary["agree_sum"]),
        mean_abs_disagreement=float(summary["disagreement_sum"]) / valid_rows,
        shadow_errors=int(summary["errors"]) if error_dtype is not None else None,
        latency=latency,
        segments=tables,
        primary_sorted=primary_sorted,
        shadow_sorted=shadow_sorted,
        label_counts=label_counts,
        timeouts=int(summary["timeouts"]) if timed_out is not None else None,
        shadow_scored=int(summary["shadow_scored"]),
        outside_range=int(summary["outside"]) if "outside" in summary else None,
        timeline=timeline,
    )


def _totals(groups: pl.DataFrame) -> dict[str, Any]:
    """The whole log's figures from the per-bucket ones: sums, and the extreme times."""
    sums = [
        pl.col(c).sum()
        for c in groups.columns
        if c not in ("bucket", "time_min", "time_max") and not c.startswith("p99_")
    ]
    # Summed in bucket order, so the float sums are the same on every run.
    totals = (
        groups.sort("bucket", nulls_last=True)
        .select(*sums, pl.col("time_min").min(), pl.col("time_max").max())
        .row(0, named=True)
    )
    return {
        k: (0 if v is None and k not in ("time_min", "time_max") else v) for k, v in totals.items()
    }


def _latency_quantiles(
    frame: pl.LazyFrame,
    latency_cols: dict[str, str],
    worker: ThreadPoolExecutor,
    name: str,
    rows: int,
) -> dict[str, dict[str, float]]:
    """Exact quantiles of each latency column; numpy works on one while the next is read.

    The worker finishes a column before the next is handed over, so at most two columns are
    alive: the one being sorted and the one being read.
    """
    pending: dict[str, Future[dict[str, float]]] = {}
    previous: Future[dict[str, float]] | None = None
    for role, col in latency_cols.items():
        values = owned_column(frame, pl.col(col).cast(pl.Float64), name, rows)
        if previous is not None:
            previous.result()
        previous = pending[role] = worker.submit(quantiles_ignoring_nan, values, LATENCY_QUANTILES)
    return {role: future.result() for role, future in pending.items()}


def _sorted_valid_pair(
    frame: pl.LazyFrame,
    primary: pl.Expr,
    shadow: pl.Expr,
    time_missing: NDArray[Any] | None,
    worker: ThreadPoolExecutor,
    name: str,
    rows: int,
    tables: dict[str, SegmentCounts],
) -> tuple[NDArray[np.float64], NDArray[np.float64], dict[str, SegmentCounts]]:
    """Both prediction columns of the rows where both (and the time) are present, sorted,
    and the segment tables with each listed value's KS D.

    A row missing on either side is set to NaN on both, so after an in-place sort the valid
    rows are the leading ``n`` of each array: no filtered copies, two columns at the peak
    (plus, while the segments' KS D is computed, their small integer codes).
    """
    first = owned_column(frame, primary.cast(pl.Float64), name, rows)
    second = owned_column(frame, shadow.cast(pl.Float64), name, rows)
    invalid = np.isnan(first)
    invalid |= np.isnan(second)
    if time_missing is not None:
        invalid |= time_missing
    first[invalid] = np.nan
    second[invalid] = np.nan
    valid = len(first) - int(np.count_nonzero(invalid))
    del invalid
    codes = code_exprs(tables)
    if codes:
        code_arrays = owned_columns(frame, [c.expr for c in codes], name, rows)
        tables = with_ks_distances(tables, codes, code_arrays, first, second)
        del code_arrays
    # numpy releases the GIL while sorting: the two sorts run side by side.
    sorting = worker.submit(first.sort)
    second.sort()
    sorting.result()
    return first[:valid], second[:valid], tables
