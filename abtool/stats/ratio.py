"""Ratio metrics over randomization units: the delta method for a ratio of per-unit sums.

A canary is randomized by unit (user), but a metric such as click-through rate is a mean over
requests: ``R = sum_i x_i / sum_i y_i`` with ``x_i`` the metric summed over unit ``i``'s requests
and ``y_i`` its number of requests. Requests of one unit are correlated, so a test that treats
requests as independent underestimates the variance. Seen as a function of two unit-level
means, ``R = mean(x) / mean(y)``, and the delta method gives (Deng et al. 2018, eq. 3)::

    Var(R) ~= (1 / n) * (s_xx / mu_y**2 - 2 * mu_x * s_xy / mu_y**3 + mu_x**2 * s_yy / mu_y**4)

with unit-level sample (co)variances ``s``. The two variants are independent samples, so the
variance of the difference is the sum of the two; the relative lift ``R_t / R_c - 1`` gets its
own delta-method variance (Deng et al. 2018, section 3.3).

References:
    Deng, A., Knoblich, U., Lu, J. (2018). Applying the Delta Method in Metric Analytics:
    A Practical Guide with Novel Ideas. KDD 2018, 233-242.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class RatioEstimate:
    """A ratio of per-unit sums in one group, with its delta-method variance."""

    units: int
    numerator: float
    denominator: float
    ratio: float
    variance: float


@dataclass(frozen=True)
class Lift:
    """Treatment minus control of a metric, absolute and relative, with confidence intervals.

    Attributes:
        control: control estimate.
        treatment: treatment estimate.
        lift_abs: treatment - control.
        lift_rel: treatment / control - 1 (NaN when control is 0).
        ci_low: lower bound of the CI of ``lift_abs``.
        ci_high: upper bound of the CI of ``lift_abs``.
        rel_ci_low: lower bound of the CI of ``lift_rel``.
        rel_ci_high: upper bound of the CI of ``lift_rel``.
        z: Wald statistic ``lift_abs / se``.
        pvalue: two-sided p-value of ``lift_abs = 0``.
        se: standard error of ``lift_abs``.
        alpha: 1 - confidence level.
    """

    control: RatioEstimate
    treatment: RatioEstimate
    lift_abs: float
    lift_rel: float
    ci_low: float
    ci_high: float
    rel_ci_low: float
    rel_ci_high: float
    z: float
    pvalue: float
    se: float
    alpha: float


def ratio_estimate(numerators: ArrayLike, denominators: ArrayLike) -> RatioEstimate:
    """Delta-method estimate of ``sum(x) / sum(y)`` from per-unit sums.

    Args:
        numerators: per-unit sums of the metric (``x_i``).
        denominators: per-unit counts (``y_i``), all positive.

    Raises:
        ValueError: on fewer than two units, mismatched lengths or a non-positive total.
    """
    x = np.asarray(numerators, dtype=np.float64)
    y = np.asarray(denominators, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("numerators and denominators must be 1-d arrays of one length")
    n = len(x)
    if n < 2:
        raise ValueError("the delta method needs at least two units")
    mu_x, mu_y = float(x.mean()), float(y.mean())
    if mu_y <= 0:
        raise ValueError("the denominators must sum to a positive number")
    cov = np.cov(np.vstack([x, y]), ddof=1)
    s_xx, s_xy, s_yy = float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])
    ratio = mu_x / mu_y
    variance = (s_xx / mu_y**2 - 2.0 * mu_x * s_xy / mu_y**3 + mu_x**2 * s_yy / mu_y**4) / n
    return RatioEstimate(n, float(x.sum()), float(y.sum()), ratio, max(variance, 0.0))


def relative_lift_se(control: RatioEstimate, treatment: RatioEstimate) -> float:
    """Delta-method se of ``R_t / R_c - 1``: ``sqrt(Var(R_t)/R_c**2 + R_t**2 Var(R_c)/R_c**4)``.

    NaN when the control ratio is 0.
    """
    if control.ratio == 0:
        return float("nan")
    rel_var = (
        treatment.variance / control.ratio**2
        + treatment.ratio**2 * control.variance / control.ratio**4
    )
    return float(np.sqrt(rel_var))


def ratio_lift(control: RatioEstimate, treatment: RatioEstimate, alpha: float = 0.05) -> Lift:
    """Absolute and relative lift of two independent ratio estimates, Wald z-test and CIs.

    The relative lift's variance is the delta method applied to ``R_t / R_c``
    (:func:`relative_lift_se`).
    """
    # scipy.special's ufuncs are what scipy.stats.norm evaluates (same digits), without the
    # second of import time scipy.stats costs.
    from scipy import special

    z_crit = float(special.ndtri(1.0 - alpha / 2.0))
    diff = treatment.ratio - control.ratio
    se = float(np.sqrt(control.variance + treatment.variance))
    if se > 0:
        z = diff / se
        pvalue = float(2.0 * special.ndtr(-abs(z)))
    else:
        z = 0.0 if diff == 0 else float(np.copysign(np.inf, diff))
        pvalue = 1.0 if diff == 0 else 0.0
    if control.ratio != 0:
        rel = treatment.ratio / control.ratio - 1.0
        rel_se = relative_lift_se(control, treatment)
        rel_low, rel_high = rel - z_crit * rel_se, rel + z_crit * rel_se
    else:
        rel = rel_low = rel_high = float("nan")
    return Lift(
        control=control,
        treatment=treatment,
        lift_abs=diff,
        lift_rel=rel,
        ci_low=diff - z_crit * se,
        ci_high=diff + z_crit * se,
        rel_ci_low=rel_low,
        rel_ci_high=rel_high,
        z=z,
        pvalue=pvalue,
        se=se,
        alpha=alpha,
    )
