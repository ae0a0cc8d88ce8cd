"""bandit-report's statistics from the aggregates: arm estimates, allocation, timeline, replay.

Each cell (period x arm) holds units with reward sums ``x`` over ``y`` rows. Its mean reward
per row is the ratio ``r = sum x / sum y`` and, units being independent, its delta-method
variance is ``s2 / n`` with ``s2 = sum (x - r y)**2 / (n - 1) / ybar**2``; with one row a unit
(``y = 1``) that is the sample variance. These are the per-period means and variances that
:func:`abtool.stats.bandit_estimates.period_weighted_estimates` combines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from abtool.aggregates.bandit import BanditData, PeriodCells
from abtool.commands.bandit import BanditOptions
from abtool.errors import InputError
from abtool.results.bandit import (
    AllocationStats,
    ArmAllocation,
    ArmStats,
    PolicyStats,
    PosteriorStats,
    ReplayStats,
    Timeline,
)
from abtool.stats.bandit import BetaPosterior, Comparison
from abtool.stats.bandit_allocation import next_allocation
from abtool.stats.bandit_estimates import (
    ArmEstimate,
    Floats,
    ipw_estimates,
    period_weighted_estimates,
    pooled_estimates,
)
from abtool.stats.replay import evaluate_policies

REPLAY_METHOD = (
    "replay (Li et al. 2011; matching events accepted with probability min(pi)/pi, Dudik et al. "
    "2012), IPS and SNIPS (Swaminathan & Joachims 2015); regret against the best fixed arm on "
    "the same log"
)


def cell_moments(
    pulls: ArrayLike, sum_x: Floats, sum_x2: Floats, sum_y: Floats, sum_y2: Floats, sum_xy: Floats
) -> tuple[Floats, Floats]:
    """Each cell's mean reward per row and its unit-level variance ``s2`` (``Var = s2 / n``).

    NaN where a cell has fewer than two units (the estimators leave such cells out).
    """
    n = np.asarray(pulls, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = sum_x / sum_y
        ybar = sum_y / n
        squares = np.maximum(sum_x2 - 2.0 * r * sum_xy + r * r * sum_y2, 0.0)
        s2 = squares / (n - 1.0) / (ybar * ybar)
    few = n < 2
    return np.where(n > 0, r, np.nan), np.where(few, np.nan, s2)


def arm_estimates(data: BanditData, estimator: str, name: str) -> list[ArmEstimate]:
    """Each arm's mean reward over the experiment's traffic (see the module docstring).

    Raises:
        InputError: the log does not allow the estimator (names the log and what is missing).
    """
    cells = data.cells
    arms = data.arms
    if estimator == "ipw":
        assert data.propensity_sums is not None
        try:
            return ipw_estimates(arms, data.propensity_sums)
        except ValueError as exc:
            raise InputError(f"{name}: {exc}") from None
    if estimator == "pooled":
        sums = [getattr(cells, k).sum(axis=0) for k in ("sum_x", "sum_x2", "sum_y", "sum_y2")]
        pulls = cells.pulls.sum(axis=0)
        means, variances = cell_moments(
            pulls, sums[0], sums[1], sums[2], sums[3], cells.sum_xy.sum(axis=0)
        )
        if np.any(pulls < 2):
            few = [a for a, n in zip(arms, pulls, strict=True) if n < 2]
            raise InputError(f"{name}: arm(s) {', '.join(few)} have fewer than two units")
        return pooled_estimates(arms, pulls, means, variances)
    means, variances = cell_moments(
        cells.pulls, cells.sum_x, cells.sum_x2, cells.sum_y, cells.sum_y2, cells.sum_xy
    )
    try:
        return period_weighted_estimates(arms, cells.pulls, means, variances)
    except ValueError:
        raise InputError(
            f"{name}: no period ({data.period_source}) has at least two units of every arm "
            "(use longer periods, or --estimator ipw with logged propensities)"
        ) from None


def arm_stats(
    comparison: Comparison,
    data: BanditData,
    winner: str | None,
    leader: str,
    dropped: Sequence[str],
    rolled_back: Sequence[str],
) -> list[ArmStats]:
    """Each arm's record: the comparison's figures with its health and status."""
    out = []
    for arm, health in zip(comparison.arms, data.health, strict=True):
        post = arm.posterior
        beta = isinstance(post, BetaPosterior)
        if arm.name in rolled_back:
            status = "rollback"
        elif arm.name == winner:
            status = "winner"
        elif arm.name == leader:
            status = "leader"
        elif arm.name in dropped:
            status = "drop"
        else:
            status = "active"
        out.append(
            ArmStats(
                name=arm.name,
                pulls=arm.pulls,
                requests=health.requests,
                mean=arm.mean,
                se=arm.se,
                ci_low=arm.ci_low,
                ci_high=arm.ci_high,
                posterior=PosteriorStats(
                    distribution="beta" if beta else "normal",
                    alpha=post.alpha if isinstance(post, BetaPosterior) else None,
                    beta=post.beta if isinstance(post, BetaPosterior) else None,
                    mean=post.mean,
                    sd=post.sd,
                    ci_low=arm.credible_low,
                    ci_high=arm.credible_high,
                ),
                p_best=arm.p_best,
                expected_loss=arm.expected_loss,
                errors=health.errors,
                error_rate=health.errors / health.requests
                if health.errors is not None and health.requests
                else None,
                latency_p50_ms=health.latency_p50_ms,
                latency_p99_ms=health.latency_p99_ms,
                status=status,
            )
        )
    return out


def allocation_stats(
    comparison: Comparison,
    data: BanditData,
    binary: bool,
    options: BanditOptions,
    active: Sequence[str],
) -> AllocationStats:
    """Next period's Thompson, UCB1 and epsilon-greedy shares over the active arms."""
    scale = 1.0 if binary else (data.reward_max - data.reward_min) or 1.0
    allocation = next_allocation(
        comparison, floor=options.floor, epsilon=options.epsilon, reward_scale=scale, active=active
    )
    return AllocationStats(
        arms={
            name: ArmAllocation(
                allocation.thompson[k],
                allocation.ucb1_index[k],
                allocation.ucb1[k],
                allocation.egreedy[k],
            )
            for k, name in enumerate(allocation.arms)
        },
        active=list(active),
        floor=allocation.floor,
        epsilon=allocation.epsilon,
        reward_scale=allocation.reward_scale,
    )


