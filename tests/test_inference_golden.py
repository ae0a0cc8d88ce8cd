"""Published values of two peers, reproduced by abtool.stats.inference.

GrowthBook gbstats, ``packages/stats/tests/frequentist/test_tests.py`` (classes
``TestSequentialTTest``, ``TestSequentialOneSidedGreaterTTest``,
``TestSequentialOneSidedLesserTTest``): per-arm sums, sums of squares and counts go through
gbstats' moments (mean, ddof-1 variance or p(1-p) for a proportion, absolute or delta-method
relative difference, ``n = n_a + n_b``) into the sequential tests; the expected numbers are the
ones in that file, compared at its 5 decimals.

Spotify confidence, ``tests/frequentist/test_ztest.py::TestWithNims``: a z-test at
``interval_size=0.99`` with non-inferiority margins relative to the control mean, compared
at that file's 3 decimals, plus the p-values of statsmodels' ``_zstat_generic``, which
Spotify's ``z_test_computer.p_value`` calls.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from abtool.stats.inference import ConfidenceSequence, Estimate, FixedHorizon
from abtool.stats.inference.margins import harm, non_inferiority, superiority
from abtool.stats.inference.sequential import halfwidth_one_sided
from abtool.stats.ratio import RatioEstimate, relative_lift_se

DECIMALS = 5


def sample_mean(total: float, sum_squares: float, n: int) -> tuple[float, float, int]:
    """gbstats SampleMeanStatistic: mean and ddof-1 variance from sums."""
    return total / n, (sum_squares - total**2 / n) / (n - 1), n


def proportion(total: float, n: int) -> tuple[float, float, int]:
    """gbstats ProportionStatistic: mean and p (1 - p)."""
    p = total / n
    return p, p * (1.0 - p), n


def estimate(
    a: tuple[float, float, int], b: tuple[float, float, int], *, relative: bool
) -> Estimate:
    (mean_a, var_a, n_a), (mean_b, var_b, n_b) = a, b
    if relative:
        control = RatioEstimate(n_a, 0.0, 0.0, mean_a, var_a / n_a)
        treatment = RatioEstimate(n_b, 0.0, 0.0, mean_b, var_b / n_b)
        se = relative_lift_se(control, treatment)
        return Estimate((mean_b - mean_a) / abs(mean_a), se, n_a + n_b)
    return Estimate(mean_b - mean_a, math.sqrt(var_b / n_b + var_a / n_a), n_a + n_b)


# The two arms every gbstats sequential test uses.
STAT_A = sample_mean(1396.87, 52377.9767, 3000)
STAT_B = sample_mean(2422.7, 134698.29, 3461)


def r5(x: float) -> float:
    return round(x, DECIMALS)


def test_gbstats_sequential_two_sided_tuning_1000() -> None:
    # test_sequential_test_runs: SequentialConfig(sequential_tuning_parameter=1000)
    est = estimate(STAT_A, STAT_B, relative=True)
    result = ConfidenceSequence(0.05, tuning_units=1000).test(est)
    assert r5(result.effect) == 0.50336
    assert r5(result.se) == 0.33341
    assert (r5(result.low), r5(result.high)) == (-0.55844, 1.56516)
    assert result.pvalue == 1.0
    assert result.method == "sequential"
    assert not result.reject


def test_gbstats_sequential_two_sided_proportion() -> None:
    # test_sequential_test_runs_prop: default tuning parameter 5000
    est = estimate(proportion(1396, 3000), proportion(2422, 3461), relative=True)
    result = ConfidenceSequence().test(est)
    assert r5(result.effect) == 0.50386
    assert r5(result.se) == 0.03386
    assert (r5(result.low), r5(result.high)) == (0.40098, 0.60675)
    assert r5(result.pvalue) == 0.0
    assert result.reject


def gbstats_bisection_pvalue(est: Estimate, rho: float, *, lesser: bool) -> float:
    """gbstats SequentialOneSidedTreatmentLesserTTest.compute_p_value, step by step.

    It bisects alpha in [1e-5, 0.4999] (rho held fixed) until the bound is within 1e-6 of 0,
    returning the *next* midpoint, and clamps to the ends of that range.
    """
    lo, hi = 1e-5, 0.4999

    def bound(alpha: float) -> float:
        hw = float(halfwidth_one_sided(est.se, est.units, alpha, rho))
        return est.effect + hw if lesser else est.effect - hw

    small = bound(lo)
    if (lesser and small < 0) or (not lesser and small > 0):
        return lo
    big = bound(hi)
    if (lesser and big > 0) or (not lesser and big < 0):
        return hi
    alpha = 0.5 * (lo + hi)
    for _ in range(100):
        diff = bound(alpha)
        if (diff > 0) == lesser:
            lo = alpha
        else:
            hi = alpha
        alpha = 0.5 * (lo + hi)
        if abs(diff) < 1e-6:
            break
    return alpha


@pytest.mark.parametrize(
    ("relative", "lesser", "bound", "gb_pvalue"),
    [
        # TestSequentialOneSidedGreaterTTest
        (True, False, -0.42356454602790883, 0.4999),
        (False, False, -0.12656844172804982, 0.46316491943359384),
        # TestSequentialOneSidedLesserTTest
        (True, True, 1.4302867177403806, 0.4999),
        (False, True, 0.5953217750613832, 0.4999),
    ],
)
def test_gbstats_sequential_one_sided(
    relative: bool, lesser: bool, bound: float, gb_pvalue: float
) -> None:
    est = estimate(STAT_A, STAT_B, relative=relative)
    cs = ConfidenceSequence()  # alpha 0.05, N* = 5000
    result = cs.test(est, "less" if lesser else "greater")
    ours = result.high if lesser else result.low
    assert r5(ours) == r5(bound)
    assert (result.low == -math.inf) if lesser else (result.high == math.inf)
    # gbstats' p-value is a bisection of the same bound; run on our half-width it gives the
    # published number digit for digit ...
    rho = cs.rho("less" if lesser else "greater")
    assert gbstats_bisection_pvalue(est, rho, lesser=lesser) == pytest.approx(gb_pvalue, abs=1e-15)
    # ... and ours is the exact root it approximates, or 1 when the estimate (> 0) is on the
    # wrong side of a "less" test.
    if lesser:
        assert result.pvalue == 1.0
    elif gb_pvalue < 0.4999:
        hw = float(halfwidth_one_sided(est.se, est.units, result.pvalue, rho))
        assert est.effect - hw == pytest.approx(0.0, abs=1e-12)
        assert result.pvalue == pytest.approx(gb_pvalue, abs=2e-4)
    else:
        assert result.pvalue > 0.4999  # gbstats clamps at its upper end


def test_gbstats_tuning_near_n_is_narrowest() -> None:
    # test_sequential_test_tuning_as_expected: N* = 10, 6461 (= n) and 10000
    est = estimate(STAT_A, STAT_B, relative=True)
    widths = {
        n_star: ConfidenceSequence(0.05, n_star).halfwidth(est.se, est.units)
        for n_star in (10, 6461, 10_000)
    }
    assert widths[10] > widths[10_000] > widths[6461]


# Spotify confidence TestWithNims: group "1" is control, difference = group 2 - group 1.
SPOTIFY_CONTROL = sample_mean(10021.0, 25142.0, 5000)
SPOTIFY_TREATMENT = sample_mean(9892.0, 24510.0, 5000)


def spotify_estimate() -> Estimate:
    return estimate(SPOTIFY_CONTROL, SPOTIFY_TREATMENT, relative=False)


def zstat_pvalue(est: Estimate, alternative: str, diff: float) -> float:
    from statsmodels.stats.weightstats import _zstat_generic

    _, p = _zstat_generic(
        SPOTIFY_TREATMENT[0], SPOTIFY_CONTROL[0], est.se, alternative=alternative, diff=diff
    )
    return float(p)


def test_spotify_non_inferiority_increase() -> None:
    # non_inferiority_margins=(0.02, "increase")
    est = spotify_estimate()
    control_mean = SPOTIFY_CONTROL[0]
    result = non_inferiority(
        est, FixedHorizon(0.01), "increase", margin=0.02, baseline=control_mean
    )
    np.testing.assert_almost_equal(result.effect, -0.0258, 3)
    np.testing.assert_almost_equal(result.low, -0.0723, 3)
    assert result.high == math.inf
    assert result.pvalue > 0.01
    assert result.null == pytest.approx(-0.02 * control_mean)
    expected = zstat_pvalue(est, "larger", -0.02 * control_mean)
    assert result.pvalue == pytest.approx(expected, rel=1e-12)
    assert not result.reject


def test_spotify_non_inferiority_decrease() -> None:
    # non_inferiority_margins=(0.02, "decrease")
    est = spotify_estimate()
    control_mean = SPOTIFY_CONTROL[0]
    result = non_inferiority(
        est, FixedHorizon(0.01), "decrease", margin=0.02, baseline=control_mean
    )
    assert result.low == -math.inf
    np.testing.assert_almost_equal(result.high, 0.0207, 3)
    assert result.pvalue < 0.01
    expected = zstat_pvalue(est, "smaller", 0.02 * control_mean)
    assert result.pvalue == pytest.approx(expected, rel=1e-12)
    assert result.reject


@pytest.mark.parametrize(("direction", "bound"), [("increase", -0.0723), ("decrease", 0.0207)])
def test_spotify_one_sided_without_margin(direction: str, bound: float) -> None:
    # non_inferiority_margins=(None, "increase") / (None, "decrease"): one-sided, null 0
    est = spotify_estimate()
    result = superiority(est, FixedHorizon(0.01), direction)  # type: ignore[arg-type]
    ours = result.low if direction == "increase" else result.high
    np.testing.assert_almost_equal(ours, bound, 3)
    assert result.pvalue > 0.01
    alternative = "larger" if direction == "increase" else "smaller"
    assert result.pvalue == pytest.approx(zstat_pvalue(est, alternative, 0.0), rel=1e-12)


def test_harm_is_the_mirror_of_non_inferiority() -> None:
    # Harm beyond the 2% margin (H1: effect < -2% of control) on the same data.
    est = spotify_estimate()
    control_mean = SPOTIFY_CONTROL[0]
    result = harm(est, FixedHorizon(0.01), "increase", margin=0.02, baseline=control_mean)
    expected = zstat_pvalue(est, "smaller", -0.02 * control_mean)
    assert result.pvalue == pytest.approx(expected, rel=1e-12)
    np.testing.assert_almost_equal(result.high, 0.0207, 3)  # the same 99% upper bound
    assert not result.reject  # -2.6% of a unit is not beyond the -4% margin
