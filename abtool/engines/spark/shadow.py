"""shadow-report on Spark, filling the same :class:`ShadowData` as the Polars engine.

Spark reads the files (types unified, hive keys, times parsed) and applies the window. While
the window holds at most the array cap of rows, its needed columns come back through Arrow
and the Polars engine's own reduction (:mod:`abtool.engines.polars.shadow`) finishes the
report, so both engines give the same numbers by construction.

Above the cap no row leaves Spark: one aggregation gives the counts, exclusions by reason,
time range, agreement and disagreement sums; one grouped query the time buckets (errors,
timeouts), one all segment columns' sums; latency quantiles (whole log and p99 per bucket)
are exact from bucket counts (:mod:`abtool.engines.spark.grouped_buckets`), and so are the
scores' figures (:class:`ScoreFigures`: KS D or its bounds with ``--ks approximate``,
quantiles, PSI bins, ECDF). The within-segment KS D of scores needs each value's scores
sorted and is not computed there (a read note says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from abtool.aggregates.hygiene import ReadNotes
from abtool.aggregates.shadow import ShadowData, ShadowRequest
from abtool.commands.shadow import ShadowColumns
from abtool.engines.polars.shadow_schema import require_compared_rows, shadow_schema
from abtool.engines.polars.shadow_timeline import timeout_flag
from abtool.engines.spark.duplicates import drop_duplicate_requests
from abtool.engines.spark.prepare import prepared, read_notes
from abtool.engines.spark.shadow_parts import (
    SEGMENT_KS_NOTE,
    bucket_pass,
    latency_quantiles,
    segment_pass,
    spark_timeout_flag,
)
from abtool.engines.spark.shadow_scores import score_figures
from abtool.engines.spark.source import (
    SparkSource,
    cached,
    col,
    collect_row,
    polars_frame,
)
from abtool.engines.spark.times import micros, python_time, time_filter
from abtool.engines.spark.values import (
    as_text,
    count_if,
    error_flag,
    first_reason,
    infinite,
    latency_reasons,
    missing_value,
    named_counts,
)


def aggregate_shadow(
    source: SparkSource,
    columns: ShadowColumns,
    request: ShadowRequest,
    progress: Callable[[str], None] | None = None,
    array_cap: int = 0,
) -> ShadowData:
    """Validate the schema, then reduce the log to the shadow report's aggregates.

    Raises:
        InputError: as the Polars engine.
    """
    source = prepared(source, time=columns.time, time_unit=request.time_unit, ids=[columns.request])
    name = source.name
    layout = shadow_schema(source.schema, name, source.partition_keys, columns, request)
    mode, time_dtype, error_dtype = layout.mode, layout.time, layout.error
    latency_cols, segments, needed = layout.latency_cols, layout.segments, layout.needed
    request_col = layout.request
    # Checked before any pass, as on Polars (a rule that does not fit the error column).
    timeout_flag(
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
        frame = frame.where(window)
    if array_cap and frame.count() <= array_cap:
        return _through_polars(frame, source, columns, replace(request, segments=tuple(segments)))
    frame, duplicates = drop_duplicate_requests(frame, request_col, name)
    dtypes = {
        "time": time_dtype,
        "primary": layout.primary,
        "shadow": layout.shadow,
        "error": error_dtype,
        **{f"latency:{role}": layout.latency[role] for role in latency_cols},
    }
    with cached(frame) as rows:
        return _reduced(
            rows, source, columns, request, mode, dtypes, segments, latency_cols,
            window is not None, duplicates, array_cap, progress,
        )  # fmt: skip


def _through_polars(
    frame: DataFrame, source: SparkSource, columns: ShadowColumns, request: ShadowRequest
) -> ShadowData:
    """The window's needed columns through Arrow, reduced by the Polars engine (the same
    numbers by construction); Spark's read notes come first, as the files were read here."""
    from abtool.engines.polars.shadow import aggregate_shadow as polars_shadow
    from abtool.engines.polars.source import open_frame

    table = polars_frame(frame, source.name)
    schema = {c: source.schema[c] for c in table.columns}
    local = replace(open_frame(_as_schema(table, schema)), paths=(source.name,))
    data = polars_shadow(local, columns, request)
    notes = ReadNotes(
        excluded_values=data.read_notes.excluded_values,
        notes=(*source.notes, *data.read_notes.notes),
    )
    return replace(data, read_notes=notes)


