"""canary-decide on Polars: each variant's health (which values are control and treatment:
:mod:`abtool.engines.polars.canary_resolve`).

Each variant's time and prediction columns are read once into numpy arrays
(:mod:`abtool.engines.polars.canary_roles`, 16 bytes a row of the variant) and sorted in
place: the time range, the prediction mean, the sorted predictions for the KS statistic and
the most recent predictions for the KS test all come from that one read.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.aggregates.canary import CanaryRequest, PredictionKS, VariantData
from abtool.commands.canary import CanaryColumns
from abtool.engines.polars.canary_roles import NO_TIME, ROLES, TREATED, RoleColumns
from abtool.engines.polars.hygiene import (
    blank_non_finite,
    blank_unusable_latency,
    unusable_latency,
)
from abtool.engines.polars.schema import error_flag
from abtool.stats.bucket_source import ArrayBucketSource
from abtool.stats.bucketed import ks_bounds

_RECENT_CHUNK = 1_000_000
_LATEST = np.iinfo(np.int64).max


def is_role(role: str) -> pl.Expr:
    """Rows (or units) of ``role``."""
    return pl.col(TREATED) if role == "treatment" else ~pl.col(TREATED)


def variant_summary(
    frame: pl.LazyFrame,
    columns: CanaryColumns,
    latency_dtype: pl.DataType | None,
    error_dtype: pl.DataType | None,
    by: tuple[str, ...] = (TREATED,),
) -> pl.LazyFrame:
    """Requests, errors and latency per variant (time and prediction: :func:`_variant_rows`);
    with ``by`` also the time bucket, so the per-bucket counts cost no pass of their own."""
    aggregations = [pl.len().alias("requests")]
    if error_dtype is not None:
        aggregations.append(error_flag(columns.error, error_dtype).sum().alias("errors"))
    if latency_dtype is not None:
        # The quantiles come from each variant's column (see aggregate_canary): a quantile
        # inside this streaming group-by held the whole column and more (2.3 GB at 50M rows).
        unusable = unusable_latency(columns.latency, latency_dtype)
        aggregations.append(unusable.sum().alias(f"missing:{columns.latency}"))
    return frame.group_by(*by).agg(aggregations)


def variant_rows(
    arrays: list[NDArray[Any]],
    time_dtype: pl.DataType,
    window: int,
) -> tuple[dict[str, Any], tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """One variant's time range and prediction mean; its valid predictions sorted, and its
    ``window`` most recent ones sorted.

    ``arrays`` (emptied here) holds the variant's physical times and, when the log has them,
    its predictions (:meth:`~abtool.engines.polars.canary_roles.RoleColumns.role`). The
    prediction and time columns are read for the sort anyway, so their figures are computed
    from them rather than decoded a second time by the summary query. The predictions are
    sorted in place.
    """
    stamps = arrays[0]
    values = arrays[1] if len(arrays) > 1 else None
    arrays.clear()
    has_time = stamps != NO_TIME
    timed = int(np.count_nonzero(has_time))
    figures: dict[str, Any] = {
        # where= rather than stamps[has_time]: no copy of the column.
        "time_min": _as_time(stamps.min(where=has_time, initial=_LATEST), time_dtype)
        if timed
        else None,
        "time_max": _as_time(stamps.max(where=has_time, initial=NO_TIME), time_dtype)
        if timed
        else None,
        "missing_time": len(stamps) - timed,
        "pred_mean": None,
        "missing_prediction": 0,
    }
    empty = np.empty(0, dtype=np.float64)
    if values is None:
        return figures, (empty, empty)
    blank_non_finite(values)  # ±inf is left out with the missing values
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


def latency_quantiles(
    arrays: list[NDArray[Any]], count: int | None
) -> tuple[dict[str, dict[str, float]], dict[str, list[float | None]] | None]:
    """p50 and p99 latency of each variant, from one read of the column and its group key
    (:meth:`~abtool.engines.polars.canary_roles.RoleColumns.latency`, emptied here); with
    ``count`` buckets, also each variant's p99 per bucket
    (:func:`abtool.engines.polars.canary_buckets.role_latency_quantiles`).

    Outside the streaming group-by, where a quantile held the whole column and more (2.3 GB
    at 50M rows): here the column and a 16-bit group key are read (10 bytes a row), then
    ordered by group.
    """
    from abtool.engines.polars.canary_buckets import role_latency_quantiles

    blank_unusable_latency(arrays[0])
    return role_latency_quantiles(arrays, count)  # which empties the list


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

    The cut-off time is found chunk by chunk (memory O(chunk + window), not O(rows)); of the
    rows at exactly the cut-off, the largest predictions fill the window (the stated order
    every engine uses: time, then prediction, both descending; the order files are read in is
    no order on a cluster).
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
    at_cutoff = np.sort(predictions[eligible & (stamps == cutoff)])[::-1][:room]
    return np.concatenate([predictions[later], at_cutoff])


def variant_data(
    name: str,
    summary: dict[str, Any],
    units: int,
    predictions: tuple[NDArray[np.float64], NDArray[np.float64]],
    has_latency: bool,
    has_error: bool,
) -> VariantData:
    """One variant's record from its summary row (requests, errors, latency, figures)."""
    return VariantData(
        name=name,
        requests=int(summary.get("requests", 0)),
        units=units,
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
    """A figure as a float; None when it is missing or not finite (no usable value)."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def variant_figures(
    read: RoleColumns,
    columns: CanaryColumns,
    time_dtype: pl.DataType,
    has_latency: bool,
    recent_window: int,
    summary: dict[str, dict[str, Any]],
    bucket_count: int | None,
    progress: Callable[[str], None] | None,
) -> tuple[dict[str, dict[str, Any]], dict[str, list[float | None]] | None]:
    """Each role's summary with its latency quantiles, time range and predictions added, and
    each role's p99 latency per bucket (with ``bucket_count`` buckets).

    ``read`` gives the arrays (:mod:`abtool.engines.polars.canary_roles`): the latency
    first, then each role's times and predictions.
    """
    quantiles: dict[str, dict[str, float]] = {}
    p99 = None
    if has_latency:
        if progress:
            progress("Latency quantiles")
        quantiles, p99 = latency_quantiles(read.latency(), bucket_count)
    if progress:
        progress("Sorting predictions")
    figures_by_role: dict[str, dict[str, Any]] = {}
    for role in ROLES:
        row = dict(summary.get(role, {}))
        figures, predictions = variant_rows(read.role(role), time_dtype, recent_window)
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
    return figures_by_role, p99


def role_rows(
    scanned: pl.LazyFrame,
    frame: pl.LazyFrame,
    columns: CanaryColumns,
    names: tuple[str, str],
    in_memory: bool,
) -> dict[str, pl.LazyFrame]:
    """Each role's rows: filtered on the raw columns of a scan (``scanned``), so the filter is
    pushed into the Parquet reader; by the role flag of ``frame`` when it is held in memory."""
    if in_memory:
        return {role: frame.filter(is_role(role)) for role in ROLES}
    unit = pl.col(columns.unit)
    variant = pl.col(columns.variant).cast(pl.String)
    return {
        role: scanned.filter((variant == value) & unit.is_not_null())
        for role, value in zip(ROLES, names, strict=True)
    }


def approximate_ks(
    control: VariantData, treatment: VariantData, request: CanaryRequest
) -> PredictionKS | None:
    """With ``--ks approximate``: the bounds of the all-rows KS D from one counting pass over
    value buckets, as an engine that cannot sort reports them (None otherwise: the report
    computes the exact D from the sorted predictions)."""
    a, b = control.predictions_sorted, treatment.predictions_sorted
    if request.ks != "approximate" or not (len(a) and len(b)):
        return None
    bounds = ks_bounds(ArrayBucketSource(a, b))
    return PredictionKS(None, bounds.lower, bounds.upper)
