"""How often the bandit verdict names the right winner, and how often a false one, by simulation.

Run ``python -m abtool.simulate.bandit_power`` for the tables in ``docs/bandit-report.md``.
Each replicate is a whole bandit experiment, simulated as the report would see it: periods of
``units_per_period`` units with binary rewards; before each period the Thompson shares (with
floors) come from the per-period weighted posteriors of the earlier periods; after each period
the verdict (:func:`abtool.stats.bandit_verdict.apply_rule`) is checked, and the first WINNER
stops the experiment. Replicates are simulated together (vectorised over experiments).

``--calibrate`` prints, for equal arms, the P(best) threshold whose false-WINNER rate is
``alpha``: the ``1 - alpha`` quantile over replicates of the highest leader P(best) seen at
any look where the other conditions (expected loss, pulls) held.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from abtool.simulate.bandit import arm_moments, posterior_draws
from abtool.stats.bandit import best_arm_probabilities
from abtool.stats.bandit_allocation import default_floor, thompson_shares
from abtool.stats.bandit_verdict import VerdictRule, apply_rule

BATCH = 250


@dataclass(frozen=True)
class PowerDesign:
    """A bandit experiment design: arm rates, periods and their size, the verdict rule."""

    rates: tuple[float, ...]
    periods: int = 20
    units_per_period: int = 4000
    floor: float | None = None
    draws: int = 2000
    rule: VerdictRule = field(default_factory=VerdictRule)


@dataclass(frozen=True)
class DecisionRates:
    """Outcomes over replicate experiments.

    Attributes:
        replicates: experiments simulated.
        winner: share with a WINNER at some look.
        correct: share whose WINNER is a best arm (highest rate).
        wrong: share whose WINNER is not a best arm (with equal arms: every WINNER).
        final_look: share with a WINNER at the last look alone (no earlier stop).
        mean_periods: mean look of the first WINNER (NaN without winners).
        sup_p_best: per replicate, the highest leader P(best) at a look where the expected
            loss and pulls conditions held (0 if never).
    """

    replicates: int
    winner: float
    correct: float
    wrong: float
    final_look: float
    mean_periods: float
    sup_p_best: NDArray[np.float64]


def simulate_decisions(design: PowerDesign, replicates: int, seed: int = 0) -> DecisionRates:
    """Run ``replicates`` bandit experiments of ``design`` (vectorised in batches)."""
    rates = np.asarray(design.rates, dtype=np.float64)
    k = rates.size
    floor = default_floor(k) if design.floor is None else design.floor
    best = np.flatnonzero(rates == rates.max())
    rng = np.random.default_rng([seed, 5])
    first = np.full(replicates, -1)
    look = np.full(replicates, -1)
    final = np.zeros(replicates, dtype=bool)
    sup = np.zeros(replicates)
    for lo in range(0, replicates, BATCH):
        r = min(BATCH, replicates - lo)
        pulls = np.zeros((r, design.periods, k), dtype=np.int64)
        successes = np.zeros_like(pulls)
        shares = np.full((r, k), 1.0 / k)
        for t in range(design.periods):
            pulls[:, t] = rng.multinomial(design.units_per_period, shares)
            successes[:, t] = rng.binomial(pulls[:, t], rates)
            mean, var, total = arm_moments(pulls[:, : t + 1], successes[:, : t + 1])
            p_best, loss = best_arm_probabilities(
                posterior_draws(mean, var, total, rng, design.draws)
            )
            outcome = apply_rule(p_best, loss, mean, total, design.rule)
            lead_p = p_best.max(axis=-1)
            eligible = (outcome.loss_ratio < 1.0) & np.all(total >= design.rule.min_pulls, -1)
            span = slice(lo, lo + r)
            sup[span] = np.maximum(sup[span], np.where(eligible, lead_p, 0.0))
            new = outcome.winner & (first[span] < 0)
            first[span] = np.where(new, outcome.leader, first[span])
            look[span] = np.where(new, t + 1, look[span])
            if t == design.periods - 1:
                final[span] = outcome.winner
            shares = thompson_shares(p_best, floor)
    won = first >= 0
    correct = won & np.isin(first, best) & (best.size < k)
    return DecisionRates(
        replicates=replicates,
        winner=float(won.mean()),
        correct=float(correct.mean()),
        wrong=float((won & ~correct).mean()),
        final_look=float(final.mean()),
        mean_periods=float(look[won].mean()) if won.any() else float("nan"),
        sup_p_best=sup,
    )


def false_winner_rate(rates: DecisionRates, threshold: float) -> float:
    """Share of (equal-arm) experiments with a WINNER at some look had ``p_best`` been
    ``threshold``: the allocation does not depend on the verdict, so the first look where the
    leader's P(best) exceeds the threshold (with the other conditions met) is the first
    WINNER, and it exists exactly when ``sup_p_best`` exceeds it."""
    return float(np.mean(rates.sup_p_best > threshold))


def calibrated_threshold(rates: DecisionRates, alpha: float = 0.05) -> float:
    """The P(best) threshold with false-WINNER rate ``alpha`` (run on equal arms)."""
    return float(np.quantile(rates.sup_p_best, 1.0 - alpha))


def _table(replicates: int, seed: int) -> None:
    print(f"4 arms, one 10% better (rates 0.10, 0.10, 0.10, 0.11), {replicates} experiments")
    print("| units/period | periods | WINNER names it | wrong WINNER | mean look of WINNER |")
    print("|---:|---:|---:|---:|---:|")
    for units in (2000, 4000, 8000):
        d = simulate_decisions(PowerDesign((0.10, 0.10, 0.10, 0.11), 20, units), replicates, seed)
        print(f"| {units} | 20 | {d.correct:.3f} | {d.wrong:.3f} | {d.mean_periods:.1f} |")
    print(f"\nEqual arms (rate 0.10), 4000 units/period, {replicates} experiments")
    print(
        "| arms | periods | default P(best) | false WINNER | at the last look only | "
        "with 0.95 | P(best) for 5% |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for k in (2, 3, 4):
        for periods in (10, 20):
            d = simulate_decisions(PowerDesign((0.10,) * k, periods, 4000), replicates, seed)
            default = VerdictRule().threshold(k)
            print(
                f"| {k} | {periods} | {default:g} | {d.wrong:.3f} | {d.final_look:.3f} | "
                f"{false_winner_rate(d, 0.95):.3f} | {calibrated_threshold(d):.4f} |"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--calibrate", type=int, metavar="ARMS", help="print the 5%% threshold for ARMS equal arms"
    )
    parser.add_argument("--periods", type=int, default=20)
    parser.add_argument("--units-per-period", type=int, default=4000)
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args(argv)
    if args.calibrate:
        design = PowerDesign((0.10,) * args.calibrate, args.periods, args.units_per_period)
        d = simulate_decisions(design, args.replicates, args.seed)
        print(
            f"false WINNER at the defaults: {d.wrong:.3f}; P(best) threshold for "
            f"{args.alpha:g}: {calibrated_threshold(d, args.alpha):.4f}"
        )
        return
    _table(args.replicates, args.seed)


if __name__ == "__main__":
    main()
