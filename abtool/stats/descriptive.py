"""Summaries of sorted samples: quantiles, means, histograms."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


def quantile_sorted(values: NDArray[np.float64], q: float) -> float:
    """The q-quantile of an ascending sample, linear interpolation (numpy's default method).

    Equals ``numpy.quantile(values, q)`` bit for bit without re-partitioning the array, so
    every engine that finds the same two order statistics reports the same quantile.
    """
    n = len(values)
    if n == 0:
        return float("nan")
    low, high, weight = linear_positions(n, q)
    return numpy_lerp(float(values[low]), float(values[high]), weight)


def quantile_of_sorted_runs(runs: Sequence[NDArray[np.float64]], q: float) -> float:
    """The q-quantile of the union of ascending ``runs`` (no NaN), as :func:`quantile_sorted`
    of their merged sort gives it, bit for bit, without merging them: the two order
    statistics it needs are found by :func:`order_statistic_of_sorted_runs`."""
    n = sum(len(run) for run in runs)
    if n == 0:
        return float("nan")
    low, high, weight = linear_positions(n, q)
    a = order_statistic_of_sorted_runs(runs, low)
    b = a if high == low else order_statistic_of_sorted_runs(runs, high)
    return numpy_lerp(a, b, weight)


def order_statistic_of_sorted_runs(runs: Sequence[NDArray[np.float64]], rank: int) -> float:
    """The value of 0-based ``rank`` in the union of ascending ``runs`` (no NaN).

    Each step takes the middle of the longest run's remaining window as a pivot and counts,
    by binary search in every run, the values below it and up to it: the rank is the pivot's,
    or the windows shrink to the side holding it, the longest at least by half. So there are
    O(k log n) steps of k binary searches for k runs of n values, and no copy of the values.
    """
    low = [0] * len(runs)
    high = [len(run) for run in runs]
    if not 0 <= rank < sum(high):
        raise IndexError(f"rank {rank} outside the {sum(high)} values")
    while True:
        widest = max(range(len(runs)), key=lambda i: high[i] - low[i])
        pivot = runs[widest][(low[widest] + high[widest]) // 2]
        below = [int(np.searchsorted(run, pivot, "left")) for run in runs]
        up_to = [int(np.searchsorted(run, pivot, "right")) for run in runs]
        if sum(below) <= rank < sum(up_to):
            return float(pivot)
        if rank < sum(below):
            high = [min(h, b) for h, b in zip(high, below, strict=True)]
        else:
            low = [max(lo, u) for lo, u in zip(low, up_to, strict=True)]


def linear_positions(n: int, q: float) -> tuple[int, int, float]:
    """Ranks (0-based) of the two order statistics and the weight numpy interpolates with.

    Mirrors ``numpy.quantile(method='linear')`` (Hyndman & Fan 1996, definition 7) step by
    step: virtual index ``(n - 1) * q``; at or past the last index numpy takes the last value
    twice with the weight ``virtual + 1`` (its index there is -1), which matters only for an
    infinite last value.
    """
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return n - 1, n - 1, virtual + 1
    low = math.floor(virtual)
    return low, low + 1, virtual - low


def numpy_lerp(a: float, b: float, t: float) -> float:
    """numpy's quantile interpolation: from ``b`` backwards when ``t >= 0.5`` (same roundings)."""
    diff = b - a
    if t >= 0.5:
        return b - diff * (1 - t)
    return a + diff * t


def quantiles_ignoring_nan(
    values: NDArray[np.float64], quantiles: dict[str, float]
) -> dict[str, float]:
    """Quantiles (numpy's default linear interpolation) of the non-NaN values.

    Sorts ``values`` in place (numpy 2's vectorised sort beats ``numpy.quantile``'s partition
    on large arrays) and so puts the NaNs, which stand for missing values, last.

    Args:
        values: a writable array, which is left sorted.
        quantiles: name -> quantile in [0, 1].
    """
    missing = int(np.count_nonzero(np.isnan(values)))
    values.sort()
    present = values[: len(values) - missing]
    return {key: quantile_sorted(present, q) for key, q in quantiles.items()}


def quantiles_by_partition(
    values: NDArray[np.float64], quantiles: dict[str, float]
) -> dict[str, float]:
    """The quantiles of :func:`quantiles_ignoring_nan`, bit for bit, from a partition.

    Partitions ``values`` in place around the order statistics the quantiles need (NaNs,
    the missing values, go last as in a sort), so the array is left partitioned, not
    sorted. On an array already sorted in runs (each time bucket's values, say) this is
    about half a full sort; on shuffled values a full sort is as fast.

    Args:
        values: a writable array, which is left partitioned.
        quantiles: name -> quantile in [0, 1].
    """
    present = len(values) - int(np.count_nonzero(np.isnan(values)))
    if present == 0:
        return {key: float("nan") for key in quantiles}
    positions = {key: linear_positions(present, q) for key, q in quantiles.items()}
    values.partition(sorted({rank for low, high, _ in positions.values() for rank in (low, high)}))
    return {
        key: numpy_lerp(float(values[low]), float(values[high]), weight)
        for key, (low, high, weight) in positions.items()
    }


@dataclass(frozen=True)
class Summary:
    """Mean and selected quantiles of one sample."""

    n: int
    mean: float
    p5: float
    p50: float
    p95: float

    def to_dict(self) -> dict[str, float | int]:
        return {"n": self.n, "mean": self.mean, "p5": self.p5, "p50": self.p50, "p95": self.p95}


def summarize_sorted(values: NDArray[np.float64]) -> Summary:
    """Mean, p5, p50 and p95 of an ascending sample."""
    return Summary(
        n=len(values),
        mean=float(np.mean(values)) if len(values) else float("nan"),
        p5=quantile_sorted(values, 0.05),
        p50=quantile_sorted(values, 0.50),
        p95=quantile_sorted(values, 0.95),
    )


def shared_histogram(
    samples: Sequence[NDArray[np.float64]], bins: int = 20
) -> tuple[list[float], list[list[int]]]:
    """Counts of several ascending samples over the same equal-width bins.

    Bins are half-open ``[e_i, e_{i+1})`` except the last, which is closed, as in
    ``numpy.histogram``.

    Returns:
        (bin edges, one list of counts per sample).
    """
    low = min(float(s[0]) for s in samples if len(s))
    high = max(float(s[-1]) for s in samples if len(s))
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    counts = []
    for sample in samples:
        # Sorted input: bin counts are differences of insertion points at the edges.
        positions = np.searchsorted(sample, edges[:-1], side="left")
        positions = np.append(positions, len(sample))
        counts.append([int(c) for c in np.diff(positions)])
    return [float(e) for e in edges], counts
