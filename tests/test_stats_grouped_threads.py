"""Per-group KS statistic on several threads: scipy's D per group, whichever thread took it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from abtool.stats.grouped import grouped_ks_statistic


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize(
    ("groups", "in_order"), [(6, True), (6, False), (30, False)], ids=["slices", "masks", "radix"]
)
def test_threads_give_each_group_scipys_statistic(groups: int, in_order: bool, workers: int):
    rng = np.random.default_rng(groups + workers)
    n = 8_000
    codes = rng.integers(0, groups + 1, n).astype(np.uint8)  # code `groups`: no group
    if in_order:
        codes.sort()
    a = rng.normal(size=n)
    b = a + rng.normal(0.05, 0.4, n) * (1 + codes % 3)  # a different shift per group
    missing = rng.uniform(size=n) < 0.03
    a[missing] = b[missing] = np.nan
    d, used = grouped_ks_statistic(a, b, codes, groups, workers=workers)
    for g in range(groups):
        both = (codes == g) & ~missing
        assert d[g] == pytest.approx(stats.ks_2samp(a[both], b[both]).statistic, abs=1e-12)
        assert used[g] == both.sum()
    # Thinned groups: the same rows (and so the same D) as one thread takes.
    thin = grouped_ks_statistic(a, b, codes, groups, max_rows=50, workers=workers)
    one = grouped_ks_statistic(a, b, codes, groups, max_rows=50, workers=1)
    np.testing.assert_array_equal(thin[0], one[0])
    np.testing.assert_array_equal(thin[1], one[1])
