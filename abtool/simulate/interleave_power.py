"""How many sessions interleaving needs, against an A/B test on click-through, by simulation.

Run ``python -m abtool.simulate.interleave_power`` for the tables in
``docs/interleave-report.md``. Every experiment is simulated with
:mod:`abtool.simulate.interleave` (team-draft interleaving, position-biased clicks):

- an interleaving experiment of ``n`` sessions is judged by the report's own sign test
  (:func:`abtool.stats.interleaving.sign_test_pvalue`);
- an A/B experiment of ``n`` sessions shows ranker A's list to half of them and ranker B's
  list to the other half and compares clicks per session (click-through, since every list
  has the same length) with Welch's t-test.

Sessions needed for 80% power come from the per-session outcome rates of a large pool of
simulated sessions: exactly, from the binomial distribution, for the sign test; from the
normal approximation for the A/B test. Simulated replicate experiments at those sizes check
both figures.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from abtool.simulate.interleave import (
    InterleaveSpec,
    SessionBatch,
    catalogue_relevance,
    simulate_sessions,
)
from abtool.stats.interleaving import sign_test_pvalue

MAX_BATCH = 200_000


def session_batches(spec: InterleaveSpec, total: int, seed: int) -> Iterator[SessionBatch]:
    """``total`` simulated sessions in batches of at most ``MAX_BATCH``."""
    relevance = catalogue_relevance(spec)
    rng = np.random.default_rng([spec.seed, seed, 2])
    for offset in range(0, total, MAX_BATCH):
        yield simulate_sessions(spec, min(MAX_BATCH, total - offset), rng, relevance)


@dataclass(frozen=True)
class RejectionRates:
    """Share of replicate experiments whose test rejected at ``alpha``."""

    sessions: int
    replicates: int
    interleaving: float
    interleaving_b_ahead: float
    ab_test: float
    decisive: NDArray[np.int64]


def rejection_rates(
    spec: InterleaveSpec, sessions: int, replicates: int, *, alpha: float = 0.05, seed: int = 0
) -> RejectionRates:
    """Run ``replicates`` interleaving and A/B experiments of ``sessions`` sessions each.

    Replicates are whole experiments drawn in batches (vectorised); the A/B experiment
    assigns alternate sessions to A's and B's list, so both designs use ``sessions``
    sessions in total.
    """
    from scipy import stats

    per_batch = max(1, MAX_BATCH // sessions)
    wins_a: list[NDArray[np.int64]] = []
    wins_b: list[NDArray[np.int64]] = []
    ab_p: list[NDArray[np.float64]] = []
    relevance = catalogue_relevance(spec)
    rng = np.random.default_rng([spec.seed, seed, 3])
    done = 0
    while done < replicates:
        r = min(per_batch, replicates - done)
        batch = simulate_sessions(spec, r * sessions, rng, relevance)
        credit_a, credit_b = batch.credit
        credit_a = credit_a.reshape(r, sessions)
        credit_b = credit_b.reshape(r, sessions)
        wins_a.append((credit_a > credit_b).sum(axis=1))
        wins_b.append((credit_b > credit_a).sum(axis=1))
        control = batch.clicks_list_a.reshape(r, sessions)[:, 0::2]
        treatment = batch.clicks_list_b.reshape(r, sessions)[:, 1::2]
        ab_p.append(stats.ttest_ind(treatment, control, axis=1, equal_var=False).pvalue)
        done += r
    a, b = np.concatenate(wins_a), np.concatenate(wins_b)
    reject = sign_test_pvalue(a, b) < alpha
    ab = np.nan_to_num(np.concatenate(ab_p), nan=1.0) < alpha
    return RejectionRates(
        sessions=sessions,
        replicates=replicates,
        interleaving=float(reject.mean()),
        interleaving_b_ahead=float((reject & (b > a)).mean()),
        ab_test=float(ab.mean()),
        decisive=a + b,
    )


@dataclass(frozen=True)
class PoolRates:
    """Per-session outcome rates estimated from a large pool of simulated sessions."""

    sessions: int
    p_win_a: float
    p_win_b: float
    p_tie: float
    clicks_a_mean: float
    clicks_a_var: float
    clicks_b_mean: float
    clicks_b_var: float


def pool_rates(spec: InterleaveSpec, sessions: int = 400_000, seed: int = 0) -> PoolRates:
    """Estimate the per-session rates both power calculations need."""
    wins_a = wins_b = 0
    sums = np.zeros(4)
    for batch in session_batches(spec, sessions, seed):
        credit_a, credit_b = batch.credit
        wins_a += int((credit_a > credit_b).sum())
        wins_b += int((credit_b > credit_a).sum())
        ca = batch.clicks_list_a.astype(np.float64)
        cb = batch.clicks_list_b.astype(np.float64)
        sums += [ca.sum(), (ca**2).sum(), cb.sum(), (cb**2).sum()]
    mean_a, mean_b = sums[0] / sessions, sums[2] / sessions
    return PoolRates(
        sessions=sessions,
        p_win_a=wins_a / sessions,
        p_win_b=wins_b / sessions,
        p_tie=1 - (wins_a + wins_b) / sessions,
        clicks_a_mean=mean_a,
        clicks_a_var=sums[1] / sessions - mean_a**2,
        clicks_b_mean=mean_b,
        clicks_b_var=sums[3] / sessions - mean_b**2,
    )


def sign_test_power(n: int, p_win_a: float, p_win_b: float, alpha: float = 0.05) -> float:
    """Exact power of the two-sided sign test over ``n`` sessions.

    The decisive count is ``Binomial(n, p_win_a + p_win_b)``; given ``d`` decisive
    sessions B's wins are ``Binomial(d, q)`` with ``q = p_win_b / (p_win_a + p_win_b)``, and
    the test rejects when ``min(wins, d - wins) <= c_d``, the largest ``c`` whose two-sided
    p-value ``2 * P(X <= c | d, 1/2)`` is below ``alpha``.
    """
    from scipy.stats import binom

    d = np.arange(n + 1)
    c = binom.ppf(alpha / 2.0, d, 0.5)  # smallest c with P(X <= c) >= alpha / 2
    c = np.where(2.0 * binom.cdf(c, d, 0.5) < alpha, c, c - 1)
    q = p_win_b / (p_win_a + p_win_b)
    reject = np.where(c >= 0, binom.cdf(c, d, q) + binom.sf(d - c - 1, d, q), 0.0)
    # A tail overlap is impossible for alpha < 1 except at d = 0, where c = -1.
    return float(np.sum(binom.pmf(d, n, p_win_a + p_win_b) * reject))


def sessions_for_power(
    p_win_a: float, p_win_b: float, power: float = 0.8, alpha: float = 0.05
) -> int:
    """Smallest session count whose exact sign-test power reaches ``power`` (1% steps)."""
    from scipy.stats import norm

    decisive = p_win_a + p_win_b
    q = p_win_b / decisive
    # Normal approximation as the starting point, then walk up to the exact answer.
    z = norm.ppf(1 - alpha / 2) * 0.5 + norm.ppf(power) * np.sqrt(q * (1 - q))
    n = max(10, int(0.8 * (z / (q - 0.5)) ** 2 / decisive))
    while sign_test_power(n, p_win_a, p_win_b, alpha) < power:
        n = int(np.ceil(n * 1.01))
    return n


def ab_sessions_for_power(rates: PoolRates, power: float = 0.8, alpha: float = 0.05) -> int:
    """Total sessions (both arms) for a two-sided test of clicks per session, 50/50 split."""
    from scipy.stats import norm

    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    diff = rates.clicks_b_mean - rates.clicks_a_mean
    per_arm = z**2 * (rates.clicks_a_var + rates.clicks_b_var) / diff**2
    return 2 * int(np.ceil(per_arm))


SCENARIOS = ((1.0, 0.8), (1.0, 0.6), (0.0, 0.8), (2.0, 0.8))
"""(session_spread, noise_b) pairs of the docs table; ranker A's noise is 1.0."""


