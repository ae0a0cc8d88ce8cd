"""Aggregate a canary / A/B log on Polars: per-variant health figures and per-unit metric sums.

Named steps, each a lazy Polars pass on the streaming engine reading only the columns it needs:

1. :func:`~abtool.engines.polars.canary_schema.check_canary_schema` — every needed column
   exists with a usable type.
2. :func:`_first_pass` — rows and time range per variant value (to resolve control and
   treatment, and to choose the time buckets) and the largest values of each segment column.
3. :func:`_second_pass` — per-variant counts and errors, one row per unit with the metric
   sums (as many rows as units, not requests), per-segment unit tables, and the per-bucket
   counts of :mod:`abtool.engines.polars.canary_buckets`; for a log held in memory with few
   buckets, also the primary metric's sums per bucket as unit-table columns
   (:mod:`abtool.engines.polars.canary_bucket_columns`), which then replace step 5.
4. The pre-period's per-unit covariate sums, when CUPED asks for them
   (:mod:`abtool.engines.polars.canary_pre`).
5. With time buckets, the primary metric per (unit, bucket), reduced at once to the
   timeline's moments (:func:`~abtool.engines.polars.canary_buckets.unit_bucket_moments`).
6. :func:`~abtool.engines.polars.canary_variants.variant_figures` — each variant's latency
   quantiles (overall and per bucket), time range and predictions, read into numpy
   (:mod:`abtool.engines.polars.canary_roles`).

Each table is dropped once reduced to numpy arrays or counts, before the next large one is
built, so the peak is the largest single step rather than their sum. A log held in memory
(:mod:`~abtool.engines.polars.resident`) trades some of that for time: its compared rows are
kept once with their role and bucket, and step 6 runs on a second thread beside steps 4 and
5, each of its columns collected whole from memory rather than batch by batch.

Only per-unit rows and the prediction columns leave Polars. Units logged under both variants
are *inconsistent*: their rows stay in the per-variant health figures (a request served by a
model is that model's request) but the unit is left out of every unit-level comparison (SRM,
metrics, segments) rather than counted in both groups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import polars as pl

from abtool.aggregates.canary import CanaryData, CanaryRequest
from abtool.commands.canary import CanaryColumns
from abtool.engines.polars.canary_bucket_columns import (
    bucket_sum_columns,
    column_bucket_moments,
    columns_fit,
)
from abtool.engines.polars.canary_buckets import (
    BUCKET,
    UnitBucketKey,
    choose_buckets,
    first_seen_units,
    unit_bucket_moments,
    unit_bucket_table,
    variant_timeline,
)
from abtool.engines.polars.canary_pre import PRE, covariate_sums, with_pre_period
from abtool.engines.polars.canary_resolve import excluded_rows, resolve_variants
from abtool.engines.polars.canary_roles import ROLES, TREATED, RoleColumns
from abtool.engines.polars.canary_schema import (
    CanarySchema,
    check_canary_schema,
    experiment_since,
    scanned_columns,
)
from abtool.engines.polars.canary_units import (
    MIXED,
    metric_kinds,
    metric_records,
    salt_mismatches,
    segment_table,
    segments_of,
    unit_table,
)
from abtool.engines.polars.canary_variants import (
    approximate_ks,
    is_role,
    role_rows,
    variant_data,
    variant_figures,
    variant_summary,
)
from abtool.engines.polars.duplicates import drop_duplicate_requests
from abtool.engines.polars.hygiene import prepared, read_notes, value_counts
from abtool.engines.polars.resident import Beside, resident
from abtool.engines.polars.source import LogSource, collect_each, time_filter
from abtool.errors import InputError

Progress = Callable[[str], None] | None


def aggregate_canary(
    source: LogSource, columns: CanaryColumns, request: CanaryRequest, progress: Progress = None
) -> CanaryData:
    """Validate the schema, then reduce the log to canary-decide's aggregates.

    Raises:
        InputError: a required column is missing or mistyped, the log is empty, or the
            variants cannot be resolved.
    """
    source = prepared(
        source,
        time=columns.time,
        time_unit=request.time_unit,
        ids=[columns.unit, columns.request],
    )
    schema = check_canary_schema(source.schema, source.name, columns, request)
    needed, request_col = scanned_columns(columns, request, schema, set(source.schema))
    scanned = source.scan(needed)
    since = experiment_since(request)
    window = time_filter(columns.time, schema.time, since, request.until)
    if window is not None:
        scanned = scanned.filter(window)
    held = resident(scanned, source)  # every pass below reads the columns once
    in_memory = held is not scanned
    scanned = held
    del held
    scanned, duplicates = drop_duplicate_requests(scanned, request_col, source.name)
    dropped = duplicates.dropped if duplicates is not None else 0
    if dropped:
        assert duplicates is not None
        excluded_copies = {duplicates.excluded_reason: dropped}
    else:
        excluded_copies = {}

    if progress:
        progress(f"Scanning {len(source.files)} file(s) for variants")
    first = _first_pass(scanned, source.name, columns, request, window is not None)
    names = first.names
    buckets = None
    if request.timeline and first.time_min is not None and first.time_max is not None:
        buckets = choose_buckets(request.bucket, schema.time, first.time_min, first.time_max)
    variant = pl.col(columns.variant).cast(pl.String)
    unit = pl.col(columns.unit)
    frame = scanned.filter(variant.is_in(list(names)) & unit.is_not_null()).with_columns(
        (variant == names[1]).alias(TREATED),
        *([buckets.index(columns.time)] if buckets is not None else []),
    )
    if in_memory:
        # The log is held in memory: its compared rows, role flag and bucket are computed
        # once here rather than by every pass below (each would compare the variant strings
        # again), and the whole log (other variants, the variant strings) is let go.
        frame = collect_each([frame.drop(columns.variant)], source.name)[0].lazy()
        scanned = frame
    rows_of = role_rows(scanned, frame, columns, names, in_memory)
    del scanned
    if progress:
        progress("Aggregating variants and units")
    primary = request.metrics[0] if request.metrics else None
    # A log held in memory with few buckets has the primary metric's (unit, bucket) sums
    # as columns of the unit table (canary_bucket_columns); otherwise step 5 groups them.
    as_columns = (
        in_memory
        and buckets is not None
        and primary is not None
        and columns_fit(buckets.count, first.rows)
    )
    passes = _second_pass(
        frame, source.name, columns, request, schema, first.top_values,
        buckets.count if buckets is not None else None, as_columns,
    )  # fmt: skip
    summary_rows, bucket_table, segment_tables = passes.summary, passes.buckets, passes.segments
    # With the log in memory, each variant's latency and predictions are collected and worked
    # on in numpy on a second thread while this one reduces the units: numpy sorts
    # on one core, and Polars' group-bys leave the other core idle part of the time. A
    # scanned log's steps run one after the other, each reading its columns, so its peak
    # stays that of the largest step.
    has_prediction, has_latency = schema.prediction is not None, schema.latency is not None
    bucket_pair = (BUCKET, buckets.count) if buckets is not None else None
    requests = None  # held: each step's columns collected whole
    if not in_memory:
        requests = {role: int(summary_rows.get(role, {}).get("requests", 0)) for role in ROLES}
    read = RoleColumns(rows_of, frame, columns, source.name, has_prediction, bucket_pair, requests)
    figures_of = partial(
        variant_figures, read, columns, schema.time, has_latency, request.recent_window,
        summary_rows, buckets.count if buckets is not None else None, progress,
    )  # fmt: skip
    figures = Beside(in_memory, figures_of)
    del read, rows_of
    units = passes.units
    del passes  # the unit table goes as soon as it has been reduced
    if units.height == 0:
        raise InputError(
            f"{source.name}: no row of variants '{names[0]}' or '{names[1]}' has a "
            f"'{columns.unit}' value (all null)"
        )
    inconsistent = units.filter(pl.col(MIXED))
    inconsistent_ids = inconsistent.select(columns.unit).unique()
    inconsistent_rows = int(inconsistent["rows"].sum()) if inconsistent.height else 0
    # Sorted by unit: group_by returns units in a varying order, and the order of the
    # per-unit arrays changes the last digits of the sums the statistics take.
    consistent = units.filter(~pl.col(MIXED)).sort(columns.unit)
    primary_moments = None
    if as_columns:
        assert buckets is not None
        primary_moments = column_bucket_moments(consistent, buckets.count)
    consistent, pre_period = with_pre_period(
        source, consistent, columns.unit, columns.time, request, first.rows, progress
    )
    kinds = metric_kinds(units, schema.metrics)
    key = None
    if buckets is not None and not as_columns:
        ids = units[columns.unit]
        key = UnitBucketKey.fitting(ids.dtype, ids.min(), ids.max(), buckets.count)
        del ids
    del units
    adjusted = set(pre_period.metrics) if pre_period is not None else set()
    metrics = metric_records(consistent, kinds, request.metrics, adjusted, PRE)
    segments = {
        segment: segments_of(table, inconsistent_ids, columns.unit, primary or "")
        for segment, table in zip(request.segments, segment_tables, strict=False)
    }
    del segment_tables
    role_units = [consistent.filter(is_role(role)).height for role in ROLES]
    salt_mismatched = salt_mismatches(consistent, columns.unit, request)
    first_seen = first_seen_units(consistent) if buckets is not None else None
    del consistent  # the tables and columns below are read without the unit table
    if buckets is not None and primary is not None and not as_columns:
        # After the unit table is gone: this group-by (an entry per unit and bucket) is the
        # largest of canary-decide's, and its entries are reduced to moments at once.
        primary_moments = unit_bucket_moments(
            collect_each(
                [unit_bucket_table(frame, columns.unit, primary, schema.metrics[primary], key)],
                source.name,
            ),
            inconsistent_ids,
            columns.unit,
            buckets.count,
            key,
        )
    summary, p99 = figures.result()
    unusable = value_counts(
        frame,
        {
            **({columns.prediction: schema.prediction} if schema.prediction else {}),
            **schema.metrics,
        },
        (columns.latency, schema.latency) if schema.latency is not None else None,
        source.name,
    )
    variants = [
        variant_data(
            name,
            summary[role],
            units_of_role,
            summary[role].pop("__predictions"),
            schema.latency is not None,
            schema.error is not None,
        )
        for role, name, units_of_role in zip(ROLES, names, role_units, strict=True)
    ]
    times = [
        summary[role][key]
        for role in ROLES
        for key in ("time_min", "time_max")
        if summary[role][key] is not None
    ]
    timeline = None
    if buckets is not None and bucket_table is not None and first_seen is not None:
        timeline = variant_timeline(
            buckets, bucket_table, first_seen, primary_moments, schema.error is not None, p99
        )
    return CanaryData(
        rows=first.rows + dropped,
        excluded={**first.excluded, **excluded_copies},
        time_min=min(times) if times else None,
        time_max=max(times) if times else None,
        control=variants[0],
        treatment=variants[1],
        inconsistent_units=inconsistent.height,
        inconsistent_rows=inconsistent_rows,
        metrics=metrics,
        segments=segments,
        salt_mismatched_units=salt_mismatched,
        variant_note=first.note,
        prediction_ks=approximate_ks(variants[0], variants[1], request),
        pre_period=pre_period,
        timeline=timeline,
        read_notes=read_notes(
            source,
            excluded_values=unusable,
            notes=[duplicates.note if duplicates is not None else None],
        ),
    )


@dataclass(frozen=True)
class _FirstPass:
    """Rows, the chosen variants (and how), excluded rows, segment values, time range."""

    rows: int
    names: tuple[str, str]
    note: str | None
    excluded: dict[str, int]
    top_values: dict[str, list[str]]
    time_min: Any
    time_max: Any


def _first_pass(
    frame: pl.LazyFrame,
    name: str,
    columns: CanaryColumns,
    request: CanaryRequest,
    windowed: bool,
) -> _FirstPass:
    variant = pl.col(columns.variant).cast(pl.String)
    queries = [
        frame.group_by(variant.alias("variant")).agg(
            pl.len().alias("rows"),
            pl.col(columns.unit).is_null().sum().alias("null_units"),
            pl.col(columns.time).min().alias("time_min"),
            pl.col(columns.time).max().alias("time_max"),
        )
    ]
    for segment in request.segments:
        queries.append(
            frame.filter(pl.col(segment).is_not_null())
            .group_by(pl.col(segment).cast(pl.String).alias("value"))
            .agg(pl.len().alias("rows"))
            .sort(["rows", "value"], descending=[True, False])
            .head(request.top_segment_values)
        )
    by_variant, *segment_values = collect_each(queries, name)
    rows = int(by_variant["rows"].sum()) if by_variant.height else 0
    if rows == 0:
        window_text = " in the --since/--until window" if windowed else ""
        raise InputError(f"{name}: log has no rows{window_text}")
    present = [v for v in by_variant["variant"].to_list() if v is not None]
    rows_by_value = {
        row["variant"]: int(row["rows"])
        for row in by_variant.iter_rows(named=True)
        if row["variant"] is not None
    }
    control, treatment, note = resolve_variants(
        present, request.control, request.treatment, name, columns.variant,
        rows_by_value, request.stage,
    )  # fmt: skip
    chosen = by_variant.filter(pl.col("variant").is_in([control, treatment]))
    top_values = {
        segment: table["value"].to_list()
        for segment, table in zip(request.segments, segment_values, strict=True)
    }
    return _FirstPass(
        rows=rows,
        names=(control, treatment),
        note=note,
        excluded=excluded_rows(by_variant, (control, treatment), columns),
        top_values=top_values,
        time_min=chosen["time_min"].min(),
        time_max=chosen["time_max"].max(),
    )


@dataclass(frozen=True)
class _Passes:
    """The second pass: per-role summary, units, segments, and the per-bucket counts."""

    summary: dict[str, dict[str, Any]]
    units: pl.DataFrame
    segments: list[pl.DataFrame]
    buckets: pl.DataFrame | None


def _second_pass(
    frame: pl.LazyFrame,
    name: str,
    columns: CanaryColumns,
    request: CanaryRequest,
    schema: CanarySchema,
    top_values: dict[str, list[str]],
    bucket_count: int | None,
    as_columns: bool,
) -> _Passes:
    """Per-variant summary rows by role, the unit table, segment tables and bucket tables."""
    bucketed = bucket_count is not None
    extra = [pl.col(BUCKET).min().alias(BUCKET)] if bucketed else []
    if schema.covariate is not None:
        assert request.covariate is not None
        extra += [
            e
            for m in request.metrics
            for e in covariate_sums(request.covariate, schema.covariate, m)
        ]
    primary = request.metrics[0] if request.metrics else None
    if as_columns:
        assert primary is not None and bucket_count is not None
        extra += bucket_sum_columns(primary, schema.metrics[primary], bucket_count)
    by = (TREATED, BUCKET) if bucketed else (TREATED,)
    queries = [
        variant_summary(frame, columns, schema.latency, schema.error, by),
        unit_table(frame, columns, schema.metrics, extra),
    ]
    if primary is not None:
        queries += [
            segment_table(frame, columns, segment, top_values[segment], primary, schema.metrics)
            for segment in request.segments
        ]
    summary_frame, units, *rest = collect_each(queries, name)
    segments = rest[: len(request.segments)] if primary is not None else []
    bucket_table = None
    if bucketed:
        bucket_table = summary_frame.filter(pl.col(BUCKET).is_not_null())
        summary_frame = summary_frame.drop(BUCKET).group_by(TREATED).sum()
    summary = {ROLES[int(row[TREATED])]: row for row in summary_frame.iter_rows(named=True)}
    return _Passes(
        summary=summary,
        units=units,
        segments=segments,
        buckets=bucket_table,
    )
