"""canary-decide on Polars: per-unit metric sums, for the whole log and per segment value.

The unit table has one row per unit (grouping by the unit alone is cheaper than by unit and
variant); a unit seen under both variants is *inconsistent* and left out of every unit-level
comparison, never counted in both groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from abtool.aggregates.canary import CanaryRequest, MetricData, SegmentData, UnitSums
from abtool.assignment import in_treatment
from abtool.commands.canary import CanaryColumns
from abtool.engines.polars.canary_roles import ROLES, TREATED
from abtool.engines.polars.canary_variants import is_role
from abtool.engines.polars.hygiene import finite_float, unusable_number

MIXED = "__mixed"


def _metric_sums(metric: str, dtype: pl.DataType) -> list[pl.Expr]:
    valid = ~unusable_number(metric, dtype)
    return [
        finite_float(metric).sum().alias(f"{metric}__x"),
        valid.sum().alias(f"{metric}__y"),
    ]


def unit_table(
    frame: pl.LazyFrame,
    columns: CanaryColumns,
    metric_dtypes: dict[str, pl.DataType],
    extra: list[pl.Expr] | None = None,
) -> pl.LazyFrame:
    """One row per unit: rows, role, mixed flag, each metric's sums, and ``extra``."""
    treated_rows = pl.col(TREATED).sum()
    aggregations = [
        pl.len().alias("rows"),
        (treated_rows > 0).alias(TREATED),
        ((treated_rows > 0) & (treated_rows < pl.len())).alias(MIXED),
        *(extra or []),
    ]
    for metric, dtype in metric_dtypes.items():
        valid = ~unusable_number(metric, dtype)
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


def metric_kinds(units: pl.DataFrame, metric_dtypes: dict[str, pl.DataType]) -> dict[str, Any]:
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


def segment_table(
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
        .group_by([value.alias("value"), columns.unit, TREATED])
        .agg([pl.len().alias("rows"), *_metric_sums(metric, metric_dtypes[metric])])
    )


def unit_sums(units: pl.DataFrame, role: str, metric: str, pre: str | None = None) -> UnitSums:
    """Per-unit sums of ``metric`` in ``role``; with ``pre`` (the covariate columns' prefix,
    see :mod:`abtool.engines.polars.canary_pre`) also the covariate's sums."""
    mine = units.filter(is_role(role) & (pl.col(f"{metric}__y") > 0))
    covariate: dict[str, Any] = {}
    if pre is not None and f"{metric}{pre}_x" in mine.columns:
        covariate = {
            "pre_x": mine[f"{metric}{pre}_x"].cast(pl.Float64).to_numpy(),
            "pre_y": mine[f"{metric}{pre}_y"].cast(pl.Float64).to_numpy(),
        }
    return UnitSums(
        mine[f"{metric}__x"].cast(pl.Float64).to_numpy(),
        mine[f"{metric}__y"].cast(pl.Float64).to_numpy(),
        **covariate,
    )


def metric_records(
    consistent: pl.DataFrame,
    kinds: dict[str, Any],
    metrics: Sequence[str],
    adjusted: set[str],
    pre: str,
) -> list[MetricData]:
    """Each metric's record from the consistent units' table (both engines' unit tables end
    here): its kind and missing rows (:func:`metric_kinds`), each role's per-unit sums, with
    the covariate's (columns prefixed ``pre``) for the metrics CUPED ``adjusted``."""
    return [
        MetricData(
            name=m,
            binary=bool(kinds[f"{m}__binary"]),
            missing_rows=int(kinds[f"{m}__missing"]),
            control=unit_sums(consistent, "control", m, pre if m in adjusted else None),
            treatment=unit_sums(consistent, "treatment", m, pre if m in adjusted else None),
        )
        for m in metrics
    ]


def segments_of(
    table: pl.DataFrame, inconsistent: pl.DataFrame, unit: str, metric: str
) -> list[SegmentData]:
    table = table.join(inconsistent, on=unit, how="anti").sort(unit)  # stable digits
    rows_by_value = table.group_by("value").agg(pl.col("rows").sum())
    ordered = rows_by_value.sort(["rows", "value"], descending=[True, False])
    return [
        SegmentData(
            value=str(value),
            rows=int(rows),
            control=unit_sums(table.filter(pl.col("value") == value), "control", metric),
            treatment=unit_sums(table.filter(pl.col("value") == value), "treatment", metric),
        )
        for value, rows in ordered.iter_rows()
    ]


def salt_mismatches(
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
