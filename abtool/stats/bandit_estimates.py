"""Each arm's mean reward from a bandit log whose traffic shares changed over time.

A bandit moves traffic toward the arms that look best, so an arm's pulls are not spread over
the experiment like a fixed split's. Two consequences for the plain (pooled) mean of an arm's
rewards:

* **Time trends (Simpson's paradox).** If rewards drift (weekday, season, a marketing push), an
  arm that received most of its traffic in a good period looks better than an arm that
  received it in a bad one, even when the two are equal in every period.
* **Adaptive sampling.** Even without a trend, an arm that was unlucky early is pulled less,
  so its bad start is never diluted: the pooled mean is biased downward (Nie et al. 2018).

**Per-period weighting** (the default). The allocation of period ``t`` is fixed before the
period starts (from earlier periods only) and each unit of the period is randomised to arm ``k``
with that period's share. Given the history, the arm's units in period ``t`` are therefore a
random sample of the period's traffic and their mean ``ybar[t, k]`` is unbiased for
``mu[t, k]``, the mean reward arm ``k`` would have earned on all of period ``t``'s traffic.
Combining with weights ``w_t = N_t / N`` (the period's share of *all* traffic, which depends on
neither rewards nor allocation)::

    muhat_k = sum_t w_t ybar[t, k],   E[muhat_k] = sum_t w_t mu[t, k] = mu_k,

the arm's mean over the whole experiment's traffic: the same estimand for every arm, whatever
the allocation did. The periods' errors are martingale differences, so
``Var(muhat_k) = sum_t w_t**2 s2[t, k] / n[t, k]`` with the sample variances ``s2``. Each arm
needs pulls in every period, which the allocation floor guarantees; periods where an arm has
fewer than two pulls are left out for all arms (so every arm keeps the same estimand) and
``coverage`` reports the share of traffic kept. With one period, or a constant split, this is
the pooled mean.

**Inverse-probability weighting** (when each row's propensity was logged, e.g. when the
allocation changed within a period). With ``pi_i`` the logged probability that unit ``i`` got
the arm it got, ``E[1{A_i = k} / pi_i | past] = 1`` for any adaptive policy, so the
Horvitz-Thompson sum is unbiased; the Hajek (self-normalised) mean ``sum w y / sum w`` with
``w = 1 / pi`` is used because it is invariant to a shift of the rewards and has lower variance.
Its linearised variance ``sum (1 - pi_i) / pi_i**2 (y_i - muhat)**2 / (sum w)**2`` is the
Poisson-sampling formula, which holds row by row as a martingale CLT because ``pi_i`` depends
only on the past.

References:
    Horvitz, D. G., Thompson, D. J. (1952). A generalization of sampling without replacement
    from a finite universe. JASA 47, 663-685.
    Hajek, J. (1971). Comment on a paper by D. Basu. Foundations of Statistical Inference, 236.
    Nie, X., Tian, X., Taylor, J., Zou, J. (2018). Why adaptively collected data have negative
    bias and how to correct for it. AISTATS 2018.
    Hadad, V., Hirshberg, D. A., Zhan, R., Wager, S., Athey, S. (2021). Confidence intervals
    for policy evaluation in adaptive experiments. PNAS 118(15), e2014602118.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]

ESTIMATORS = ("pooled", "period_weighted", "ipw")


@dataclass(frozen=True)
class ArmEstimate:
    """One arm's mean reward over the experiment's traffic with its standard error.

    Attributes:
        name: the arm.
        pulls: units (rows) the arm received.
        mean: estimated mean reward.
        se: standard error of ``mean``.
        method: ``pooled``, ``period_weighted`` or ``ipw``.
        coverage: share of the experiment's traffic the estimate refers to (1 unless periods
            without pulls of some arm were left out).
    """

    name: str
    pulls: int
    mean: float
    se: float
    method: str
    coverage: float = 1.0

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


@dataclass(frozen=True)
class PropensitySums:
    """One arm's propensity-weighted sums over its rows (``w = 1 / pi``, ``c = (1 - pi) w**2``).

    Any engine that aggregates can fill it; :func:`propensity_sums` does it from arrays.
    """

    pulls: int
    sum_w: float
    sum_wy: float
    sum_c: float
    sum_cy: float
    sum_cy2: float


def propensity_sums(rewards: ArrayLike, propensities: ArrayLike) -> PropensitySums:
    """The sums of one arm's rows: rewards and the logged propensity of the arm they got."""
    y = np.asarray(rewards, dtype=np.float64)
    pi = np.asarray(propensities, dtype=np.float64)
    if y.shape != pi.shape:
        raise ValueError("rewards and propensities need the same length")
    if np.any(~(pi > 0.0)) or np.any(pi > 1.0):
        raise ValueError("propensities must lie in (0, 1]")
    w = 1.0 / pi
    c = (1.0 - pi) * w * w
    return PropensitySums(
        pulls=int(y.size),
        sum_w=float(w.sum()),
        sum_wy=float((w * y).sum()),
        sum_c=float(c.sum()),
        sum_cy=float((c * y).sum()),
        sum_cy2=float((c * y * y).sum()),
    )


