"""Spikes over time: a time bucket whose error rate or latency is far above the whole log's.

**Rates (errors, timeouts).** Bucket ``b`` holds ``n_b`` requests, ``x_b`` of them failed; the
whole log's rate is ``p0``. The bucket fails when all of these hold:

1. **Significant**: the exact one-sided binomial test of ``H0: rate_b <= p0``,
   ``P(X >= x_b)`` for ``X ~ Binomial(n_b, p0)`` (as ``scipy.stats.binomtest(...,
   alternative="greater")``), rejects at ``alpha`` after Bonferroni's correction over every
   tested bucket (p-value times the number of tests), so a log of many clean hours raises a
   false alarm with probability at most ``alpha``.
2. **Far above the log**: ``rate_b >= ratio * p0``.
3. **Above the absolute floor**: ``rate_b > floor``, so a bucket that would pass the whole-log
   limit on its own never fails (a few errors in an otherwise error-free log are not a spike).

**Quantiles (p99 latency).** A bucket with at least ``min_requests`` requests fails when its
quantile is at least ``ratio`` times the log's typical level: the median of the quantiles of
those buckets. Not the whole log's p99: an hour holding more than 1% of the traffic moves the
whole log's p99 itself (one slow hour in 37 makes it), which would hide the spike it is
measured against. A p99 needs about a hundred requests before it means more than the slowest
one, hence the minimum; there is no test, the ratio is the rule.

The worst bucket is the failing one with the highest rate (or ratio), or, when none fails, the
highest one overall.

References:
    Agresti, A. (2013). Categorical Data Analysis, 3rd ed., section 1.4 (exact binomial
    tests). Wiley.
    Dunn, O. J. (1961). Multiple comparisons among means. Journal of the American Statistical
    Association 56, 52-64 (the Bonferroni correction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RateSpike:
    """One bucket's rate against the whole log's.

    Attributes:
        index: the bucket's position in the timeline.
        requests: requests in the bucket.
        events: failed requests (errors or timeouts) in the bucket.
        rate: events / requests.
        ratio: rate / the whole log's rate (NaN when the log's rate is 0).
        pvalue: one-sided exact binomial p-value, before correction.
        adjusted_pvalue: Bonferroni-corrected over every tested bucket.
        failed: significant, far above the log and above the floor.
    """

    index: int
    requests: int
    events: int
    rate: float
    ratio: float
    pvalue: float
    adjusted_pvalue: float
    failed: bool


@dataclass(frozen=True)
class RateSpikeRule:
    """The rate rule of the module docstring."""

    ratio: float
    floor: float
    alpha: float

    def evaluate(
        self, events: Sequence[int], requests: Sequence[int], overall_rate: float, tests: int
    ) -> list[RateSpike]:
        """Test each bucket with requests against ``overall_rate``.

        Args:
            events: failed requests per bucket.
            requests: requests per bucket.
            overall_rate: the whole log's rate (``p0``).
            tests: size of the Bonferroni family (at least the buckets tested here; more
                when several rates are tested per bucket).

        Raises:
            ValueError: a bucket with more events than requests, or a rate outside [0, 1].
        """
        from scipy import special

        x = np.asarray(events, dtype=np.float64)
        n = np.asarray(requests, dtype=np.float64)
        if x.shape != n.shape or np.any(x < 0) or np.any(x > n):
            raise ValueError("each bucket needs 0 <= events <= requests")
        if not 0.0 <= overall_rate <= 1.0:
            raise ValueError("overall_rate must lie in [0, 1]")
        found = []
        for i in np.flatnonzero(n > 0):
            k, size = x[i], n[i]
            # P(X >= k) = P(X > k - 1): bdtrc is the binomial upper tail.
            pvalue = 1.0 if k == 0 else float(special.bdtrc(int(k) - 1, int(size), overall_rate))
            adjusted = min(1.0, pvalue * max(tests, 1))
            rate = k / size
            ratio = rate / overall_rate if overall_rate > 0 else float("nan")
            failed = adjusted <= self.alpha and rate > self.floor and ratio >= self.ratio
            found.append(
                RateSpike(int(i), int(size), int(k), rate, ratio, pvalue, adjusted, bool(failed))
            )
        return found


@dataclass(frozen=True)
class QuantileSpike:
    """One bucket's quantile against the whole log's.

    Attributes:
        index: the bucket's position in the timeline.
        requests: requests in the bucket.
        value: the bucket's quantile.
        ratio: value / the log's typical level (the median over the tested buckets).
        failed: enough requests and a ratio at or above the rule's.
    """

    index: int
    requests: int
    value: float
    ratio: float
    failed: bool


@dataclass(frozen=True)
class QuantileSpikeRule:
    """The quantile rule of the module docstring."""

    ratio: float
    min_requests: int

    def evaluate(self, values: Sequence[float], requests: Sequence[int]) -> list[QuantileSpike]:
        """Compare each bucket with at least ``min_requests`` requests to the median of them."""
        v = np.asarray(values, dtype=np.float64)
        n = np.asarray(requests, dtype=np.int64)
        tested = np.flatnonzero((n >= self.min_requests) & ~np.isnan(v))
        level = typical_level(v[tested].tolist())
        found = []
        for i in tested:
            ratio = float(v[i] / level) if level > 0 else float("nan")
            failed = level > 0 and ratio >= self.ratio
            found.append(QuantileSpike(int(i), int(n[i]), float(v[i]), ratio, bool(failed)))
        return found


def typical_level(values: Sequence[float]) -> float:
    """The median of the buckets' quantiles (NaN without any)."""
    return float(np.median(values)) if len(values) else float("nan")


def worst_rate(spikes: Sequence[RateSpike]) -> RateSpike | None:
    """The failing bucket with the highest rate, else the highest rate overall."""
    pool = [s for s in spikes if s.failed] or list(spikes)
    return max(pool, key=lambda s: (s.rate, -s.pvalue), default=None)


def worst_quantile(spikes: Sequence[QuantileSpike]) -> QuantileSpike | None:
    """The failing bucket with the highest value, else the highest overall."""
    pool = [s for s in spikes if s.failed] or list(spikes)
    return max(pool, key=lambda s: s.value, default=None)
