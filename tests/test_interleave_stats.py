"""Interleaving statistics against scipy and direct resampling of sessions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from abtool.stats.interleaving import bootstrap_delta_ci, preference, sign_test_pvalue


@pytest.mark.parametrize(
    ("wins_a", "wins_b"),
    [
        (0, 1),
        (1, 0),
        (3, 7),
        (7, 3),
        (5, 5),
        (10, 11),
        (0, 20),
        (480, 520),
        (4900, 5100),
        (123, 456),
        (10_000, 10_321),
        (250_000, 251_500),
        (1, 60),
    ],
)
def test_sign_test_matches_scipy_binomtest(wins_a: int, wins_b: int) -> None:
    expected = stats.binomtest(wins_b, wins_a + wins_b, 0.5, alternative="two-sided").pvalue
    assert float(sign_test_pvalue(wins_a, wins_b)) == pytest.approx(expected, rel=1e-12, abs=0)


def test_sign_test_vectorised_grid_matches_scipy() -> None:
    a, b = np.meshgrid(np.arange(0, 41), np.arange(0, 41))
    got = sign_test_pvalue(a, b)
    for x, y, p in zip(a.ravel(), b.ravel(), got.ravel(), strict=True):
        expected = 1.0 if x + y == 0 else stats.binomtest(int(y), int(x + y), 0.5).pvalue
        assert p == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_preference_direct_counts() -> None:
    result = preference(30, 50, 20, resamples=2000, seed=1)
    assert result.sessions == 100
    assert result.win_rate_b == 50 / 80
    assert result.delta_ab == pytest.approx((50 + 20 / 2) / 100 - 0.5)
    assert result.pvalue == pytest.approx(stats.binomtest(50, 80, 0.5).pvalue, rel=1e-12)
    assert result.ci_low < result.delta_ab < result.ci_high


def test_bootstrap_over_counts_equals_bootstrap_over_sessions() -> None:
    # The multinomial shortcut must give the same interval as resampling session rows.
    wins_a, wins_b, ties = 140, 175, 185
    outcome = np.repeat([0.0, 1.0, 0.5], [wins_a, wins_b, ties])  # B's score per session
    rng = np.random.default_rng(5)
    resampled = rng.choice(outcome, size=(20_000, outcome.size), replace=True).mean(axis=1) - 0.5
    direct = np.quantile(resampled, [0.025, 0.975])
    low, high = bootstrap_delta_ci(wins_a, wins_b, ties, resamples=20_000, seed=9)
    # Two independent Monte Carlo estimates of the same quantiles.
    assert low == pytest.approx(direct[0], abs=0.004)
    assert high == pytest.approx(direct[1], abs=0.004)
    # And both are close to the normal-theory interval for a mean of bounded scores.
    se = outcome.std() / np.sqrt(outcome.size)
    centre = outcome.mean() - 0.5
    assert low == pytest.approx(centre - 1.96 * se, abs=0.005)
    assert high == pytest.approx(centre + 1.96 * se, abs=0.005)


def test_bootstrap_is_seeded() -> None:
    assert bootstrap_delta_ci(10, 20, 5, seed=3) == bootstrap_delta_ci(10, 20, 5, seed=3)
    assert bootstrap_delta_ci(10, 20, 5, seed=3) != bootstrap_delta_ci(10, 20, 5, seed=4)


def test_no_decisive_sessions() -> None:
    result = preference(0, 0, 12, resamples=100)
    assert result.pvalue == 1.0
    assert np.isnan(result.win_rate_b)
    assert result.delta_ab == 0.0
    assert (result.ci_low, result.ci_high) == (0.0, 0.0)


def test_bootstrap_ci_covers_truth_at_nominal_rate() -> None:
    # 400 experiments of 300 sessions with a known preference: coverage close to 95%.
    rng = np.random.default_rng(11)
    probs = np.array([0.3, 0.36, 0.34])  # A wins, B wins, tie
    truth = probs[1] + probs[2] / 2 - 0.5
    counts = rng.multinomial(300, probs, size=400)
    covered = 0
    for i, (a, b, t) in enumerate(counts):
        low, high = bootstrap_delta_ci(int(a), int(b), int(t), resamples=2000, seed=i)
        covered += low <= truth <= high
    # 95% +- 3 binomial standard errors of 400 draws (about 0.033).
    assert 0.917 <= covered / 400 <= 0.983
