"""Light-weight distribution functions for planning: normal, Student t, noncentral t, binomial.

``abtool sample-size`` must answer in a fraction of a second, and importing scipy alone costs
about a second, so the few functions its power solvers need are written here on the standard
library (``math``, ``statistics.NormalDist``); the analysis commands keep using scipy itself.

Accuracy against scipy (pinned by tests/test_samplesize_distributions.py): the t CDF to 1e-10
relative for df below 1e8 (1e-8 at 1e8, where lgamma and the continued fraction lose digits),
the t quantile to 1e-9, the noncentral t at the critical values power needs to 1e-9
absolute, binomial tails to 1e-12 absolute. Far tails (probabilities below about 1e-12) are
only accurate in absolute terms.

References:
    Press, W. H. et al. (2007). Numerical Recipes, 3rd ed., §6.4 (incomplete beta function by
    its continued fraction, evaluated with the modified Lentz method).
    Lenth, R. V. (1989). Algorithm AS 243: Cumulative distribution function of the non-central
    t distribution. Applied Statistics 38(1), 185-189.
    Abramowitz, M., Stegun, I. A. (1964). Handbook of Mathematical Functions, 26.7.5 (t
    quantile expansion) and 26.7.10 (normal approximation of the noncentral t).
    Brent, R. P. (1973). Algorithms for Minimization without Derivatives, ch. 4.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

_NORMAL = NormalDist()
_TINY = 1e-300
_EPS = 1e-16


def norm_cdf(x: float) -> float:
    """Standard normal cumulative distribution function."""
    return _NORMAL.cdf(x)


def norm_sf(x: float) -> float:
    """Standard normal survival function 1 - Φ(x), accurate in the upper tail."""
    return _NORMAL.cdf(-x)


def norm_isf(q: float) -> float:
    """Inverse survival function: the z with P(Z > z) = q."""
    return -_NORMAL.inv_cdf(q)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < _TINY:
        d = _TINY
    d = 1.0 / d
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge (a={a}, b={b}, x={x})")


def _stirling_tail(x: float) -> float:
    """lgamma(x) minus Stirling's leading terms, for x >= 100 (error below 1e-20)."""
    x2 = x * x
    return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - 1.0 / (1680.0 * x2)) / x2) / x2) / x


def log_gamma_ratio(x: float, s: float) -> float:
    """log(Γ(x + s) / Γ(x)) without the cancellation of two huge lgamma values.

    For x >= 100 the Stirling series of both terms is subtracted analytically, so a ratio such
    as Γ(5e7 + 0.5) / Γ(5e7) keeps full precision (two lgamma calls would lose eight digits).
    """
    if x < 100.0:
        return math.lgamma(x + s) - math.lgamma(x)
    return (
        (x - 0.5) * math.log1p(s / x)
        + s * math.log(x + s)
        - s
        + _stirling_tail(x + s)
        - _stirling_tail(x)
    )


def log_beta(a: float, b: float) -> float:
    """log B(a, b), accurate when one argument is much larger than the other."""
    small, large = (a, b) if a <= b else (b, a)
    return math.lgamma(small) - log_gamma_ratio(large, small)


