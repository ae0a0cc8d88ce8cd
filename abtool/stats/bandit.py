"""Which of k arms is best: per-arm posteriors, probability of being best, expected loss.

Each arm's mean reward comes in as an :class:`~abtool.stats.bandit_estimates.ArmEstimate`
(pooled, per-period weighted or inverse-propensity weighted: see that module for why a bandit
log needs the latter two). A *model* turns it into a posterior of the arm's mean reward; a new
model is a new class with the same ``posterior`` and ``parameters`` methods.

* :class:`BetaBernoulli` (binary rewards): ``Beta(a0 + s, b0 + n - s)`` with a ``Beta(1, 1)``
  (uniform) prior by default: two pseudo-observations, negligible beside the hundreds of pulls
  a decision needs, and it keeps a posterior proper for an arm without successes. With a
  weighted estimate, ``n`` and ``s`` are the *effective* counts ``n* = m (1 - m) / se**2``,
  ``s = m n*`` (Korn & Graubard 1998): the Beta whose mean and variance match the estimate; for
  a single period (or a constant split) they are the arm's actual counts.
* :class:`NormalMean` (continuous rewards): ``N(m, se**2)``, the flat-prior posterior of the mean
  under its normal (central limit) approximation. Chosen over the conjugate Normal-Inverse-Gamma
  model because rewards such as revenue are zero-inflated and skewed, so a model that assumes
  normal *rewards* misstates the spread, while the mean of hundreds of them is close to normal;
  and because it takes any weighted estimate with its standard error unchanged.

The probability that arm ``k`` is best, ``P(theta_k = max_j theta_j)``, and the expected loss of
choosing it, ``E[max_j theta_j - theta_k]`` (the reward given up per unit if ``k`` is not best;
Stucchio 2015), are Monte Carlo averages over seeded joint posterior draws (arms independent).

References:
    Thompson, W. R. (1933). On the likelihood that one unknown probability exceeds another in
    view of the evidence of two samples. Biometrika 25, 285-294.
    Scott, S. L. (2015). Multi-armed bandit experiments in the online service economy. Applied
    Stochastic Models in Business and Industry 31, 37-49.
    Stucchio, C. (2015). Bayesian A/B testing at VWO. VWO technical report.
    Korn, E. L., Graubard, B. I. (1998). Confidence intervals for proportions with small
    expected number of positive counts estimated from survey data. Survey Methodology 24,
    193-201.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abtool.stats.bandit_estimates import ArmEstimate

Floats = NDArray[np.float64]


class Posterior(Protocol):
    """A posterior of one arm's mean reward."""

    @property
    def mean(self) -> float: ...

    @property
    def sd(self) -> float: ...

    def interval(self, confidence: float) -> tuple[float, float]: ...

    def sample(self, rng: np.random.Generator, size: int) -> Floats: ...

    def to_dict(self) -> dict[str, float | str]: ...


@dataclass(frozen=True)
class BetaPosterior:
    """``Beta(alpha, beta)`` posterior of a success rate."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def sd(self) -> float:
        a, b = self.alpha, self.beta
        return float(np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0))))

    def interval(self, confidence: float) -> tuple[float, float]:
        """Equal-tailed credible interval."""
        from scipy import special

        tail = (1.0 - confidence) / 2.0
        low = special.betaincinv(self.alpha, self.beta, tail)
        high = special.betaincinv(self.alpha, self.beta, 1.0 - tail)
        return float(low), float(high)

    def sample(self, rng: np.random.Generator, size: int) -> Floats:
        return rng.beta(self.alpha, self.beta, size)

    def to_dict(self) -> dict[str, float | str]:
        return {
            "distribution": "beta",
            "alpha": self.alpha,
            "beta": self.beta,
            "mean": self.mean,
            "sd": self.sd,
        }


@dataclass(frozen=True)
class NormalPosterior:
    """``N(mean, sd**2)`` posterior of a mean reward."""

    mu: float
    sigma: float

    @property
    def mean(self) -> float:
        return self.mu

    @property
    def sd(self) -> float:
        return self.sigma

    def interval(self, confidence: float) -> tuple[float, float]:
        """Equal-tailed credible interval."""
        from scipy import special

        z = float(special.ndtri(0.5 + confidence / 2.0))
        return self.mu - z * self.sigma, self.mu + z * self.sigma

    def sample(self, rng: np.random.Generator, size: int) -> Floats:
        return self.mu + self.sigma * rng.standard_normal(size)

    def to_dict(self) -> dict[str, float | str]:
        return {"distribution": "normal", "mean": self.mu, "sd": self.sigma}


@dataclass(frozen=True)
class BetaBernoulli:
    """Binary rewards: Beta posterior on the (effective) counts with a ``Beta(a0, b0)`` prior."""

    prior_alpha: float = 1.0
    prior_beta: float = 1.0

    def parameters(self, mean: ArrayLike, variance: ArrayLike, pulls: ArrayLike) -> Floats:
        """Vectorised ``(alpha, beta)`` stacked on a new last axis, from means, their
        variances (``se**2``) and pulls; ``n* = pulls`` where the variance is 0."""
        m = np.clip(np.asarray(mean, dtype=np.float64), 0.0, 1.0)
        v = np.asarray(variance, dtype=np.float64)
        n = np.asarray(pulls, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = np.where(v > 0, m * (1.0 - m) / v, n)
        return np.stack([self.prior_alpha + m * n_eff, self.prior_beta + (1 - m) * n_eff], -1)

    def posterior(self, estimate: ArmEstimate) -> BetaPosterior:
        if not 0.0 <= estimate.mean <= 1.0:
            raise ValueError(f"arm {estimate.name}: binary rewards need a mean in [0, 1]")
        a, b = self.parameters(estimate.mean, estimate.se**2, estimate.pulls)
        return BetaPosterior(float(a), float(b))


@dataclass(frozen=True)
class NormalMean:
    """Continuous rewards: flat-prior normal posterior ``N(mean, se**2)`` of the arm's mean."""

    def parameters(self, mean: ArrayLike, variance: ArrayLike, pulls: ArrayLike) -> Floats:
        """Vectorised ``(mu, sigma)`` stacked on a new last axis."""
        m = np.asarray(mean, dtype=np.float64)
        s = np.sqrt(np.asarray(variance, dtype=np.float64))
        return np.stack(np.broadcast_arrays(m, s), -1)

    def posterior(self, estimate: ArmEstimate) -> NormalPosterior:
        return NormalPosterior(estimate.mean, estimate.se)


