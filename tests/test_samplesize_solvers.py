"""What abtool.stats.power adds to statsmodels and scipy, pinned against them.

The power functions are statsmodels' (NormalIndPower, TTestIndPower); what is abtool's own:
the t-test power where scipy's noncentral t CDF returns NaN (scipy issue 25470), the
inversions with brentq, Cohen's h inverse, and the exact sign-test search on scipy's binomial.
"""

from __future__ import annotations

import math

import pytest
from scipy import optimize, stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

from abtool.reports.sample_size import SampleSizeOptions, sample_size_report
from abtool.stats import power as pw
from abtool.stats import sign_test_power as stp


def _wrong_tail_bound(nc: float, crit: float, df: float) -> float:
    """An upper bound on P(T < -crit) for T ~ t(df, nc), nc, crit > 0.

    T = (Z + nc) / S with S = sqrt(chi2_df / df): T < -crit needs Z < -nc - crit / 2 or
    S < 1/2, so P(T < -crit) <= Phi(-nc - crit/2) + P(chi2_df < df / 4).
    """
    return float(stats.norm.cdf(-nc - crit / 2) + stats.chi2.cdf(df / 4, df))


def _scipy_ttest_power(d: float, nobs1: float, alpha: float, ratio: float, alt: str) -> float:
    """Two-sample t-test power from scipy's noncentral t, computed in the test."""
    nobs2 = nobs1 * ratio
    df = nobs1 + nobs2 - 2
    nc = d * math.sqrt(nobs1 * nobs2 / (nobs1 + nobs2))
    if alt == "larger":
        return float(stats.nct.sf(stats.t.isf(alpha, df), df, nc))
    crit = stats.t.isf(alpha / 2, df)
    wrong = stats.nct.cdf(-crit, df, nc)
    if math.isnan(wrong):  # scipy issue 25470: use 0 where the bound says it is negligible
        assert _wrong_tail_bound(nc, crit, df) < 1e-11
        wrong = 0.0
    return float(stats.nct.sf(crit, df, nc) + wrong)


def _plan(**kwargs: object) -> dict:
    return sample_size_report(SampleSizeOptions(**kwargs)).to_dict()["stats"]  # type: ignore[arg-type]


# --- t-test power where scipy's nctdtr gives up ---------------------------------------------

# (effect, nobs1, alpha, ratio): statsmodels' TTestIndPower.power is NaN at each of these
# (scipy's nctdtr fails at some points of the far tails, not at all of them).
NAN_CASES = [
    (30.0, 2.0, 0.05, 0.05 / 0.95),  # df 0.1: a huge effect in the smallest groups
    (0.2, 1000.0, 0.001, 3.0),  # nc 5.5
    (0.05, 20_000.0, 1e-6, 1.0),  # nc 5, a Bonferroni-sized alpha
    (0.109108945, 20_000.0, 0.05, 1.0),  # nc 10.9
    (0.0001, 1.5697721e10, 0.05, 1.0),  # df 3e10
]


@pytest.mark.parametrize(("d", "nobs1", "alpha", "ratio"), NAN_CASES)
def test_ttest_power_is_finite_where_statsmodels_returns_nan(
    d: float, nobs1: float, alpha: float, ratio: float
) -> None:
    assert math.isnan(TTestIndPower().power(d, nobs1, alpha, ratio, alternative="two-sided"))
    got = pw.ttest_power(d, nobs1, alpha, ratio, "two-sided")
    nc = d * math.sqrt(nobs1 * ratio / (1 + ratio))
    df = nobs1 * (1 + ratio) - 2
    crit = stats.t.isf(alpha / 2, df)
    # The main tail from scipy's sf, plus a wrong tail between 0 and its bound.
    main = stats.nct.sf(crit, df, nc)
    assert main <= got <= main + _wrong_tail_bound(nc, crit, df) + 1e-16
    if df > 1e6:  # the t-test becomes the z-test
        z = NormalIndPower().power(d, nobs1, alpha, ratio, alternative="two-sided")
        assert got == pytest.approx(z, abs=1e-6)