def betainc(a: float, b: float, x: float, y: float | None = None) -> float:
    """Regularized incomplete beta function I_x(a, b).

    Args:
        a: first shape parameter (> 0).
        b: second shape parameter (> 0).
        x: point in [0, 1].
        y: ``1 - x`` when the caller knows it more accurately than ``1 - x`` computes it.
    """
    if y is None:
        y = 1.0 - x
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    # log(x) from y when x is near 1 (and vice versa): x^a with a in the millions needs it.
    log_x = math.log1p(-y) if x > 0.5 else math.log(x)
    log_y = math.log1p(-x) if y > 0.5 else math.log(y)
    if min(a, b) >= 100.0:
        # Both shapes large (binomial tails at large n): expand Stirling around the mean
        # a / (a + b) so that terms of size a log a cancel analytically, not numerically.
        total = a + b
        log_front = (
            a * math.log1p((b * x - a * y) / a)
            + b * math.log1p((a * y - b * x) / b)
            + 0.5 * math.log(a * b / (total * 2.0 * math.pi))
            - _stirling_tail(a)
            - _stirling_tail(b)
            + _stirling_tail(total)
        )
        front = math.exp(log_front)
    else:
        front = math.exp(a * log_x + b * log_y - log_beta(a, b))
    # The fraction converges fast below the mean a / (a + b); use the symmetry above it.
    # With one shape below 1 and the other large (t tails at large df), the fraction whose
    # first shape is the small one is accurate on both sides of the mean, except that its
    # complement cancels where the result is small; there the direct fraction is used.
    if b <= 1.0 and a >= 100.0 and a * y < 20.0:
        result = 1.0 - front * _betacf(b, a, y) / b
        return result if result >= 1e-3 else front * _betacf(a, b, x) / a
    if a <= 1.0 and b >= 100.0 and b * x < 20.0:
        result = front * _betacf(a, b, x) / a
        return result if result <= 1.0 - 1e-3 else 1.0 - front * _betacf(b, a, y) / b
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, y) / b


def t_cdf(t: float, df: float) -> float:
    """Student t cumulative distribution function with ``df`` (real, > 0) degrees of freedom."""
    tt = t * t
    tail = 0.5 * betainc(0.5 * df, 0.5, df / (df + tt), tt / (df + tt))
    return tail if t < 0 else 1.0 - tail


def t_sf(t: float, df: float) -> float:
    """Student t survival function P(T > t)."""
    return t_cdf(-t, df)


def _t_pdf(t: float, df: float) -> float:
    log_c = math.lgamma(0.5 * (df + 1.0)) - math.lgamma(0.5 * df) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - 0.5 * (df + 1.0) * math.log1p(t * t / df))


def t_isf(q: float, df: float) -> float:
    """The t with P(T > t) = q, for 0 < q < 1/2 (so t > 0).

    Starts from the Cornish-Fisher expansion (Abramowitz & Stegun 26.7.5) and polishes with
    Newton steps, falling back to bisection when a step leaves the bracket.
    """
    if not 0.0 < q < 0.5:
        raise ValueError(f"t_isf needs 0 < q < 0.5, got {q}")
    z = norm_isf(q)
    g1 = (z**3 + z) / 4.0
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96.0
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384.0
    t = z + g1 / df + g2 / df**2 + g3 / df**3
    lo, hi = 0.0, math.inf
    for _ in range(200):
        f = t_sf(t, df) - q
        if f > 0:
            lo = t
        else:
            hi = t
        step = f / _t_pdf(t, df)
        nxt = t + step
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi) if math.isfinite(hi) else 2.0 * max(t, 1.0)
        if abs(nxt - t) <= 1e-15 * abs(nxt):
            return nxt
        t = nxt
    return t


