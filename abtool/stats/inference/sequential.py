"""The asymptotic confidence sequence of a difference in means, and its always-valid p-values.

A fixed-horizon interval covers the true effect with probability 1 - alpha at one pre-planned
look. Re-run on every new snapshot, each look is another chance of a false rejection: with 14
daily looks a two-sided z-test at 0.05 rejects a null at some look about one run in five. A
confidence sequence (CS) covers the true effect at *all* sample sizes at once,
``P(for all n: effect in CS_n) >= 1 - alpha``, so it may be looked at after every snapshot and
the experiment stopped as soon as it excludes the null.

Waudby-Smith et al. (2023) give an asymptotic CS for the mean of iid observations with variance
``s2`` (their eq. 9, the normal-mixture boundary of Robbins 1970 applied to a central limit
approximation). For an A/B estimate with standard error ``se`` over ``n`` randomization units
(both arms together) the per-unit variance is ``s2 = se**2 * n`` and the two-sided half-width is

    hw_2(n) = sqrt(s2 * 2 (n rho^2 + 1) / (n rho)^2 * log(sqrt(n rho^2 + 1) / alpha))

and the one-sided half-width (their eq. 134, a one-sided normal mixture)

    hw_1(n) = sqrt(s2 * 2 (n rho^2 + 1) / (n rho)^2 * log(1 + sqrt(n rho^2 + 1) / (2 alpha))).

The mixture parameter ``rho`` sets where the sequence is tightest. Their eq. 161 minimises the
width at a planned total ``N*`` (the *tuning units*):

    rho^2 = ( -2 log a + log(1 - 2 log a) ) / N*,  a = alpha (two-sided) or 2 alpha (one-sided).

These are the formulas of GrowthBook's sequential engine (gbstats ``sequential_rho``,
``sequential_interval_halfwidth``, ``sequential_interval_halfwidth_one_sided``), with the
same default ``N* = 5000``; tests/test_inference_golden.py reproduces its published values.

Always-valid p-values. With ``S = n^2 d^2 / s2 = n (d / se)^2`` for ``d = effect - null`` and
``t = n rho^2 + 1``, the normal-mixture likelihood ratio ``E = exp(rho^2 S / (2 t)) / sqrt(t)``
is (asymptotically) a nonnegative martingale with mean 1 under the null, so by Ville's
inequality ``P(sup_n E_n >= 1/alpha) <= alpha`` and ``p = min(1, 1 / E)`` is an always-valid
p-value (Waudby-Smith et al. 2023, eq. 155; gbstats ``SequentialTwoSidedTTest.p_value``).
Solving ``hw_2(n; alpha) = |d|`` for alpha gives the same number, so ``p <= alpha`` exactly when
the two-sided CS excludes the null. For the one-sided CS the same duality gives a closed form:
the bound ``effect -/+ hw_1`` touches the null when
``log(1 + sqrt(t) / (2 alpha)) = rho^2 S / (2 t)``, i.e. at

    p_1 = sqrt(t) / (2 expm1(rho^2 S / (2 t)))   (d on the tested side; 1 otherwise),

with ``rho`` held at the one-sided value tuned for the design alpha. gbstats finds this root by
bisection (to about 1e-4 in alpha); here it is exact.

Everything is vectorised over numpy arrays, so simulations use the very code the reports use.

References:
    Waudby-Smith, I., Arbour, D., Sinha, R., Kennedy, E. H., Ramdas, A. (2023). Time-uniform
    central limit theory and asymptotic confidence sequences. arXiv:2103.06476v7 (Annals of
    Statistics, 2024).
    Robbins, H. (1970). Statistical methods related to the law of the iterated logarithm.
    Annals of Mathematical Statistics 41(5), 1397-1409.
    Howard, S. R., Ramdas, A., McAuliffe, J., Sekhon, J. (2021). Time-uniform, nonparametric,
    nonasymptotic confidence sequences. Annals of Statistics 49(2), 1055-1080.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

DEFAULT_TUNING_UNITS = 5000


def sequential_rho(alpha: float, tuning_units: float, *, two_sided: bool = True) -> float:
    """Mixture parameter rho that makes the CS tightest at ``tuning_units`` (eq. 161)."""
    if not 0.0 < alpha < (1.0 if two_sided else 0.5):
        raise ValueError(f"alpha must be in (0, {1.0 if two_sided else 0.5}), got {alpha}")
    if not tuning_units > 0:
        raise ValueError(f"tuning_units must be positive, got {tuning_units}")
    a = alpha if two_sided else 2.0 * alpha
    return math.sqrt((-2.0 * math.log(a) + math.log(1.0 - 2.0 * math.log(a))) / tuning_units)


def _width_factor(units: NDArray[np.float64], rho: float) -> NDArray[np.float64]:
    """``2 (n rho^2 + 1) / (n rho)^2``, the part of hw^2 / s2 shared by both sides."""
    return np.asarray(2.0 * (units * rho**2 + 1.0) / (units * rho) ** 2, dtype=np.float64)


def halfwidth_two_sided(
    se: ArrayLike, units: ArrayLike, alpha: float, rho: float
) -> NDArray[np.float64]:
    """Two-sided CS half-width (eq. 9) for an estimate with standard error ``se`` over ``units``."""
    s = np.asarray(se, dtype=np.float64)
    n = np.asarray(units, dtype=np.float64)
    log_term = np.log(np.sqrt(n * rho**2 + 1.0) / alpha)
    return np.asarray(s * np.sqrt(n * _width_factor(n, rho) * log_term), dtype=np.float64)


def halfwidth_one_sided(
    se: ArrayLike, units: ArrayLike, alpha: float, rho: float
) -> NDArray[np.float64]:
    """One-sided CS half-width (eq. 134): the bound is ``effect - hw`` or ``effect + hw``."""
    s = np.asarray(se, dtype=np.float64)
    n = np.asarray(units, dtype=np.float64)
    log_term = np.log1p(np.sqrt(n * rho**2 + 1.0) / (2.0 * alpha))
    return np.asarray(s * np.sqrt(n * _width_factor(n, rho) * log_term), dtype=np.float64)


def _mixture_exponent(
    distance: NDArray[np.float64], se: NDArray[np.float64], n: NDArray[np.float64], rho: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``rho^2 S / (2 t)`` and ``t = n rho^2 + 1`` with ``S = n (distance / se)^2``."""
    t = n * rho**2 + 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = np.where(se > 0, (distance / np.where(se > 0, se, 1.0)) ** 2, np.inf)
        z2 = np.where((se <= 0) & (distance == 0), 0.0, z2)
    exponent = rho**2 * n * z2 / (2.0 * t)
    return np.asarray(exponent, dtype=np.float64), np.asarray(t, dtype=np.float64)


