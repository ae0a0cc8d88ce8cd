"""What CUPED buys on canary-like data, by simulation: A/A level, variance reduction, power.

Run ``python -m abtool.simulate.cuped_power`` for the tables in ``docs/canary-decide.md``.
Replicate experiments are drawn per unit, vectorised over replicates, with the click model of
:mod:`abtool.simulate.canary`: a user has a latent propensity ``u ~ N(0, heterogeneity)``,
``1 + Poisson(requests - 1)`` requests and ``Binomial(requests, sigmoid(logit(rate) + u))``
clicks (times ``1 + lift`` in treatment). In the pre-period the propensity is
``rho u + sqrt(1 - rho**2) N(0, heterogeneity)``; a share ``1 - coverage`` of users (new
users) has no pre-period requests. Users are assigned to treatment with probability
``treatment_share``.

Each replicate is analysed by :func:`abtool.stats.cuped.cuped`, which also gives the
unadjusted delta-method estimate, so both tests see the same data:

* ``metric="ratio"``: click-through rate, clicks / requests, with the pre-period
  click-through rate as covariate (delta method);
* ``metric="mean"``: clicks per user, with pre-period clicks per user as covariate.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Literal

import numpy as np

from abtool.stats.cuped import CupedArm, cuped


@dataclass(frozen=True)
class CupedScenario:
    """One simulated experiment design (the same for every replicate)."""

    metric: Literal["ratio", "mean"] = "ratio"
    users: int = 4000
    treatment_share: float = 0.5
    click_rate: float = 0.10
    heterogeneity: float = 1.0
    requests_per_user: float = 5.0
    pre_requests_per_user: float = 35.0
    pre_correlation: float = 0.8
    pre_coverage: float = 0.9
    lift: float = 0.0
    alpha: float = 0.05


@dataclass(frozen=True)
class CupedSimulation:
    """What the replicates showed.

    Attributes:
        replicates: simulated experiments.
        rejected_unadjusted, rejected_cuped: share of replicates with p < alpha.
        variance_reduction_pct: mean over replicates of the reduction each one reported.
        empirical_reduction_pct: ``100 (1 - Var(adjusted lifts) / Var(unadjusted lifts))``
            across replicates: the reduction that actually happened.
        mean_lift_unadjusted, mean_lift_cuped: mean absolute lift estimates (bias check).
        sd_lift_cuped: their standard deviation across replicates.
        units_without_pre: mean units per replicate without pre-period data (all kept).
    """

    replicates: int
    rejected_unadjusted: float
    rejected_cuped: float
    variance_reduction_pct: float
    empirical_reduction_pct: float
    mean_lift_unadjusted: float
    mean_lift_cuped: float
    sd_lift_cuped: float
    units_without_pre: float


def simulate_cuped(scenario: CupedScenario, replicates: int, seed: int = 0) -> CupedSimulation:
    """Draw ``replicates`` experiments of ``scenario`` and test each with and without CUPED."""
    s = scenario
    rng = np.random.default_rng([seed, 17])
    shape = (replicates, s.users)
    base = np.log(s.click_rate / (1 - s.click_rate))
    u = s.heterogeneity * rng.standard_normal(shape)
    noise = s.heterogeneity * rng.standard_normal(shape)
    u_pre = s.pre_correlation * u + np.sqrt(1 - s.pre_correlation**2) * noise
    treated = rng.uniform(size=shape) < s.treatment_share
    p = 1 / (1 + np.exp(-(base + u)))
    requests = 1 + rng.poisson(s.requests_per_user - 1, shape)
    clicks = rng.binomial(requests, np.minimum(p * np.where(treated, 1 + s.lift, 1.0), 1.0))
    covered = rng.uniform(size=shape) < s.pre_coverage
    pre_requests = np.where(covered, 1 + rng.poisson(s.pre_requests_per_user - 1, shape), 0)
    pre_clicks = rng.binomial(pre_requests, 1 / (1 + np.exp(-(base + u_pre))))

    results = []
    for r in range(replicates):
        arms = []
        for arm in (~treated[r], treated[r]):
            if s.metric == "ratio":
                arms.append(
                    CupedArm.ratio(
                        clicks[r, arm], requests[r, arm], pre_clicks[r, arm], pre_requests[r, arm]
                    )
                )
            else:
                arms.append(CupedArm.mean(clicks[r, arm], pre_clicks[r, arm], covered[r, arm]))
        results.append(cuped(arms[0], arms[1], alpha=s.alpha))

    plain = np.array([res.unadjusted.lift_abs for res in results])
    adjusted = np.array([res.adjusted.lift_abs for res in results])
    return CupedSimulation(
        replicates=replicates,
        rejected_unadjusted=float(np.mean([res.unadjusted.pvalue < s.alpha for res in results])),
        rejected_cuped=float(np.mean([res.adjusted.pvalue < s.alpha for res in results])),
        variance_reduction_pct=float(np.mean([res.variance_reduction_pct for res in results])),
        empirical_reduction_pct=float(100 * (1 - adjusted.var(ddof=1) / plain.var(ddof=1))),
        mean_lift_unadjusted=float(plain.mean()),
        mean_lift_cuped=float(adjusted.mean()),
        sd_lift_cuped=float(adjusted.std(ddof=1)),
        units_without_pre=float(np.mean([res.units_without_pre for res in results])),
    )


AA_SCENARIOS = (
    CupedScenario(metric="ratio", pre_correlation=0.8),
    CupedScenario(metric="ratio", pre_correlation=0.8, pre_coverage=0.6),
    CupedScenario(metric="mean", pre_correlation=0.8),
    CupedScenario(metric="ratio", pre_correlation=0.8, treatment_share=0.05, users=20_000),
)
"""A/A designs of the docs table (lift 0)."""

_LIFT_DESIGNS: tuple[tuple[Literal["ratio", "mean"], float, float], ...] = (
    ("ratio", 5.0, 0.05),
    ("mean", 5.0, 0.05),
    ("ratio", 20.0, 0.025),
)
LIFT_SCENARIOS = tuple(
    CupedScenario(
        metric=metric, users=10_000, requests_per_user=rpu, pre_correlation=rho, lift=lift
    )
    for metric, rpu, lift in _LIFT_DESIGNS
    for rho in (0.0, 0.5, 0.8, 0.95)
)
"""Designs with a true lift of the click probability (docs table)."""


def _design(s: CupedScenario) -> str:
    return (
        f"| {s.metric} | {s.users:,} | {100 * s.treatment_share:g}% | {s.requests_per_user:g} | "
        f"{s.pre_correlation:g} | {100 * s.pre_coverage:g}% |"
    )


def aa_table(replicates: int, seed: int = 1) -> list[str]:
    """Markdown rows: rejection rates under A/A, with their Monte Carlo standard error."""
    lines = [
        "| metric | users | treatment | requests/user | rho | with pre-period | "
        "rejected, unadjusted | rejected, CUPED | MC s.e. | mean CUPED lift / its s.d. |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in AA_SCENARIOS:
        sim = simulate_cuped(s, replicates, seed)
        mc_se = np.sqrt(s.alpha * (1 - s.alpha) / replicates)
        lines.append(
            f"{_design(s)} {sim.rejected_unadjusted:.4f} | {sim.rejected_cuped:.4f} | "
            f"{mc_se:.4f} | {sim.mean_lift_cuped / sim.sd_lift_cuped:+.3f} |"
        )
    return lines


def lift_table(replicates: int, seed: int = 2) -> list[str]:
    """Markdown rows: variance reduction reported and achieved, power without and with CUPED."""
    lines = [
        "| metric | users | treatment | requests/user | rho | with pre-period | lift | "
        "variance reduction (reported) | variance reduction (across replicates) | "
        "power, unadjusted | power, CUPED |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in LIFT_SCENARIOS:
        sim = simulate_cuped(s, replicates, seed)
        lines.append(
            f"{_design(s)} {100 * s.lift:g}% | {sim.variance_reduction_pct:.1f}% | "
            f"{sim.empirical_reduction_pct:.1f}% | "
            f"{sim.rejected_unadjusted:.3f} | {sim.rejected_cuped:.3f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    """Print the A/A and the true-lift tables as markdown."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--aa-replicates", type=int, default=4000)
    parser.add_argument("--replicates", type=int, default=1000)
    args = parser.parse_args(argv)
    print(f"A/A, {args.aa_replicates} replicates each, alpha 0.05:\n")
    print("\n".join(aa_table(args.aa_replicates)))
    print(f"\nTrue lift of the click probability, {args.replicates} replicates each:\n")
    print("\n".join(lift_table(args.replicates)))


if __name__ == "__main__":
    main()
