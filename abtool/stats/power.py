"""Sample size, minimum detectable effect and power for planning an experiment.

Two-sample designs are statsmodels' power classes: group 1 is the control with ``nobs1`` units
and group 2 the treatment with ``nobs2 = ratio * nobs1``.

* Normal power on a standardized effect (``NormalIndPower``), used with Cohen's h for
  proportions (``proportion_effectsize``): h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1))
  (Cohen 1988, ch. 6).
* Two-sample t-test power with the noncentral t (``TTestIndPower``, pooled df
  nobs1 + nobs2 - 2), used with d = mde / sd for continuous metrics and, as the
  "t-approx" method for proportions, with d = mde / sqrt(p (1 - p)).
* The two-sided exact sign (binomial) test of a win rate against 1/2, for interleaving, on
  scipy's binomial distribution. No library searches its sample size: power saw-tooths in n
  (Chernick & Liu 2002), so the smallest n that reaches a power is not the answer; the search
  here is abtool's own.

Two-sided power includes the (tiny) rejection probability in the wrong tail, as statsmodels
does. Several treatments share one control with Bonferroni-adjusted alpha / K.

The solvers invert statsmodels' power functions with scipy's ``brentq`` (Brent 1973) rather
than calling ``solve_power``: statsmodels' root search stops at an absolute tolerance of 1e-5
(too coarse for an effect size near 0.01, whose MDE would move in the fourth digit) and cannot
be told otherwise, and it may fall back to ``fsolve``. Here the bracket starts at the normal
closed form and the tolerances are set for the planning answers.

References:
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed.
    Brent, R. P. (1973). Algorithms for Minimization without Derivatives, ch. 4.
    Chernick, M. R., Liu, C. Y. (2002). The saw-toothed behavior of power versus sample size
    and software solutions: single binomial proportion using exact methods. The American
    Statistician 56(2), 149-155.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from scipy import special, stats
from scipy.optimize import brentq
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

Alternative = Literal["two-sided", "larger"]
PowerFunction = Callable[[float, float, float, float, Alternative], float]

MIN_NOBS1 = 2.0

_NORMAL_IND_POWER = NormalIndPower()
_TTEST_IND_POWER = TTestIndPower()


def _norm_isf(q: float) -> float:
    """The z with P(Z > z) = q (scipy ``ndtri``, accurate for small q)."""
    return -float(special.ndtri(q))


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
    return _norm_isf(a) + _norm_isf(1.0 - power)


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


# --- interleaving: the exact two-sided sign test -------------------------------------------


def _binom_cdf(k: int, n: int, p: float) -> float:
    return float(stats.binom.cdf(k, n, p))


def _binom_sf(k: int, n: int, p: float) -> float:
    return float(stats.binom.sf(k, n, p))


def _binom_pmf(k: int, n: int, p: float) -> float:
    return float(stats.binom.pmf(k, n, p))


def sign_test_critical(sessions: int, alpha: float) -> int:
    """Largest c with 2 P(X <= c) <= alpha under X ~ Binomial(sessions, 1/2), or -1.

    The two-sided exact test (scipy ``binomtest(k, n, 0.5)``) rejects when
    ``min(k, n - k) <= c``: at p = 1/2 its p-value is twice the smaller tail.
    """
    half = alpha / 2.0
    c = math.floor(sessions / 2.0 - _norm_isf(half) * math.sqrt(sessions) / 2.0)
    c = max(min(c, (sessions - 1) // 2), -1)
    while c >= 0 and _binom_cdf(c, sessions, 0.5) > half:
        c -= 1
    while c + 1 <= (sessions - 1) // 2 and _binom_cdf(c + 1, sessions, 0.5) <= half:
        c += 1
    return c


def sign_test_power(win_rate: float, sessions: int, alpha: float) -> float:
    """Exact power of the two-sided sign test when B wins a decisive session with ``win_rate``."""
    c = sign_test_critical(sessions, alpha)
    if c < 0:
        return 0.0
    return _binom_cdf(c, sessions, win_rate) + _binom_sf(sessions - c - 1, sessions, win_rate)


@dataclass(frozen=True)
class SignTestSize:
    """Decisive sessions for the exact sign test.

    Attributes:
        sessions: smallest n whose exact power reaches the target at n and at every n up to
            ``checked_to`` (power saw-tooths with n, so the first n that reaches it can be
            followed by larger ones that do not).
        first_sessions: the first n whose exact power reaches the target.
        normal_sessions: the normal-approximation answer the search started from.
        power: exact power at ``sessions``.
        checked_to: the last n checked.
    """

    sessions: int
    first_sessions: int
    normal_sessions: float
    power: float
    checked_to: int


def sign_test_normal_sessions(win_rate: float, alpha: float, power: float) -> float:
    """Normal-approximation sessions: ((z_a/2 * 1/2 + z_b sqrt(p(1-p))) / (p - 1/2))^2."""
    g = abs(win_rate - 0.5)
    num = _norm_isf(alpha / 2.0) * 0.5 + _norm_isf(1.0 - power) * math.sqrt(
        win_rate * (1.0 - win_rate)
    )
    return (num / g) ** 2


class _BinomialTail:
    """P(X <= k) and P(X = k) for X ~ Binomial(n, q), stepped in O(1) as n or k grows by one.

    The scan below visits thousands of (n, k) pairs; one scipy call each would cost ~50 µs,
    the recurrences a few hundred nanoseconds. They start from scipy's values and restart from
    them whenever k leaves [0, n).
    """

    def __init__(self, q: float, n: int, k: int) -> None:
        self.q = q
        self.n, self.k = n, k
        self.cdf: float = _binom_cdf(k, n, q)
        self.pmf: float = _binom_pmf(k, n, q)

    def grow(self) -> None:
        """n -> n + 1 at the same k."""
        n, k, q = self.n, self.k, self.q
        if 0 <= k < n:
            self.cdf -= q * self.pmf
            self.pmf *= (n + 1) / (n + 1 - k) * (1.0 - q)
            self.n = n + 1
        else:
            self._reset(n + 1, k)

    def up(self) -> None:
        """k -> k + 1 at the same n."""
        n, k, q = self.n, self.k, self.q
        if 0 <= k < n:
            self.pmf *= (n - k) / (k + 1) * q / (1.0 - q)
            self.cdf += self.pmf
            self.k = k + 1
        else:
            self._reset(n, k + 1)

    def _reset(self, n: int, k: int) -> None:
        self.n, self.k = n, k
        self.cdf = _binom_cdf(k, n, self.q)
        self.pmf = _binom_pmf(k, n, self.q)


def _sign_test_power_scan(win_rate: float, alpha: float, start: int) -> Iterator[tuple[int, float]]:
    """(n, exact power) for n = start, start + 1, ... in O(1) per step.

    The critical count c(n) never falls and rises by at most one as n grows, and the
    rejection region is {X <= c} and {X >= n - c}, so three binomial tails stepped by
    recurrences follow it: P0.5(X <= c + 1) decides c, and Pp(X <= c), Pp(X <= n - c - 1)
    give the power.
    """
    p = max(win_rate, 1.0 - win_rate)  # the power is symmetric in p and 1 - p
    n = start
    c = sign_test_critical(n, alpha)
    null_next = _BinomialTail(0.5, n, c + 1)
    lower = _BinomialTail(p, n, c)
    upper = _BinomialTail(p, n, n - c - 1)
    half = alpha / 2.0
    while True:
        power = (lower.cdf if c >= 0 else 0.0) + (1.0 - upper.cdf if c >= 0 else 0.0)
        yield n, power
        n += 1
        for tail in (null_next, lower, upper):
            tail.grow()
        if c + 1 <= (n - 1) // 2 and null_next.cdf <= half:
            c += 1
            null_next.up()
            lower.up()
        else:
            upper.up()


def sign_test_sessions(win_rate: float, alpha: float, power: float) -> SignTestSize:
    """Decisive sessions the two-sided exact sign test needs (see SignTestSize).

    Exact power saw-tooths in n, and its dips below the target reach about sqrt(n) past the
    first n that reaches it; the answer is the smallest n after which the power stays at or
    above the target for 20 + 2 sqrt(n) further sessions.
    """
    if not 0.0 < win_rate < 1.0 or win_rate == 0.5:
        raise ValueError("win rate must be in (0, 1) and differ from 0.5")
    approx = sign_test_normal_sessions(win_rate, alpha, power)
    start = max(1, math.floor(approx * (1.0 - 4.0 / math.sqrt(approx + 1.0))))
    while start > 1 and sign_test_power(win_rate, start, alpha) >= power:
        start //= 2
    first = candidate = -1
    for n, value in _sign_test_power_scan(win_rate, alpha, start):
        if value < power:
            candidate = -1
            continue
        if first < 0:
            first = n
        if candidate < 0:
            candidate = n
        if n - candidate >= 20 + 2 * math.ceil(math.sqrt(candidate)):
            return SignTestSize(
                sessions=candidate,
                first_sessions=first,
                normal_sessions=approx,
                power=sign_test_power(win_rate, candidate, alpha),
                checked_to=n,
            )
    raise AssertionError("unreachable")  # pragma: no cover


def sign_test_detectable_win_rate(sessions: int, alpha: float, power: float) -> float | None:
    """Smallest win rate above 1/2 the exact sign test detects with ``power``, or None."""
    if sign_test_critical(sessions, alpha) < 0:
        return None

    def gap(p: float) -> float:
        return sign_test_power(p, sessions, alpha) - power

    if gap(1.0 - 1e-12) < 0.0:
        return None
    return float(brentq(gap, 0.5, 1.0 - 1e-12, xtol=1e-12, rtol=1e-13))
