"""Bandit posteriors, P(best), expected loss, allocations and verdict against closed forms.

Closed forms computed here, independently of abtool:
* two Beta arms: P(p_B > p_A) for integer alpha_B (Miller 2015, "Formulas for Bayesian A/B
  testing", evanmiller.org; Cook 2005, "Exact calculation of beta inequalities", MD Anderson
  tech. report) and the expected loss of choosing an arm from it (Stucchio 2015, VWO report);
* two normal arms: P = Phi(d / s) and E[(X)+] = d Phi(d / s) + s phi(d / s);
* any number of arms: P(best)_k = int f_k prod_{j != k} F_j and
  E[max] = int (1 - prod F_j) over [0, 1] (Beta), by scipy.integrate.quad.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from abtool.stats.bandit import (
    BetaBernoulli,
    BetaPosterior,
    NormalMean,
    NormalPosterior,
    best_arm_probabilities,
    compare_arms,
)
from abtool.stats.bandit_allocation import (
    default_floor,
    egreedy_shares,
    next_allocation,
    thompson_shares,
    ucb1_indices,
    ucb1_shares,
)
from abtool.stats.bandit_estimates import ArmEstimate, pooled_estimates
from abtool.stats.bandit_verdict import VerdictRule, decide


def miller_p_greater(a_b: int, b_b: float, a_a: float, b_a: float) -> float:
    """P(X_B > X_A), X_B ~ Beta(a_b, b_b) with integer a_b, X_A ~ Beta(a_a, b_a) (Miller)."""
    i = np.arange(a_b)
    terms = (
        special.betaln(a_a + i, b_a + b_b)
        - np.log(b_b + i)
        - special.betaln(1 + i, b_b)
        - special.betaln(a_a, b_a)
    )
    return float(np.exp(terms).sum())


def stucchio_loss_of_b(a_a: int, b_a: int, a_b: int, b_b: int) -> float:
    """E[max(X_A - X_B, 0)]: expected loss of choosing B (Stucchio 2015, eq. 2)."""
    first = math.exp(special.betaln(a_a + 1, b_a) - special.betaln(a_a, b_a))
    second = math.exp(special.betaln(a_b + 1, b_b) - special.betaln(a_b, b_b))
    return first * miller_p_greater(a_a + 1, b_a, a_b, b_b) - second * miller_p_greater(
        a_a, b_a, a_b + 1, b_b
    )


def binary_estimate(name: str, successes: int, pulls: int) -> ArmEstimate:
    p = successes / pulls
    return pooled_estimates([name], [pulls], [p], [p * (1 - p)])[0]


def quad_beta(params: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """P(best) and E[max] - E[theta_k] of independent Beta arms by numerical integration."""
    dists = [stats.beta(a, b) for a, b in params]
    lo = min(d.ppf(1e-12) for d in dists)
    hi = max(d.ppf(1 - 1e-12) for d in dists)

    def cdf_prod(x: float, skip: int = -1) -> float:
        return math.prod(d.cdf(x) for j, d in enumerate(dists) if j != skip)

    opts = {"points": [d.mean() for d in dists], "limit": 200, "epsabs": 1e-12}
    p_best = np.array(
        [
            integrate.quad(lambda x, k=k: dists[k].pdf(x) * cdf_prod(x, k), lo, hi, **opts)[0]
            for k in range(len(dists))
        ]
    )
    e_max = lo + integrate.quad(lambda x: 1.0 - cdf_prod(x), lo, hi, **opts)[0]
    return p_best, e_max - np.array([d.mean() for d in dists])


class TestPosteriors:
    def test_beta_posterior_of_counts_is_conjugate_update(self) -> None:
        est = binary_estimate("a", 37, 412)
        post = BetaBernoulli().posterior(est)
        assert (post.alpha, post.beta) == pytest.approx((38, 376), rel=1e-12)
        ref = stats.beta(38, 376)
        assert post.mean == pytest.approx(ref.mean(), rel=1e-12)
        assert post.sd == pytest.approx(ref.std(), rel=1e-12)
        assert post.interval(0.9) == pytest.approx(ref.ppf([0.05, 0.95]), rel=1e-10)
        jeffreys = BetaBernoulli(0.5, 0.5).posterior(est)
        assert jeffreys.mean == pytest.approx(37.5 / 413, rel=1e-12)

    def test_beta_effective_counts_match_mean_and_variance(self) -> None:
        # A weighted estimate (m, se) becomes the Beta with that mean and (nearly) that
        # variance: Korn & Graubard's effective sample size n* = m (1 - m) / se^2.
        est = ArmEstimate("a", 5000, 0.12, 0.006, "period_weighted")
        post = BetaBernoulli(0.0, 0.0).posterior(est)
        n_eff = 0.12 * 0.88 / 0.006**2
        assert post.alpha + post.beta == pytest.approx(n_eff, rel=1e-12)
        assert post.mean == pytest.approx(0.12, rel=1e-12)
        assert post.sd == pytest.approx(0.006 * math.sqrt(n_eff / (n_eff + 1)), rel=1e-12)

    def test_normal_posterior(self) -> None:
        post = NormalMean().posterior(ArmEstimate("a", 300, 2.5, 0.2, "pooled"))
        assert (post.mean, post.sd) == (2.5, 0.2)
        assert post.interval(0.95) == pytest.approx(stats.norm(2.5, 0.2).ppf([0.025, 0.975]))

    def test_binary_mean_outside_unit_interval_rejected(self) -> None:
        with pytest.raises(ValueError, match="binary"):
            BetaBernoulli().posterior(ArmEstimate("a", 10, 1.5, 0.1, "pooled"))


class TestBestArm:
    def test_two_beta_arms_against_miller_and_stucchio(self) -> None:
        a = binary_estimate("a", 40, 500)
        b = binary_estimate("b", 55, 510)
        comp = compare_arms([a, b], BetaBernoulli(), draws=400_000, seed=1)
        p_b = miller_p_greater(56, 456, 41, 461)
        assert comp.arms[1].p_best == pytest.approx(p_b, abs=4 * comp.mc_se)
        assert comp.arms[0].p_best == pytest.approx(1 - p_b, abs=4 * comp.mc_se)
        loss_b = stucchio_loss_of_b(41, 461, 56, 456)
        loss_a = stucchio_loss_of_b(56, 456, 41, 461)
        assert comp.arms[1].expected_loss == pytest.approx(loss_b, rel=0.03)
        assert comp.arms[0].expected_loss == pytest.approx(loss_a, rel=0.01)
        # The closed forms themselves agree with quadrature (guards the test's own algebra).
        p_quad, loss_quad = quad_beta([(41, 461), (56, 456)])
        assert p_quad[1] == pytest.approx(p_b, abs=1e-9)
        assert loss_quad == pytest.approx([loss_a, loss_b], abs=1e-9)

    def test_four_beta_arms_against_quadrature(self) -> None:
        arms = [binary_estimate(str(k), s, 800) for k, s in enumerate([80, 92, 88, 70])]
        comp = compare_arms(arms, BetaBernoulli(), draws=400_000, seed=2)
        p_quad, loss_quad = quad_beta([(1 + s, 801 - s) for s in (80, 92, 88, 70)])
        assert sum(p_quad) == pytest.approx(1.0, abs=1e-8)
        for k, arm in enumerate(comp.arms):
            assert arm.p_best == pytest.approx(p_quad[k], abs=4 * comp.mc_se + 1e-9)
            assert arm.expected_loss == pytest.approx(loss_quad[k], rel=0.01, abs=2e-5)

    def test_two_normal_arms_closed_form(self) -> None:
        a = ArmEstimate("a", 900, 3.10, 0.08, "pooled")
        b = ArmEstimate("b", 800, 3.25, 0.09, "pooled")
        comp = compare_arms([a, b], NormalMean(), draws=400_000, seed=3)
        s = math.hypot(0.08, 0.09)
        d = 3.25 - 3.10
        assert comp.arms[1].p_best == pytest.approx(stats.norm.cdf(d / s), abs=4 * comp.mc_se)
        loss_a = d * stats.norm.cdf(d / s) + s * stats.norm.pdf(d / s)
        loss_b = -d * stats.norm.cdf(-d / s) + s * stats.norm.pdf(-d / s)
        assert comp.arms[0].expected_loss == pytest.approx(loss_a, rel=0.01)
        assert comp.arms[1].expected_loss == pytest.approx(loss_b, rel=0.03)

    def test_three_normal_arms_against_quadrature(self) -> None:
        mus, sds = [1.0, 1.05, 0.98], [0.03, 0.04, 0.02]
        comp = compare_arms(
            [
                ArmEstimate(str(k), 100, m, s, "pooled")
                for k, (m, s) in enumerate(zip(mus, sds, strict=True))
            ],
            NormalMean(),
            draws=400_000,
            seed=4,
        )
        dists = [stats.norm(m, s) for m, s in zip(mus, sds, strict=True)]

        def prod_cdf(x: float, skip: int = -1) -> float:
            return math.prod(d.cdf(x) for j, d in enumerate(dists) if j != skip)

        for k, arm in enumerate(comp.arms):
            p = integrate.quad(lambda x, k=k: dists[k].pdf(x) * prod_cdf(x, k), 0.5, 1.5)[0]
            assert arm.p_best == pytest.approx(p, abs=4 * comp.mc_se)
        # E[max] for a positive support: int_0^inf (1 - prod F).
        e_max = integrate.quad(lambda x: 1 - prod_cdf(x), 0.0, 2.0, points=mus, limit=200)[0]
        for arm, mu in zip(comp.arms, mus, strict=True):
            assert arm.expected_loss == pytest.approx(e_max - mu, rel=0.01, abs=1e-4)

    def test_seeded_and_vectorised_core(self) -> None:
        arms = [binary_estimate("a", 10, 100), binary_estimate("b", 12, 100)]
        one = compare_arms(arms, BetaBernoulli(), draws=5000, seed=7)
        two = compare_arms(arms, BetaBernoulli(), draws=5000, seed=7)
        assert one == two
        draws = np.array([[[0.1, 0.3], [0.4, 0.2]], [[0.0, 1.0], [0.0, 1.0]]])
        p, loss = best_arm_probabilities(draws)
        assert p.tolist() == [[0.5, 0.5], [0.0, 1.0]]
        assert loss.ravel() == pytest.approx([0.1, 0.1, 1.0, 0.0])

    def test_to_dict_is_json_ready(self) -> None:
        import json

        comp = compare_arms(
            [binary_estimate("a", 10, 100), binary_estimate("b", 12, 100)],
            BetaBernoulli(),
            draws=1000,
        )
        data = json.loads(json.dumps(comp.to_dict()))
        assert data["arms"][1]["posterior"]["distribution"] == "beta"
        # b: 12 of 100 -> Beta(13, 89); its 95% equal-tailed credible interval.
        ref = stats.beta(13, 89).ppf([0.025, 0.975])
        posterior = data["arms"][1]["posterior"]
        assert [posterior["ci_low"], posterior["ci_high"]] == pytest.approx(ref, rel=1e-9)
        assert set(data["arms"][0]) >= {"name", "pulls", "mean", "p_best", "expected_loss"}


class TestAllocation:
    def test_thompson_frequencies_match_p_best(self) -> None:
        # Thompson sampling draws one value per arm and plays the largest: over many rounds
        # the play frequencies are P(best), here Miller's closed form.
        rng = np.random.default_rng(5)
        rounds = 200_000
        a = BetaPosterior(41, 461).sample(rng, rounds)
        b = BetaPosterior(56, 456).sample(rng, rounds)
        freq_b = float(np.mean(b > a))
        p_b = miller_p_greater(56, 456, 41, 461)
        assert freq_b == pytest.approx(p_b, abs=4 * math.sqrt(p_b * (1 - p_b) / rounds))
        shares = thompson_shares([1 - p_b, p_b], 0.0)
        assert shares[1] == pytest.approx(p_b)

    def test_thompson_floor(self) -> None:
        shares = thompson_shares([0.0, 0.01, 0.99], 0.05)
        assert shares.sum() == pytest.approx(1.0)
        assert shares == pytest.approx([0.05, 0.05 + 0.85 * 0.01, 0.05 + 0.85 * 0.99])
        assert default_floor(4) == 0.05 and default_floor(20) == 0.025
        with pytest.raises(ValueError, match="floor"):
            thompson_shares([0.5, 0.5], 0.6)

    def test_ucb1_and_egreedy(self) -> None:
        means, pulls = [0.10, 0.12, 0.05], [400, 100, 0]
        idx = ucb1_indices(means, pulls)
        assert idx[0] == pytest.approx(0.10 + math.sqrt(2 * math.log(500) / 400))
        assert idx[1] == pytest.approx(0.12 + math.sqrt(2 * math.log(500) / 100))
        assert idx[2] == math.inf
        assert ucb1_shares(idx, 0.1) == pytest.approx([0.1, 0.1, 0.8])
        assert ucb1_indices([1.0, 2.0], [10, 10], scale=3.0)[1] == pytest.approx(
            2 + 3 * math.sqrt(2 * math.log(20) / 10)
        )
        assert egreedy_shares(means, 0.1) == pytest.approx([0.1 / 3, 0.9 + 0.1 / 3, 0.1 / 3])

    def test_next_allocation_renormalises_active_arms(self) -> None:
        arms = [binary_estimate(n, s, 1000) for n, s in [("a", 100), ("b", 130), ("c", 60)]]
        comp = compare_arms(arms, BetaBernoulli(), draws=20_000, seed=0)
        alloc = next_allocation(comp, active=["a", "b"], floor=0.1)
        assert alloc.thompson[2] == 0.0 and sum(alloc.thompson) == pytest.approx(1.0)
        assert min(alloc.thompson[:2]) >= 0.1
        assert alloc.ucb1 == pytest.approx((0.1, 0.9, 0.0))
        assert alloc.to_dict()["arms"]["b"]["egreedy_share"] == pytest.approx(0.95)


class TestVerdict:
    def test_clear_winner(self) -> None:
        arms = [binary_estimate(n, s, 5000) for n, s in [("a", 500), ("b", 640), ("c", 490)]]
        verdict = decide(compare_arms(arms, BetaBernoulli(), draws=50_000, seed=0))
        assert verdict.verdict == "WINNER" and verdict.winner == "b"
        assert verdict.dropped == ("a", "c")
        assert verdict.reasons == ()

    def test_equal_arms_continue_with_reasons(self) -> None:
        arms = [binary_estimate(n, 100, 1000) for n in "abcd"]
        verdict = decide(compare_arms(arms, BetaBernoulli(), draws=50_000, seed=0))
        assert verdict.verdict == "CONTINUE" and verdict.winner is None
        assert verdict.dropped == ()
        assert "P(best)" in verdict.reasons[0]

    def test_expected_loss_and_min_pulls_block_a_winner(self) -> None:
        arms = [binary_estimate(n, s, 5000) for n, s in [("a", 500), ("b", 580), ("c", 480)]]
        comp = compare_arms(arms, BetaBernoulli(), draws=50_000, seed=0)
        assert decide(comp).verdict == "WINNER"
        strict = decide(comp, VerdictRule(max_loss=1e-9))
        assert strict.verdict == "CONTINUE" and "expected loss" in strict.reasons[0]
        few = decide(comp, VerdictRule(min_pulls=6000))
        assert few.verdict == "CONTINUE" and few.dropped == ()
        absolute = decide(comp, VerdictRule(max_loss=0.001, relative_loss=False))
        assert absolute.verdict == "WINNER"
        assert absolute.to_dict()["rule"]["relative_loss"] is False

    def test_two_arms_need_p_best_above_0995(self) -> None:
        # P(best) = Phi(z) here: z = 2.2 gives 0.986, a WINNER at 0.95 but not at the
        # two-arm default 0.995.
        a = ArmEstimate("a", 4000, 1.0, 0.05, "pooled")
        b = ArmEstimate("b", 4000, 1.0 + 2.2 * 0.05 * 2**0.5, 0.05, "pooled")
        comp = compare_arms([a, b], NormalMean(), draws=100_000, seed=0)
        assert comp.arms[1].p_best == pytest.approx(stats.norm.cdf(2.2), abs=0.002)
        default = decide(comp)
        assert default.verdict == "CONTINUE" and default.rule.p_best == 0.995
        assert decide(comp, VerdictRule(p_best=0.95)).winner == "b"
        three = decide(
            compare_arms(
                [a, b, ArmEstimate("c", 4000, 0.5, 0.05, "pooled")], NormalMean(), draws=1000
            )
        )
        assert three.rule.p_best == 0.95

    def test_normal_rewards(self) -> None:
        arms = [
            ArmEstimate("a", 2000, 2.0, 0.05, "pooled"),
            ArmEstimate("b", 2000, 2.4, 0.05, "pooled"),
        ]
        verdict = decide(compare_arms(arms, NormalMean(), draws=50_000, seed=0))
        assert verdict.winner == "b" and verdict.leader_relative_loss < 1e-3
        assert isinstance(
            compare_arms(arms, NormalMean(), draws=10).arms[0].posterior, NormalPosterior
        )
