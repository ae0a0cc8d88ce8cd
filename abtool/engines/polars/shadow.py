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

from abtool.aggregates.shadow import ShadowData, ShadowRequest
from abtool.commands.shadow import ShadowColumns
from abtool.engines.polars.duplicates import drop_duplicate_requests
from abtool.engines.polars.hygiene import (
    blank_non_finite,
    blank_unusable_latency,
    first_reason,
    infinite,
    latency_reasons,
    named_counts,
    prepared,
    read_notes,
)
from abtool.engines.polars.schema import (
    Kind,
    error_flag,
    is_text,
    missing_value,
    optional,
    require,
    require_columns,
)
from abtool.engines.polars.source import LogSource, collect_each, owned_column, time_filter
from abtool.errors import InputError
from abtool.results.shadow import SegmentDisagreement
from abtool.stats.descriptive import quantiles_ignoring_nan

LATENCY_QUANTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}


def default_segments(schema: dict[str, pl.DataType], columns: ShadowColumns) -> list[str]:
    """Every string/categorical column that is not an id or one of the known columns."""
    known = {
        columns.time,
        columns.primary,
        columns.shadow,
        columns.shadow_error,
        columns.request,
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
            is empty, or no row has both predictions.
    """
    source = prepared(source, time=columns.time, time_unit=request.time_unit, ids=[columns.request])
    schema, name = source.schema, source.name
    require_columns(
        schema,
        name,
        {
            columns.time: "--time-col",
            columns.primary: "--primary-col",
            columns.shadow: "--shadow-col",
            **{segment: "--segment" for segment in request.segments or ()},
        },
    )
    threshold = request.threshold
    top, min_segment_rows = request.top, request.min_segment_rows
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
        else default_segments(
            {k: v for k, v in schema.items() if k not in source.partition_keys}, columns
        )
    )
    for segment in segments:
        require(schema, name, segment, Kind.SEGMENT, "--segment")

    needed = [columns.time, columns.primary, columns.shadow, *segments]
    latency_cols = {
        role: col
        for role, col in (("primary", columns.primary_latency), ("shadow", columns.shadow_latency))
        if latency_dtypes[role] is not None
    }
    needed += list(latency_cols.values())
    if error_dtype is not None:
        needed.append(columns.shadow_error)
    request_col = columns.request if columns.request in schema else None
    if request_col is not None:
        needed.append(request_col)

    frame = source.scan(needed)
    window = time_filter(columns.time, time_dtype, request.since, request.until)
    if window is not None:
        frame = frame.filter(window)
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
    invalid, reason_counts = first_reason(reasons, "excl_")
    valid = ~invalid
    latency_checks = {
        role: latency_reasons(col, latency_dtypes[role])  # type: ignore[arg-type]
        for role, col in latency_cols.items()
    }
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
        *reason_counts,
        *[c for role, r in latency_checks.items() for c in first_reason(r, f"{role}_")[1]],
        when_valid.then(pl.col(columns.time)).min().alias("time_min"),
        when_valid.then(pl.col(columns.time)).max().alias("time_max"),
        when_valid.then(agree).sum().alias("agree_sum"),
        when_valid.then(disagreement).sum().alias("disagreement_sum"),
    ]
    if error_dtype is not None:
        aggregations.append(error_flag(columns.shadow_error, error_dtype).sum().alias("errors"))

    # Pass 1 (streaming, memory flat in log size): counts, rates and segment sums.
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
            f"(all {rows} rows are null, NaN or infinite in one of them)"
        )
    excluded = named_counts(reasons, "excl_", summary)
    if duplicates is not None and duplicates.dropped:
        excluded[duplicates.excluded_reason] = duplicates.dropped
    latency_excluded = {
        role: named_counts(r, f"{role}_", summary) for role, r in latency_checks.items()
    }

    segment_rows: dict[str, list[SegmentDisagreement]] = {}
    left_out: dict[str, int] = {}
    # All segment columns in one grouped pass (far cheaper than one pass per column), then
    # each column's figures are sums over the groups; sums, not means, so they add up exactly.
    groups = pl.DataFrame()
    if segments:
        keys = [pl.col(c).cast(pl.String).alias(f"segment_{i}") for i, c in enumerate(segments)]
        (groups,) = collect_each(
            [
                frame.filter(valid)
                .group_by(keys)
                .agg(pl.len().alias("valid_rows"), disagreement.sum().alias("disagreement_sum"))
            ],
            name,
        )
    for i, segment in enumerate(segments):
        table = (
            groups.group_by(pl.col(f"segment_{i}").alias("value"))
            .agg(pl.col("valid_rows").sum().alias("rows"), pl.col("disagreement_sum").sum())
            .filter(pl.col("rows") > 0)
            .with_columns(
                (pl.col("disagreement_sum") / pl.col("rows")).alias("mean_abs_disagreement")
            )
        )
        big = table.filter(pl.col("rows") >= min_segment_rows)
        left_out[segment] = table.height - big.height
        # Ties broken by value, so equal segments are listed in the same order on every run.
        ranked = big.sort(
            ["mean_abs_disagreement", "rows", "value"],
            descending=[True, True, False],
            nulls_last=True,
        ).head(top)
        segment_rows[segment] = [
            SegmentDisagreement(r["value"], int(r["rows"]), float(r["mean_abs_disagreement"]))
            for r in ranked.iter_rows(named=True)
        ]

    empty = np.empty(0, dtype=np.float64)
    primary_sorted, shadow_sorted = empty, empty
    label_counts: dict[str, tuple[list[str], list[int], list[int]]] = {}

    # Pass 2: whole float columns, read raw, one at a time. Nulls arrive as NaN and numpy
    # handles them: a Polars filter on validity costs several times the read itself.
    if progress and (latency_cols or mode == "score"):
        progress("Reading latency and prediction columns")
    with ThreadPoolExecutor(max_workers=1) as worker:
        latency = _latency_quantiles(frame, latency_cols, worker, name, rows)
        if mode == "score":
            time_missing = None
            if summary["excl_time"]:
                time_missing = owned_column(frame, t_missing, name, rows)
            primary_sorted, shadow_sorted = _sorted_valid_pair(
                frame, p, s, time_missing, worker, name, rows
            )
    if mode == "label":
        label_queries = [
            frame.filter(valid).group_by(expr.cast(pl.String).alias("label")).agg(pl.len())
            for expr in (p, s)
        ]
        counts_p, counts_s = (dict(t.iter_rows()) for t in collect_each(label_queries, name))
        labels = sorted(set(counts_p) | set(counts_s), key=str)
        label_counts["labels"] = (
            [str(x) for x in labels],
            [int(counts_p.get(x, 0)) for x in labels],
            [int(counts_s.get(x, 0)) for x in labels],
        )

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
        agreement_rate=float(summary["agree_sum"]) / valid_rows,
        mean_abs_disagreement=float(summary["disagreement_sum"]) / valid_rows,
        shadow_errors=int(summary["errors"]) if error_dtype is not None else None,
        latency=latency,
        segments=segment_rows,
        segments_left_out=left_out,
        primary_sorted=primary_sorted,
        shadow_sorted=shadow_sorted,
        label_counts=label_counts,
        read_notes=read_notes(
            source,
            excluded_values={
                k: n for counts in latency_excluded.values() for k, n in counts.items()
            },
            notes=[duplicates.note if duplicates is not None else None],
        ),
        dropped_copies=dropped,
    )


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
        blank_unusable_latency(values)
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
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both prediction columns of the rows where both (and the time) are present, sorted.

    A row missing on either side is set to NaN on both, so after an in-place sort the valid
    rows are the leading ``n`` of each array: no filtered copies, two columns at the peak.
    """
    first = owned_column(frame, primary.cast(pl.Float64), name, rows)
    second = owned_column(frame, shadow.cast(pl.Float64), name, rows)
    blank_non_finite(first)
    blank_non_finite(second)
    invalid = np.isnan(first)
    invalid |= np.isnan(second)
    if time_missing is not None:
        invalid |= time_missing
    first[invalid] = np.nan
    second[invalid] = np.nan
    valid = len(first) - int(np.count_nonzero(invalid))
    del invalid
    # numpy releases the GIL while sorting: the two sorts run side by side.
    sorting = worker.submit(first.sort)
    second.sort()
    sorting.result()
    return first[:valid], second[:valid]
