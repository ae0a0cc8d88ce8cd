"""Exact two-sample KS D and exact quantiles from bucket counts, without a global sort.

An engine counts each sample's values per bucket of a fine grid (tens of thousands of
buckets over the observed range, see :mod:`abtool.stats.bucket_source`). The ECDFs are known
exactly at every bucket boundary, so the largest boundary gap bounds D from below, and since
both ECDFs only rise inside a bucket, D is bounded from above bucket by bucket. Only buckets
whose upper bound exceeds the lower bound can still hold the maximum: their raw values are
fetched and merged exactly, which gives the same D as merging the fully sorted samples
(:func:`abtool.stats.ks.ks_statistic_sorted`), bit for bit. A quantile needs the one or two
order statistics around its position; counts locate their buckets, and only those are
fetched. A bucket holding a single distinct value (its min equals its max) is never fetched,
so heavily tied data costs no more than smooth data. When the buckets to fetch hold too many
values, a finer grid is counted over them first.

Quantiles interpolate as ``numpy.quantile(method='linear')`` (Hyndman & Fan 1996, definition
7), with numpy's own floating-point steps, so the results are identical to numpy's.

References:
    Smirnov, N. (1948). Table for estimating the goodness of fit of empirical distributions.
    Annals of Mathematical Statistics 19(2), 279-281.
    Hyndman, R. J., Fan, Y. (1996). Sample quantiles in statistical packages. The American
    Statistician 50(4), 361-365.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from abtool.stats.bucket_cells import (
    Cells,
    InconsistentSourceError,
    clusters,
    ks_cell_bounds,
    refinement_grids,
    scaled_gap,
)
from abtool.stats.bucket_source import BucketSource, DyadicGrid, Extent, Floats
from abtool.stats.descriptive import linear_positions, numpy_lerp

MAX_BUCKETS = 1 << 16
FETCH_BUDGET = 1_000_000
MAX_ROUNDS = 3
_GRIDS_PER_ROUND = 4


@dataclass(frozen=True)
class Effort:
    """What a bucketed computation asked of the engine."""

    passes: int
    """Counting passes over the data (the first, plus refinements)."""
    fetched: int
    """Raw values fetched, both samples together."""


@dataclass(frozen=True)
class KSBounds:
    """Bounds on the two-sample KS statistic D from bucket counts alone."""

    lower: float
    upper: float
    n_a: int
    n_b: int
    effort: Effort

    def decides(self, limit: float) -> bool:
        """Whether ``D <= limit`` has the same answer anywhere between the bounds."""
        return self.upper <= limit or self.lower > limit

    def to_dict(self) -> dict[str, float | int]:
        return {
            "lower": self.lower,
            "upper": self.upper,
            "n1": self.n_a,
            "n2": self.n_b,
            "passes": self.effort.passes,
            "fetched": self.effort.fetched,
        }


@dataclass(frozen=True)
class BucketedKS:
    """The exact two-sample KS statistic D and what computing it cost."""

    statistic: float
    n_a: int
    n_b: int
    effort: Effort

    def to_dict(self) -> dict[str, float | int]:
        return {
            "statistic": self.statistic,
            "n1": self.n_a,
            "n2": self.n_b,
            "passes": self.effort.passes,
            "fetched": self.effort.fetched,
        }


@dataclass(frozen=True)
class BucketedQuantiles:
    """Quantiles of each sample: name -> value (NaN for an empty sample).

    In exact mode ``low == high == value``; in bounds mode ``[low, high]`` encloses each
    quantile and ``a``/``b`` hold NaN.
    """

    a: dict[str, float]
    b: dict[str, float]
    low_a: dict[str, float]
    high_a: dict[str, float]
    low_b: dict[str, float]
    high_b: dict[str, float]
    effort: Effort = field(default_factory=lambda: Effort(0, 0))

    def to_dict(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "bounds_a": {k: [self.low_a[k], self.high_a[k]] for k in self.a},
            "bounds_b": {k: [self.low_b[k], self.high_b[k]] for k in self.b},
            "passes": self.effort.passes,
            "fetched": self.effort.fetched,
        }


def ks_bounds(
    source: BucketSource, *, max_buckets: int = MAX_BUCKETS, extent: Extent | None = None
) -> KSBounds:
    """Lower and upper bounds of D from one counting pass (``--ks approximate``).

    Raises:
        ValueError: a sample is empty.
    """
    n_a, n_b, cells = _first_pass(source, max_buckets, extent)
    _require_both(n_a, n_b)
    lower, upper = ks_cell_bounds(cells, n_a, n_b)
    scale = n_a * n_b
    return KSBounds(lower / scale, max(lower, int(upper.max())) / scale, n_a, n_b, Effort(1, 0))


def exact_ks(
    source: BucketSource,
    *,
    max_buckets: int = MAX_BUCKETS,
    fetch_budget: int = FETCH_BUDGET,
    max_rounds: int = MAX_ROUNDS,
    extent: Extent | None = None,
) -> BucketedKS:
    """The exact D, equal to ``ks_statistic_sorted`` of the sorted samples.

    Args:
        source: the two samples.
        max_buckets: edges per counting pass.
        fetch_budget: values to fetch at most before a finer counting pass is tried instead.
        max_rounds: finer counting passes at most; then the candidates are fetched whatever
            their size (the result stays exact).
        extent: the samples' sizes and finite range when the caller's own aggregate pass
            already found them (saves the engine a pass); else asked of ``source``.

    Raises:
        ValueError: a sample is empty.
        InconsistentSourceError: the source's counts and values contradict each other.
    """
    n_a, n_b, cells = _first_pass(source, max_buckets, extent)
    _require_both(n_a, n_b)

    def candidates(cells: Cells) -> NDArray[np.intp]:
        lower, upper = ks_cell_bounds(cells, n_a, n_b)
        return np.flatnonzero(upper > lower)

    cells, passes = _refine(source, cells, candidates, max_buckets, fetch_budget, max_rounds)
    targets = candidates(cells)
    lower, _ = ks_cell_bounds(cells, n_a, n_b)
    fetched_a, fetched_b = _fetch(source, cells, targets)
    best = max(lower, _max_gap_inside(cells, fetched_a, fetched_b, n_a, n_b))
    effort = Effort(passes, len(fetched_a) + len(fetched_b))
    return BucketedKS(best / (n_a * n_b), n_a, n_b, effort)


def quantile_bounds(
    source: BucketSource,
    quantiles: Mapping[str, float],
    *,
    max_buckets: int = MAX_BUCKETS,
    extent: Extent | None = None,
) -> BucketedQuantiles:
    """Enclosures of each sample's quantiles from one counting pass."""
    n_a, n_b, cells = _first_pass(source, max_buckets, extent)
    bounds = [_enclosures(cells, cum, n, quantiles) for cum, n in _samples(cells, n_a, n_b)]
    nan = {key: math.nan for key in quantiles}
    (low_a, high_a), (low_b, high_b) = bounds
    return BucketedQuantiles(nan, dict(nan), low_a, high_a, low_b, high_b, Effort(1, 0))


