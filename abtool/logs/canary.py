"""Aggregate a canary / A/B log: per-variant health figures and per-unit metric sums.

Lazy Polars passes on the streaming engine, each reading only the columns it needs: the first
reads the variant (and segment) columns to resolve which values are control and treatment;
then one query gives per-variant counts, error rate, latency quantiles and prediction mean,
one gives a row per (unit, variant) with the metric sums (as many rows as there are units,
not requests), and one per variant collects its predictions, which numpy sorts for the KS
test. Only those per-unit rows and the prediction columns leave Polars.

Units logged under both variants are *inconsistent*: their rows stay in the per-variant health
figures (a request served by a model is that model's request) but the unit is left out of
every unit-level comparison (SRM, metrics, segments) rather than counted in both groups.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.commands.canary import CanaryColumns
from abtool.errors import InputError
from abtool.logs.schema import Kind, error_flag, missing_value, optional, require
from abtool.logs.source import LogSource, collect_each, owned_column, owned_columns, time_filter
from abtool.stats.descriptive import quantiles_ignoring_nan

ROLES = ("control", "treatment")
_TREATED = "__treated"
_MIXED = "__mixed"


@dataclass(frozen=True)
class UnitSums:
    """One metric in one variant, per unit: ``x`` the metric summed, ``y`` the rows counted.

    Units without a single non-missing value of the metric are not included.
    """

    x: NDArray[np.float64] = field(repr=False)
    y: NDArray[np.float64] = field(repr=False)

    @property
    def units(self) -> int:
        return len(self.x)


@dataclass
class VariantData:
    """Health figures of one variant, over all its requests."""

    name: str
    requests: int
    units: int
    errors: int | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    prediction_mean: float | None
    missing: dict[str, int]
    """Rows of this variant left out of a figure, by column (null, or NaN for floats)."""
    predictions_sorted: NDArray[np.float64] = field(repr=False)
    recent_sorted: NDArray[np.float64] = field(repr=False)


@dataclass(frozen=True)
class MetricData:
    """A metric column reduced to per-unit sums in each variant."""

    name: str
    binary: bool
    missing_rows: int
    control: UnitSums
    treatment: UnitSums


@dataclass(frozen=True)
class SegmentData:
    """The primary metric within one value of a segment column."""

    value: str
    rows: int
    control: UnitSums
    treatment: UnitSums


@dataclass
class CanaryData:
    """Everything canary-decide needs, reduced from the log."""

    rows: int
    excluded: dict[str, int]
    time_min: datetime | None
    time_max: datetime | None
    control: VariantData
    treatment: VariantData
    inconsistent_units: int
    inconsistent_rows: int
    metrics: list[MetricData]
    segments: dict[str, list[SegmentData]]
    consistent_units: pl.DataFrame = field(repr=False)
    """One row per unit seen under a single variant: the unit column and ``__treated``."""
    unit_column: str = "user_id"

    @property
    def unit_ids(self) -> dict[str, list[Any]]:
        """Ids of the units seen under a single variant, by role (built on demand: slow)."""
        return {
            role: self.consistent_units.filter(_is(role))[self.unit_column].to_list()
            for role in ROLES
        }

    @property
    def analysed_units(self) -> int:
        return self.control.units + self.treatment.units

    @property
    def total_units(self) -> int:
        return self.analysed_units + self.inconsistent_units


_RECENT_CHUNK = 1_000_000
_NO_TIME = np.iinfo(np.int64).min  # stands for a null timestamp in the physical values
_LATEST = np.iinfo(np.int64).max


def _is(role: str) -> pl.Expr:
    """Rows (or units) of ``role``: the boolean role column, True for treatment."""
    return pl.col(_TREATED) if role == "treatment" else ~pl.col(_TREATED)


def resolve_variants(
    present: Sequence[str], control: str | None, treatment: str | None, source: str, column: str
) -> tuple[str, str]:
    """Pick the control and treatment values of the variant column.

    Unnamed, the two values present are taken in sorted order (``v1`` control, ``v2``
    treatment); one named, the other is the single remaining value.

    Raises:
        InputError: a named value is absent, or there are not exactly two values to pick from.
    """
    values = sorted(present)
    shown = ", ".join(values) or "none"
    for option, name in (("--control", control), ("--treatment", treatment)):
        if name is not None and name not in values:
            raise InputError(
                f"{source}: {option} '{name}' not found in column '{column}' (values: {shown})"
            )
    if control is not None and treatment is not None:
        if control == treatment:
            raise InputError(f"{source}: --control and --treatment are both '{control}'")
        return control, treatment
    if len(values) < 2:
        raise InputError(
            f"{source}: column '{column}' holds {len(values)} variant(s) ({shown}); "
            "a canary needs a control and a treatment"
        )
    named = control if control is not None else treatment
    others = [v for v in values if v != named]
    if len(others) != (2 if named is None else 1):
        raise InputError(
            f"{source}: column '{column}' holds {len(values)} variants ({shown}); "
            "name them with --control and --treatment"
        )
    if control is not None:
        return control, others[0]
    if treatment is not None:
        return others[0], treatment
    return others[0], others[1]


def aggregate_canary(
    source: LogSource,
    columns: CanaryColumns,
    *,
    metrics: Sequence[str],
    segments: Sequence[str],
    control: str | None,
    treatment: str | None,
    recent_window: int,
    top_segment_values: int = 3,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> CanaryData:
    """Validate the schema, then reduce the log to canary-decide's aggregates.

    Raises:
        InputError: a required column is missing or mistyped, the log is empty, or the
            variants cannot be resolved.
    """
    schema, name = source.schema, source.name
    time_dtype = require(schema, name, columns.time, Kind.TIME, "--time-col")
    require(schema, name, columns.unit, Kind.ANY, "--unit")
    require(schema, name, columns.variant, Kind.LABEL, "--variant-col")
    metric_dtypes = {m: require(schema, name, m, Kind.NUMBER, "--metric") for m in metrics}
    for segment in segments:
        require(schema, name, segment, Kind.ANY, "--segment")
    prediction_dtype = optional(schema, name, columns.prediction, Kind.NUMBER)
    latency_dtype = optional(schema, name, columns.latency, Kind.NUMBER)
    error_dtype = optional(schema, name, columns.error, Kind.BOOL_OR_TEXT)

    needed = [columns.time, columns.unit, columns.variant, *metrics, *segments]
    needed += [
        col
        for col, dtype in (
            (columns.prediction, prediction_dtype),
            (columns.latency, latency_dtype),
            (columns.error, error_dtype),
        )
        if dtype is not None
    ]
    frame = source.scan(needed)
    window = time_filter(columns.time, time_dtype, since, until)
    if window is not None:
        frame = frame.filter(window)
    variant = pl.col(columns.variant).cast(pl.String)
    unit = pl.col(columns.unit)

    if progress:
        progress(f"Scanning {len(source.files)} file(s) for variants")
    first = [
        frame.group_by(variant.alias("variant")).agg(
            pl.len().alias("rows"), unit.is_null().sum().alias("null_units")
        )
    ]
    for segment in segments:
        first.append(
            frame.filter(pl.col(segment).is_not_null())
            .group_by(pl.col(segment).cast(pl.String).alias("value"))
            .agg(pl.len().alias("rows"))
            .sort(["rows", "value"], descending=[True, False])
            .head(top_segment_values)
        )
    results = collect_each(first, name)
    by_variant = results[0]
    rows = int(by_variant["rows"].sum()) if by_variant.height else 0
    if rows == 0:
        window_text = " in the --since/--until window" if window is not None else ""
        raise InputError(f"{name}: log has no rows{window_text}")
    present = [v for v in by_variant["variant"].to_list() if v is not None]
    control_name, treatment_name = resolve_variants(
        present, control, treatment, name, columns.variant
    )
    excluded = _excluded_rows(by_variant, (control_name, treatment_name), columns)
    top_values = {
        segment: table["value"].to_list()
        for segment, table in zip(segments, results[1:], strict=True)
    }

    scanned = frame
    frame = frame.filter(variant.is_in([control_name, treatment_name]) & unit.is_not_null())
    # A boolean role groups and filters faster than a string label.
    frame = frame.with_columns((variant == treatment_name).alias(_TREATED))
    queries = [_variant_summary(frame, columns, latency_dtype, error_dtype)]
    queries.append(_unit_table(frame, columns, metric_dtypes))
    primary = metrics[0] if metrics else None
    for segment in segments:
        if primary is None:
            break
        queries.append(
            _segment_table(frame, columns, segment, top_values[segment], primary, metric_dtypes)
        )

    if progress:
        progress("Aggregating variants and units")
    results = collect_each(queries, name)
    summary = {ROLES[int(row[_TREATED])]: row for row in results[0].iter_rows(named=True)}
    units = results[1]
    if units.height == 0:
        raise InputError(
            f"{name}: no row of variants '{control_name}' or '{treatment_name}' has a "
            f"'{columns.unit}' value (all null)"
        )
    inconsistent = units.filter(pl.col(_MIXED))
    # Sorted by unit: group_by returns units in a varying order, and the order of the
    # per-unit arrays changes the last digits of the sums the statistics take.
    consistent = units.filter(~pl.col(_MIXED)).sort(columns.unit)
    kinds = _metric_kinds(units, metric_dtypes)
    segment_tables = results[2:]
    latency_quantiles: dict[str, dict[str, float]] = {}
    if latency_dtype is not None:
        if progress:
            progress("Latency quantiles")
        requests = sum(int(summary.get(role, {}).get("requests", 0)) for role in ROLES)
        latency_quantiles = _latency_quantiles(frame, columns.latency, requests, name)
    if progress:
        progress("Sorting predictions")
    predictions: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    for role, value in zip(ROLES, (control_name, treatment_name), strict=True):
        # Filters on the raw columns are pushed into the Parquet scan.
        mine = scanned.filter((variant == value) & unit.is_not_null())
        row = dict(summary.get(role, {}))
        figures, predictions[role] = _variant_rows(
            mine,
            columns,
            time_dtype,
            prediction_dtype is not None,
            int(row.get("requests", 0)),
            recent_window,
            name,
        )
        row.update(latency_quantiles.get(role, {}))
        # Same key order as one summary query would give (the order of the warnings).
        summary[role] = {
            "requests": row.get("requests", 0),
            "time_min": figures["time_min"],
            "time_max": figures["time_max"],
            f"missing:{columns.time}": figures["missing_time"],
            **{k: v for k, v in row.items() if k != "requests"},
            "pred_mean": figures["pred_mean"],
            f"missing:{columns.prediction}": figures["missing_prediction"],
        }

    variants = {
        role: _variant_data(
            role,
            control_name if role == "control" else treatment_name,
            summary.get(role),
            consistent,
            predictions[role],
            latency_dtype is not None,
            error_dtype is not None,
        )
        for role in ROLES
    }
    metric_data = [
        MetricData(
            name=m,
            binary=bool(kinds[f"{m}__binary"]),
            missing_rows=int(kinds[f"{m}__missing"]),
            control=_unit_sums(consistent, "control", m),
            treatment=_unit_sums(consistent, "treatment", m),
        )
        for m in metrics
    ]
    inconsistent_ids = inconsistent.select(columns.unit).unique()
    segment_data = {
        segment: _segments(table, inconsistent_ids, columns.unit, primary or "")
        for segment, table in zip(segments if primary else [], segment_tables, strict=True)
    }
    times = [
        summary[r][t]
        for r in summary
        for t in ("time_min", "time_max")
        if summary[r][t] is not None
    ]
    return CanaryData(
        rows=rows,
        excluded=excluded,
        time_min=min(times) if times else None,
        time_max=max(times) if times else None,
        control=variants["control"],
        treatment=variants["treatment"],
        inconsistent_units=inconsistent.height,
        inconsistent_rows=int(inconsistent["rows"].sum()) if inconsistent.height else 0,
        metrics=metric_data,
        segments=segment_data,
        consistent_units=consistent.select(columns.unit, _TREATED),
        unit_column=columns.unit,
    )


def _variant_rows(
    frame: pl.LazyFrame,
    columns: CanaryColumns,
    time_dtype: pl.DataType,
    has_prediction: bool,
    rows: int,
    window: int,
    name: str,
) -> tuple[dict[str, Any], tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """One variant's time range and prediction mean; its valid predictions sorted, and its
    ``window`` most recent ones sorted.

    The prediction and time columns are read here anyway (for the sort), so their figures are
    computed from them rather than decoded a second time by the summary query. Both are read
    in one pass into preallocated numpy arrays (:func:`owned_columns`), so the peak is the two
    columns, 16 bytes a row of the variant, and the predictions are sorted in place.
    """
    physical_time = pl.col(columns.time).to_physical().cast(pl.Int64).fill_null(_NO_TIME)
    if has_prediction:
        prediction = pl.col(columns.prediction).cast(pl.Float64)
        stamps, values = owned_columns(frame, [physical_time, prediction], name, rows)
    else:
        stamps = owned_column(frame, physical_time, name, rows)
    has_time = stamps != _NO_TIME
    timed = int(np.count_nonzero(has_time))
    figures: dict[str, Any] = {
        # where= rather than stamps[has_time]: no copy of the column.
        "time_min": _as_time(stamps.min(where=has_time, initial=_LATEST), time_dtype)
        if timed
        else None,
        "time_max": _as_time(stamps.max(where=has_time, initial=_NO_TIME), time_dtype)
        if timed
        else None,
        "missing_time": len(stamps) - timed,
        "pred_mean": None,
        "missing_prediction": 0,
    }
    empty = np.empty(0, dtype=np.float64)
    if not has_prediction:
        return figures, (empty, empty)
    valid = ~np.isnan(values)  # nulls arrive as NaN
    valid_rows = int(np.count_nonzero(valid))
    figures["missing_prediction"] = len(values) - valid_rows
    recent = _recent(values, stamps, valid & has_time, window)
    del stamps, has_time
    values.sort()  # NaN (missing) last
    values = values[:valid_rows]
    figures["pred_mean"] = float(values.mean()) if valid_rows else None
    recent.sort()
    return figures, (values, recent)


def _latency_quantiles(
    frame: pl.LazyFrame, column: str, rows: int, name: str
) -> dict[str, dict[str, float]]:
    """p50 and p99 latency of each variant, from one read of the column and the role flag.

    Outside the streaming group-by, where a quantile held the whole column and more (2.3 GB
    at 50M rows): here the column (8 bytes a row), the flag and a copy of the treatment's
    values are alive, and the control's are partitioned in place (the treatment's set to NaN).
    """
    latency, treated = owned_columns(
        frame, [pl.col(column).cast(pl.Float64), pl.col(_TREATED)], name, rows
    )
    treated_latency = latency[treated]
    latency[treated] = np.nan
    wanted = {"p50": 0.50, "p99": 0.99}
    return {
        "control": quantiles_ignoring_nan(latency, wanted),
        "treatment": quantiles_ignoring_nan(treated_latency, wanted),
    }


def _as_time(physical: np.int64, dtype: pl.DataType) -> Any:
    """A physical (integer) time value back as the column's Python date or datetime."""
    return pl.Series([int(physical)], dtype=pl.Int64).cast(dtype).item()