def test_ttest_power_by_sf_is_statsmodels_power_where_that_is_finite() -> None:
    compared = 0
    for df_half in [1.0, 5.0, 60.0, 2_000.0, 1e5, 1e8]:
        for ratio in [0.25, 1.0, 3.0]:
            nobs1 = (2 * df_half + 2) / (1 + ratio)
            for nc in [0.0, 0.3, 1.0, 2.0, 2.8, 4.0, 6.0]:
                d = nc / math.sqrt(nobs1 * ratio / (1 + ratio))
                for alpha in [0.2, 0.05, 1e-3]:
                    for alt in ["two-sided", "larger"]:
                        expected = TTestIndPower().power(d, nobs1, alpha, ratio, alternative=alt)
                        if math.isnan(expected):
                            continue
                        got = pw._ttest_power_by_sf(d, nobs1, alpha, ratio, alt)  # type: ignore[arg-type]
                        assert got == pytest.approx(expected, abs=1e-15), (df_half, nc, alpha)
                        compared += 1
    assert compared > 600


def test_power_report_no_longer_null_at_a_large_noncentrality() -> None:
    # t-approx, baseline 0.3, MDE 0.05, 20,000 per group: nc ~ 12, power 1 (statsmodels: NaN).
    got = _plan(baseline=0.3, mde=0.05, n=20_000, method="t-approx")
    d = 0.05 / math.sqrt(0.3 * 0.7)
    assert got["power"] == pytest.approx(_scipy_ttest_power(d, 20_000, 0.05, 1.0, "two"), abs=1e-15)
    assert got["power"] == pytest.approx(1.0, abs=1e-15)


def test_mde_solver_crosses_the_nan_region() -> None:
    # alpha 0.001 over 10 variants, power 0.99: the bracket reaches nc ~ 9.
    got = _plan(baseline=10.0, sd=1.0, n=1000, alpha=0.001, variants=10, power=0.99)
    power = _scipy_ttest_power(got["effect_size"], 1000, 0.0001, 1.0, "two")
    assert power == pytest.approx(0.99, abs=1e-10)


def test_huge_effect_is_clamped_at_the_minimum_group() -> None:
    got = _plan(baseline=10.0, sd=1.0, mde=30.0)
    assert got["n_per_group"] == pw.MIN_NOBS1
    assert got["power_at_n"] == pytest.approx(_scipy_ttest_power(30, 2, 0.05, 1, "two"))


# --- the inversions ----------------------------------------------------------------------------

HARD = [
    # (effect, alpha, power, ratio, alternative). In the first four statsmodels' solve_power
    # returns an n 4-20% short without a warning (it reads the NaN of scipy's nctdtr as
    # "power above target"): 553,862 for the first, 5,000,000 (a bracket end) for the second.
    (0.01, 0.001, 0.99, 1.0, "two-sided"),
    (0.003, 0.001 / 4, 0.95, 1.0, "two-sided"),
    (0.001, 0.001, 0.99, 0.25, "two-sided"),
    (0.0001, 0.001, 0.99, 3.0, "two-sided"),
    (1.5, 0.05, 0.8, 3.0, "two-sided"),  # five control units: the t-test's own n
    (0.02, 0.05 / 3, 0.9, 0.05 / 0.95, "larger"),  # a one-sided 5% canary, three variants
]


@pytest.mark.parametrize(("d", "alpha", "power", "ratio", "alt"), HARD)
def test_solve_nobs1_reaches_the_power_by_scipy(
    d: float, alpha: float, power: float, ratio: float, alt: str
) -> None:
    nobs1 = pw.solve_nobs1(pw.ttest_power, d, alpha, power, ratio, alt)  # type: ignore[arg-type]
    assert _scipy_ttest_power(d, nobs1, alpha, ratio, alt) == pytest.approx(power, abs=1e-10)
    # ...and it is the root: a relative step of 1e-8 either side brackets the target.
    assert _scipy_ttest_power(d, nobs1 * (1 - 1e-8), alpha, ratio, alt) < power
    assert _scipy_ttest_power(d, nobs1 * (1 + 1e-8), alpha, ratio, alt) > power
    effect = pw.solve_effect_size(pw.ttest_power, nobs1, alpha, power, ratio, alt)  # type: ignore[arg-type]
    assert effect == pytest.approx(d, rel=1e-9)