def exact_quantiles(
    source: BucketSource,
    quantiles: Mapping[str, float],
    *,
    max_buckets: int = MAX_BUCKETS,
    fetch_budget: int = FETCH_BUDGET,
    max_rounds: int = MAX_ROUNDS,
    extent: Extent | None = None,
) -> BucketedQuantiles:
    """Each sample's quantiles, equal to ``numpy.quantile`` of its non-NaN values.

    Args:
        quantiles: name -> quantile in [0, 1], e.g. ``{"p50": 0.5, "p99": 0.99}``.
        Other arguments as in :func:`exact_ks`.
    """
    for key, q in quantiles.items():
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile {key}={q} outside [0, 1]")
    n_a, n_b, cells = _first_pass(source, max_buckets, extent)

    def needed(cells: Cells) -> NDArray[np.intp]:
        found = [cells_of_ranks(cum, _ranks(n, quantiles)) for cum, n in _samples(cells, n_a, n_b)]
        wanted = np.unique(np.concatenate(found))
        return wanted[~cells.settled[wanted]]

    cells, passes = _refine(source, cells, needed, max_buckets, fetch_budget, max_rounds)
    fetched = _fetch(source, cells, needed(cells))
    results = []
    for (cum, n), values in zip(_samples(cells, n_a, n_b), fetched, strict=True):
        values = np.sort(values)
        before = _fetched_before(cells, values)
        result = {}
        for key, q in quantiles.items():
            if n == 0:
                result[key] = math.nan
                continue
            low_rank, high_rank, gamma = linear_positions(n, q)
            low, high = (
                _order_statistic(cells, cum, values, before, rank) for rank in (low_rank, high_rank)
            )
            result[key] = numpy_lerp(low, high, gamma)
        results.append(result)
    effort = Effort(passes, sum(len(v) for v in fetched))
    a, b = results
    return BucketedQuantiles(a, b, dict(a), dict(a), dict(b), dict(b), effort)


def cells_of_ranks(cum: NDArray[np.int64], ranks: NDArray[np.int64]) -> NDArray[np.intp]:
    """The cell holding each 0-based rank of a sample whose cumulative counts are ``cum``."""
    return np.searchsorted(cum, ranks, side="right") - 1


def _first_pass(
    source: BucketSource, max_buckets: int, extent: Extent | None
) -> tuple[int, int, Cells]:
    extent = extent or source.extent()
    if extent.low is None or extent.high is None:
        grid = DyadicGrid(0, 0, 1)  # only infinities (or nothing): one edge at 0 splits them
    else:
        grid = DyadicGrid.covering(extent.low, extent.high, max_buckets)
    cells = Cells.from_counts(grid, source.counts(grid), extent.n_a, extent.n_b)
    return extent.n_a, extent.n_b, cells