def _as_schema(table: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Columns back in the log's types (Arrow gives Spark's times in UTC, its own ints)."""
    casts = []
    for column, dtype in schema.items():
        found = table.schema[column]
        if found == dtype:
            continue
        value = pl.col(column)
        if isinstance(dtype, pl.Datetime) and isinstance(found, pl.Datetime):
            value = value.dt.cast_time_unit(dtype.time_unit)
            if found.time_zone is None:  # Spark's naive times are UTC
                value = value.dt.replace_time_zone("UTC")
            if dtype.time_zone is None:
                value = value.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            else:
                value = value.dt.convert_time_zone(dtype.time_zone)
            casts.append(value.alias(column))
        else:
            casts.append(value.cast(dtype).alias(column))
    return table.with_columns(casts) if casts else table


def _reduced(
    frame: DataFrame,
    source: SparkSource,
    columns: ShadowColumns,
    request: ShadowRequest,
    mode: str,
    dtypes: dict[str, Any],
    segments: list[str],
    latency_cols: dict[str, str],
    windowed: bool,
    duplicates: Any,
    array_cap: int,
    progress: Callable[[str], None] | None,
) -> ShadowData:
    name = source.name
    primary_dtype, shadow_dtype = dtypes["primary"], dtypes["shadow"]
    t_missing = col(columns.time).isNull()
    s_missing = missing_value(columns.shadow, shadow_dtype)
    reasons = [
        (f"null {columns.time}", t_missing),
        (f"null or NaN {columns.primary}", missing_value(columns.primary, primary_dtype)),
        (f"null or NaN {columns.shadow}", s_missing),
        (f"infinite {columns.primary}", infinite(columns.primary, primary_dtype)),
        (f"infinite {columns.shadow}", infinite(columns.shadow, shadow_dtype)),
    ]
    invalid, reason_counts = first_reason(reasons, "excl_")
    valid = ~invalid
    latency_checks = {
        role: latency_reasons(c, dtypes[f"latency:{role}"]) for role, c in latency_cols.items()
    }
    p, s = col(columns.primary), col(columns.shadow)
    threshold = request.threshold
    labels = None
    if mode == "score":
        disagreement = F.abs(p - s).cast("double")
        agree = (p >= F.lit(threshold)) == (s >= F.lit(threshold))
    else:
        labels = (as_text(columns.primary, primary_dtype), as_text(columns.shadow, shadow_dtype))
        disagreement = (labels[0] != labels[1]).cast("double")
        agree = labels[0] == labels[1]
    stamp = micros(columns.time, dtypes["time"])
    aggregations = [
        F.count(F.lit(1)).alias("rows"),
        count_if(valid).alias("valid_rows"),
        count_if(t_missing).alias("excl_time"),
        *reason_counts,
        *[c for role, r in latency_checks.items() for c in first_reason(r, f"{role}_")[1]],
        F.min(F.when(valid, stamp)).alias("time_min"),
        F.max(F.when(valid, stamp)).alias("time_max"),
        count_if(valid & agree).alias("agree_sum"),
        F.coalesce(F.sum(F.when(valid, disagreement)), F.lit(0.0)).alias("disagreement_sum"),
        count_if(~s_missing).alias("shadow_scored"),
    ]
    if mode == "score" and request.expected_range is not None:
        low, high = request.expected_range
        outside = (s < F.lit(float(low))) | (s > F.lit(float(high)))
        aggregations.append(count_if(outside & ~s_missing).alias("outside"))
    if progress:
        progress(f"Scanning {len(source.files)} file(s)")
    summary = collect_row(frame.agg(*aggregations), name).asDict()
    rows, valid_rows = int(summary["rows"]), int(summary["valid_rows"])
    require_compared_rows(name, rows, valid_rows, columns, windowed)
    excluded = named_counts(reasons, "excl_", summary)
    if duplicates is not None and duplicates.dropped:
        excluded[duplicates.excluded_reason] = duplicates.dropped
    latency_excluded = {
        role: named_counts(r, f"{role}_", summary) for role, r in latency_checks.items()
    }
    error_dtype = dtypes["error"]
    errored = error_flag(columns.shadow_error, error_dtype) if error_dtype is not None else None
    timed_out = spark_timeout_flag(
        columns.shadow_error if error_dtype is not None else None,
        error_dtype,
        latency_cols.get("shadow"),
        request.timeout_ms,
        request.timeout_errors,
    )
    time = (columns.time, dtypes["time"])
    buckets = bucket_pass(frame, request, time, errored, timed_out, name)
    tables, whole_labels = segment_pass(
        frame, valid, agree, disagreement, segments, request, labels, name
    )
    if progress and (latency_cols or mode == "score"):
        progress("Latency quantiles and prediction distributions")
    latency, p99 = latency_quantiles(
        frame, latency_cols, dtypes, buckets, time, request, name, array_cap
    )
    timeline = buckets.timeline
    if timeline is not None:
        timeline = replace(timeline, latency_p99=p99)
    empty = np.empty(0, dtype=np.float64)
    figures = None
    notes: list[str | None] = [duplicates.note if duplicates is not None else None]
    label_counts: dict[str, tuple[list[str], list[int], list[int]]] = {}
    if mode == "score":
        scores = frame.where(valid).select(
            p.cast("double").alias("primary"), s.cast("double").alias("shadow")
        )
        figures = score_figures(scores, valid_rows, request, name)
        if any(len(t.values) for t in tables.values()):
            notes.append(SEGMENT_KS_NOTE)
    elif whole_labels is not None:
        label_counts["labels"] = whole_labels
    latency = {
        role: q for role, q in latency.items() if sum(latency_excluded[role].values()) < rows
    }
    dropped = duplicates.dropped if duplicates is not None else 0
    return ShadowData(
        mode=mode,
        rows=rows + dropped,
        valid_rows=valid_rows,
        excluded=excluded,
        time_min=python_time(summary["time_min"], dtypes["time"]),
        time_max=python_time(summary["time_max"], dtypes["time"]),
        agreements=int(summary["agree_sum"]),
        mean_abs_disagreement=float(summary["disagreement_sum"]) / valid_rows,
        shadow_errors=buckets.errors,
        latency=latency,
        segments=tables,
        primary_sorted=empty,
        shadow_sorted=empty,
        score_figures=figures,
        label_counts=label_counts,
        timeouts=buckets.timeouts,
        shadow_scored=int(summary["shadow_scored"]),
        outside_range=int(summary["outside"]) if "outside" in summary else None,
        timeline=timeline,
        read_notes=read_notes(
            source,
            excluded_values={
                k: n for counts in latency_excluded.values() for k, n in counts.items()
            },
            notes=notes,
        ),
        dropped_copies=dropped,
    )
