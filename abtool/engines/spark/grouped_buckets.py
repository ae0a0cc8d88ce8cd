"""Values of several groups held by Spark (each variant's or arm's latencies), as
:class:`~abtool.stats.bucket_source.BucketSource` views: one group against another, or one
against all the others.

One counting pass per grid serves every view (``groupBy(group, bucket)``, cached by grid), so
the quantiles of ``k`` arms against their peers cost one pass for the extent, one for the
first grid's counts, and a small fetch per arm; :mod:`abtool.stats.bucketed` turns them into
the exact quantiles (equal to numpy's on the sorted values). Nulls and NaN are dropped here, as
the local reader drops them; infinities count (in the outer buckets).

When all groups together hold at most ``cap`` values, they come back through Arrow in one
query instead, and each view is an in-memory
:class:`~abtool.stats.bucket_source.ArrayBucketSource` (the same results: bucketed
statistics equal numpy's; a small log then costs two Spark jobs, not ``2 + k``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from abtool.engines.spark.source import arrow_columns, collect_rows
from abtool.engines.spark_buckets import bucket_index
from abtool.stats.bucket_source import (
    ArrayBucketSource,
    BucketCounts,
    BucketSource,
    DyadicGrid,
    Extent,
    Floats,
    ValueRange,
)

GROUP, VALUE = "group", "value"


@dataclass(frozen=True)
class _GroupCounts:
    counts: NDArray[np.int64]  # (groups, buckets)
    low: Floats  # (groups, buckets), +inf where empty
    high: Floats  # (groups, buckets), -inf where empty


class GroupedBuckets:
    """Values of groups ``0 .. groups - 1`` (a long frame of ``group`` and ``value``)."""

    def __init__(
        self,
        frame: DataFrame,
        groups: int,
        name: str,
        cap: int = 0,
        sizes: Sequence[int] | None = None,
    ) -> None:
        """``sizes``: the values per group when the caller's own query counted them (null
        and NaN left out), which spares a pass when they are under ``cap``."""
        value = F.col(VALUE).cast("double")
        self.frame = frame.select(F.col(GROUP).cast("int").alias(GROUP), value.alias(VALUE)).where(
            F.col(VALUE).isNotNull() & ~F.isnan(F.col(VALUE))
        )
        self.groups = groups
        self.name = name
        self.cap = cap
        self._sizes = list(sizes) if sizes is not None else None
        self._extent: tuple[NDArray[np.int64], Floats, Floats] | None = None
        self._counts: dict[DyadicGrid, _GroupCounts] = {}
        self._local: tuple[NDArray[np.int64], Floats] | None = None

    def view(self, a: Sequence[int], b: Sequence[int]) -> BucketSource:
        """Groups ``a`` as the first sample, ``b`` as the second."""
        if self._fetched():
            assert self._local is not None
            group, values = self._local
            return ArrayBucketSource(values[np.isin(group, a)], values[np.isin(group, b)])
        return GroupView(self, tuple(a), tuple(b))

    def _fetched(self) -> bool:
        """Whether the values are small enough to hold here (fetched on first ask)."""
        total = sum(self._sizes) if self._sizes is not None else int(self.sizes().sum())
        if self._local is None and total <= self.cap:
            table = arrow_columns(self.frame, self.name)
            self._local = (table[GROUP].astype(np.int64), table[VALUE].astype(np.float64))
        return self._local is not None

    def against_rest(self, group: int) -> BucketSource:
        """One group as the first sample, every other group pooled as the second."""
        return self.view([group], [g for g in range(self.groups) if g != group])

    def sizes(self) -> NDArray[np.int64]:
        """Values per group (nulls and NaN left out)."""
        return self._group_extent()[0]

    def _group_extent(self) -> tuple[NDArray[np.int64], Floats, Floats]:
        if self._extent is None:
            value = F.col(VALUE)
            finite = F.when(F.abs(value) != F.lit(float("inf")), value)
            rows = collect_rows(
                self.frame.groupBy(GROUP).agg(
                    F.count(F.lit(1)).alias("n"),
                    F.min(finite).alias("low"),
                    F.max(finite).alias("high"),
                ),
                self.name,
            )
            n = np.zeros(self.groups, dtype=np.int64)
            low = np.full(self.groups, np.inf)
            high = np.full(self.groups, -np.inf)
            for row in rows:
                g = int(row[GROUP])
                n[g] = int(row["n"])
                if row["low"] is not None:
                    low[g], high[g] = float(row["low"]), float(row["high"])
            self._extent = (n, low, high)
        return self._extent

    def _grid_counts(self, grid: DyadicGrid) -> _GroupCounts:
        if grid not in self._counts:
            query = self.frame.groupBy(
                F.col(GROUP), bucket_index(F.col(VALUE), grid).alias("bucket")
            ).agg(
                F.count(F.lit(1)).alias("n"),
                F.min(VALUE).alias("low"),
                F.max(VALUE).alias("high"),
            )
            table = arrow_columns(query, self.name)
            buckets = grid.count + 1
            counts = np.zeros((self.groups, buckets), dtype=np.int64)
            low = np.full((self.groups, buckets), np.inf)
            high = np.full((self.groups, buckets), -np.inf)
            group = table[GROUP].astype(np.int64)
            bucket = table["bucket"].astype(np.int64)
            counts[group, bucket] = table["n"].astype(np.int64)
            low[group, bucket] = table["low"].astype(np.float64)
            high[group, bucket] = table["high"].astype(np.float64)
            self._counts[grid] = _GroupCounts(counts, low, high)
        return self._counts[grid]

    def _values(
        self, groups: tuple[int, ...], ranges: Sequence[ValueRange]
    ) -> tuple[NDArray[np.int64], Floats]:
        value = F.col(VALUE)
        condition: Column = F.lit(False)
        for value_range in ranges:
            inside = F.lit(True)
            if value_range.low is not None:
                inside = inside & (value >= F.lit(value_range.low))
            if value_range.high is not None:
                inside = inside & (value < F.lit(value_range.high))
            condition = condition | inside
        query = self.frame.where(F.col(GROUP).isin(*groups) & condition)
        table = arrow_columns(query, self.name)
        return table[GROUP].astype(np.int64), table[VALUE].astype(np.float64)


class GroupView:
    """Two sets of groups of a :class:`GroupedBuckets` as a bucket source."""

    def __init__(self, owner: GroupedBuckets, a: tuple[int, ...], b: tuple[int, ...]) -> None:
        self.owner, self.a, self.b = owner, a, b

    def extent(self) -> Extent:
        n, low, high = self.owner._group_extent()
        both = list(self.a + self.b)
        lows, highs = low[both], high[both]
        finite = np.isfinite(lows)
        return Extent(
            int(n[list(self.a)].sum()),
            int(n[list(self.b)].sum()),
            float(lows[finite].min()) if finite.any() else None,
            float(highs[finite].max()) if finite.any() else None,
        )

    def counts(self, grid: DyadicGrid) -> BucketCounts:
        found = self.owner._grid_counts(grid)
        both = list(self.a + self.b)
        low = found.low[both].min(axis=0)
        high = found.high[both].max(axis=0)
        counts_a = found.counts[list(self.a)].sum(axis=0)
        counts_b = found.counts[list(self.b)].sum(axis=0)
        empty = counts_a + counts_b == 0
        low[empty] = high[empty] = np.nan
        return BucketCounts(counts_a, counts_b, low, high)

    def values(self, ranges: Sequence[ValueRange]) -> tuple[Floats, Floats]:
        if not ranges:
            return np.empty(0), np.empty(0)
        group, values = self.owner._values(self.a + self.b, ranges)
        return values[np.isin(group, self.a)], values[np.isin(group, self.b)]