def _require_both(n_a: int, n_b: int) -> None:
    if n_a == 0 or n_b == 0:
        raise ValueError("both samples must be non-empty")


def _samples(cells: Cells, n_a: int, n_b: int) -> list[tuple[NDArray[np.int64], int]]:
    return [(cells.cum_a, n_a), (cells.cum_b, n_b)]


def _ranks(n: int, quantiles: Mapping[str, float]) -> NDArray[np.int64]:
    if n == 0:
        return np.empty(0, dtype=np.int64)
    positions = [linear_positions(n, q)[:2] for q in quantiles.values()]
    return np.array([rank for pair in positions for rank in pair], dtype=np.int64)


def _refine(
    source: BucketSource,
    cells: Cells,
    targets: Callable[[Cells], NDArray[np.intp]],
    max_buckets: int,
    fetch_budget: int,
    max_rounds: int,
) -> tuple[Cells, int]:
    """Count finer grids over the target cells while they hold more than the budget."""
    passes = 1
    for _ in range(max_rounds):
        wanted = targets(cells)
        load = int((cells.count_a[wanted] + cells.count_b[wanted]).sum())
        if load <= fetch_budget:
            break
        grids = refinement_grids(cells, wanted, max_buckets, _GRIDS_PER_ROUND)
        if not grids:
            break
        for grid in grids:
            cells = cells.refine(grid, source.counts(grid))
            passes += 1
    return cells, passes


def _fetch(source: BucketSource, cells: Cells, targets: NDArray[np.intp]) -> tuple[Floats, Floats]:
    """The values of the target cells, checked against the cells' counts."""
    if len(targets) == 0:
        return np.empty(0), np.empty(0)
    ranges = [cells.value_range(first, last) for first, last in clusters(targets)]
    values = source.values(ranges)
    wanted = np.zeros(len(cells.count_a), dtype=bool)
    wanted[targets] = True
    for sample, expected in zip(values, (cells.count_a, cells.count_b), strict=True):
        got = np.bincount(cells.cell_of(sample), minlength=len(expected))
        if (got[wanted] != expected[wanted]).any() or got[~wanted].any():
            raise InconsistentSourceError("fetched values disagree with the bucket counts")
    return np.asarray(values[0], dtype=np.float64), np.asarray(values[1], dtype=np.float64)


def _fetched_before(cells: Cells, values: Floats) -> NDArray[np.int64]:
    """Fetched values of one sample in the cells before each cell (``values`` sorted)."""
    per_cell = np.bincount(cells.cell_of(values), minlength=len(cells.count_a))
    return np.concatenate([[0], np.cumsum(per_cell)]).astype(np.int64)


def _max_gap_inside(cells: Cells, a: Floats, b: Floats, n_a: int, n_b: int) -> int:
    """Largest scaled ECDF gap at the fetched values (every fetched cell is complete).

    At a value v of cell i, ``F_a(v) = cum_a[i] + #{fetched a in cell i, <= v}``.
    """
    if len(a) + len(b) == 0:
        return 0
    a, b = np.sort(a), np.sort(b)
    points = np.unique(np.concatenate([a, b]))
    cell = cells.cell_of(points)
    at_a = cells.cum_a[cell] + np.searchsorted(a, points, side="right")
    at_b = cells.cum_b[cell] + np.searchsorted(b, points, side="right")
    at_a -= _fetched_before(cells, a)[cell]
    at_b -= _fetched_before(cells, b)[cell]
    return int(np.abs(scaled_gap(at_a, at_b, n_a, n_b)).max())


def _order_statistic(
    cells: Cells,
    cum: NDArray[np.int64],
    values: Floats,
    before: NDArray[np.int64],
    rank: int,
) -> float:
    cell = int(cells_of_ranks(cum, np.array([rank]))[0])
    if cells.settled[cell]:
        return float(cells.low[cell])
    return float(values[before[cell] + rank - cum[cell]])


def _enclosures(
    cells: Cells, cum: NDArray[np.int64], n: int, quantiles: Mapping[str, float]
) -> tuple[dict[str, float], dict[str, float]]:
    low, high = {}, {}
    for key, q in quantiles.items():
        if n == 0:
            low[key] = high[key] = math.nan
            continue
        low_rank, high_rank, _ = linear_positions(n, q)
        first, last = cells_of_ranks(cum, np.array([low_rank, high_rank]))
        low[key], high[key] = float(cells.low[first]), float(cells.high[last])
    return low, high


__all__ = [
    "BucketedKS",
    "BucketedQuantiles",
    "Effort",
    "InconsistentSourceError",
    "KSBounds",
    "exact_ks",
    "exact_quantiles",
    "ks_bounds",
    "quantile_bounds",
]
