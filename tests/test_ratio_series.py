"""Per-bucket and cumulative ratio estimates from per-(unit, bucket) sums, against the direct
delta method (abtool.stats.ratio.ratio_estimate) on the per-unit sums of each cut."""

from __future__ import annotations

import numpy as np
import pytest

from abtool.stats.ratio import ratio_estimate
from abtool.stats.ratio_series import (
    bucket_moments,
    cumulative_moments,
    estimates,
    moments_by_role,
    ratio_from_moments,
)


def entries(seed: int, units: int = 300, buckets: int = 6):
    """(unit, bucket) entries sorted by unit then bucket, each unit active in some buckets."""
    rng = np.random.default_rng(seed)
    unit, bucket = [], []
    for u in range(units):
        active = np.flatnonzero(rng.uniform(size=buckets) < 0.4)
        if not len(active):
            active = np.array([rng.integers(buckets)])
        unit += [u] * len(active)
        bucket += list(active)
    unit_a, bucket_a = np.array(unit), np.array(bucket)
    y = 1.0 + rng.poisson(3, len(unit_a))
    x = rng.binomial(y.astype(int), 0.1 + 0.05 * (unit_a % 3)).astype(float)
    return unit_a, bucket_a, x, y


def running(unit, values):
    out = np.empty_like(values)
    for u in np.unique(unit):
        mine = unit == u
        out[mine] = np.cumsum(values[mine])
    return out


def test_ratio_from_moments_is_the_delta_method():
    rng = np.random.default_rng(0)
    y = 1.0 + rng.poisson(4, 500)
    x = rng.binomial(y.astype(int), 0.2).astype(float)
    direct = ratio_estimate(x, y)
    found = ratio_from_moments(500, x.sum(), y.sum(), (x * x).sum(), (y * y).sum(), (x * y).sum())
    assert found is not None
    assert found.ratio == pytest.approx(direct.ratio, rel=1e-12)
    assert found.variance == pytest.approx(direct.variance, rel=1e-9)
    assert ratio_from_moments(1, 1.0, 2.0, 1.0, 4.0, 2.0) is None


@pytest.mark.parametrize("seed", [1, 2])
def test_each_bucket_is_its_own_traffic(seed: int):
    _, bucket, x, y = entries(seed)
    found = estimates(bucket_moments(bucket, x, y, 6))
    for b in range(6):
        mine = bucket == b
        direct = ratio_estimate(x[mine], y[mine])
        assert found[b] is not None
        assert (found[b].ratio, found[b].variance, found[b].units) == pytest.approx(
            (direct.ratio, direct.variance, direct.units), rel=1e-9
        )


@pytest.mark.parametrize("seed", [3, 4])
def test_cumulative_is_the_log_cut_at_each_bucket_end(seed: int):
    unit, bucket, x, y = entries(seed)
    first = np.r_[True, unit[1:] != unit[:-1]]
    moments = cumulative_moments(bucket, x, y, running(unit, x), running(unit, y), first, 6)
    found = estimates(moments)
    for b in range(6):
        cut = bucket <= b
        # Per-unit sums of the rows up to the end of bucket b, as a re-run cut there sees.
        ids = np.unique(unit[cut])
        sums_x = np.array([x[cut & (unit == u)].sum() for u in ids])
        sums_y = np.array([y[cut & (unit == u)].sum() for u in ids])
        direct = ratio_estimate(sums_x, sums_y)
        assert found[b] is not None
        assert found[b].units == len(ids)
        assert found[b].ratio == pytest.approx(direct.ratio, rel=1e-12)
        assert found[b].variance == pytest.approx(direct.variance, rel=1e-9)


def test_a_bucket_with_fewer_than_two_units_has_no_estimate():
    found = estimates(bucket_moments(np.array([0, 2, 2]), np.ones(3), np.ones(3), 3))
    assert found[0] is None and found[1] is None and found[2] is not None


@pytest.mark.parametrize("seed", range(5))
def test_moments_of_both_roles_at_once_equal_each_roles_bit_for_bit(seed):
    """One bincount over 2 x buckets bins adds each bin's entries in their order, as the
    per-role calls do on each role's entries taken out."""
    rng = np.random.default_rng(seed)
    n, buckets = 5_000, 6
    unit = np.sort(rng.integers(0, 800, n))
    bucket = rng.integers(0, buckets, n)
    order = np.lexsort((bucket, unit))
    unit, bucket = unit[order], bucket[order]
    first = np.r_[True, unit[1:] != unit[:-1]]
    treated = unit % 3 == 0
    x, y = rng.exponential(2.0, n), rng.integers(1, 9, n).astype(float)
    starts = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    cum_x = np.cumsum(x) - (np.cumsum(x) - x)[starts]
    cum_y = np.cumsum(y) - (np.cumsum(y) - y)[starts]
    got = moments_by_role(bucket, treated, x, y, cum_x, cum_y, first, buckets)
    for role in (False, True):
        m = treated == role
        expected = {
            (role, False): bucket_moments(bucket[m], x[m], y[m], buckets),
            (role, True): cumulative_moments(
                bucket[m], x[m], y[m], cum_x[m], cum_y[m], first[m], buckets
            ),
        }
        for key, want in expected.items():
            for field in ("units", "sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy"):
                found = getattr(got[key], field)
                assert found.dtype == getattr(want, field).dtype, (key, field)
                assert found.tobytes() == getattr(want, field).tobytes(), (key, field)
