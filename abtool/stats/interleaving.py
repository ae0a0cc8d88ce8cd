"""Preference between two interleaved rankers from per-session win/tie/loss counts.

Each session is one independent unit: team B wins it when B's items drew more clicks than
A's, A wins when fewer, and it is a tie otherwise (including sessions without a click).

References:
    Radlinski, F., Kurup, M., Joachims, T. (2008). How does clickthrough data reflect
    retrieval quality? CIKM '08 (per-session credit, binomial sign test).
    Chapelle, O., Joachims, T., Radlinski, F., Yue, Y. (2012). Large-scale validation and
    analysis of interleaved search evaluation. ACM TOIS 30(1), 6 (the preference
    Delta_AB = (wins + ties / 2) / sessions - 0.5 and its bootstrap confidence interval).
    Efron, B., Tibshirani, R. (1993). An Introduction to the Bootstrap, ch. 13 (percentile
    interval).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class Preference:
    """Which ranker the sessions preferred, with a CI and a sign test.

    Attributes:
        sessions: all sessions (decisive and tied).
        wins_a: sessions where A's items drew more clicks.
        wins_b: sessions where B's items drew more clicks.
        ties: sessions with equal credit, including those without clicks.
        win_rate_b: ``wins_b / (wins_a + wins_b)``; NaN without decisive sessions.
        delta_ab: ``(wins_b + ties / 2) / sessions - 0.5``; > 0 means B preferred.
        ci_low: lower end of the percentile bootstrap CI of ``delta_ab``.
        ci_high: upper end of that CI.
        pvalue: two-sided exact binomial sign test of ``wins_b`` among decisive sessions.
        confidence: the CI's level.
        bootstrap: bootstrap resamples drawn.
    """

    sessions: int
    wins_a: int
    wins_b: int
    ties: int
    win_rate_b: float
    delta_ab: float
    ci_low: float
    ci_high: float
    pvalue: float
    confidence: float
    bootstrap: int


def sign_test_pvalue(wins_a: ArrayLike, wins_b: ArrayLike) -> NDArray[np.float64]:
    """Two-sided exact binomial sign test of H0: a decisive session is won by B with p = 1/2.

    Vectorised over arrays of counts. For p = 1/2 the binomial is symmetric, so the
    two-sided p-value of ``scipy.stats.binomtest(wins_b, wins_a + wins_b, 0.5)`` (the sum
    of the probabilities of all outcomes no more likely than the observed one) is
    ``min(1, 2 * P(X <= min(wins_a, wins_b)))``. With no decisive session it is 1.

    Args:
        wins_a: sessions won by A (scalar or array).
        wins_b: sessions won by B, same shape.

    Returns:
        The p-values, shaped like the inputs.
    """
    from scipy.stats import binom

    a = np.asarray(wins_a, dtype=np.int64)
    b = np.asarray(wins_b, dtype=np.int64)
    n = a + b
    tail = binom.cdf(np.minimum(a, b), np.maximum(n, 1), 0.5)
    pvalue = np.minimum(1.0, 2.0 * tail)
    return np.asarray(np.where(n == 0, 1.0, pvalue), dtype=np.float64)


def delta_ab(wins_b: ArrayLike, ties: ArrayLike, sessions: ArrayLike) -> NDArray[np.float64]:
    """Preference for B: ``(wins_b + ties / 2) / sessions - 0.5`` (Chapelle et al. 2012)."""
    b = np.asarray(wins_b, dtype=np.float64)
    t = np.asarray(ties, dtype=np.float64)
    n = np.asarray(sessions, dtype=np.float64)
    return np.asarray((b + t / 2.0) / n - 0.5, dtype=np.float64)


def bootstrap_delta_ci(
    wins_a: int,
    wins_b: int,
    ties: int,
    *,
    resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap CI of ``delta_ab``, resampling sessions with replacement.

    A session contributes only its outcome (A win, B win or tie) to ``delta_ab``, so a
    resample of ``n`` sessions drawn with replacement is described exactly by how many of
    each outcome it holds, and those counts are ``Multinomial(n, (wins_a, wins_b, ties) /
    n)``. Drawing the counts is therefore the same bootstrap as drawing sessions, in
    O(resamples) time and memory instead of O(resamples * sessions).

    Args:
        wins_a: sessions won by A.
        wins_b: sessions won by B.
        ties: tied sessions.
        resamples: bootstrap resamples.
        confidence: CI level in (0, 1).
        seed: seed of ``numpy.random.default_rng``: same seed, same interval.

    Returns:
        (low, high); NaNs when there are no sessions.
    """
    n = wins_a + wins_b + ties
    if n == 0:
        return float("nan"), float("nan")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    rng = np.random.default_rng(seed)
    shares = np.array([wins_a, wins_b, ties], dtype=np.float64) / n
    counts = rng.multinomial(n, shares, size=resamples)
    deltas = delta_ab(counts[:, 1], counts[:, 2], n)
    alpha = 1.0 - confidence
    low, high = np.quantile(deltas, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)


def preference(
    wins_a: int,
    wins_b: int,
    ties: int,
    *,
    resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Preference:
    """Win counts, win rate of B, ``delta_ab`` with a bootstrap CI, and the sign test.

    Args:
        wins_a: sessions won by A.
        wins_b: sessions won by B.
        ties: tied sessions (including sessions without clicks).
        resamples: bootstrap resamples for the CI.
        confidence: CI level.
        seed: bootstrap seed.
    """
    for name, value in (("wins_a", wins_a), ("wins_b", wins_b), ("ties", ties)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    sessions = wins_a + wins_b + ties
    decisive = wins_a + wins_b
    low, high = bootstrap_delta_ci(
        wins_a, wins_b, ties, resamples=resamples, confidence=confidence, seed=seed
    )
    return Preference(
        sessions=sessions,
        wins_a=wins_a,
        wins_b=wins_b,
        ties=ties,
        win_rate_b=wins_b / decisive if decisive else float("nan"),
        delta_ab=float(delta_ab(wins_b, ties, sessions)) if sessions else float("nan"),
        ci_low=low,
        ci_high=high,
        pvalue=float(sign_test_pvalue(wins_a, wins_b)),
        confidence=confidence,
        bootstrap=resamples,
    )
