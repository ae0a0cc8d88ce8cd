"""A partition of the value line into cells with each sample's count: what bucket counts
reveal about two samples, refined pass by pass.

Cell ``0`` is ``x < edges[0]``, cell ``i`` is ``edges[i-1] <= x < edges[i]`` and cell ``c`` is
``x >= edges[-1]``, as for a :class:`~abtool.stats.bucket_source.DyadicGrid`, but the edges of
several grids of different widths merge into one partition as counting is refined. Each cell
keeps an enclosure ``[low, high]`` of its values (NaN when empty); a cell whose enclosure is one
point holds a single distinct value, so its ECDF steps are known without its values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from abtool.stats.bucket_source import BucketCounts, Counts, DyadicGrid, Floats, ValueRange

Scaled = NDArray[np.int64] | NDArray[np.object_]


class InconsistentSourceError(RuntimeError):
    """A bucket source's counts, totals or fetched values contradict each other."""


@dataclass(frozen=True)
class Cells:
    """Counts and value enclosures of two samples over a partition of the line."""

    edges: Floats
    count_a: Counts
    count_b: Counts
    low: Floats
    high: Floats

    @classmethod
    def from_counts(cls, grid: DyadicGrid, counts: BucketCounts, n_a: int, n_b: int) -> Cells:
        """The cells of one grid's counts, checked against the sample sizes."""
        cells = cls(grid.edges(), counts.counts_a, counts.counts_b, counts.low, counts.high)
        if int(cells.count_a.sum()) != n_a or int(cells.count_b.sum()) != n_b:
            raise InconsistentSourceError(
                f"bucket counts add up to {int(cells.count_a.sum())} and "
                f"{int(cells.count_b.sum())}, the samples hold {n_a} and {n_b} values"
            )
        return cells

    @property
    def cum_a(self) -> Counts:
        """Values of the first sample below each cell boundary: ``c + 2`` entries, 0 .. n_a."""
        return np.concatenate([[0], np.cumsum(self.count_a)]).astype(np.int64)

    @property
    def cum_b(self) -> Counts:
        """Values of the second sample below each cell boundary."""
        return np.concatenate([[0], np.cumsum(self.count_b)]).astype(np.int64)

    @property
    def settled(self) -> NDArray[np.bool_]:
        """Cells whose ECDF steps are known: empty, or holding a single distinct value."""
        empty: NDArray[np.bool_] = self.count_a + self.count_b == 0
        with np.errstate(invalid="ignore"):
            single: NDArray[np.bool_] = self.low == self.high
        return empty | single

    def value_range(self, first: int, last: int) -> ValueRange:
        """The values of cells ``first .. last`` (inclusive) as one range."""
        low = float(self.edges[first - 1]) if first > 0 else None
        high = float(self.edges[last]) if last < len(self.edges) else None
        return ValueRange(low, high)

    def cell_of(self, values: Floats) -> NDArray[np.intp]:
        """The cell of each value."""
        return np.searchsorted(self.edges, values, side="right")

    def refine(self, grid: DyadicGrid, counts: BucketCounts) -> Cells:
        """Merge a further grid's counts: the partition by both sets of edges.

        Cumulative counts are known at every old edge (from these cells) and at every grid
        edge (from ``counts``); where an edge is both, they must agree. A new cell lies in one
        old cell and one grid bucket, so its values lie in both enclosures.
        """
        grid_edges = grid.edges()
        edges = np.union1d(self.edges, grid_edges)
        cum_a = np.empty(len(edges) + 2, dtype=np.int64)
        cum_b = np.empty(len(edges) + 2, dtype=np.int64)
        known = np.zeros(len(edges) + 2, dtype=bool)
        grid_cum_a = np.concatenate([[0], np.cumsum(counts.counts_a)])
        grid_cum_b = np.concatenate([[0], np.cumsum(counts.counts_b)])
        cum_a[[0, -1]] = 0, grid_cum_a[-1]
        cum_b[[0, -1]] = 0, grid_cum_b[-1]
        known[[0, -1]] = True
        for own, own_a, own_b in (
            (self.edges, self.cum_a, self.cum_b),
            (grid_edges, grid_cum_a, grid_cum_b),
        ):
            slot = np.searchsorted(edges, own) + 1
            clash = known[slot] & ((cum_a[slot] != own_a[1:-1]) | (cum_b[slot] != own_b[1:-1]))
            if clash.any() or own_a[-1] != cum_a[-1] or own_b[-1] != cum_b[-1]:
                raise InconsistentSourceError("two bucket passes disagree on the same edge")
            cum_a[slot], cum_b[slot] = own_a[1:-1], own_b[1:-1]
            known[slot] = True
        count_a, count_b = np.diff(cum_a), np.diff(cum_b)
        if (count_a < 0).any() or (count_b < 0).any():
            raise InconsistentSourceError("bucket passes give a negative count between edges")
        # The old cell and the grid bucket holding each new cell (found by its left edge).
        left = np.concatenate([[-np.inf], edges])
        old = np.searchsorted(self.edges, left, side="right")
        new = np.searchsorted(grid_edges, left, side="right")
        with np.errstate(invalid="ignore"):
            low = np.fmax(self.low[old], counts.low[new])
            high = np.fmin(self.high[old], counts.high[new])
            empty = count_a + count_b == 0
            low[empty] = high[empty] = np.nan
            if (low[~empty] > high[~empty]).any() or np.isnan(low[~empty]).any():
                raise InconsistentSourceError("bucket passes give a cell an empty value range")
        return Cells(edges, count_a, count_b, low, high)