def timeline(data: BanditData) -> Timeline:
    """Per period: each arm's units, its share of the period's units and its mean reward."""
    cells: PeriodCells = data.cells
    totals = cells.pulls.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = cells.pulls / np.where(totals > 0, totals, 1)[:, None]
        means = cells.sum_x / cells.sum_y
    return Timeline(
        period=list(cells.periods),
        pulls={a: [int(v) for v in cells.pulls[:, k]] for k, a in enumerate(data.arms)},
        share={a: [float(v) for v in shares[:, k]] for k, a in enumerate(data.arms)},
        mean={
            a: [float(v) if np.isfinite(v) else None for v in means[:, k]]
            for k, a in enumerate(data.arms)
        },
    )


def replay_stats(data: BanditData, binary: bool, options: BanditOptions, name: str) -> ReplayStats:
    """Replay, IPS and SNIPS values of fixed arms and learning policies on the log's rows.

    Raises:
        InputError: the rows cannot be replayed (names the log).
    """
    events = data.events
    assert events is not None
    try:
        report = evaluate_policies(
            events.arms,
            events.rewards,
            data.arms,
            propensities=events.propensities,
            contexts=events.contexts,
            binary=binary,
            confidence=options.confidence,
            seed=options.seed,
        )
    except ValueError as exc:
        raise InputError(f"{name}: --replay: {exc}") from None
    return ReplayStats(
        policies=[
            PolicyStats(
                p.policy,
                p.parameters,
                p.accepted,
                p.value("replay"),
                p.value("ips"),
                p.value("snips"),
            )
            for p in report.policies
        ],
        best_fixed_arm=report.best_fixed_arm,
        events=report.events,
        logging=report.logging,
        min_propensity=report.min_propensity,
        confidence=report.confidence,
        seed=report.seed,
        method=REPLAY_METHOD,
    )


def weighting_text(data: BanditData, estimator: str, coverage: float) -> str:
    """How the report handles the time-varying allocation, and why its means are unbiased."""
    periods = f"{len(data.cells.periods)} periods from {data.period_source}"
    if estimator == "period_weighted":
        return (
            f"Per-period weighting over {periods} ({coverage:.1%} of the traffic in periods "
            "with two units of every arm): each arm's mean is the average of its per-period "
            "means weighted by each period's share of all traffic. A period's split is fixed "
            "before it starts, so an arm's units in it are a random sample of that period's "
            "traffic and their mean is unbiased for what the arm would earn on all of it; the "
            "weights depend on neither rewards nor allocation, so every arm is estimated on the "
            "same traffic mix. Pooled means would be biased by time trends (Simpson's paradox) "
            "and by adaptive sampling (Nie et al. 2018). Periods must not be longer than the "
            "interval at which the allocation was updated."
        )
    if estimator == "ipw":
        return (
            "Inverse-propensity weighting: each row weighs 1 / the logged probability of its "
            "arm (Hajek mean). E[1{A = k} / pi | past] = 1 for any adaptive policy, so the "
            "estimate is unbiased whenever the allocation changed, within periods too "
            f"(Horvitz & Thompson 1952); {periods} are shown for reference only."
        )
    return (
        "Pooled means: right only when the split never changed. Under bandit allocation they "
        "are biased by time trends and by adaptive sampling (Nie et al. 2018): use the "
        "default period_weighted or ipw."
    )
