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
from abtool.engines.polars.duplicates import drop_duplicate_requests
from abtool.engines.polars.hygiene import (
    Reason,
    first_reason,
    infinite,
    latency_reasons,
    named_counts,
    prepared,
    read_notes,
)
from abtool.engines.polars.resident import resident
from abtool.engines.polars.schema import (
    error_flag,
    missing_value,
)
from abtool.engines.polars.shadow_columns import THREADS, latency_quantiles, sorted_valid_pair
from abtool.engines.polars.shadow_schema import require_compared_rows, shadow_schema
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
    time_filter,
)
from abtool.times import NO_BUCKETS


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
    source = prepared(source, time=columns.time, time_unit=request.time_unit, ids=[columns.request])
    name = source.name
    layout = shadow_schema(source.schema, name, source.partition_keys, columns, request)
    threshold = request.threshold
    mode, time_dtype, error_dtype = layout.mode, layout.time, layout.error
    primary_dtype, shadow_dtype = layout.primary, layout.shadow
    latency_cols, latency_dtypes = layout.latency_cols, layout.latency
    segments, request_col, needed = layout.segments, layout.request, layout.needed
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
    scanned = frame
    frame = resident(frame, source)  # every pass below reads the columns once
    # Held in memory (within the budget), the segment KS takes two values at a time; a
    # scanned log, larger, one (its peak unchanged).
    held = frame is not scanned
    threads = THREADS if held else 1
    del scanned
    frame, duplicates = drop_duplicate_requests(frame, request_col, name)

    p_missing = missing_value(columns.primary, primary_dtype)
    s_missing = missing_value(columns.shadow, shadow_dtype)
    t_missing = pl.col(columns.time).is_null()
    reasons = [
        (f"null {columns.time}", t_missing),
        (f"null or NaN {columns.primary}", p_missing),
        (f"null or NaN {columns.shadow}", s_missing),
        (f"infinite {columns.primary}", infinite(columns.primary, primary_dtype)),
        (f"infinite {columns.shadow}", infinite(columns.shadow, shadow_dtype)),
    ]
    invalid, _ = first_reason(reasons, "excl_")
    valid = ~invalid
    latency_checks = {
        role: latency_reasons(col, latency_dtypes[role]) for role, col in latency_cols.items()
    }
    # Pass 1 reads each reason's flag and the validity several times: as columns they are
    # computed once a row (inline, Polars evaluated them again for every aggregate: 2x).
    flags, flagged = _as_columns(reasons, "excl_")
    latency_flags = {role: _as_columns(r, f"{role}_") for role, r in latency_checks.items()}
    for role_flags, _ in latency_flags.values():
        flags.extend(role_flags)
    flagged_invalid, reason_counts = first_reason(flagged, "excl_")
    flagged_valid = pl.col(_FLAG + "valid")
    p, s = pl.col(columns.primary), pl.col(columns.shadow)
    if mode == "score":
        disagreement = (p - s).abs()
        agree = (p >= threshold) == (s >= threshold)
    else:
        disagreement = (p.cast(pl.String) != s.cast(pl.String)).cast(pl.Float64)
        agree = p.cast(pl.String) == s.cast(pl.String)

    when_valid = pl.when(flagged_valid)
    aggregations = [
        pl.len().alias("rows"),
        flagged_valid.sum().alias("valid_rows"),
        t_missing.sum().alias("excl_time"),
        *reason_counts,
        *[c for role, (_, r) in latency_flags.items() for c in first_reason(r, f"{role}_")[1]],
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
    with_flags = frame.with_columns(flags).with_columns((~flagged_invalid).alias(_FLAG + "valid"))
    (totals,) = collect_each([with_flags.select(aggregations)], name)
    summary = totals.row(0, named=True)
    rows, valid_rows = int(summary["rows"]), int(summary["valid_rows"])
    require_compared_rows(name, rows, valid_rows, columns, window is not None)
    excluded = named_counts(reasons, "excl_", summary)
    if duplicates is not None and duplicates.dropped:
        excluded[duplicates.excluded_reason] = duplicates.dropped
    latency_excluded = {
        role: named_counts(r, f"{role}_", summary) for role, r in latency_checks.items()
    }

    # Pass 2 (streaming): the log per time bucket. Errors and timeouts are counted only here;
    # the whole log's are the sums over the buckets (and the rows without a time). Without
    # buckets (``none``) the pass has one group.
    per_bucket = [pl.len().alias("rows")]
    if error_dtype is not None:
        per_bucket.append(error_flag(columns.shadow_error, error_dtype).sum().alias("errors"))
    if timed_out is not None:
        per_bucket.append(timed_out.sum().alias("timeouts"))
    timeline, buckets = None, None
    if request.bucket == NO_BUCKETS:
        (groups,) = collect_each([frame.select(per_bucket)], name)
    else:
        width = request.bucket_seconds
        index = bucket_index(columns.time, time_dtype, width)
        (groups,) = collect_each([frame.group_by(index).agg(per_bucket)], name)
        found = timeline_from(
            groups, request.bucket, width, error_dtype is not None, timed_out is not None
        )
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

    # Pass 4: whole float columns, read raw (the latencies together, then the predictions).
    # Nulls arrive as NaN and numpy handles them: a Polars filter on validity costs several
    # times the read itself.
    if progress and (latency_cols or mode == "score"):
        progress("Reading latency and prediction columns")
    # A scanned log's columns are read batch by batch into arrays of this many rows; a log
    # held in memory is copied out whole (faster, its columns being there already).
    expected_rows = rows if not held else None
    with ThreadPoolExecutor(max_workers=1) as worker:
        latency, p99 = latency_quantiles(frame, latency_cols, buckets, worker, name, expected_rows)
        if mode == "score":
            time_missing = t_missing if summary["excl_time"] else None
            primary_sorted, shadow_sorted, tables = sorted_valid_pair(
                frame,
                p,
                s,
                time_missing,
                worker,
                name,
                expected_rows,
                tables,
                request.segment_ks_rows,
                threads,
            )
    if timeline is not None:
        timeline = replace(timeline, latency_p99=p99)
    if label_tables is not None:
        label_counts["labels"] = whole_label_counts(label_tables)

    # A model whose every latency is unusable has no quantiles: the check is skipped.
    latency = {
        role: q for role, q in latency.items() if sum(latency_excluded[role].values()) < rows
    }
    dropped = duplicates.dropped if duplicates is not None else 0
    return ShadowData(
        mode=mode,
        rows=rows + dropped,
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
        read_notes=read_notes(
            source,
            excluded_values={
                k: n for counts in latency_excluded.values() for k, n in counts.items()
            },
            notes=[duplicates.note if duplicates is not None else None],
        ),
        dropped_copies=dropped,
    )


_FLAG = "\x00abtool:"  # prefix of the flag columns of pass 1 (no log column starts so)


def _as_columns(reasons: list[Reason], prefix: str) -> tuple[list[pl.Expr], list[Reason]]:
    """Each reason's flag as a named column, and the reasons reading those columns."""
    names = [f"{_FLAG}{prefix}{i}" for i in range(len(reasons))]
    columns = [expr.alias(n) for n, (_, expr) in zip(names, reasons, strict=True)]
    return columns, [(label, pl.col(n)) for n, (label, _) in zip(names, reasons, strict=True)]
