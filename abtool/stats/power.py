"""Sample size, minimum detectable effect and power for planning an experiment.

Two-sample designs are statsmodels' power classes: group 1 is the control with ``nobs1`` units
and group 2 the treatment with ``nobs2 = ratio * nobs1``.

* Normal power on a standardized effect (``NormalIndPower``), used with Cohen's h for
  proportions (``proportion_effectsize``): h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1))
  (Cohen 1988, ch. 6).
* Two-sample t-test power with the noncentral t (``TTestIndPower``, pooled df
  nobs1 + nobs2 - 2), used with d = mde / sd for continuous metrics and, as the
  "t-approx" method for proportions, with d = mde / sqrt(p (1 - p)).

The exact sign test for interleaving lives in :mod:`abtool.stats.sign_test_power`; its
functions are re-exported here so that callers plan every design through this module.

Two-sided power includes the (tiny) rejection probability in the wrong tail, as statsmodels
does. Several treatments share one control with Bonferroni-adjusted alpha / K.

The solvers invert statsmodels' power functions with scipy's ``brentq`` (Brent 1973) rather
than calling ``solve_power``, whose root search stops at an absolute tolerance of 1e-5 (an
effect size near 0.01 then moves in the fourth digit) and reads a NaN power as "above the
target": where scipy's noncentral t CDF returns NaN it returns a t-test n up to 20% short,
without a warning (``python -m benchmarks.power_solvers`` measures both). Here the bracket
starts at the normal closed form and the tolerances are those of the planning answers.

References:
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed.
    Brent, R. P. (1973). Algorithms for Minimization without Derivatives, ch. 4.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from scipy import stats
from scipy.optimize import brentq
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

from abtool.stats.sign_test_power import (
    SignTestSize,
    sign_test_critical,
    sign_test_detectable_win_rate,
    sign_test_normal_sessions,
    sign_test_power,
    sign_test_sessions,
)

__all__ = [
    "MIN_NOBS1",
    "Alternative",
    "PowerFunction",
    "SignTestSize",
    "cohens_h",
    "normal_power",
    "proportion_for_h",
    "sign_test_critical",
    "sign_test_detectable_win_rate",
    "sign_test_normal_sessions",
    "sign_test_power",
    "sign_test_sessions",
    "solve_effect_size",
    "solve_nobs1",
    "ttest_power",
]

Alternative = Literal["two-sided", "larger"]
PowerFunction = Callable[[float, float, float, float, Alternative], float]

MIN_NOBS1 = 2.0

_NORMAL_IND_POWER = NormalIndPower()
_TTEST_IND_POWER = TTestIndPower()


def cohens_h(p1: float, p2: float) -> float:
    """Cohen's h of p2 against p1: statsmodels ``proportion_effectsize(p2, p1)``."""
    return float(proportion_effectsize(p2, p1))


def proportion_for_h(p1: float, h: float) -> float | None:
    """The p2 with cohens_h(p1, p2) == h, or None when no proportion is that far from p1."""
    angle = math.asin(math.sqrt(p1)) + h / 2.0
    if not 0.0 <= angle <= math.pi / 2.0:
        return None
    return math.sin(angle) ** 2


def normal_power(
    effect_size: float, nobs1: float, alpha: float, ratio: float, alternative: Alternative
) -> float:
    """Power of a two-sample z-test on a standardized effect (statsmodels NormalIndPower).

    Args:
        effect_size: standardized effect (Cohen's h for proportions), >= 0.
        nobs1: control units; the treatment has ``ratio * nobs1``.
        alpha: significance level of this comparison.
        ratio: treatment units per control unit.
        alternative: "two-sided" or "larger" (one-sided in the effect's direction).
    """
    return float(
        _NORMAL_IND_POWER.power(
            effect_size=effect_size,
            nobs1=nobs1,
            alpha=alpha,
            ratio=ratio,
            alternative=alternative,
        )
    )


def ttest_power(
    effect_size: float, nobs1: float, alpha: float, ratio: float, alternative: Alternative
) -> float:
    """Power of the pooled two-sample t-test (statsmodels TTestIndPower).

    Args:
        effect_size: Cohen's d, >= 0.
        nobs1: control units; the treatment has ``ratio * nobs1``.
        alpha: significance level of this comparison.
        ratio: treatment units per control unit.
        alternative: "two-sided" or "larger".
    """
    value = float(
        _TTEST_IND_POWER.power(
            effect_size=effect_size,
            nobs1=nobs1,
            alpha=alpha,
            ratio=ratio,
            alternative=alternative,
        )
    )
    if math.isnan(value):
        # statsmodels evaluates both tails with scipy's nctdtr, which returns NaN where a tail
        # is below about 1e-10 (scipy issue 25470): the wrong tail once the noncentrality
        # passes 2-10, the main one past ~35. scipy's survival function does not.
        value = _ttest_power_by_sf(effect_size, nobs1, alpha, ratio, alternative)
    return value


