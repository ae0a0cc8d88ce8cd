"""Time-varying bandit allocation: the pooled mean is biased, per-period weighting and IPW are not.

Simulated logs (binomial counts per period and arm, vectorised over replicate experiments)
where every arm has the same true mean over the experiment's traffic, so any difference the
estimators find is bias.
"""

from __future__ import annotations

import numpy as np
import pytest

from abtool.stats.bandit import BetaBernoulli, best_arm_probabilities
from abtool.stats.bandit_allocation import thompson_shares
from abtool.stats.bandit_estimates import (
    PropensitySums,
    ipw_estimates,
    period_weighted_estimates,
    period_weighted_moments,
    pooled_estimates,
    propensity_sums,
)

REPS = 2000
PERIODS = 10
PER_PERIOD = 2000


def trend_log(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Rates rise 0.05 -> 0.15 for every arm while arm c's share rises 0.1 -> 0.8."""
    rng = np.random.default_rng(seed)
    rate = np.linspace(0.05, 0.15, PERIODS)
    share_c = np.linspace(0.1, 0.8, PERIODS)
    shares = np.column_stack([(1 - share_c) / 2, (1 - share_c) / 2, share_c])
    pulls = rng.multinomial(PER_PERIOD, shares, size=(REPS, PERIODS))
    successes = rng.binomial(pulls, rate[:, None])
    return pulls, successes, shares, float(rate.mean())


def binary_moments(pulls: np.ndarray, successes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = successes / np.maximum(pulls, 1)
    return p, p * (1 - p)


class TestTimeTrend:
    def test_pooled_is_biased_period_weighted_is_not(self) -> None:
        pulls, successes, _, truth = trend_log(11)
        p, var = binary_moments(pulls, successes)
        mean, variance, coverage = period_weighted_moments(pulls, p, var)
        assert np.all(coverage == 1.0)
        pooled = successes.sum(1) / pulls.sum(1)
        mc = mean.std(0) / np.sqrt(REPS)
        # Unbiased: every arm's average estimate within 3.5 Monte Carlo SEs of the truth.
        assert np.all(np.abs(mean.mean(0) - truth) < 3.5 * mc)
        # The pooled mean of arm c, which got its traffic late, is far too high (Simpson).
        # Its expectation is the rate averaged with the arm's own shares as weights.
        shares = trend_log(11)[2]
        rate = np.linspace(0.05, 0.15, PERIODS)
        expected = shares.T @ rate / shares.sum(0)
        assert pooled.mean(0) == pytest.approx(expected, abs=5e-4)
        assert expected[2] - truth > 0.015 and expected[2] - expected[0] > 0.025
        # The standard error is right: 95% CIs cover at the nominal rate.
        half = 1.959964 * np.sqrt(variance)
        covered = np.abs(mean - truth) < half
        assert covered.mean(0) == pytest.approx([0.95] * 3, abs=0.015)

    def test_single_experiment_function_matches_vectorised_core(self) -> None:
        pulls, successes, _, _ = trend_log(12)
        p, var = binary_moments(pulls[0], successes[0])
        ests = period_weighted_estimates(["a", "b", "c"], pulls[0], p, var)
        mean, variance, _ = period_weighted_moments(pulls[0], p, var)
        assert [e.mean for e in ests] == pytest.approx(mean, rel=1e-12)
        assert [e.se**2 for e in ests] == pytest.approx(variance, rel=1e-12)
        assert ests[2].pulls == pulls[0, :, 2].sum() and ests[0].method == "period_weighted"
        # Explicit formula: weights N_t / N, Var = sum w^2 p(1-p)/n.
        w = pulls[0].sum(1) / pulls[0].sum()
        assert ests[1].mean == pytest.approx(float(w @ p[:, 1]), rel=1e-12)

    def test_constant_split_reduces_to_pooled(self) -> None:
        pulls = np.array([[100, 300], [50, 150], [200, 600]])
        successes = np.array([[10, 33], [4, 20], [25, 61]])
        p, var = binary_moments(pulls, successes)
        weighted = period_weighted_estimates(["a", "b"], pulls, p, var)
        pooled_p = successes.sum(0) / pulls.sum(0)
        assert [e.mean for e in weighted] == pytest.approx(pooled_p, rel=1e-12)
        pooled = pooled_estimates(["a", "b"], pulls.sum(0), pooled_p, pooled_p * (1 - pooled_p))
        assert pooled[0].mean == pytest.approx(weighted[0].mean)

    def test_periods_without_an_arm_are_left_out_for_all_arms(self) -> None:
        pulls = np.array([[100, 0], [100, 100], [300, 100]])
        p = np.array([[0.5, 0.0], [0.1, 0.2], [0.3, 0.4]])
        ests = period_weighted_estimates(["a", "b"], pulls, p, p * (1 - p))
        assert ests[0].coverage == pytest.approx(600 / 700)
        assert ests[0].mean == pytest.approx((200 * 0.1 + 400 * 0.3) / 600)
        with pytest.raises(ValueError, match="two pulls"):
            period_weighted_estimates(["a", "b"], pulls[:1], p[:1], p[:1])

    def test_ipw_is_unbiased_under_the_same_trend(self) -> None:
        pulls, successes, shares, truth = trend_log(13)
        w = 1 / shares
        c = (1 - shares) / shares**2
        means = np.empty((400, 3))
        for r in range(400):
            sums = [
                PropensitySums(
                    int(pulls[r, :, k].sum()),
                    float(pulls[r, :, k] @ w[:, k]),
                    float(successes[r, :, k] @ w[:, k]),
                    float(pulls[r, :, k] @ c[:, k]),
                    float(successes[r, :, k] @ c[:, k]),
                    float(successes[r, :, k] @ c[:, k]),
                )
                for k in range(3)
            ]
            means[r] = [e.mean for e in ipw_estimates(["a", "b", "c"], sums)]
        mc = means.std(0) / np.sqrt(400)
        assert np.all(np.abs(means.mean(0) - truth) < 3.5 * mc)

    def test_propensity_sums_from_rows_match_the_aggregates(self) -> None:
        pulls, successes, shares, _ = trend_log(14)
        k = 2
        rows_y = np.concatenate(
            [
                np.r_[np.ones(s), np.zeros(n - s)]
                for n, s in zip(pulls[0, :, k], successes[0, :, k], strict=True)
            ]
        )
        rows_pi = np.repeat(shares[:, k], pulls[0, :, k])
        got = ipw_estimates(["c"], [propensity_sums(rows_y, rows_pi)])[0]
        # Hajek by hand: sum(y/pi)/sum(1/pi); variance sum (1-pi)/pi^2 (y-mu)^2 / (sum 1/pi)^2.
        mu = np.sum(rows_y / rows_pi) / np.sum(1 / rows_pi)
        se = np.sqrt(np.sum((1 - rows_pi) / rows_pi**2 * (rows_y - mu) ** 2)) / np.sum(1 / rows_pi)
        assert got.mean == pytest.approx(mu, rel=1e-12)
        assert got.se == pytest.approx(se, rel=1e-9)
        with pytest.raises(ValueError, match="propensities"):
            propensity_sums([1.0], [0.0])


def test_adaptive_allocation_biases_pooled_mean_downward_not_period_weighted() -> None:
    # No trend at all: three equal arms (rate 0.1), Thompson allocation with 5% floors decided
    # from the earlier periods. An arm that starts unlucky is starved and its pooled mean stays
    # low (Nie et al. 2018); the per-period weighted mean is unbiased.
    rng = np.random.default_rng(15)
    reps, periods, per_period, k, rate = 1500, 8, 200, 3, 0.1
    pulls = np.zeros((reps, periods, k), dtype=np.int64)
    successes = np.zeros_like(pulls)
    shares = np.full((reps, k), 1 / k)
    model = BetaBernoulli()
    for t in range(periods):
        pulls[:, t] = rng.multinomial(per_period, shares)
        successes[:, t] = rng.binomial(pulls[:, t], rate)
        p, var = binary_moments(pulls[:, : t + 1], successes[:, : t + 1])
        mean, variance, _ = period_weighted_moments(pulls[:, : t + 1], p, var)
        ab = model.parameters(mean, variance, pulls[:, : t + 1].sum(1))
        draws = rng.beta(ab[:, None, :, 0], ab[:, None, :, 1], size=(reps, 200, k))
        shares = thompson_shares(best_arm_probabilities(draws)[0], 0.05)
    p, var = binary_moments(pulls, successes)
    weighted, _, _ = period_weighted_moments(pulls, p, var)
    pooled = successes.sum(1) / pulls.sum(1)
    mc_w = weighted.std(0) / np.sqrt(reps)
    mc_p = pooled.std(0) / np.sqrt(reps)
    assert np.all(np.abs(weighted.mean(0) - rate) < 3.5 * mc_w)
    assert np.all(pooled.mean(0) - rate < -4 * mc_p)
