"""Two samples held by Spark as a :class:`~abtool.stats.bucket_source.BucketSource`.

Counting is one ``groupBy(sample, bucket)`` whose bucket index is plain column arithmetic
on a dyadic grid (division by a power of two, ``floor``, a +-1 correction; see
:meth:`abtool.stats.bucket_source.DyadicGrid.bucket_of`), so it runs as generated code on
any Spark, classic or Connect, without Python UDFs, and equals numpy's binary search. Only
the per-bucket counts (at most two rows per bucket) and the values of a few value ranges
come back to the driver, through Arrow.

The samples are one long frame with columns ``sample`` (0 = a, 1 = b) and ``value``
(double); nulls and NaN are dropped here, as the local reader drops them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from abtool.stats.bucket_source import (
    BucketCounts,
    DyadicGrid,
    Extent,
    Floats,
    ValueRange,
)

SAMPLE, VALUE = "sample", "value"


class SparkBucketSource:
    """A :class:`BucketSource` over a long frame of ``sample`` and ``value``."""

    def __init__(self, long_frame: DataFrame) -> None:
        value = F.col(VALUE).cast("double")
        self.frame = long_frame.select(F.col(SAMPLE).cast("int").alias(SAMPLE), value.alias(VALUE))
        self.frame = self.frame.where(F.col(VALUE).isNotNull() & ~F.isnan(F.col(VALUE)))

    @classmethod
    def from_columns(
        cls, frame: DataFrame, a: str | Column, b: str | Column, *, paired: bool = True
    ) -> SparkBucketSource:
        """Two columns of one frame, read in a single scan.

        Args:
            paired: keep only rows where both columns hold a value (a shadow log compares
                the two predictions of the same requests).
        """
        col_a, col_b = _column(a), _column(b)
        if paired:
            frame = frame.where(_present(col_a) & _present(col_b))
        both = F.array(
            F.struct(F.lit(0).alias(SAMPLE), col_a.cast("double").alias(VALUE)),
            F.struct(F.lit(1).alias(SAMPLE), col_b.cast("double").alias(VALUE)),
        )
        return cls(frame.select(F.inline(both)))

    @classmethod
    def from_frames(
        cls, frame_a: DataFrame, a: str | Column, frame_b: DataFrame, b: str | Column
    ) -> SparkBucketSource:
        """One column from each of two frames (e.g. the two variants of a canary)."""
        first = frame_a.select(F.lit(0).alias(SAMPLE), _column(a).cast("double").alias(VALUE))
        second = frame_b.select(F.lit(1).alias(SAMPLE), _column(b).cast("double").alias(VALUE))
        return cls(first.unionByName(second))

    def extent(self) -> Extent:
        value = F.col(VALUE)
        finite = F.when((value != F.lit(float("inf"))) & (value != F.lit(float("-inf"))), value)
        row = self.frame.agg(
            F.sum(F.when(F.col(SAMPLE) == 0, 1).otherwise(0)).alias("n_a"),
            F.sum(F.when(F.col(SAMPLE) == 1, 1).otherwise(0)).alias("n_b"),
            F.min(finite).alias("low"),
            F.max(finite).alias("high"),
        ).collect()[0]
        low, high = row["low"], row["high"]
        return Extent(
            int(row["n_a"] or 0),
            int(row["n_b"] or 0),
            None if low is None else float(low),
            None if high is None else float(high),
        )

    def counts(self, grid: DyadicGrid) -> BucketCounts:
        rows = (
            self.frame.groupBy(F.col(SAMPLE), bucket_index(F.col(VALUE), grid).alias("bucket"))
            .agg(
                F.count(F.lit(1)).alias("n"),
                F.min(VALUE).alias("low"),
                F.max(VALUE).alias("high"),
            )
            .toArrow()
        )
        return _bucket_counts(rows, grid.count + 1)

    def values(self, ranges: Sequence[ValueRange]) -> tuple[Floats, Floats]:
        if not ranges:
            return np.empty(0), np.empty(0)
        from abtool.engines.spark.ranges import in_ranges

        table = in_ranges(self.frame, VALUE, ranges).toArrow()
        sample = table.column(SAMPLE).to_numpy()
        values = table.column(VALUE).to_numpy().astype(np.float64)
        return values[sample == 0], values[sample == 1]


def bucket_index(value: Column, grid: DyadicGrid) -> Column:
    """The bucket of ``value`` on ``grid`` as a Spark expression (NaN must be gone).

    Outside ``[grid.low, grid.high)`` the outer buckets; inside, ``floor(value / width)``,
    which is exact because the width is a power of two, moved by one where the quotient was
    subnormal and rounded. The division runs only inside the grid (ANSI mode would reject
    ``floor`` of an infinity).
    """
    width = F.lit(grid.width)
    k = F.floor(value / width)
    fixed = F.when(k * width > value, k - 1).when((k + 1) * width <= value, k + 1).otherwise(k)
    return (
        F.when(value < F.lit(grid.low), F.lit(0))
        .when(value >= F.lit(grid.high), F.lit(grid.count))
        .otherwise(fixed - F.lit(grid.first) + 1)
        .cast("long")
    )


def _bucket_counts(rows: pa.Table, buckets: int) -> BucketCounts:
    sample = rows.column(SAMPLE).to_numpy()
    bucket = rows.column("bucket").to_numpy().astype(np.int64)
    n = rows.column("n").to_numpy().astype(np.int64)
    low_values = rows.column("low").to_numpy().astype(np.float64)
    high_values = rows.column("high").to_numpy().astype(np.float64)
    counts = []
    for which in (0, 1):
        mine = sample == which
        per_bucket = np.zeros(buckets, dtype=np.int64)
        per_bucket[bucket[mine]] = n[mine]
        counts.append(per_bucket)
    low = np.full(buckets, np.inf)
    high = np.full(buckets, -np.inf)
    np.minimum.at(low, bucket, low_values)
    np.maximum.at(high, bucket, high_values)
    empty = counts[0] + counts[1] == 0
    low[empty] = high[empty] = np.nan
    return BucketCounts(counts[0], counts[1], low, high)


def _present(column: Column) -> Column:
    return column.isNotNull() & ~F.isnan(column.cast("double"))


def _column(column: str | Column) -> Column:
    return F.col(column) if isinstance(column, str) else column