def pooled_estimates(
    names: Sequence[str], pulls: ArrayLike, means: ArrayLike, variances: ArrayLike
) -> list[ArmEstimate]:
    """Each arm's plain mean and ``sqrt(s2 / n)``: right only when the split never changed.

    Args:
        names: arm names.
        pulls: rows of each arm.
        means: each arm's mean reward.
        variances: each arm's sample variance of the reward (ddof=1).
    """
    n = np.asarray(pulls, dtype=np.float64)
    m = np.asarray(means, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    _check_arms(names, n, m, v)
    if np.any(n < 2):
        raise ValueError("every arm needs at least two pulls")
    se = np.sqrt(v / n)
    return [
        ArmEstimate(name, int(n[k]), float(m[k]), float(se[k]), "pooled")
        for k, name in enumerate(names)
    ]


def period_weighted_moments(
    pulls: ArrayLike,
    means: ArrayLike,
    variances: ArrayLike,
    traffic: ArrayLike | None = None,
) -> tuple[Floats, Floats, Floats]:
    """Vectorised per-period weighting over arrays shaped ``(..., periods, arms)``.

    Args:
        pulls: rows of each arm in each period.
        means: each period's and arm's mean reward (any value where pulls < 2).
        variances: their sample variances (ddof=1; any value where pulls < 2).
        traffic: each period's total traffic ``(..., periods)``; default the sum of ``pulls``
            over arms.

    Returns:
        ``(mean, variance, coverage)``: arrays ``(..., arms)``, ``(..., arms)`` and ``(...)``;
        NaN where no period has at least two pulls of every arm.
    """
    n = np.asarray(pulls, dtype=np.float64)
    m = np.asarray(means, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    total = n.sum(axis=-1) if traffic is None else np.asarray(traffic, dtype=np.float64)
    common = np.all(n >= 2, axis=-1)
    kept = np.where(common, total, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = kept / kept.sum(axis=-1, keepdims=True)
        coverage = kept.sum(axis=-1) / total.sum(axis=-1)
        safe_n = np.where(common[..., None], n, 1.0)
        mean = np.sum(w[..., None] * np.where(common[..., None], m, 0.0), axis=-2)
        var = np.sum((w * w)[..., None] * np.where(common[..., None], v, 0.0) / safe_n, axis=-2)
    none = ~np.any(common, axis=-1)
    mean = np.where(none[..., None], np.nan, mean)
    var = np.where(none[..., None], np.nan, var)
    return mean, var, np.where(none, np.nan, coverage)


def period_weighted_estimates(
    names: Sequence[str],
    pulls: ArrayLike,
    means: ArrayLike,
    variances: ArrayLike,
    traffic: ArrayLike | None = None,
) -> list[ArmEstimate]:
    """Each arm's mean over all traffic from per-period means, weighted by period traffic.

    Args:
        names: arm names (the columns of the other arrays).
        pulls: ``(periods, arms)`` rows of each arm in each period.
        means: ``(periods, arms)`` mean rewards.
        variances: ``(periods, arms)`` sample variances (ddof=1).
        traffic: each period's total traffic; default the sum of ``pulls`` over arms.

    Raises:
        ValueError: when the shapes disagree or no period has two pulls of every arm.
    """
    n = np.asarray(pulls, dtype=np.float64)
    m = np.asarray(means, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    if n.ndim != 2 or n.shape != m.shape or n.shape != v.shape or n.shape[1] != len(names):
        raise ValueError("pulls, means and variances must be (periods, arms) with one name an arm")
    mean, var, coverage = period_weighted_moments(n, m, v, traffic)
    if np.isnan(coverage):
        raise ValueError("no period has at least two pulls of every arm")
    totals = n.sum(axis=0)
    return [
        ArmEstimate(
            name,
            int(totals[k]),
            float(mean[k]),
            float(np.sqrt(var[k])),
            "period_weighted",
            float(coverage),
        )
        for k, name in enumerate(names)
    ]


def ipw_estimates(names: Sequence[str], sums: Sequence[PropensitySums]) -> list[ArmEstimate]:
    """Each arm's Hajek inverse-propensity-weighted mean from its :class:`PropensitySums`.

    Raises:
        ValueError: when an arm has no rows.
    """
    if len(names) != len(sums):
        raise ValueError("one PropensitySums per arm")
    out = []
    for name, s in zip(names, sums, strict=True):
        if s.pulls < 1 or s.sum_w <= 0:
            raise ValueError(f"arm {name} has no rows")
        mu = s.sum_wy / s.sum_w
        quad = s.sum_cy2 - 2.0 * mu * s.sum_cy + mu * mu * s.sum_c
        se = float(np.sqrt(max(quad, 0.0)) / s.sum_w)
        out.append(ArmEstimate(name, s.pulls, float(mu), se, "ipw"))
    return out


def _check_arms(names: Sequence[str], *arrays: Floats) -> None:
    for a in arrays:
        if a.shape != (len(names),):
            raise ValueError("one value an arm expected")
