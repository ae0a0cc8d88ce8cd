"""Per-segment aggregates of a shadow log: counts in one grouped pass, distances in numpy.

Every segment column is grouped in one pass (keys: all segment columns at once); each
column's figures are then sums over the groups. The within-segment KS D needs each value's
predictions sorted: the prediction columns are read into numpy once anyway, so each segment
column adds a read of small integer codes, a radix sort of the codes (linear time), and one
sort of each model's values within each segment, not another scan of the log.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.aggregates.shadow import SegmentCounts
from abtool.stats.categorical import total_variation
from abtool.stats.ks import ks_statistic_sorted


def key(i: int) -> str:
    return f"segment_{i}"


def segment_keys(segments: list[str]) -> list[pl.Expr]:
    """The group keys of every segment column, as text."""
    return [pl.col(c).cast(pl.String).alias(key(i)) for i, c in enumerate(segments)]


def segment_query(
    frame: pl.LazyFrame, valid: pl.Expr, segments: list[str], agree: pl.Expr, disagreement: pl.Expr
) -> pl.LazyFrame:
    """Compared rows, agreements and disagreement sums per combination of segment values."""
    return (
        frame.filter(valid)
        .group_by(segment_keys(segments))
        .agg(
            pl.len().alias("rows"),
            agree.sum().alias("agreements"),
            disagreement.sum().alias("disagreement_sum"),
        )
    )


def segment_tables(
    groups: pl.DataFrame, segments: list[str], min_rows: int
) -> dict[str, SegmentCounts]:
    """Each column's values with at least ``min_rows`` compared rows (distances still NaN)."""
    # Summed in key order, so the float sums are the same on every run.
    groups = groups.sort([key(i) for i in range(len(segments))], nulls_last=True)
    tables = {}
    for i, segment in enumerate(segments):
        table = (
            groups.group_by(pl.col(key(i)).alias("value"))
            .agg(pl.col("rows").sum(), pl.col("agreements").sum(), pl.col("disagreement_sum").sum())
            .filter(pl.col("rows") > 0)
            .sort("value", nulls_last=True)  # a stable order, whatever the grouping gave
        )
        big = table.filter(pl.col("rows") >= min_rows)
        tables[segment] = SegmentCounts(
            values=big.get_column("value").to_list(),
            rows=big.get_column("rows").cast(pl.Int64).to_numpy().copy(),
            agreements=big.get_column("agreements").cast(pl.Int64).to_numpy().copy(),
            disagreement_sums=big.get_column("disagreement_sum").cast(pl.Float64).to_numpy(),
            distances=np.full(big.height, np.nan),
            left_out=table.height - big.height,
        )
    return tables


@dataclass(frozen=True)
class SegmentCodes:
    """How one segment column's listed values are read as small integer codes."""

    column: str
    expr: pl.Expr
    values: int  # codes 0..values-1 are the listed values; ``values`` is any other value


def code_exprs(tables: dict[str, SegmentCounts]) -> list[SegmentCodes]:
    """An integer code per row for each segment column with listed values."""
    found = []
    for column, table in tables.items():
        k = len(table.values)
        if k == 0:
            continue
        dtype = pl.UInt8 if k < 255 else pl.UInt16 if k < 65_535 else pl.UInt32
        named = [v for v in table.values if v is not None]
        codes = [i for i, v in enumerate(table.values) if v is not None]
        null_code = next((i for i, v in enumerate(table.values) if v is None), k)
        expr = (
            pl.col(column)
            .cast(pl.String)
            .replace_strict(named, codes, default=k, return_dtype=dtype)
            .fill_null(pl.lit(null_code, dtype=dtype))
        )
        found.append(SegmentCodes(column, expr, k))
    return found


def with_ks_distances(
    tables: dict[str, SegmentCounts],
    codes: list[SegmentCodes],
    code_arrays: list[NDArray[Any]],
    primary: NDArray[np.float64],
    shadow: NDArray[np.float64],
) -> dict[str, SegmentCounts]:
    """Tables with the exact KS D of each listed value.

    ``primary`` and ``shadow`` are the unsorted prediction columns with NaN on both sides
    wherever a row is not compared, aligned with ``code_arrays``.
    """
    out = dict(tables)

    def distance(rows: NDArray[np.intp]) -> float:
        a = primary[rows]
        a = a[~np.isnan(a)]
        b = shadow[rows]
        b = b[~np.isnan(b)]
        if not (len(a) and len(b)):
            return float("nan")
        a.sort()
        b.sort()
        return ks_statistic_sorted(a, b, workers=1)

    # numpy releases the GIL while it gathers, sorts and merges: two values at a time.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for spec, row_codes in zip(codes, code_arrays, strict=True):
            # A stable sort of small integers is numpy's radix sort: linear in the rows.
            order = np.argsort(row_codes, kind="stable")
            ends = np.cumsum(np.bincount(row_codes, minlength=spec.values + 1))
            starts = np.concatenate([[0], ends[:-1]])
            groups = (order[starts[c] : ends[c]] for c in range(spec.values))
            distances = np.array(list(pool.map(distance, groups)), dtype=np.float64)
            out[spec.column] = replace(tables[spec.column], distances=distances)
    return out


def label_queries(
    frame: pl.LazyFrame, valid: pl.Expr, segments: list[str], labels: tuple[pl.Expr, pl.Expr]
) -> list[pl.LazyFrame]:
    """Counts of each model's labels per combination of segment values (two queries)."""
    return [
        frame.filter(valid)
        .group_by([*segment_keys(segments), label.cast(pl.String).alias("label")])
        .agg(pl.len().alias("n"))
        for label in labels
    ]


def whole_label_counts(
    counts: tuple[pl.DataFrame, pl.DataFrame],
) -> tuple[list[str], list[int], list[int]]:
    """Whole-log label counts of both models from the per-segment counts."""
    totals = [dict(c.group_by("label").agg(pl.col("n").sum()).iter_rows()) for c in counts]
    labels = sorted(set(totals[0]) | set(totals[1]), key=str)
    return (
        [str(x) for x in labels],
        [int(totals[0].get(x, 0)) for x in labels],
        [int(totals[1].get(x, 0)) for x in labels],
    )


def with_label_distances(
    tables: dict[str, SegmentCounts], counts: tuple[pl.DataFrame, pl.DataFrame]
) -> dict[str, SegmentCounts]:
    """Tables with the total variation distance of the labels within each listed value."""
    out = dict(tables)
    for i, (column, table) in enumerate(tables.items()):
        per_value = [
            {
                (value, label): int(n)
                for value, label, n in c.group_by([key(i), "label"])
                .agg(pl.col("n").sum())
                .iter_rows()
            }
            for c in counts
        ]
        labels = sorted({label for d in per_value for _, label in d}, key=str)
        distances = np.full(len(table.values), np.nan)
        for j, value in enumerate(table.values):
            a = [per_value[0].get((value, label), 0) for label in labels]
            b = [per_value[1].get((value, label), 0) for label in labels]
            if sum(a) and sum(b):
                distances[j] = total_variation(a, b)
        out[column] = replace(table, distances=distances)
    return out
