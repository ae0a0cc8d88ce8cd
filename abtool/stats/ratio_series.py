"""Ratio estimates per time bucket and cumulatively, from per-(unit, bucket) sums in one pass.

A ratio metric's delta-method estimate (:func:`abtool.stats.ratio.ratio_estimate`) needs, per
arm, only the unit-level moments ``n, sum x, sum y, sum x^2, sum y^2, sum x y`` of the
per-unit sums ``(x_i, y_i)`` (Deng et al. 2018, eq. 3, with the sample covariances written in
sums). That makes two series cheap to compute from one table of per-(unit, bucket) sums:

* **per bucket**: each unit's sums within the bucket, so the moments are plain sums over the
  bucket's entries (novelty: the lift of each day on that day's traffic);
* **cumulative**: each unit's sums through the bucket, as canary-decide would compute them on
  the log cut at the bucket's end. A unit's contribution to a moment changes only in the
  buckets where it has rows, so the moments at bucket ``b`` are the sum over buckets ``<= b``
  of the increments ``f(C_k) - f(C_{k-1})`` of each entry, ``C_k`` the unit's running sums
  (``C_0 = 0``) and ``f`` each moment's function (``1`` for the unit count at its first
  entry). One pass and one cumulative sum give every cut; no cut re-reads the units.

References:
    Deng, A., Knoblich, U., Lu, J. (2018). Applying the Delta Method in Metric Analytics:
    A Practical Guide with Novel Ideas. KDD 2018, 233-242.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abtool.stats.ratio import RatioEstimate

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Moments:
    """Unit-level moments of one arm per bucket (arrays of one length, the buckets)."""

    units: NDArray[np.int64]
    sum_x: FloatArray
    sum_y: FloatArray
    sum_xx: FloatArray
    sum_yy: FloatArray
    sum_xy: FloatArray


def _per_bucket(bucket: NDArray[np.int64], weights: FloatArray, buckets: int) -> FloatArray:
    return np.bincount(bucket, weights=weights, minlength=buckets).astype(np.float64)


def bucket_moments(bucket: ArrayLike, x: ArrayLike, y: ArrayLike, buckets: int) -> Moments:
    """Moments of each bucket's entries: ``x``, ``y`` are a unit's sums within the bucket."""
    b = np.asarray(bucket, dtype=np.int64)
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return Moments(
        units=np.bincount(b, minlength=buckets).astype(np.int64),
        sum_x=_per_bucket(b, xs, buckets),
        sum_y=_per_bucket(b, ys, buckets),
        sum_xx=_per_bucket(b, xs * xs, buckets),
        sum_yy=_per_bucket(b, ys * ys, buckets),
        sum_xy=_per_bucket(b, xs * ys, buckets),
    )


def cumulative_moments(
    bucket: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    cum_x: ArrayLike,
    cum_y: ArrayLike,
    first: ArrayLike,
    buckets: int,
) -> Moments:
    """Moments of the units' running sums at the end of each bucket.

    Args:
        bucket: the bucket of each (unit, bucket) entry.
        x, y: the unit's sums within that bucket.
        cum_x, cum_y: the unit's sums through that bucket (its entries up to this one).
        first: whether the entry is the unit's first.
        buckets: number of buckets.
    """
    b = np.asarray(bucket, dtype=np.int64)
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    cx, cy = np.asarray(cum_x, dtype=np.float64), np.asarray(cum_y, dtype=np.float64)
    within = bucket_moments(b, xs, ys, buckets)
    firsts = np.asarray(first, dtype=np.bool_)
    return _running_totals(_increments(b, within, xs, ys, cx, cy, firsts, buckets))


def _increments(
    b: NDArray[np.int64],
    within: Moments,
    x: FloatArray,
    y: FloatArray,
    cum_x: FloatArray,
    cum_y: FloatArray,
    first: NDArray[np.bool_],
    bins: int,
) -> Moments:
    """Each bin's increments of the running sums' moments (see the module docstring);
    ``within`` is :func:`bucket_moments` of the same entries."""
    px, py = cum_x - x, cum_y - y  # the running sums before each entry (0 at the first)
    return Moments(
        units=np.bincount(b[first], minlength=bins),
        sum_x=within.sum_x,
        sum_y=within.sum_y,
        sum_xx=_per_bucket(b, cum_x * cum_x - px * px, bins),
        sum_yy=_per_bucket(b, cum_y * cum_y - py * py, bins),
        sum_xy=_per_bucket(b, cum_x * cum_y - px * py, bins),
    )


def _running_totals(steps: Moments) -> Moments:
    return Moments(*(np.cumsum(getattr(steps, field)) for field in _FIELDS))


def _bins(moments: Moments, part: slice) -> Moments:
    return Moments(*(getattr(moments, field)[part] for field in _FIELDS))


_FIELDS = ("units", "sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy")


def moments_by_role(
    bucket: NDArray[np.int64],
    treated: NDArray[np.bool_],
    x: FloatArray,
    y: FloatArray,
    cum_x: FloatArray,
    cum_y: FloatArray,
    first: NDArray[np.bool_],
    buckets: int,
) -> dict[tuple[bool, bool], Moments]:
    """:func:`bucket_moments` and :func:`cumulative_moments` of each role's entries, keyed
    (treated, cumulative), equal to calling them on each role's entries bit for bit.

    Both roles at once: each weight is computed once for all entries and summed into
    ``2 * buckets`` bins (control's buckets, then treatment's) by one ``bincount``, which
    adds each bin's entries in their order, as it does for one role's entries taken out.
    """
    b = np.asarray(bucket, dtype=np.int64) + np.asarray(treated, dtype=np.int64) * buckets
    within = bucket_moments(b, x, y, 2 * buckets)
    steps = _increments(b, within, x, y, cum_x, cum_y, first, 2 * buckets)
    found: dict[tuple[bool, bool], Moments] = {}
    for role in (False, True):
        part = slice(buckets, 2 * buckets) if role else slice(0, buckets)
        found[(role, False)] = _bins(within, part)
        found[(role, True)] = _running_totals(_bins(steps, part))
    return found


def ratio_from_moments(
    units: int, sum_x: float, sum_y: float, sum_xx: float, sum_yy: float, sum_xy: float
) -> RatioEstimate | None:
    """The delta-method estimate of ``sum x / sum y`` from unit-level moments.

    The same estimate as :func:`abtool.stats.ratio.ratio_estimate` on the per-unit sums
    (sample covariances with ddof 1); None with fewer than two units or no rows.
    """
    n = int(units)
    if n < 2 or sum_y <= 0:
        return None
    mu_x, mu_y = sum_x / n, sum_y / n
    s_xx = (sum_xx - sum_x * mu_x) / (n - 1)
    s_yy = (sum_yy - sum_y * mu_y) / (n - 1)
    s_xy = (sum_xy - sum_x * mu_y) / (n - 1)
    ratio = mu_x / mu_y
    variance = (s_xx / mu_y**2 - 2.0 * mu_x * s_xy / mu_y**3 + mu_x**2 * s_yy / mu_y**4) / n
    return RatioEstimate(n, float(sum_x), float(sum_y), ratio, max(float(variance), 0.0))


def estimates(moments: Moments) -> list[RatioEstimate | None]:
    """One estimate per bucket (None where the bucket has fewer than two units)."""
    return [
        ratio_from_moments(
            int(moments.units[k]),
            float(moments.sum_x[k]),
            float(moments.sum_y[k]),
            float(moments.sum_xx[k]),
            float(moments.sum_yy[k]),
            float(moments.sum_xy[k]),
        )
        for k in range(len(moments.units))
    ]