def pvalue_two_sided(
    effect: ArrayLike, se: ArrayLike, units: ArrayLike, rho: float, null: ArrayLike = 0.0
) -> NDArray[np.float64]:
    """Always-valid two-sided p-value ``min(1, 1/E)`` of ``effect == null`` (eq. 155).

    ``se == 0`` gives 1 when ``effect == null`` and 0 otherwise.
    """
    d = np.asarray(effect, dtype=np.float64) - np.asarray(null, dtype=np.float64)
    exponent, t = _mixture_exponent(
        d, np.asarray(se, dtype=np.float64), np.asarray(units, dtype=np.float64), rho
    )
    return np.asarray(np.minimum(1.0, np.sqrt(t) * np.exp(-exponent)), dtype=np.float64)


def pvalue_one_sided(
    effect: ArrayLike,
    se: ArrayLike,
    units: ArrayLike,
    rho: float,
    *,
    greater: bool,
    null: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Always-valid one-sided p-value, dual to the one-sided CS (exact root of the bound).

    Args:
        effect: estimates.
        se: their standard errors.
        units: randomization units behind each estimate (both arms).
        rho: the one-sided mixture parameter (``sequential_rho(..., two_sided=False)``).
        greater: True tests H1 ``effect > null`` (lower bound), False H1 ``effect < null``.
        null: the tested value.

    Returns:
        p-values in (0, 1]; 1 when the estimate is not on the tested side of the null.
    """
    d = np.asarray(effect, dtype=np.float64) - np.asarray(null, dtype=np.float64)
    if not greater:
        d = -d
    exponent, t = _mixture_exponent(
        d, np.asarray(se, dtype=np.float64), np.asarray(units, dtype=np.float64), rho
    )
    with np.errstate(divide="ignore", over="ignore"):
        p = np.sqrt(t) / (2.0 * np.expm1(exponent))
    return np.asarray(np.where(d > 0, np.minimum(1.0, p), 1.0), dtype=np.float64)


def tuning_units_for_plan(total_units: float) -> int:
    """The ``N*`` (tuning units) that fits a sample-size plan: its total units, both arms.

    The CS is tightest at the units where ``rho`` was tuned (eq. 161), so the natural choice
    is the sample size the experiment is planned to reach. The choice is forgiving: at alpha
    0.05, an ``N*`` of a third or three times the units at hand widens the sequence there by
    at most 6% (two- or one-sided), ten times them by 27-32%.
    """
    if not total_units >= 1:
        raise ValueError(f"the plan's total units must be >= 1, got {total_units}")
    return max(1, round(total_units))
