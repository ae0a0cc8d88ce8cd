"""A bandit log: k arms, traffic allocated period by period by a bandit policy, known rates.

Period ``t`` has ``units_per_period`` units (users). Before it starts, the policy sets the
period's shares from the clicks of the earlier periods (the statistics of ``abtool.stats``:
per-period weighted arm means; Thompson shares with a floor, batched UCB1, epsilon-greedy, or
uniform). Each unit gets an arm with those shares, logged as ``propensity``, and sends
``1 + Poisson(requests_per_unit - 1)`` requests, all to its arm. Per request:

* ``clicked ~ Bernoulli(rate_k * trend_t * (1 + context_effect * c_k . (2 x - 1) / d))``,
  with ``trend_t = 1 + trend (t / (T - 1) - 1/2)`` (every arm's rate averaged over the periods
  stays ``rate_k``) and ``x`` the unit's ``d`` binary context features (``feature_1``...,
  probability 1/2 each) meeting arm-specific signs ``c_k`` (bit ``j`` of ``k``): every arm's
  mean rate over contexts is ``rate_k``, but the best arm differs by context when
  ``context_effect > 0``;
* ``revenue = clicked * LogNormal(log 2, 0.6)``;
* ``latency_ms ~ LogNormal(log 20, 0.35) * latency_factor_k``, ``error ~ Bernoulli(error_rate_k)``.

Columns: ``request_id``, ``ts``, ``period``, ``user_id``, ``model_variant``, ``propensity``,
``clicked``, ``revenue``, ``latency_ms``, ``error``, ``feature_1..d``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from abtool.stats.bandit import BetaBernoulli, best_arm_probabilities
from abtool.stats.bandit_allocation import (
    default_floor,
    egreedy_shares,
    thompson_shares,
    ucb1_indices,
    ucb1_shares,
)
from abtool.stats.bandit_estimates import period_weighted_moments

POLICIES = ("thompson", "ucb1", "egreedy", "uniform")


@dataclass(frozen=True)
class BanditSpec:
    """Parameters of a generated bandit log."""

    rates: tuple[float, ...] = (0.10, 0.10, 0.10, 0.11)
    arms: tuple[str, ...] | None = None
    policy: str = "thompson"
    periods: int = 14
    units_per_period: int = 1000
    period_hours: float = 24.0
    requests_per_unit: float = 1.0
    floor: float | None = None
    epsilon: float = 0.1
    trend: float = 0.0
    contexts: int = 0
    context_effect: float = 0.5
    error_rates: tuple[float, ...] | None = None
    latency_factors: tuple[float, ...] | None = None
    draws: int = 10_000
    seed: int = 0
    start: datetime = datetime(2025, 4, 28)

    def arm_names(self) -> tuple[str, ...]:
        return self.arms or tuple(f"v{k + 1}" for k in range(len(self.rates)))


def arm_moments(
    pulls: NDArray[np.int64], successes: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Per-period weighted click rates, their variances and total pulls, over ``(..., arms)``.

    Before any period has two pulls of every arm, the pooled counts stand in.
    """
    p = successes / np.maximum(pulls, 1)
    mean, var, _ = period_weighted_moments(pulls, p, p * (1 - p))
    total = pulls.sum(axis=-2)
    if np.any(np.isnan(mean)):
        pooled = successes.sum(axis=-2) / np.maximum(total, 1)
        mean = np.where(np.isnan(mean), pooled, mean)
        var = np.where(np.isnan(var), pooled * (1 - pooled) / np.maximum(total, 1), var)
    return mean, var, total


def posterior_draws(
    mean: NDArray[np.float64],
    var: NDArray[np.float64],
    pulls: NDArray[np.int64],
    rng: np.random.Generator,
    draws: int,
) -> NDArray[np.float64]:
    """``(..., draws, arms)`` draws of the arms' Beta posteriors (effective counts)."""
    ab = BetaBernoulli().parameters(mean, var, pulls)
    size = (*mean.shape[:-1], draws, mean.shape[-1])
    return rng.beta(ab[..., None, :, 0], ab[..., None, :, 1], size=size)