def nct_cdf(t: float, df: float, nc: float) -> float:
    """Noncentral t cumulative distribution function P(T <= t) (Lenth's AS 243).

    For |nc| above 37.62 the series' Poisson weights underflow; the normal approximation of
    Abramowitz & Stegun 26.7.10 is used there. At t critical values (|t| < ~6) and df >= 10
    the power it gives is 0 or 1 to double precision; for tiny df and t near nc it is only
    approximate, a region a sample-size solver never reaches (the solution is 2 units there).
    """
    if nc == 0.0:
        return t_cdf(t, df)
    if t >= 0.0:
        negdel, tt, delta = False, t, nc
    else:
        negdel, tt, delta = True, -t, -nc
    if delta * delta > 2.0 * math.log(2.0) * 1021:
        s = 1.0 / (4.0 * df)
        z = (tt * (1.0 - s) - delta) / math.sqrt(1.0 + tt * tt * 2.0 * s)
        lower = norm_cdf(z)
        return 1.0 - lower if negdel else lower
    tnc = 0.0
    if tt > 0.0:
        x = tt * tt / (tt * tt + df)
        y = df / (tt * tt + df)
        lam = delta * delta
        p = 0.5 * math.exp(-0.5 * lam)
        q = math.sqrt(2.0 / math.pi) * p * delta
        s = 0.5 - p
        if s < 1e-7:
            s = -0.5 * math.expm1(-0.5 * lam)
        a = 0.5
        b = 0.5 * df
        log_rxb = -b * math.log1p(tt * tt / df)
        rxb = math.exp(log_rxb)
        albeta = 0.5 * math.log(math.pi) - log_gamma_ratio(b, 0.5)
        xodd = betainc(a, b, x, y)
        godd = 2.0 * rxb * math.exp(a * math.log(x) - albeta)
        tnc_b = b * x
        xeven = tnc_b if tnc_b < 2.2e-16 else -math.expm1(log_rxb)
        geven = tnc_b * rxb
        tnc = p * xodd + q * xeven
        for it in range(1, 2001):
            a += 1.0
            xodd -= godd
            xeven -= geven
            godd *= x * (a + b - 1.0) / a
            geven *= x * (a + b - 0.5) / (a + 0.5)
            p *= lam / (2 * it)
            q *= lam / (2 * it + 1)
            tnc += p * xodd + q * xeven
            s -= p
            if s < -1e-10 or (s <= 0 and it > 1):
                break
            if abs(2.0 * s * (xodd - godd)) < 1e-14:
                break
    tnc += norm_cdf(-delta)
    tnc = min(tnc, 1.0)
    return 1.0 - tnc if negdel else tnc


def nct_sf(t: float, df: float, nc: float) -> float:
    """Noncentral t survival function P(T > t)."""
    if t < 0.0:
        # P(T > t | nc) = P(-T < -t | nc) = cdf(-t | -nc): keeps the small side exact.
        return nct_cdf(-t, df, -nc)
    return 1.0 - nct_cdf(t, df, nc)


def binom_cdf(k: int, n: int, p: float) -> float:
    """Binomial P(X <= k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return betainc(n - k, k + 1, 1.0 - p, p)


def binom_sf(k: int, n: int, p: float) -> float:
    """Binomial P(X > k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 1.0
    if k >= n:
        return 0.0
    return betainc(k + 1, n - k, p, 1.0 - p)


def brentq(
    f: Callable[[float], float],
    lo: float,
    hi: float,
    *,
    xtol: float = 1e-12,
    rtol: float = 4 * 2.2e-16,
    maxiter: int = 200,
) -> float:
    """A root of ``f`` in [lo, hi], where f(lo) and f(hi) differ in sign (Brent 1973)."""
    xpre, xcur = lo, hi
    fpre, fcur = f(xpre), f(xcur)
    if fpre == 0.0:
        return xpre
    if fcur == 0.0:
        return xcur
    if (fpre > 0) == (fcur > 0):
        raise ValueError("brentq: the bracket does not change sign")
    xblk = fblk = spre = scur = 0.0
    for _ in range(maxiter):
        if fpre != 0.0 and fcur != 0.0 and (fpre < 0) != (fcur < 0):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2.0
        sbis = (xblk - xcur) / 2.0
        if fcur == 0.0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:
                stry = -fcur * (xcur - xpre) / (fcur - fpre)  # secant
            else:
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2.0 * abs(stry) < min(abs(spre), 3.0 * abs(sbis) - delta):
                spre, scur = scur, stry  # accept the interpolation
            else:
                spre, scur = sbis, sbis  # bisect
        else:
            spre, scur = sbis, sbis
        xpre, fpre = xcur, fcur
        if abs(scur) > delta:
            xcur += scur
        else:
            xcur += delta if sbis > 0 else -delta
        fcur = f(xcur)
    raise ArithmeticError("brentq did not converge")