def _recent(
    predictions: NDArray[np.float64],
    stamps: NDArray[np.int64],
    eligible: NDArray[np.bool_],
    window: int,
) -> NDArray[np.float64]:
    """The ``window`` eligible predictions with the latest times.

    The cut-off time is found chunk by chunk (memory O(chunk + window), not O(rows)); rows at
    exactly the cut-off are taken in log order until the window is full.
    """
    if int(np.count_nonzero(eligible)) <= window:
        return predictions[eligible].copy()
    top = np.empty(0, dtype=stamps.dtype)
    for start in range(0, len(stamps), _RECENT_CHUNK):
        chunk = stamps[start : start + _RECENT_CHUNK][eligible[start : start + _RECENT_CHUNK]]
        top = np.concatenate([top, chunk])
        if len(top) > window:
            top = np.partition(top, len(top) - window)[len(top) - window :]
    cutoff = top.min()
    later = eligible & (stamps > cutoff)
    room = window - int(np.count_nonzero(later))
    at_cutoff = np.flatnonzero(eligible & (stamps == cutoff))[:room]
    return np.concatenate([predictions[later], predictions[at_cutoff]])


def _excluded_rows(
    by_variant: pl.DataFrame, chosen: tuple[str, str], columns: CanaryColumns
) -> dict[str, int]:
    excluded: dict[str, int] = {}
    for row in by_variant.iter_rows(named=True):
        value, count, null_units = row["variant"], int(row["rows"]), int(row["null_units"])
        if value is None:
            excluded[f"null {columns.variant}"] = count
        elif value not in chosen:
            excluded[f"{columns.variant} = {value}"] = count
        elif null_units:
            key = f"null {columns.unit}"
            excluded[key] = excluded.get(key, 0) + null_units
    return excluded