def scaled_gap(cum_a: Counts, cum_b: Counts, n_a: int, n_b: int) -> Scaled:
    """``cum_a * n_b - cum_b * n_a``: the ECDF gap times ``n_a * n_b``, in exact integers.

    int64 while ``n_a * n_b`` leaves headroom, Python integers beyond (billions of rows).
    """
    if n_a * n_b < 2**62:
        return cum_a.astype(np.int64) * n_b - cum_b.astype(np.int64) * n_a
    exact: NDArray[np.object_] = cum_a.astype(object) * n_b - cum_b.astype(object) * n_a
    return exact


def ks_cell_bounds(cells: Cells, n_a: int, n_b: int) -> tuple[int, Scaled]:
    """Lower bound of ``D * n_a * n_b`` and an upper bound of it within each cell.

    Every boundary gap is attained (at the largest value below the boundary), so their
    maximum bounds D from below. Inside a cell both ECDFs only rise, so the gap stays between
    ``cum_a[i+1] * n_b - cum_b[i] * n_a`` and ``cum_a[i] * n_b - cum_b[i+1] * n_a``; a settled
    cell adds nothing beyond its boundary gaps.
    """
    cum_a, cum_b = cells.cum_a, cells.cum_b
    boundary = np.abs(scaled_gap(cum_a, cum_b, n_a, n_b))
    lower = int(boundary.max())
    rising_a = np.abs(scaled_gap(cum_a[1:], cum_b[:-1], n_a, n_b))
    rising_b = np.abs(scaled_gap(cum_a[:-1], cum_b[1:], n_a, n_b))
    upper = np.maximum(rising_a, rising_b)
    ends = np.maximum(boundary[1:], boundary[:-1])
    upper[cells.settled] = ends[cells.settled]
    return lower, upper


def clusters(cells: NDArray[np.intp]) -> list[tuple[int, int]]:
    """Runs of consecutive cell numbers as ``(first, last)`` pairs."""
    if len(cells) == 0:
        return []
    cells = np.unique(cells)
    breaks = np.flatnonzero(np.diff(cells) > 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(cells) - 1]])
    return [(int(cells[s]), int(cells[e])) for s, e in zip(starts, ends, strict=True)]


def refinement_grids(
    cells: Cells, targets: NDArray[np.intp], max_buckets: int, max_grids: int
) -> list[DyadicGrid]:
    """Finer grids over the busiest runs of target cells, each splitting some cell's values.

    A run's grid spans the enclosure of its values; a grid that would split no target cell's
    values (the cells are as fine as doubles allow) is left out.
    """
    load = cells.count_a + cells.count_b
    runs = sorted(clusters(targets), key=lambda r: -int(load[r[0] : r[1] + 1].sum()))
    grids = []
    for first, last in runs[:max_grids]:
        low = float(np.nanmin(cells.low[first : last + 1]))
        high = float(np.nanmax(cells.high[first : last + 1]))
        if not (np.isfinite(low) and np.isfinite(high)) or low == high:
            continue
        grid = DyadicGrid.covering(low, high, max_buckets)
        fresh = np.setdiff1d(grid.edges(), cells.edges)
        home = cells.cell_of(fresh)
        # An edge e splits a cell's values when low < e <= high.
        splits = (cells.low[home] < fresh) & (fresh <= cells.high[home])
        if splits.any():
            grids.append(grid)
    return grids
