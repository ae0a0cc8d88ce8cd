"""The light-weight distribution functions behind `sample-size`, pinned against scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from abtool.stats import distributions as dist

DFS = [0.5, 1.5, 3, 10, 58, 126, 1_000, 33_000, 1e6, 1e8]


@pytest.mark.parametrize("df", DFS)
def test_t_cdf_matches_scipy(df: float) -> None:
    for t in np.linspace(-8, 8, 81):
        expected = stats.t.cdf(t, df)
        rel = abs(dist.t_cdf(float(t), df) - expected) / min(expected, 1 - expected)
        assert rel < (1e-8 if df >= 1e8 else 1e-10), (df, t)


@pytest.mark.parametrize("df", DFS)
@pytest.mark.parametrize("q", [0.4, 0.05, 0.025, 0.0025, 1e-5, 1e-8])
def test_t_isf_matches_scipy(df: float, q: float) -> None:
    assert dist.t_isf(q, df) == pytest.approx(stats.t.isf(q, df), rel=1e-9)


@pytest.mark.parametrize("df", DFS)
def test_noncentral_t_at_power_critical_values_matches_scipy(df: float) -> None:
    # The power solvers evaluate the noncentral t at t critical values.
    for q in [0.25, 0.025, 1e-4, 1e-7]:
        crit = stats.t.isf(q, df)
        for nc in [0.0, 0.1, 0.5, 1.0, 2.8, 5.0, 10.0, 20.0, 37.0]:
            sf = 1 - special.nctdtr(df, nc, crit)
            low = special.nctdtr(df, nc, -crit)
            if math.isnan(sf) or math.isnan(low):
                # scipy gives up on some far tails (nan); nothing to compare with there.
                assert 0.0 <= dist.nct_cdf(-crit, df, nc) <= 1e-12
                continue
            assert dist.nct_sf(crit, df, nc) == pytest.approx(sf, abs=1e-9), (q, nc)
            assert dist.nct_cdf(-crit, df, nc) == pytest.approx(low, abs=1e-9), (q, nc)


def test_noncentral_t_over_a_grid_of_points() -> None:
    for df in [2, 7, 40, 500, 20_000]:
        for nc in [-6, -1.5, 0.3, 2, 4.5, 9]:
            for t in [-6, -2, -0.5, 0.5, 1.7, 3, 7, 15]:
                expected = special.nctdtr(df, nc, t)
                if math.isnan(expected):  # scipy gives up on some far tails
                    continue
                assert dist.nct_cdf(t, df, nc) == pytest.approx(expected, abs=1e-11)


@pytest.mark.parametrize("n", [1, 7, 40, 801, 5_000, 200_000])
@pytest.mark.parametrize("p", [0.5, 0.55, 0.9])
def test_binomial_tails_match_scipy(n: int, p: float) -> None:
    for k in sorted({0, n // 4, n // 2 - 1, n // 2, n - 1, n}):
        assert dist.binom_cdf(k, n, p) == pytest.approx(stats.binom.cdf(k, n, p), abs=1e-12)
        assert dist.binom_sf(k, n, p) == pytest.approx(stats.binom.sf(k, n, p), abs=1e-12)


def test_betainc_matches_scipy() -> None:
    for a, b in [(0.5, 3), (2, 2), (30, 0.5), (0.5, 5e4), (400, 420), (5e5, 0.5)]:
        for x in [1e-6, 0.01, 0.3, 0.5, 0.9, 0.999999]:
            assert dist.betainc(a, b, x) == pytest.approx(special.betainc(a, b, x), abs=1e-11)


def test_normal_functions_match_scipy() -> None:
    for z in [-7, -1.96, 0, 0.5, 3]:
        assert dist.norm_cdf(z) == pytest.approx(stats.norm.cdf(z), rel=1e-14)
        assert dist.norm_sf(z) == pytest.approx(stats.norm.sf(z), rel=1e-12)
    for q in [0.4, 0.025, 1e-9]:
        assert dist.norm_isf(q) == pytest.approx(stats.norm.isf(q), rel=1e-13)


def test_brentq_finds_roots_and_rejects_a_bad_bracket() -> None:
    assert dist.brentq(lambda x: x * x - 2, 0, 2) == pytest.approx(math.sqrt(2), abs=1e-12)
    assert dist.brentq(math.cos, 1, 2) == pytest.approx(math.pi / 2, abs=1e-12)
    with pytest.raises(ValueError):
        dist.brentq(lambda x: x * x + 1, -1, 1)