def _variant_summary(
    frame: pl.LazyFrame,
    columns: CanaryColumns,
    latency_dtype: pl.DataType | None,
    error_dtype: pl.DataType | None,
) -> pl.LazyFrame:
    """Requests, errors and latency per variant (time and prediction: :func:`_variant_rows`)."""
    aggregations = [pl.len().alias("requests")]
    if error_dtype is not None:
        aggregations.append(error_flag(columns.error, error_dtype).sum().alias("errors"))
    if latency_dtype is not None:
        # The quantiles come from each variant's column (see aggregate_canary): a quantile
        # inside this streaming group-by held the whole column and more (2.3 GB at 50M rows).
        valid = ~missing_value(columns.latency, latency_dtype)
        aggregations.append((~valid).sum().alias(f"missing:{columns.latency}"))
    return frame.group_by(_TREATED).agg(aggregations)


def _metric_sums(metric: str, dtype: pl.DataType) -> list[pl.Expr]:
    valid = ~missing_value(metric, dtype)
    return [
        pl.col(metric).cast(pl.Float64).fill_nan(None).sum().alias(f"{metric}__x"),
        valid.sum().alias(f"{metric}__y"),
    ]


def _unit_table(
    frame: pl.LazyFrame, columns: CanaryColumns, metric_dtypes: dict[str, pl.DataType]
) -> pl.LazyFrame:
    treated_rows = pl.col(_TREATED).sum()
    aggregations = [
        pl.len().alias("rows"),
        (treated_rows > 0).alias(_TREATED),
        ((treated_rows > 0) & (treated_rows < pl.len())).alias(_MIXED),
    ]
    for metric, dtype in metric_dtypes.items():
        valid = ~missing_value(metric, dtype)
        value = pl.col(metric).cast(pl.Float64)
        aggregations += _metric_sums(metric, dtype)
        # Per-unit counts of values other than 0/1 and of missing values: summed over the
        # units they decide the metric's kind and its missing rows without another scan.
        aggregations += [
            (valid & (value != 0.0) & (value != 1.0)).sum().alias(f"{metric}__other"),
            (~valid).sum().alias(f"{metric}__missing"),
        ]
    # One row per unit (grouping by the unit alone is cheaper than by unit and variant); the
    # sums of a unit seen under both variants mix them, but such units are left out.
    return frame.group_by(columns.unit).agg(aggregations)


