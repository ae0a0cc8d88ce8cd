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

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from abtool.engines.spark.ranges import in_group_ranges
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
from abtool.stats.bucketed import BucketedQuantiles, exact_quantiles

GROUP, VALUE = "group", "value"


@dataclass(frozen=True)
class _GroupCounts:
    """One grid's non-empty (group, bucket) cells: their count and value range."""

    buckets: int
    group: NDArray[np.int64]
    bucket: NDArray[np.int64]
    n: NDArray[np.int64]
    low: Floats
    high: Floats


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
            self._counts[grid] = _GroupCounts(
                grid.count + 1,
                table[GROUP].astype(np.int64),
                table["bucket"].astype(np.int64),
                table["n"].astype(np.int64),
                table["low"].astype(np.float64),
                table["high"].astype(np.float64),
            )
        return self._counts[grid]

    def _values(
        self, groups: tuple[int, ...], ranges: Sequence[ValueRange]
    ) -> tuple[NDArray[np.int64], Floats]:
        query = in_group_ranges(self.frame, GROUP, VALUE, [(groups, ranges)])
        table = arrow_columns(query, self.name)
        return table[GROUP].astype(np.int64), table[VALUE].astype(np.float64)

    def _values_of(
        self, asks: Sequence[tuple[tuple[int, ...], Sequence[ValueRange]]]
    ) -> tuple[NDArray[np.int64], Floats]:
        """The values any of several (groups, ranges) asks wants, in one query."""
        table = arrow_columns(in_group_ranges(self.frame, GROUP, VALUE, asks), self.name)
        return table[GROUP].astype(np.int64), table[VALUE].astype(np.float64)


class _Deferred(Exception):
    """Raised by a view asked for values it has not fetched yet (the first of two rounds)."""


class GroupView:
    """Two sets of groups of a :class:`GroupedBuckets` as a bucket source."""

    def __init__(self, owner: GroupedBuckets, a: tuple[int, ...], b: tuple[int, ...]) -> None:
        self.owner, self.a, self.b = owner, a, b

    def extent(self) -> Extent:
        """The two samples' sizes, and the finite range of *every* group: each view then
        counts on the same first grid (one pass for all; a wider range than a view's own
        costs no exactness, see :meth:`DyadicGrid.covering`)."""
        n, low, high = self.owner._group_extent()
        finite = np.isfinite(low)
        return Extent(
            int(n[list(self.a)].sum()),
            int(n[list(self.b)].sum()),
            float(low[finite].min()) if finite.any() else None,
            float(high[finite].max()) if finite.any() else None,
        )

    def counts(self, grid: DyadicGrid) -> BucketCounts:
        found = self.owner._grid_counts(grid)
        in_a, in_b = np.isin(found.group, self.a), np.isin(found.group, self.b)
        counts_a = np.bincount(found.bucket[in_a], found.n[in_a], found.buckets)
        counts_b = np.bincount(found.bucket[in_b], found.n[in_b], found.buckets)
        mine = in_a | in_b
        low = np.full(found.buckets, np.inf)
        high = np.full(found.buckets, -np.inf)
        np.minimum.at(low, found.bucket[mine], found.low[mine])
        np.maximum.at(high, found.bucket[mine], found.high[mine])
        empty = counts_a + counts_b == 0
        low[empty] = high[empty] = np.nan
        return BucketCounts(counts_a.astype(np.int64), counts_b.astype(np.int64), low, high)

    deferring = False
    wanted: list[ValueRange] | None = None
    fetched: tuple[NDArray[np.int64], Floats] | None = None

    def values(self, ranges: Sequence[ValueRange]) -> tuple[Floats, Floats]:
        if not ranges:
            return np.empty(0), np.empty(0)
        if self.deferring:
            self.wanted = list(ranges)
            raise _Deferred
        if self.fetched is not None and list(ranges) == self.wanted:
            group, values = self.fetched
        else:
            group, values = self.owner._values(self.a + self.b, ranges)
        return values[np.isin(group, self.a)], values[np.isin(group, self.b)]


def quantiles_of_views(
    owner: GroupedBuckets,
    views: Sequence[tuple[Sequence[int], Sequence[int]]],
    wanted: dict[str, float],
) -> list[BucketedQuantiles]:
    """Exact quantiles of many views with one fetch of raw values for all of them.

    Each view's computation runs twice: first until it asks for values (the ranges it needs
    are recorded), then, after one Spark query fetched every view's ranges, to the end with
    those values. Counting passes are shared by grid; a view needing a finer grid counts it.
    """
    sources = [owner.view(a, b) for a, b in views]
    pending = [s for s in sources if isinstance(s, GroupView)]
    for source in pending:
        source.deferring = True
        with contextlib.suppress(_Deferred):
            exact_quantiles(source, wanted)
        source.deferring = False
    asked = [s for s in pending if s.wanted]
    if asked:
        group, values = owner._values_of([(s.a + s.b, s.wanted or []) for s in asked])
        for source in asked:
            inside = np.zeros(len(values), dtype=bool)
            for value_range in source.wanted or []:
                inside |= value_range.mask(values)
            mine = np.isin(group, source.a + source.b) & inside
            source.fetched = (group[mine], values[mine])
    return [exact_quantiles(s, wanted) for s in sources]