def best_arm_probabilities(draws: ArrayLike) -> tuple[Floats, Floats]:
    """P(best) and expected loss of each arm from joint posterior draws.

    Args:
        draws: ``(..., draws, arms)`` samples of the arms' mean rewards.

    Returns:
        ``(p_best, expected_loss)``, each ``(..., arms)``.
    """
    x = np.asarray(draws, dtype=np.float64)
    k = x.shape[-1]
    best = x.argmax(axis=-1)
    p_best = (best[..., None] == np.arange(k)).mean(axis=-2)
    loss = (x.max(axis=-1, keepdims=True) - x).mean(axis=-2)
    return p_best, loss


@dataclass(frozen=True)
class ArmComparison:
    """One arm in a k-arm comparison.

    Attributes:
        name: the arm.
        pulls: its units.
        mean: estimated mean reward.
        se: its standard error.
        ci_low: lower end of the normal CI ``mean -/+ z se``.
        ci_high: upper end of that CI.
        posterior: the arm's posterior (``to_dict`` gives its parameters).
        credible_low: lower end of the posterior's equal-tailed credible interval.
        credible_high: upper end of that interval (same level as the CI).
        p_best: posterior probability that the arm has the highest mean reward.
        expected_loss: ``E[max_j theta_j - theta_k]``, reward units per unit.
    """

    name: str
    pulls: int
    mean: float
    se: float
    ci_low: float
    ci_high: float
    posterior: BetaPosterior | NormalPosterior
    credible_low: float
    credible_high: float
    p_best: float
    expected_loss: float

    def to_dict(self) -> dict[str, Any]:
        low, high = self.credible_low, self.credible_high
        return {
            "name": self.name,
            "pulls": self.pulls,
            "mean": self.mean,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "posterior": {**self.posterior.to_dict(), "ci_low": low, "ci_high": high},
            "p_best": self.p_best,
            "expected_loss": self.expected_loss,
        }


@dataclass(frozen=True)
class Comparison:
    """All arms' P(best) and expected loss, with the Monte Carlo settings.

    ``mc_se`` is the largest Monte Carlo standard error of a ``p_best``,
    ``sqrt(p (1 - p) / draws)``.
    """

    arms: tuple[ArmComparison, ...]
    method: str
    draws: int
    seed: int
    confidence: float
    mc_se: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "arms": [a.to_dict() for a in self.arms],
            "method": self.method,
            "draws": self.draws,
            "seed": self.seed,
            "confidence": self.confidence,
            "mc_se": self.mc_se,
        }


def compare_arms(
    estimates: Sequence[ArmEstimate],
    model: BetaBernoulli | NormalMean,
    *,
    draws: int = 100_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Comparison:
    """Posterior, P(best) and expected loss of every arm by seeded Monte Carlo.

    100,000 draws put the Monte Carlo error of a P(best) below 0.0016, far inside the
    distance between a decision threshold of 0.95 and the values that matter.

    Raises:
        ValueError: with fewer than two arms or draws < 1.
    """
    from scipy import special

    if len(estimates) < 2:
        raise ValueError("a comparison needs at least two arms")
    if draws < 1:
        raise ValueError("draws must be positive")
    posteriors = [model.posterior(e) for e in estimates]
    rng = np.random.default_rng(seed)
    sample = np.column_stack([p.sample(rng, draws) for p in posteriors])
    p_best, loss = best_arm_probabilities(sample)
    z = float(special.ndtri(0.5 + confidence / 2.0))
    arms = tuple(
        ArmComparison(
            name=e.name,
            pulls=e.pulls,
            mean=e.mean,
            se=e.se,
            ci_low=e.mean - z * e.se,
            ci_high=e.mean + z * e.se,
            posterior=post,
            credible_low=post.interval(confidence)[0],
            credible_high=post.interval(confidence)[1],
            p_best=float(p_best[k]),
            expected_loss=float(loss[k]),
        )
        for k, (e, post) in enumerate(zip(estimates, posteriors, strict=True))
    )
    mc_se = float(np.sqrt(np.max(p_best * (1.0 - p_best)) / draws))
    return Comparison(arms, estimates[0].method, draws, seed, confidence, mc_se)
