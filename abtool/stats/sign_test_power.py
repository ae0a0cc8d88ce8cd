"""Sessions and power of the two-sided exact sign test, for planning an interleaving experiment.

B wins a decisive session with probability ``win_rate``; the test is scipy's
``binomtest(k, n, 0.5)`` on the wins, and every probability here is scipy's binomial
distribution. No library searches its sample size: exact power saw-tooths in n (Chernick &
Liu 2002), so the smallest n that reaches a power is not the answer, and the search here is
abtool's own. It follows the rejection region with binomial tails stepped by recurrences,
one scipy call per restart instead of one per n.

References:
    Chernick, M. R., Liu, C. Y. (2002). The saw-toothed behavior of power versus sample size
    and software solutions: single binomial proportion using exact methods. The American
    Statistician 56(2), 149-155.
    Brent, R. P. (1973). Algorithms for Minimization without Derivatives, ch. 4.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from scipy import stats
from scipy.optimize import brentq


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
    c = math.floor(sessions / 2.0 - float(stats.norm.isf(half)) * math.sqrt(sessions) / 2.0)
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
    z_alpha = float(stats.norm.isf(alpha / 2.0))
    z_beta = float(stats.norm.isf(1.0 - power))
    num = z_alpha * 0.5 + z_beta * math.sqrt(win_rate * (1.0 - win_rate))
    return (num / abs(win_rate - 0.5)) ** 2


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
