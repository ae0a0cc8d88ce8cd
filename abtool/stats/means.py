"""Two independent means: Welch's t-test from aggregates and the Mann-Whitney U test.

Welch's test takes only each group's size, mean and variance, so it can be fed by any engine
that aggregates; it equals ``scipy.stats.ttest_ind(a, b, equal_var=False)``.

References:
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. Biometrika 34, 28-35.
    Mann, H. B., Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. Annals of Mathematical Statistics 18, 50-60.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class WelchResult:
    """Welch's t-test of treatment minus control with a CI of the difference."""

    diff: float
    ci_low: float
    ci_high: float
    t: float
    df: float
    pvalue: float


@dataclass(frozen=True)
class MannWhitneyResult:
    """Mann-Whitney U of treatment vs control and the probability of superiority.

    ``prob_superiority`` is ``U / (n_t * n_c)``: the chance that a random treatment value
    exceeds a random control value (ties count half), 0.5 when the groups do not differ.
    """

    u: float
    pvalue: float
    prob_superiority: float


def welch_from_moments(
    n_control: int,
    mean_control: float,
    var_control: float,
    n_treatment: int,
    mean_treatment: float,
    var_treatment: float,
    alpha: float = 0.05,
) -> WelchResult:
    """Welch's unequal-variance t-test from group sizes, means and sample variances (ddof=1).

    Raises:
        ValueError: when a group has fewer than two values.
    """
    from scipy import stats

    if n_control < 2 or n_treatment < 2:
        raise ValueError("Welch's test needs at least two values per group")
    v_c = var_control / n_control
    v_t = var_treatment / n_treatment
    diff = mean_treatment - mean_control
    se = float(np.sqrt(v_c + v_t))
    if se == 0:
        pvalue = 1.0 if diff == 0 else 0.0
        return WelchResult(diff, diff, diff, float("nan"), float("nan"), pvalue)
    df = (v_c + v_t) ** 2 / (v_c**2 / (n_control - 1) + v_t**2 / (n_treatment - 1))
    t = diff / se
    pvalue = float(2.0 * stats.t.sf(abs(t), df))
    t_crit = float(stats.t.ppf(1.0 - alpha / 2.0, df))
    return WelchResult(diff, diff - t_crit * se, diff + t_crit * se, t, float(df), pvalue)


def welch_t(control: ArrayLike, treatment: ArrayLike, alpha: float = 0.05) -> WelchResult:
    """Welch's t-test of two samples (see :func:`welch_from_moments`)."""
    c = np.asarray(control, dtype=np.float64)
    t = np.asarray(treatment, dtype=np.float64)
    return welch_from_moments(
        len(c),
        float(c.mean()),
        float(c.var(ddof=1)) if len(c) > 1 else 0.0,
        len(t),
        float(t.mean()),
        float(t.var(ddof=1)) if len(t) > 1 else 0.0,
        alpha,
    )


def mann_whitney(control: ArrayLike, treatment: ArrayLike) -> MannWhitneyResult:
    """Two-sided Mann-Whitney U test, as ``scipy.stats.mannwhitneyu(treatment, control)``.

    Raises:
        ValueError: when a group is empty.
    """
    from scipy import stats

    c = np.asarray(control, dtype=np.float64)
    t = np.asarray(treatment, dtype=np.float64)
    if len(c) == 0 or len(t) == 0:
        raise ValueError("both groups need at least one value")
    result = stats.mannwhitneyu(t, c, alternative="two-sided")
    u = float(result.statistic)
    return MannWhitneyResult(u, float(result.pvalue), u / (len(c) * len(t)))