def _metric_kinds(units: pl.DataFrame, metric_dtypes: dict[str, pl.DataType]) -> dict[str, Any]:
    """Per metric: whether every value is 0/1 (a proportion) and how many rows miss it."""
    if not metric_dtypes:
        return {}
    aggregations = []
    for metric in metric_dtypes:
        aggregations += [
            (pl.col(f"{metric}__other").sum() == 0).alias(f"{metric}__binary"),
            pl.col(f"{metric}__missing").sum().alias(f"{metric}__missing"),
        ]
    return units.select(aggregations).row(0, named=True)


def _segment_table(
    frame: pl.LazyFrame,
    columns: CanaryColumns,
    segment: str,
    values: list[str],
    metric: str,
    metric_dtypes: dict[str, pl.DataType],
) -> pl.LazyFrame:
    value = pl.col(segment).cast(pl.String)
    return (
        frame.filter(value.is_in(values))
        .group_by([value.alias("value"), columns.unit, _TREATED])
        .agg([pl.len().alias("rows"), *_metric_sums(metric, metric_dtypes[metric])])
    )


def _unit_sums(units: pl.DataFrame, role: str, metric: str) -> UnitSums:
    mine = units.filter(_is(role) & (pl.col(f"{metric}__y") > 0))
    return UnitSums(
        mine[f"{metric}__x"].cast(pl.Float64).to_numpy(),
        mine[f"{metric}__y"].cast(pl.Float64).to_numpy(),
    )