def _table(scenarios: list[tuple[float, float]], replicates: int) -> list[str]:
    lines = [
        "| session spread | noise B | CTR A list | CTR B list | P(A wins) | P(B wins) | "
        "interleaving sessions | power check | A/B sessions | power check | A/B / interleaving |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for spread, noise_b in scenarios:
        spec = InterleaveSpec(session_spread=spread, noise_b=noise_b)
        rates = pool_rates(spec)
        n_il = sessions_for_power(rates.p_win_a, rates.p_win_b)
        n_ab = ab_sessions_for_power(rates)
        check_il = rejection_rates(spec, n_il, replicates, seed=1).interleaving_b_ahead
        check_ab = rejection_rates(spec, n_ab, replicates, seed=2).ab_test
        lines.append(
            f"| {spread:g} | {noise_b:g} | {rates.clicks_a_mean / spec.size:.4f} | "
            f"{rates.clicks_b_mean / spec.size:.4f} | {rates.p_win_a:.4f} | "
            f"{rates.p_win_b:.4f} | {n_il:,} | {check_il:.2f} | {n_ab:,} | {check_ab:.2f} | "
            f"{n_ab / n_il:.1f}x |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    """Print the A/A rejection rates and the sessions-for-80%-power table as markdown."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--aa-sessions", type=int, default=1000)
    parser.add_argument("--aa-replicates", type=int, default=4000)
    args = parser.parse_args(argv)
    aa_spec = InterleaveSpec(noise_b=InterleaveSpec().noise_a)
    aa = rejection_rates(aa_spec, args.aa_sessions, args.aa_replicates)
    print(
        f"A/A: {args.aa_replicates} experiments of {args.aa_sessions} sessions, alpha 0.05, "
        f"noise A = noise B = {aa_spec.noise_a:g}: sign test rejects {aa.interleaving:.4f}, "
        f"A/B Welch t-test rejects {aa.ab_test:.4f}"
    )
    print()
    print("\n".join(_table(list(SCENARIOS), args.replicates)))


if __name__ == "__main__":
    main()