@pytest.mark.parametrize("alt", ["two-sided", "larger"])
def test_normal_solvers_against_scipy_norm(alt: str) -> None:
    h, alpha, power, ratio = 0.03, 0.05, 0.8, 0.25
    got = pw.solve_nobs1(pw.normal_power, h, alpha, power, ratio, alt)  # type: ignore[arg-type]
    shift = h * math.sqrt(got * ratio / (1 + ratio))
    if alt == "larger":
        # One-sided, the closed form is exact: n1 = (z_a + z_b)^2 (1 + 1/r) / h^2.
        closed = (stats.norm.isf(alpha) + stats.norm.isf(1 - power)) ** 2 * (1 + 1 / ratio) / h**2
        assert got == pytest.approx(closed, rel=1e-10)
    else:
        crit = stats.norm.isf(alpha / 2)
        z_power = stats.norm.sf(crit - shift) + stats.norm.cdf(-crit - shift)
        assert z_power == pytest.approx(power, abs=1e-12)
    effect = pw.solve_effect_size(pw.normal_power, got, alpha, power, ratio, alt)  # type: ignore[arg-type]
    assert effect == pytest.approx(h, rel=1e-10)


def test_solve_nobs1_rejects_a_zero_effect() -> None:
    with pytest.raises(ValueError, match="positive"):
        pw.solve_nobs1(pw.normal_power, 0.0, 0.05, 0.8, 1.0, "two-sided")


def test_cohens_h_is_statsmodels_and_proportion_for_h_inverts_it() -> None:
    for p1 in [0.001, 0.12, 0.5, 0.93]:
        for p2 in [0.002, 0.13, 0.6, 0.999]:
            h = pw.cohens_h(p1, p2)
            assert h == proportion_effectsize(p2, p1)
            back = pw.proportion_for_h(p1, h)
            assert back == pytest.approx(p2, rel=1e-12)
    assert pw.proportion_for_h(0.9, 1.0) is None  # no proportion is that far above 0.9
    assert pw.proportion_for_h(0.1, -1.0) is None


# --- the exact sign test on scipy's binomial ------------------------------------------------


@pytest.mark.parametrize("alpha", [0.2, 0.05, 0.01])
def test_sign_test_critical_is_binomtest_rejection_edge(alpha: float) -> None:
    for n in range(1, 160):
        c = pw.sign_test_critical(n, alpha)
        if c >= 0:
            assert stats.binomtest(c, n, 0.5).pvalue <= alpha
        if c + 1 < n / 2:
            assert stats.binomtest(c + 1, n, 0.5).pvalue > alpha


@pytest.mark.parametrize("q", [0.5, 0.55, 0.8])
def test_binomial_tail_recurrences_follow_scipy(q: float) -> None:
    # 3,000 steps of n and k: rounding does not build up beyond 1e-12.
    tail = stp._BinomialTail(q, 50, 20)
    for step in range(3_000):
        tail.grow()
        if step % 2 == 0:
            tail.up()
        if step % 250 == 0:
            assert tail.cdf == pytest.approx(stats.binom.cdf(tail.k, tail.n, q), abs=1e-12)
            assert tail.pmf == pytest.approx(stats.binom.pmf(tail.k, tail.n, q), abs=1e-12)


def test_power_scan_equals_power_from_scipy_at_every_n() -> None:
    scan = stp._sign_test_power_scan(0.56, 0.05, start=30)
    for n, value in (next(scan) for _ in range(1_500)):
        if n % 37 == 0:
            assert value == pytest.approx(pw.sign_test_power(0.56, n, 0.05), abs=1e-12)


def test_detectable_win_rate_by_scipy_brentq() -> None:
    # At a fixed n the critical count is fixed and the power a smooth function of p: the root
    # is where scipy's binomial power crosses the target, however abtool finds it.
    n, alpha = 400, 0.05
    c = pw.sign_test_critical(n, alpha)

    def power(p: float) -> float:
        return float(stats.binom.cdf(c, n, p) + stats.binom.sf(n - c - 1, n, p))

    expected = optimize.brentq(lambda p: power(p) - 0.8, 0.5, 0.99, xtol=1e-14)
    assert pw.sign_test_detectable_win_rate(n, alpha, 0.8) == pytest.approx(expected, abs=1e-11)