def _ttest_power_by_sf(
    effect_size: float, nobs1: float, alpha: float, ratio: float, alternative: Alternative
) -> float:
    """TTestIndPower's power with both tails as scipy ``nct.sf``: P(T < -c | nc) = sf(c, -nc)."""
    nobs2 = nobs1 * ratio
    df = nobs1 + nobs2 - 2.0
    nc = effect_size * math.sqrt(1.0 / (1.0 / nobs1 + 1.0 / nobs2))
    if alternative == "larger":
        return float(stats.nct.sf(stats.t.isf(alpha, df), df, nc))
    crit = stats.t.isf(alpha / 2.0, df)
    return float(stats.nct.sf(crit, df, nc) + stats.nct.sf(crit, df, -nc))


def _z_sum(alpha: float, power: float, alternative: Alternative) -> float:
    """z_(1-alpha[/2]) + z_power: the closed-form normal answer used as a starting point."""
    a = alpha / 2.0 if alternative == "two-sided" else alpha
    return float(stats.norm.isf(a)) + float(stats.norm.isf(1.0 - power))


def solve_nobs1(
    power_function: PowerFunction,
    effect_size: float,
    alpha: float,
    power: float,
    ratio: float,
    alternative: Alternative,
) -> float:
    """Control units (real-valued) at which the test reaches ``power``; at least MIN_NOBS1.

    Args:
        power_function: :func:`normal_power` or :func:`ttest_power`.
        effect_size: standardized effect, > 0.
        alpha: significance level of this comparison.
        power: target power.
        ratio: treatment units per control unit.
        alternative: "two-sided" or "larger".

    Raises:
        ValueError: the effect size is not positive.
        ArithmeticError: no sample size below 1e15 reaches the power.
    """
    if effect_size <= 0.0:
        raise ValueError("effect size must be positive")

    def gap(nobs1: float) -> float:
        return power_function(effect_size, nobs1, alpha, ratio, alternative) - power

    if gap(MIN_NOBS1) >= 0.0:
        return MIN_NOBS1
    # Normal theory gives nobs1 for the z-test; the t-test needs a little more.
    guess = (_z_sum(alpha, power, alternative) / effect_size) ** 2 * (1.0 + 1.0 / ratio)
    lo, hi = MIN_NOBS1, max(guess, MIN_NOBS1 * 1.5)
    while gap(hi) < 0.0:
        lo, hi = hi, hi * 1.5
        if hi > 1e15:
            raise ArithmeticError("no sample size reaches the requested power")
    if lo == MIN_NOBS1 and guess > 4 * MIN_NOBS1 and gap(guess * 0.9) < 0.0:
        lo = guess * 0.9
    return float(brentq(gap, lo, hi, xtol=1e-9, rtol=1e-13))


def solve_effect_size(
    power_function: PowerFunction,
    nobs1: float,
    alpha: float,
    power: float,
    ratio: float,
    alternative: Alternative,
) -> float:
    """Smallest standardized effect the test detects with ``power`` at ``nobs1`` control units.

    Args:
        power_function: :func:`normal_power` or :func:`ttest_power`.
        nobs1: control units; the treatment has ``ratio * nobs1``.
        alpha: significance level of this comparison.
        power: target power (above the test's size).
        ratio: treatment units per control unit.
        alternative: "two-sided" or "larger".

    Raises:
        ArithmeticError: no effect size below 1e6 reaches the power.
    """

    def gap(effect: float) -> float:
        return power_function(effect, nobs1, alpha, ratio, alternative) - power

    nobs = 1.0 / (1.0 / nobs1 + 1.0 / (nobs1 * ratio))
    guess = _z_sum(alpha, power, alternative) / math.sqrt(nobs)
    lo, hi = guess * 0.5, guess * 1.5
    while gap(lo) > 0.0:
        lo *= 0.5
    while gap(hi) < 0.0:
        lo, hi = hi, hi * 2.0
        if hi > 1e6:
            raise ArithmeticError("no effect size reaches the requested power")
    return float(brentq(gap, lo, hi, xtol=1e-14, rtol=1e-13))