def _segments(
    table: pl.DataFrame, inconsistent: pl.DataFrame, unit: str, metric: str
) -> list[SegmentData]:
    table = table.join(inconsistent, on=unit, how="anti").sort(unit)  # stable digits
    rows_by_value = table.group_by("value").agg(pl.col("rows").sum())
    ordered = rows_by_value.sort(["rows", "value"], descending=[True, False])
    return [
        SegmentData(
            value=str(value),
            rows=int(rows),
            control=_unit_sums(table.filter(pl.col("value") == value), "control", metric),
            treatment=_unit_sums(table.filter(pl.col("value") == value), "treatment", metric),
        )
        for value, rows in ordered.iter_rows()
    ]


def _variant_data(
    role: str,
    name: str,
    summary: dict[str, Any] | None,
    consistent: pl.DataFrame,
    predictions: tuple[NDArray[np.float64], NDArray[np.float64]],
    has_latency: bool,
    has_error: bool,
) -> VariantData:
    summary = summary or {}
    return VariantData(
        name=name,
        requests=int(summary.get("requests", 0)),
        units=consistent.filter(_is(role)).height,
        errors=int(summary.get("errors") or 0) if has_error else None,
        latency_p50_ms=_float(summary.get("p50")) if has_latency else None,
        latency_p99_ms=_float(summary.get("p99")) if has_latency else None,
        prediction_mean=_float(summary.get("pred_mean")),
        missing={
            key.removeprefix("missing:"): int(n)
            for key, n in summary.items()
            if key.startswith("missing:") and n
        },
        predictions_sorted=predictions[0],
        recent_sorted=predictions[1],
    )


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
