"""canary-decide's statistics pinned against scipy / statsmodels and independent computations."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from abtool.assignment import bucket, in_treatment
from abtool.stats.bootstrap import bootstrap_ratio_lift
from abtool.stats.means import mann_whitney, welch_from_moments, welch_t
from abtool.stats.multiple import holm
from abtool.stats.proportions import two_proportions
from abtool.stats.ratio import ratio_estimate, ratio_lift
from abtool.stats.srm import sample_ratio_mismatch


def clustered(rng: np.random.Generator, units: int, rate: float = 0.1, rpu: int = 20):
    """Per-unit (clicks, requests) with a strong per-unit propensity."""
    y = 1 + rng.poisson(rpu - 1, units)
    p = rng.beta(rate * 5, (1 - rate) * 5, units)
    return rng.binomial(y, p).astype(float), y.astype(float)


def test_delta_variance_equals_linearization_on_units():
    # Independent route: Var(R) = Var(x_i - R y_i) / (n mean(y)^2), the influence function.
    rng = np.random.default_rng(1)
    x, y = clustered(rng, 500)
    est = ratio_estimate(x, y)
    r = x.sum() / y.sum()
    expected = np.var(x - r * y, ddof=1) / (len(x) * y.mean() ** 2)
    assert est.ratio == pytest.approx(r, rel=1e-12)
    assert est.variance == pytest.approx(expected, rel=1e-10)
    assert est.units == 500 and est.numerator == x.sum() and est.denominator == y.sum()


def test_delta_lift_matches_unequal_variance_ztest_with_one_row_per_unit():
    # With y_i = 1 the ratio is a mean and the delta method is the unpooled z-test.
    rng = np.random.default_rng(2)
    c = rng.lognormal(0, 1, 800)
    t = rng.lognormal(0.1, 1, 700)
    lift = ratio_lift(ratio_estimate(c, np.ones_like(c)), ratio_estimate(t, np.ones_like(t)))
    compare = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    z, p = compare.ztest_ind(usevar="unequal")
    low, high = compare.zconfint_diff(alpha=0.05, usevar="unequal")
    assert lift.lift_abs == pytest.approx(t.mean() - c.mean(), rel=1e-12)
    assert lift.z == pytest.approx(z, rel=1e-10)
    assert lift.pvalue == pytest.approx(p, rel=1e-9)
    assert (lift.ci_low, lift.ci_high) == pytest.approx((low, high), rel=1e-10)
    assert lift.lift_rel == pytest.approx(t.mean() / c.mean() - 1, rel=1e-12)


def test_relative_lift_ci_covers_at_nominal_rate():
    # Coverage of the delta-method CI of R_t / R_c - 1 over 400 seeded clustered samples.
    rng = np.random.default_rng(3)
    true_rel = 0.0
    covered = 0
    for _ in range(400):
        xc, yc = clustered(rng, 300)
        xt, yt = clustered(rng, 300)
        lift = ratio_lift(ratio_estimate(xc, yc), ratio_estimate(xt, yt))
        covered += lift.rel_ci_low <= true_rel <= lift.rel_ci_high
    assert 0.92 <= covered / 400 <= 0.98


def test_ratio_estimate_rejects_bad_input():
    with pytest.raises(ValueError):
        ratio_estimate([1.0], [1.0])
    with pytest.raises(ValueError):
        ratio_estimate([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        ratio_estimate([0.0, 0.0], [0.0, 0.0])


def test_two_proportions_match_statsmodels_and_scipy():
    s_c, n_c, s_t, n_t = 412, 4000, 470, 3900
    result = two_proportions(s_c, n_c, s_t, n_t)
    z, p = proportions_ztest([s_t, s_c], [n_t, n_c])
    chi2 = stats.chi2_contingency([[s_t, n_t - s_t], [s_c, n_c - s_c]], correction=False)
    low, high = confint_proportions_2indep(s_t, n_t, s_c, n_c, method="wald", compare="diff")
    assert result.z == pytest.approx(z, rel=1e-10)
    assert result.pvalue == pytest.approx(p, rel=1e-9)
    assert result.chi2 == pytest.approx(chi2.statistic, rel=1e-9)
    assert result.pvalue == pytest.approx(chi2.pvalue, rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-10)
    assert result.diff == pytest.approx(s_t / n_t - s_c / n_c)


def test_welch_matches_scipy_including_ci():
    rng = np.random.default_rng(4)
    c = rng.normal(1.0, 2.0, 60)
    t = rng.normal(1.8, 0.7, 45)
    ours = welch_t(c, t)
    ref = stats.ttest_ind(t, c, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert ours.t == pytest.approx(ref.statistic, rel=1e-10)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    assert ours.df == pytest.approx(ref.df, rel=1e-10)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    from_moments = welch_from_moments(
        len(c), c.mean(), c.var(ddof=1), len(t), t.mean(), t.var(ddof=1)
    )
    assert from_moments == ours


def test_mann_whitney_matches_scipy():
    rng = np.random.default_rng(5)
    c = rng.exponential(1.0, 300)
    t = rng.exponential(1.3, 280)
    ours = mann_whitney(c, t)
    ref = stats.mannwhitneyu(t, c, alternative="two-sided")
    assert ours.u == ref.statistic
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
    assert ours.prob_superiority == pytest.approx(ref.statistic / (300 * 280))


def test_srm_matches_scipy_chisquare():
    result = sample_ratio_mismatch([9400, 600], [0.95, 0.05])
    ref = stats.chisquare([9400, 600], [9500, 500])
    assert result.chi2 == pytest.approx(ref.statistic, rel=1e-12)
    assert result.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
    assert result.expected == pytest.approx((9500.0, 500.0))
    assert result.pvalue < 1e-5


def test_holm_matches_statsmodels():
    pvalues = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04]
    _, expected, _, _ = multipletests(pvalues, method="holm")
    assert holm(pvalues) == pytest.approx(list(expected), rel=1e-12)
    assert holm([]) == []


def test_bootstrap_is_seeded_and_agrees_with_delta_method():
    rng = np.random.default_rng(6)
    xc, yc = clustered(rng, 2000)
    xt, yt = clustered(rng, 2000, rate=0.12)
    boot = bootstrap_ratio_lift(xc, yc, xt, yt, replicates=2000, seed=11)
    again = bootstrap_ratio_lift(xc, yc, xt, yt, replicates=2000, seed=11)
    other = bootstrap_ratio_lift(xc, yc, xt, yt, replicates=2000, seed=12)
    assert boot == again and boot != other
    delta = ratio_lift(ratio_estimate(xc, yc), ratio_estimate(xt, yt))
    width = delta.ci_high - delta.ci_low
    # Same target, same unit-level variance: bounds agree to a small fraction of the width.
    assert abs(boot.ci_low - delta.ci_low) < 0.1 * width
    assert abs(boot.ci_high - delta.ci_high) < 0.1 * width
    rel_width = delta.rel_ci_high - delta.rel_ci_low
    assert abs(boot.rel_ci_low - delta.rel_ci_low) < 0.15 * rel_width


def test_md5_bucket_rule():
    digest = hashlib.md5(b"exp-7:alice").hexdigest()
    assert bucket("exp-7", "alice") == int(digest, 16) % 10000
    assert bucket("exp-7", 42) == int(hashlib.md5(b"exp-7:42").hexdigest(), 16) % 10000
    shares = np.mean([in_treatment("s", u, 0.2) for u in range(20000)])
    assert shares == pytest.approx(0.2, abs=0.01)
