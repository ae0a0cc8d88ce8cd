"""Two-sample Kolmogorov-Smirnov test on sorted samples.

The statistic is exact over all rows and computed from the two sorted samples cut into
chunks of nearby values: in each, a binary search places one sample's values among the
other's (the chunk stays in cache), and a cumulative count gives the reverse. Counts are
kept as integers, so D has no rounding drift.

The p-value follows ``scipy.stats.ks_2samp`` (two-sided, ``method='auto'``): the exact
distribution when both samples have at most 10,000 values (scipy itself is called on such
small samples), otherwise the asymptotic one, evaluated as scipy does with
``kstwo.sf(D, round(n1 * n2 / (n1 + n2)))``, so abtool and scipy agree to the last digit.
(``kstwobign``, the limiting distribution, would be faster around n ~ 500k but differs from
scipy by up to 1% there; abtool prefers agreement.)

References:
    Hodges, J. L. (1958). The significance probability of the Smirnov two-sample test.
    Arkiv för Matematik 3, 469-486.
    Simard, R., L'Ecuyer, P. (2011). Computing the two-sided Kolmogorov-Smirnov distribution.
    Journal of Statistical Software 39(11).
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

EXACT_MAX_N = 10_000
_CHUNK = 16_384  # values of each sample per chunk: its binary searches stay in cache


@dataclass(frozen=True)
class KSResult:
    """Two-sample KS test result."""

    statistic: float
    pvalue: float
    method: str
    n1: int
    n2: int
    location: float | None = None  # a value x where |F_1(x) - F_2(x)| = statistic

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            "method": self.method,
            "n1": self.n1,
            "n2": self.n2,
        }


def ks_statistic_sorted(
    a: NDArray[np.float64], b: NDArray[np.float64], workers: int | None = None
) -> float:
    """Exact two-sided KS statistic D = sup |F_a(x) - F_b(x)| of two ascending samples.

    Args:
        a: first sample, sorted ascending, no NaN.
        b: second sample, sorted ascending, no NaN.
        workers: threads working on chunks side by side (numpy releases the GIL while it
            searches); default: one per CPU, at most four.
    """
    return ks_statistic_location_sorted(a, b, workers)[0]


def ks_statistic_location_sorted(
    a: NDArray[np.float64], b: NDArray[np.float64], workers: int | None = None
) -> tuple[float, float]:
    """D as :func:`ks_statistic_sorted`, and the smallest value x where the two ECDFs differ
    by D (where a plot marks the gap)."""
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples must be non-empty")
    chunks = list(_chunk_bounds(a, b))
    workers = workers or min(4, os.cpu_count() or 1)
    workers = min(workers, len(chunks))
    if workers == 1:
        found = _chunks_max(a, b, chunks, n1, n2)
    else:
        # Each thread takes a run of neighbouring chunks (few hand-overs of the GIL); extra
        # memory is O(workers * chunk), not O(n1 + n2).
        cuts = [len(chunks) * k // workers for k in range(workers + 1)]
        runs = [chunks[start:stop] for start, stop in itertools.pairwise(cuts)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            found = [
                item
                for run in pool.map(lambda run: _chunks_max(a, b, run, n1, n2), runs)
                for item in run
            ]
    best, location = max(found, key=lambda item: item[0])  # the first chunk on ties
    return best / (n1 * n2), location


def _chunk_bounds(
    a: NDArray[np.float64], b: NDArray[np.float64]
) -> Iterator[tuple[int, int, int, int]]:
    """Split the merged order into chunks of about 2 x _CHUNK values: (i0, i1, j0, j1)."""
    n1, n2 = len(a), len(b)
    i = j = 0
    while i < n1 or j < n2:
        ends = []
        if i < n1:
            ends.append(a[min(i + _CHUNK, n1) - 1])
        if j < n2:
            ends.append(b[min(j + _CHUNK, n2) - 1])
        cut = min(ends)
        # Every copy of the cut value goes into this chunk, so ties never straddle two.
        i_end = int(np.searchsorted(a, cut, side="right"))
        j_end = int(np.searchsorted(b, cut, side="right"))
        yield i, i_end, j, j_end
        i, j = i_end, j_end


def _chunks_max(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    chunks: list[tuple[int, int, int, int]],
    n1: int,
    n2: int,
) -> list[tuple[int, float]]:
    return [_chunk_max(a, b, bounds, n1, n2) for bounds in chunks]


def _chunk_max(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    bounds: tuple[int, int, int, int],
    n1: int,
    n2: int,
) -> tuple[int, float]:
    """max |count_a * n2 - count_b * n1| over the tie-group ends within one chunk, and the
    first value where it is reached.

    ECDFs are right-continuous, so the gap is evaluated after the last copy of each value.
    One binary search places each of the chunk's ``b`` values among its ``a`` values; how
    many ``b`` values lie at or below each ``a`` value then follows from a count per place
    and a cumulative sum (no second search, no merge sort of the two).
    """
    i0, i1, j0, j1 = bounds
    x, y = a[i0:i1], b[j0:j1]
    # Every a before the chunk is below every value in it, and every a after it above.
    at_or_below = np.searchsorted(x, y, side="right")  # a values <= y[k], in the chunk
    below = at_or_below
    if len(x) and len(y):
        previous = x[np.maximum(at_or_below - 1, 0)]
        if bool(np.any((at_or_below > 0) & (previous == y))):  # values in both samples
            below = np.searchsorted(x, y, side="left")
    # b values <= x[i] are those whose value has fewer than i + 1 a values below it.
    b_upto_x = np.cumsum(np.bincount(below, minlength=len(x) + 1)[: len(x)], dtype=np.int64)
    best_a = _side_max(x, i0, b_upto_x + j0, n2, n1)
    best_b = _side_max(y, j0, at_or_below.astype(np.int64) + i0, n1, n2)
    # The smaller value first; at the same value (in both samples), b's copy is the last one
    # of the merged order, as a stable merge of a then b would give.
    if best_b[0] > best_a[0] or (best_b[0] == best_a[0] and best_b[1] <= best_a[1]):
        return best_b
    return best_a


def _side_max(
    values: NDArray[np.float64],
    start: int,
    other_counts: NDArray[np.int64],
    weight: int,
    other_weight: int,
) -> tuple[int, float]:
    """max |count * weight - other_count * other_weight| over the last copy of each of
    ``values`` (count: values up to it, ``start`` of them before the chunk), and the first
    value where it is reached; (-1, inf) for no values."""
    if not len(values):
        return -1, float("inf")
    counts = np.arange(start + 1, start + 1 + len(values), dtype=np.int64)
    repeated = values[1:] == values[:-1]
    if bool(np.any(repeated)):
        last = np.empty(len(values), dtype=bool)
        np.logical_not(repeated, out=last[:-1])
        last[-1] = True
        values, counts, other_counts = values[last], counts[last], other_counts[last]
    counts *= weight
    gap = other_counts * other_weight
    np.subtract(counts, gap, out=gap)
    np.abs(gap, out=gap)
    at = int(np.argmax(gap))
    return int(gap[at]), float(values[at])


def exact_pvalue_equal_sizes(n: int, statistic: float) -> float:
    """Exact two-sided p-value ``P(D >= statistic)`` of two samples of ``n`` values each.

    ``P(D >= h/n) = 2 * sum_k (-1)^(k-1) C(2n, n - k h) / C(2n, n)`` (Hodges 1958, eq. 2.3),
    evaluated as ``scipy.stats.ks_2samp(method='exact')`` does for equal sizes (each term
    divided by ``C(2n, n)``, then a Horner-like product), so the two agree to the last digit.
    """
    h = int(np.round(statistic * n))
    if h == 0:
        return 1.0
    total = 0.0
    k = n // h
    while k >= 0:
        term = 1.0
        for j in range(h):
            term = (n - k * h - j) * term / (n + k * h + j + 1)
        total = term * (1.0 - total)
        k -= 1
    return min(1.0, max(0.0, 2 * total))


def ks_2samp_sorted(a: NDArray[np.float64], b: NDArray[np.float64]) -> KSResult:
    """KS statistic and p-value of two ascending samples (see the module docstring)."""
    n1, n2 = len(a), len(b)
    if n1 == n2 and 0 < n1 <= EXACT_MAX_N:
        # The usual recent-window case; computed here, it spares importing scipy.stats.
        d, x = ks_statistic_location_sorted(a, b)
        return KSResult(d, exact_pvalue_equal_sizes(n1, d), "exact", n1, n2, x)
    from scipy import stats

    if max(n1, n2) <= EXACT_MAX_N:
        # Small samples: scipy's own exact computation on the samples themselves.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = stats.ks_2samp(a, b, method="exact")
        # scipy falls back to the asymptotic distribution (with a warning) when the exact
        # computation hits floating-point limits; name the method actually used.
        method = "asymptotic (exact failed)" if caught else "exact"
        location = float(result.statistic_location)
        return KSResult(float(result.statistic), float(result.pvalue), method, n1, n2, location)
    d, x = ks_statistic_location_sorted(a, b)
    return KSResult(d, ks_asymptotic_pvalue(d, n1, n2), "asymptotic", n1, n2, x)


def ks_equal_sizes(statistic: float, n: int) -> KSResult:
    """The KS test of two samples of ``n`` values each from their statistic D alone, as
    :func:`ks_2samp_sorted` computes it for equal sizes: exact up to ``EXACT_MAX_N``
    values (Hodges 1958), asymptotic beyond (scipy's ``kstwo``)."""
    if 0 < n <= EXACT_MAX_N:
        return KSResult(statistic, exact_pvalue_equal_sizes(n, statistic), "exact", n, n)
    return KSResult(statistic, ks_asymptotic_pvalue(statistic, n, n), "asymptotic", n, n)


def ks_asymptotic_pvalue(statistic: float, n1: int, n2: int) -> float:
    """Two-sided p-value as ``ks_2samp`` computes it for large samples.

    scipy evaluates the one-sample distribution ``kstwo`` at the effective size
    ``round(n1 * n2 / (n1 + n2))``; abtool does the same so the two agree exactly.
    """
    from scipy import stats

    en = float(np.round(n1 * n2 / (n1 + n2)))
    pvalue = float(stats.kstwo.sf(statistic, en))
    return min(1.0, max(0.0, pvalue))
