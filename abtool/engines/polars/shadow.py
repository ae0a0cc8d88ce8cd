"""Aggregate a shadow log: lazy Polars passes for counts, rates and quantiles.

Only aggregates and the two sorted prediction columns (for the exact KS statistic) leave
Polars; everything else is reduced where it lies.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import polars as pl

from abtool.aggregates.shadow import SegmentCounts, ShadowData, ShadowRequest
from abtool.commands.shadow import ShadowColumns
from abtool.engines.polars.schema import Kind, error_flag, is_text, missing_value, optional, require
from abtool.engines.polars.shadow_columns import latency_quantiles, sorted_valid_pair
from abtool.engines.polars.shadow_segments import (
    label_queries,
    segment_query,
    segment_tables,
    whole_label_counts,
    with_label_distances,
)
from abtool.engines.polars.shadow_timeline import (
    bucket_codes,
    bucket_index,
    timeline_from,
    timeout_flag,
)
from abtool.engines.polars.source import (
    LogSource,
    collect_each,
    owned_column,
    time_filter,
)
from abtool.errors import InputError


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
    if mode == "score" and request.expected_range is not None:
        low, high = request.expected_range
        aggregations.append(((s < low) | (s > high)).and_(~s_missing).sum().alias("outside"))

    # Pass 1 (streaming, memory flat in log size): counts and rates of the whole log.
    if progress:
        progress(f"Scanning {len(source.files)} file(s)")
    (totals,) = collect_each([frame.select(aggregations)], name)
    summary = totals.row(0, named=True)
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

    # Pass 2 (streaming): the log per time bucket. Errors and timeouts are counted only here;
    # the whole log's are the sums over the buckets (and the rows without a time).
    per_bucket = [pl.len().alias("rows")]
    if error_dtype is not None:
        per_bucket.append(error_flag(columns.shadow_error, error_dtype).sum().alias("errors"))
    if timed_out is not None:
        per_bucket.append(timed_out.sum().alias("timeouts"))
    width = request.bucket_seconds
    index = bucket_index(columns.time, time_dtype, width)
    (groups,) = collect_each([frame.group_by(index).agg(per_bucket)], name)
    aware = getattr(time_dtype, "time_zone", None) is not None
    found = timeline_from(
        groups, request.bucket, width, aware, error_dtype is not None, timed_out is not None
    )
    timeline, buckets = None, None
    if found is not None:
        timeline, indices = found
        buckets = bucket_codes(index, indices[0], indices)
    errors = int(groups.get_column("errors").sum()) if error_dtype is not None else None
    timeouts = int(groups.get_column("timeouts").sum()) if timed_out is not None else None

    # Pass 3 (streaming): all segment columns in one grouped pass.
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

    # Pass 4: whole float columns, read raw, one at a time. Nulls arrive as NaN and numpy
    # handles them: a Polars filter on validity costs several times the read itself.
    if progress and (latency_cols or mode == "score"):
        progress("Reading latency and prediction columns")
    with ThreadPoolExecutor(max_workers=1) as worker:
        latency, p99 = latency_quantiles(frame, latency_cols, buckets, worker, name, rows)
        if mode == "score":
            time_missing = None
            if summary["excl_time"]:
                time_missing = owned_column(frame, t_missing, name, rows)
            primary_sorted, shadow_sorted, tables = sorted_valid_pair(
                frame, p, s, time_missing, worker, name, rows, tables, request.segment_ks_rows
            )
    if timeline is not None:
        timeline = replace(timeline, latency_p99=p99)
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
        shadow_errors=errors,
        latency=latency,
        segments=tables,
        primary_sorted=primary_sorted,
        shadow_sorted=shadow_sorted,
        label_counts=label_counts,
        timeouts=timeouts,
        shadow_scored=int(summary["shadow_scored"]),
        outside_range=int(summary["outside"]) if "outside" in summary else None,
        timeline=timeline,
    )