def next_shares(
    policy: str,
    pulls: NDArray[np.int64],
    successes: NDArray[np.int64],
    rng: np.random.Generator,
    *,
    floor: float,
    epsilon: float = 0.1,
    draws: int = 10_000,
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """The next period's shares from binary rewards so far, batched over experiments.

    Args:
        policy: one of :data:`POLICIES`.
        pulls: ``(..., periods so far, arms)`` units of each arm in each period.
        successes: clicks, same shape.
        rng: randomness of the Thompson draws.
        floor: minimum share of each arm (Thompson and UCB1).
        epsilon: epsilon-greedy's exploration share.
        draws: Monte Carlo draws of P(best).

    Returns:
        ``(shares, p_best)``: ``(..., arms)`` shares, and P(best) (None unless Thompson).
    """
    k = pulls.shape[-1]
    batch = pulls.shape[:-2]
    if policy == "uniform" or pulls.shape[-2] == 0:
        return np.full((*batch, k), 1.0 / k), None
    mean, var, total = arm_moments(pulls, successes)
    if policy == "thompson":
        p_best = best_arm_probabilities(posterior_draws(mean, var, total, rng, draws))[0]
        return thompson_shares(p_best, floor), p_best
    if policy == "ucb1":
        return ucb1_shares(ucb1_indices(mean, total), floor), None
    if policy == "egreedy":
        return egreedy_shares(mean, epsilon), None
    raise ValueError(f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}")


def bandit_chunks(spec: BanditSpec) -> Iterator[pa.Table]:
    """Yield the log one period at a time."""
    k = len(spec.rates)
    names = np.array(spec.arm_names())
    rates = np.asarray(spec.rates, dtype=np.float64)
    errors = np.asarray(spec.error_rates or (0.002,) * k, dtype=np.float64)
    slow = np.asarray(spec.latency_factors or (1.0,) * k, dtype=np.float64)
    if not (len(names) == errors.size == slow.size == k >= 2):
        raise ValueError("rates, arms, error rates and latency factors need one value an arm")
    rng = np.random.default_rng(spec.seed)
    # Arm k's sign for feature j is bit j of k (+1 for 0, -1 for 1): arms differ in how they
    # respond to the first log2(k) features, so the best arm depends on the context.
    bits = (np.arange(k)[:, None] >> np.arange(max(spec.contexts, 1))) & 1
    signs = 1.0 - 2.0 * bits
    floor = default_floor(k) if spec.floor is None else spec.floor
    pulls = np.zeros((0, k), dtype=np.int64)
    successes = np.zeros((0, k), dtype=np.int64)
    start_us = int(np.datetime64(spec.start, "us").astype(np.int64))
    period_us = int(spec.period_hours * 3600 * 1_000_000)
    next_request = next_unit = 0
    for t in range(spec.periods):
        shares, _ = next_shares(
            spec.policy,
            pulls,
            successes,
            rng,
            floor=floor,
            epsilon=spec.epsilon,
            draws=spec.draws,
        )
        units = spec.units_per_period
        arm = (rng.random(units)[:, None] < np.cumsum(shares)).argmax(axis=1)
        features = rng.integers(0, 2, size=(units, spec.contexts), dtype=np.int8)
        counts = 1 + rng.poisson(max(spec.requests_per_unit - 1.0, 0.0), units)
        owner = np.repeat(np.arange(units), counts)
        n = owner.size
        a = arm[owner]
        trend = 1.0 + spec.trend * (t / (spec.periods - 1) - 0.5) if spec.periods > 1 else 1.0
        tilt = np.zeros(n)
        if spec.contexts:
            centred = 2.0 * features[owner].astype(np.float64) - 1.0
            tilt = spec.context_effect * np.sum(signs[a] * centred, axis=1) / spec.contexts
        click_p = np.clip(rates[a] * trend * (1.0 + tilt), 0.0, 1.0)
        clicked = rng.random(n) < click_p
        pulls = np.vstack([pulls, np.bincount(a, minlength=k)])
        successes = np.vstack([successes, np.bincount(a, weights=clicked, minlength=k)])
        ts = start_us + t * period_us + rng.integers(0, max(period_us, 1), n)
        columns: dict[str, pa.Array] = {
            "request_id": pa.array(np.arange(next_request, next_request + n), pa.int64()),
            "ts": pa.array(np.sort(ts).astype("datetime64[us]"), pa.timestamp("us")),
            "period": pa.array(np.full(n, t), pa.int32()),
            "user_id": pa.array(next_unit + owner, pa.int64()),
            "model_variant": pa.array(names[a], pa.string()),
            "propensity": pa.array(shares[a], pa.float64()),
            "clicked": pa.array(clicked, pa.bool_()),
            "revenue": pa.array(np.where(clicked, rng.lognormal(np.log(2.0), 0.6, n), 0.0)),
            "latency_ms": pa.array(rng.lognormal(np.log(20.0), 0.35, n) * slow[a]),
            "error": pa.array(rng.random(n) < errors[a], pa.bool_()),
        }
        for j in range(spec.contexts):
            columns[f"feature_{j + 1}"] = pa.array(features[owner, j], pa.int8())
        yield pa.table(columns)
        next_request += n
        next_unit += units
