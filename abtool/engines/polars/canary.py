"""Aggregate a canary / A/B log on Polars: per-variant health figures and per-unit metric sums.

Named steps, each a lazy Polars pass on the streaming engine reading only the columns it needs:

1. :func:`_check_schema` — every needed column exists with a usable type.
2. :func:`_first_pass` — rows per variant value (to resolve control and treatment) and the
   largest values of each segment column.
3. :func:`_second_pass` — per-variant counts and errors, one row per unit with the metric
   sums (as many rows as units, not requests), and per-segment unit tables.
4. :func:`_variant_figures` — each variant's latency quantiles, time range and predictions,
   read into numpy (:mod:`abtool.engines.polars.canary_variants`).

Only per-unit rows and the prediction columns leave Polars. Units logged under both variants
are *inconsistent*: their rows stay in the per-variant health figures (a request served by a
model is that model's request) but the unit is left out of every unit-level comparison (SRM,
metrics, segments) rather than counted in both groups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from abtool.aggregates.canary import CanaryData, CanaryRequest, MetricData
from abtool.assignment import in_treatment
from abtool.commands.canary import CanaryColumns
from abtool.engines.polars.canary_units import (
    MIXED,
    metric_kinds,
    segment_table,
    segments_of,
    unit_sums,
    unit_table,
)
from abtool.engines.polars.canary_variants import (
    ROLES,
    TREATED,
    excluded_rows,
    is_role,
    latency_quantiles,
    resolve_variants,
    variant_data,
    variant_rows,
    variant_summary,
)
from abtool.engines.polars.duplicates import drop_duplicate_requests
from abtool.engines.polars.hygiene import prepared, read_notes, value_counts
from abtool.engines.polars.schema import Kind, optional, require, require_columns
from abtool.engines.polars.source import LogSource, collect_each, time_filter
from abtool.errors import InputError

Progress = Callable[[str], None] | None


@dataclass(frozen=True)
class _Schema:
    """The dtypes of the columns a canary needs (None: an optional column is absent)."""

    time: pl.DataType
    metrics: dict[str, pl.DataType]
    prediction: pl.DataType | None
    latency: pl.DataType | None
    error: pl.DataType | None


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
    schema = _check_schema(source, columns, request)
    needed = [columns.time, columns.unit, columns.variant, *request.metrics, *request.segments]
    request_col = columns.request if columns.request in source.schema else None
    needed += [request_col] if request_col is not None else []
    optional_columns = (
        (columns.prediction, schema.prediction),
        (columns.latency, schema.latency),
        (columns.error, schema.error),
    )
    needed += [col for col, dtype in optional_columns if dtype is not None]
    scanned = source.scan(needed)
    window = time_filter(columns.time, schema.time, request.since, request.until)
    if window is not None:
        scanned = scanned.filter(window)
    scanned, duplicates = drop_duplicate_requests(scanned, request_col, source.name)
    dropped = duplicates.dropped if duplicates is not None else 0
    if dropped:
        assert duplicates is not None
        excluded_copies = {duplicates.excluded_reason: dropped}
    else:
        excluded_copies = {}

    if progress:
        progress(f"Scanning {len(source.files)} file(s) for variants")
    rows, names, excluded, top_values = _first_pass(
        scanned, source.name, columns, request, window is not None
    )
    variant = pl.col(columns.variant).cast(pl.String)
    unit = pl.col(columns.unit)
    frame = scanned.filter(variant.is_in(list(names)) & unit.is_not_null()).with_columns(
        (variant == names[1]).alias(TREATED)
    )
    if progress:
        progress("Aggregating variants and units")
    summary, units, segment_tables = _second_pass(
        frame, source.name, columns, request, schema, top_values
    )
    if units.height == 0:
        raise InputError(
            f"{source.name}: no row of variants '{names[0]}' or '{names[1]}' has a "
            f"'{columns.unit}' value (all null)"
        )
    inconsistent = units.filter(pl.col(MIXED))
    # Sorted by unit: group_by returns units in a varying order, and the order of the
    # per-unit arrays changes the last digits of the sums the statistics take.
    consistent = units.filter(~pl.col(MIXED)).sort(columns.unit)
    summary = _variant_figures(
        scanned, frame, source.name, columns, request, schema, names, summary, progress
    )
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
            consistent.filter(is_role(role)).height,
            summary[role].pop("__predictions"),
            schema.latency is not None,
            schema.error is not None,
        )
        for role, name in zip(ROLES, names, strict=True)
    ]
    kinds = metric_kinds(units, schema.metrics)
    metrics = [
        MetricData(
            name=m,
            binary=bool(kinds[f"{m}__binary"]),
            missing_rows=int(kinds[f"{m}__missing"]),
            control=unit_sums(consistent, "control", m),
            treatment=unit_sums(consistent, "treatment", m),
        )
        for m in request.metrics
    ]
    primary = request.metrics[0] if request.metrics else None
    inconsistent_ids = inconsistent.select(columns.unit).unique()
    segments = {
        segment: segments_of(table, inconsistent_ids, columns.unit, primary or "")
        for segment, table in zip(request.segments, segment_tables, strict=False)
    }
    times = [
        summary[role][key]
        for role in ROLES
        for key in ("time_min", "time_max")
        if summary[role][key] is not None
    ]
    return CanaryData(
        rows=rows + dropped,
        excluded={**excluded, **excluded_copies},
        time_min=min(times) if times else None,
        time_max=max(times) if times else None,
        control=variants[0],
        treatment=variants[1],
        inconsistent_units=inconsistent.height,
        inconsistent_rows=int(inconsistent["rows"].sum()) if inconsistent.height else 0,
        metrics=metrics,
        segments=segments,
        salt_mismatched_units=_salt_mismatches(consistent, columns.unit, request),
        read_notes=read_notes(
            source,
            excluded_values=unusable,
            notes=[duplicates.note if duplicates is not None else None],
        ),
    )


def _check_schema(source: LogSource, columns: CanaryColumns, request: CanaryRequest) -> _Schema:
    schema, name = source.schema, source.name
    require_columns(
        schema,
        name,
        {
            columns.time: "--time-col",
            columns.unit: "--unit",
            columns.variant: "--variant-col",
            **{metric: "--metric" for metric in request.metrics},
            **{segment: "--segment" for segment in request.segments},
        },
    )
    time_dtype = require(schema, name, columns.time, Kind.TIME, "--time-col")
    require(schema, name, columns.unit, Kind.KEY, "--unit")
    require(schema, name, columns.variant, Kind.LABEL, "--variant-col")
    metrics = {m: require(schema, name, m, Kind.NUMBER, "--metric") for m in request.metrics}
    for segment in request.segments:
        require(schema, name, segment, Kind.SEGMENT, "--segment")
    return _Schema(
        time=time_dtype,
        metrics=metrics,
        prediction=optional(schema, name, columns.prediction, Kind.NUMBER),
        latency=optional(schema, name, columns.latency, Kind.NUMBER),
        error=optional(schema, name, columns.error, Kind.BOOL_OR_TEXT),
    )


def _first_pass(
    frame: pl.LazyFrame,
    name: str,
    columns: CanaryColumns,
    request: CanaryRequest,
    windowed: bool,
) -> tuple[int, tuple[str, str], dict[str, int], dict[str, list[str]]]:
    """Rows, (control, treatment) names, excluded rows and the top values of each segment."""
    variant = pl.col(columns.variant).cast(pl.String)
    queries = [
        frame.group_by(variant.alias("variant")).agg(
            pl.len().alias("rows"), pl.col(columns.unit).is_null().sum().alias("null_units")
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
    names = resolve_variants(present, request.control, request.treatment, name, columns.variant)
    top_values = {
        segment: table["value"].to_list()
        for segment, table in zip(request.segments, segment_values, strict=True)
    }
    return rows, names, excluded_rows(by_variant, names, columns), top_values


def _second_pass(
    frame: pl.LazyFrame,
    name: str,
    columns: CanaryColumns,
    request: CanaryRequest,
    schema: _Schema,
    top_values: dict[str, list[str]],
) -> tuple[dict[str, dict[str, Any]], pl.DataFrame, list[pl.DataFrame]]:
    """Per-variant summary rows by role, the unit table and one table per segment column."""
    queries = [
        variant_summary(frame, columns, schema.latency, schema.error),
        unit_table(frame, columns, schema.metrics),
    ]
    if request.metrics:
        primary = request.metrics[0]
        queries += [
            segment_table(frame, columns, segment, top_values[segment], primary, schema.metrics)
            for segment in request.segments
        ]
    summary_frame, units, *segment_tables = collect_each(queries, name)
    summary = {ROLES[int(row[TREATED])]: row for row in summary_frame.iter_rows(named=True)}
    return summary, units, segment_tables


def _variant_figures(
    scanned: pl.LazyFrame,
    frame: pl.LazyFrame,
    name: str,
    columns: CanaryColumns,
    request: CanaryRequest,
    schema: _Schema,
    names: tuple[str, str],
    summary: dict[str, dict[str, Any]],
    progress: Progress,
) -> dict[str, dict[str, Any]]:
    """Each role's summary with its latency quantiles, time range and predictions added."""
    quantiles: dict[str, dict[str, float]] = {}
    if schema.latency is not None:
        if progress:
            progress("Latency quantiles")
        requests = sum(int(summary.get(role, {}).get("requests", 0)) for role in ROLES)
        quantiles = latency_quantiles(frame, columns.latency, requests, name)
    if progress:
        progress("Sorting predictions")
    unit = pl.col(columns.unit)
    variant = pl.col(columns.variant).cast(pl.String)
    figures_by_role: dict[str, dict[str, Any]] = {}
    for role, value in zip(ROLES, names, strict=True):
        # Filters on the raw columns are pushed into the Parquet scan.
        mine = scanned.filter((variant == value) & unit.is_not_null())
        row = dict(summary.get(role, {}))
        figures, predictions = variant_rows(
            mine,
            columns,
            schema.time,
            schema.prediction is not None,
            int(row.get("requests", 0)),
            request.recent_window,
            name,
        )
        row.update(quantiles.get(role, {}))
        # Same key order as one summary query would give (the order of the warnings).
        figures_by_role[role] = {
            "requests": row.get("requests", 0),
            "time_min": figures["time_min"],
            "time_max": figures["time_max"],
            f"missing:{columns.time}": figures["missing_time"],
            **{k: v for k, v in row.items() if k != "requests"},
            "pred_mean": figures["pred_mean"],
            f"missing:{columns.prediction}": figures["missing_prediction"],
            "__predictions": predictions,
        }
    return figures_by_role


def _salt_mismatches(
    consistent: pl.DataFrame, unit_column: str, request: CanaryRequest
) -> int | None:
    """Units logged under a variant their md5 bucket of ``salt`` does not give."""
    if request.salt is None:
        return None
    salt, share = request.salt, request.treatment_share
    wrong = 0
    for role in ROLES:
        ids = consistent.filter(is_role(role))[unit_column].to_list()
        treated = role == "treatment"
        wrong += sum(in_treatment(salt, u, share) != treated for u in ids)
    return wrong
