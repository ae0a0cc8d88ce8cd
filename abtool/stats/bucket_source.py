"""What an engine provides for exact KS D and quantiles without a global sort.

An engine that cannot sort billions of values on one machine can still (a) count the values
of each sample per value bucket and (b) return the raw values lying in a few value ranges.
``abtool.stats.bucketed`` turns these two operations into the exact statistics.

Buckets come from a :class:`DyadicGrid`: edges ``k * 2**exponent`` for consecutive integers
``k``. Such edges are exact doubles and ``x / 2**exponent`` is exact for normal doubles, so an
engine computes the bucket of a value with one division, one ``floor`` and a +-1 correction
(see :meth:`DyadicGrid.bucket_of`), in any SQL dialect, with the same result as a binary
search over the edges. The only requirement for exactness is that ``counts`` and ``values``
agree with the documented bucket semantics; counts and fetched values are cross-checked.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Counts = NDArray[np.int64]


@dataclass(frozen=True)
class DyadicGrid:
    """Edges ``(first + i) * 2**exponent`` for ``i = 0 .. count - 1`` and their buckets.

    Bucket ``0`` holds ``x < edges[0]`` (with -inf), bucket ``i`` holds
    ``edges[i-1] <= x < edges[i]``, bucket ``count`` holds ``x >= edges[-1]`` (with +inf):
    ``count + 1`` buckets in all, numbered like ``numpy.searchsorted(edges, x, side='right')``.
    -0.0 and 0.0 are the same value. NaN belongs to no bucket (engines drop it).
    """

    exponent: int
    first: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("a grid has at least one edge")
        if not -1074 <= self.exponent <= 1023:
            raise ValueError(f"exponent {self.exponent} outside the double range")
        largest = max(abs(self.first), abs(self.first + self.count - 1))
        if largest >= 2**53:
            raise ValueError("edge multipliers must stay below 2**53 to be exact doubles")
        try:
            math.ldexp(float(largest), self.exponent)
        except OverflowError:
            raise ValueError("edges beyond the double range") from None

    @property
    def width(self) -> float:
        """Bucket width ``2**exponent`` (exact)."""
        return math.ldexp(1.0, self.exponent)

    @property
    def low(self) -> float:
        """The first edge."""
        return math.ldexp(float(self.first), self.exponent)

    @property
    def high(self) -> float:
        """The last edge."""
        return math.ldexp(float(self.first + self.count - 1), self.exponent)

    def edges(self) -> Floats:
        """All edges, ascending (each an exact double)."""
        multipliers = np.arange(self.first, self.first + self.count, dtype=np.float64)
        return np.ldexp(multipliers, self.exponent)

    def bucket_of(self, values: Floats) -> Counts:
        """Bucket of each value, computed the way an engine's SQL expression does.

        ``k = floor(x / width)``, moved by one where ``k * width`` and ``x`` disagree (only
        when the quotient is subnormal), then ``k - first + 1``; values outside the edges go to
        the outer buckets. Equals ``searchsorted(edges(), values, side='right')``.
        """
        x = np.asarray(values, dtype=np.float64)
        result = np.zeros(len(x), dtype=np.int64)
        inside = (x >= self.low) & (x < self.high)
        result[x >= self.high] = self.count
        xi = x[inside]
        k = np.floor(xi / self.width)
        k[np.ldexp(k, self.exponent) > xi] -= 1
        k[np.ldexp(k + 1, self.exponent) <= xi] += 1
        result[inside] = k.astype(np.int64) - self.first + 1
        return result

    @classmethod
    def covering(cls, low: float, high: float, max_buckets: int) -> DyadicGrid:
        """The finest grid of at most ``max_buckets`` edges with ``edges[0] <= low`` and
        ``high < edges[-1]``, never finer than 2 units in the last place of ``low`` or
        ``high`` (so a bucket of the finest grid holds at most two distinct doubles).

        Near the largest doubles no edge may exist beyond ``low`` or ``high``; the outer
        bucket then shares finite values with the infinity, which costs speed, not exactness.
        """
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise ValueError(f"cannot cover [{low}, {high}]")
        if max_buckets < 3:
            raise ValueError("max_buckets must be at least 3")
        magnitude = max(abs(low), abs(high))
        finest = max(-1074, math.frexp(magnitude)[1] - 52 if magnitude > 0 else -1074)
        span = high / 2 - low / 2  # halves cannot overflow
        exponent = finest
        if span > 0:
            exponent = max(finest, math.frexp(span / (max_buckets - 2))[1] - 1)
        while True:
            limit = 2**53 - 1  # multipliers beyond lose exactness
            if exponent > 1023 - 53:
                limit = int(sys.float_info.max / math.ldexp(1.0, exponent))
            first = max(-limit, _floor_multiple(low, exponent))
            last = min(limit, _floor_multiple(high, exponent) + 1)
            if last - first + 1 <= max_buckets or exponent >= 1023:
                return cls(exponent, first, last - first + 1)
            exponent += 1


def _edge(k: int, exponent: int) -> float:
    """``k * 2**exponent`` (exact), or the signed infinity where it exceeds the doubles."""
    try:
        return math.ldexp(float(k), exponent)
    except OverflowError:
        return math.copysign(math.inf, k)


def _floor_multiple(x: float, exponent: int) -> int:
    """The largest integer k with ``k * 2**exponent <= x`` (exact, also for subnormals)."""
    k = math.floor(x / math.ldexp(1.0, exponent))
    while _edge(k, exponent) > x:
        k -= 1
    while _edge(k + 1, exponent) <= x:
        k += 1
    return k


@dataclass(frozen=True)
class Extent:
    """Sizes of the two samples (NaN excluded) and the range of their finite values.

    ``low``/``high`` are the smallest and largest finite value over both samples, ``None``
    when no value is finite.
    """

    n_a: int
    n_b: int
    low: float | None
    high: float | None


@dataclass(frozen=True)
class BucketCounts:
    """Per bucket of a grid (``grid.count + 1`` entries): each sample's count, and the
    smallest and largest value of either sample in the bucket (NaN where it is empty)."""

    counts_a: Counts
    counts_b: Counts
    low: Floats
    high: Floats


@dataclass(frozen=True)
class ValueRange:
    """Values ``low <= x < high``; ``None`` leaves that side open (and takes the infinity)."""

    low: float | None
    high: float | None

    def mask(self, values: Floats) -> NDArray[np.bool_]:
        """Which of ``values`` lie in the range."""
        inside = np.ones(len(values), dtype=bool)
        if self.low is not None:
            inside &= values >= self.low
        if self.high is not None:
            inside &= values < self.high
        return inside


class BucketSource(Protocol):
    """Two samples an engine holds (NaN and nulls already left out)."""

    def extent(self) -> Extent:
        """Sample sizes and the range of finite values."""
        ...

    def counts(self, grid: DyadicGrid) -> BucketCounts:
        """Counts (and min/max) of each sample per bucket of ``grid``."""
        ...

    def values(self, ranges: Sequence[ValueRange]) -> tuple[Floats, Floats]:
        """The values of each sample lying in any of ``ranges``, in any order."""
        ...


class ArrayBucketSource:
    """Two in-memory samples as a :class:`BucketSource` (the reference implementation).

    NaN values are dropped, as engines drop nulls and NaN.
    """

    def __init__(self, a: Floats, b: Floats) -> None:
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        self._a = a[~np.isnan(a)]
        self._b = b[~np.isnan(b)]
        self.fetched = 0

    def extent(self) -> Extent:
        both = np.concatenate([self._a, self._b])
        finite = both[np.isfinite(both)]
        if len(finite) == 0:
            return Extent(len(self._a), len(self._b), None, None)
        return Extent(len(self._a), len(self._b), float(finite.min()), float(finite.max()))

    def counts(self, grid: DyadicGrid) -> BucketCounts:
        buckets = grid.count + 1
        index_a, index_b = grid.bucket_of(self._a), grid.bucket_of(self._b)
        index = np.concatenate([index_a, index_b])
        both = np.concatenate([self._a, self._b])
        low = np.full(buckets, np.inf)
        high = np.full(buckets, -np.inf)
        np.minimum.at(low, index, both)
        np.maximum.at(high, index, both)
        counts_a = np.bincount(index_a, minlength=buckets).astype(np.int64)
        counts_b = np.bincount(index_b, minlength=buckets).astype(np.int64)
        empty = counts_a + counts_b == 0
        low[empty] = np.nan
        high[empty] = np.nan
        return BucketCounts(counts_a, counts_b, low, high)

    def values(self, ranges: Sequence[ValueRange]) -> tuple[Floats, Floats]:
        picked = []
        for sample in (self._a, self._b):
            inside = np.zeros(len(sample), dtype=bool)
            for value_range in ranges:
                inside |= value_range.mask(sample)
            picked.append(sample[inside])
        self.fetched += len(picked[0]) + len(picked[1])
        return picked[0], picked[1]
