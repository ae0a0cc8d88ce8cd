"""Daily looks at a canary: false decisions, ROLLBACK speed, the power cost of always-valid tests.

Run ``python -m abtool.simulate.peeking`` for the tables in ``docs/canary-decide.md``
("Decisions under repeated looks").

Each replicate is a canary of ``users`` users, a share of them in treatment, simulated at the
level of units as ``abtool simulate canary`` does: a user has a latent propensity
``u ~ N(0, heterogeneity)`` and ``1 + Poisson(requests_per_user - 1)`` requests spread
uniformly over ``days`` days; a request is clicked with probability
``sigmoid(logit(click_rate) + u)``, times ``1 + click_lift`` in treatment. After every day the
click-through rate of each arm is a ratio of per-user sums over the users seen so far, its
variance the delta method on those sums exactly as :func:`abtool.stats.ratio.ratio_estimate`
computes it (vectorised over replicates here, pinned against it by the tests), and the lift
``R_t - R_c`` with its standard error is an :class:`~abtool.stats.inference.Estimate` whose
units are the users seen in both arms. The decision rules are the inference methods
themselves, applied to arrays of looks.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from abtool.stats.inference import ConfidenceSequence, FixedHorizon, InferenceMethod
from abtool.stats.inference.detectable import units_for_effect
from abtool.stats.inference.methods import Alternative

CHUNK = 25  # replicates at once: arrays of 25 * users * days float64 (11 MB at 4,000 users)


@dataclass(frozen=True)
class PeekingSpec:
    """A canary observed once a day."""

    users: int = 4000
    treatment_share: float = 0.5
    requests_per_user: float = 5.0
    click_rate: float = 0.10
    heterogeneity: float = 1.0
    click_lift: float = 0.0
    days: int = 14
    replicates: int = 2000
    seed: int = 0


@dataclass(frozen=True)
class Looks:
    """The absolute click-through lift of every replicate after every day, shape (R, days)."""

    effect: NDArray[np.float64]
    se: NDArray[np.float64]
    units: NDArray[np.int64]


def moments_from_sums(
    n: NDArray[np.float64],
    sx: NDArray[np.float64],
    sy: NDArray[np.float64],
    sxx: NDArray[np.float64],
    syy: NDArray[np.float64],
    sxy: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Delta-method ratio ``sx / sy`` and its variance from unit counts and sums.

    The estimator of :func:`abtool.stats.ratio.ratio_estimate` (ddof-1 unit-level
    (co)variances, Deng et al. 2018 eq. 3) written on sums so that it vectorises over
    replicates and looks. Fewer than two units give NaN.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        mx, my = sx / n, sy / n
        s_xx = (sxx - n * mx * mx) / (n - 1)
        s_yy = (syy - n * my * my) / (n - 1)
        s_xy = (sxy - n * mx * my) / (n - 1)
        variance = (s_xx / my**2 - 2 * mx * s_xy / my**3 + mx**2 * s_yy / my**4) / n
        ratio = mx / my
    return ratio, np.where(n >= 2, np.maximum(variance, 0.0), np.nan)


@dataclass(frozen=True)
class UserTotals:
    """Each user's arm and running clicks and requests after each day, of R replicates."""

    treated: NDArray[np.bool_]  # (R, U)
    clicks: NDArray[np.float64]  # (R, days, U), x: clicks up to the end of that day
    requests: NDArray[np.float64]  # (R, days, U), y: requests up to the end of that day


def user_totals(spec: PeekingSpec, replicates: int, rng: np.random.Generator) -> UserTotals:
    """Simulate ``replicates`` canaries of ``spec`` down to each user's running sums."""
    shape = (replicates, spec.users)
    treated = rng.random(shape) < spec.treatment_share
    propensity = spec.heterogeneity * rng.standard_normal(shape)
    base = math.log(spec.click_rate / (1.0 - spec.click_rate))
    p_click = 1.0 / (1.0 + np.exp(-(base + propensity)))
    p_click = np.minimum(1.0, np.where(treated, p_click * (1.0 + spec.click_lift), p_click))
    requests = 1 + rng.poisson(max(spec.requests_per_user - 1.0, 0.0), shape)
    owner = np.repeat(np.arange(treated.size, dtype=np.int64), requests.ravel())
    # one uniform per request: its integer part is the day, its fractional part (uniform and
    # independent of the day) decides the click
    u = rng.random(owner.size) * spec.days
    day = u.astype(np.int64)
    clicked = (u - day) < p_click.ravel()[owner]
    # layout (R, days, U): running sums over days add contiguous rows of users
    replicate, user = np.divmod(owner, spec.users)
    cell = ((replicate * spec.days + day) * spec.users + user) * 2 + clicked
    counts = np.bincount(cell, minlength=treated.size * spec.days * 2)
    counts = counts.reshape(replicates, spec.days, spec.users, 2)
    # (cumsum with a dtype= cast is ten times slower than casting first)
    y = (counts[..., 0] + counts[..., 1]).astype(np.float64)
    x = counts[..., 1].astype(np.float64)
    np.cumsum(y, axis=1, out=y)
    np.cumsum(x, axis=1, out=x)
    return UserTotals(treated, x, y)


def arm_sums(totals: UserTotals) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unit counts and sums after each day, per arm: control and treatment, (R, days, 6).

    The 6 columns are ``n, sum x, sum y, sum x^2, sum y^2, sum x y`` over the users seen so
    far. Unseen users have x = y = 0, so only the unit count needs the "seen" flag; each
    column's arm sums are one batched matrix product with the (U, 2) arm indicators.
    """
    x, y = totals.clicks, totals.requests
    arms = np.stack([~totals.treated, totals.treated], axis=-1).astype(np.float64)
    columns = ((y > 0).astype(np.float64), x, y, x * x, y * y, x * y)
    sums = np.stack([column @ arms for column in columns], axis=-1)  # (R, days, 2, 6)
    return sums[:, :, 0], sums[:, :, 1]


def simulate_looks(spec: PeekingSpec) -> Looks:
    """Lift, se and units after each day for every replicate (seeded, chunked)."""
    effect = np.empty((spec.replicates, spec.days))
    se = np.empty((spec.replicates, spec.days))
    units = np.empty((spec.replicates, spec.days), dtype=np.int64)
    for start in range(0, spec.replicates, CHUNK):
        size = min(CHUNK, spec.replicates - start)
        rng = np.random.default_rng([spec.seed, start])
        control, treatment = arm_sums(user_totals(spec, size, rng))
        r_c, v_c = moments_from_sums(*np.moveaxis(control, -1, 0))
        r_t, v_t = moments_from_sums(*np.moveaxis(treatment, -1, 0))
        effect[start : start + size] = r_t - r_c
        se[start : start + size] = np.sqrt(v_t + v_c)
        units[start : start + size] = (control[..., 0] + treatment[..., 0]).astype(np.int64)
    return Looks(effect, se, units)


def first_rejection(
    looks: Looks, method: InferenceMethod, alternative: Alternative = "two-sided"
) -> NDArray[np.int64]:
    """Day index (0-based) of each replicate's first rejection, ``days`` when never."""
    rejected = method.pvalue(looks.effect, looks.se, looks.units, alternative) <= method.alpha
    days = looks.effect.shape[1]
    return np.asarray(np.where(rejected.any(axis=1), rejected.argmax(axis=1), days), np.int64)


def cumulative_rate(first: NDArray[np.int64], days: int) -> NDArray[np.float64]:
    """Share of replicates that have rejected by the end of each day."""
    return np.array([(first <= d).mean() for d in range(days)])


def standard_error(rate: float, replicates: int) -> float:
    """Binomial Monte Carlo standard error of a rate."""
    return math.sqrt(max(rate * (1.0 - rate), 1e-12) / replicates)


@dataclass(frozen=True)
class RuleRates:
    """How often a rule rejected: at the last look only, and at some look."""

    rule: str
    at_last_look: float
    at_some_look: float


def rule_rates(
    looks: Looks, method: InferenceMethod, alternative: Alternative, rule: str
) -> RuleRates:
    """Rejection rates of one method and alternative over the replicates."""
    last = looks.effect.shape[1] - 1
    at_last = float(_rejects_at(looks, method, alternative, last).mean())
    at_some = float((first_rejection(looks, method, alternative) <= last).mean())
    return RuleRates(rule, at_last, at_some)


def _rejects_at(
    looks: Looks, method: InferenceMethod, alternative: Alternative, day: int
) -> NDArray[np.bool_]:
    p = method.pvalue(looks.effect[:, day], looks.se[:, day], looks.units[:, day], alternative)
    return np.asarray(p <= method.alpha)


RULES: tuple[tuple[str, Alternative], ...] = (
    ("two-sided", "two-sided"),
    ("'better' one-sided (false PROMOTE)", "greater"),
    ("'worse' one-sided (false ROLLBACK)", "less"),
)


def null_rates(looks: Looks, alpha: float = 0.05) -> list[RuleRates]:
    """Fixed and sequential rules on A/A looks: two-sided, 'better' and 'worse' one-sided."""
    rows = []
    for label, alternative in RULES:
        for method in (FixedHorizon(alpha), ConfidenceSequence(alpha)):
            rows.append(rule_rates(looks, method, alternative, f"{method.name}, {label}"))
    return rows


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def report(base: PeekingSpec, lifts_harm: Sequence[float], lift_power: float) -> str:
    """The tables of docs/canary-decide.md as Markdown (alpha 0.05, N* = 5,000)."""
    fixed, sequential = FixedHorizon(0.05), ConfidenceSequence(0.05)
    r, days = base.replicates, base.days
    aa = simulate_looks(base)
    out = [
        f"A/A canary ({base.users:,} users, {days} daily looks, {r:,} replicates, alpha 0.05; "
        f"Monte Carlo se at 5%: {standard_error(0.05, r):.3f}):\n",
        _markdown(
            ("rule", "rejects at the last look", "rejects at some look"),
            [(x.rule, f"{x.at_last_look:.3f}", f"{x.at_some_look:.3f}") for x in null_rates(aa)],
        ),
    ]

    harm = {0.0: cumulative_rate(first_rejection(aa, sequential, "less"), days)}
    for lift in lifts_harm:
        # one seed for every harmful lift: common random numbers make the columns comparable
        looks = simulate_looks(replace(base, click_lift=lift, seed=base.seed + 1))
        harm[lift] = cumulative_rate(first_rejection(looks, sequential, "less"), days)
    out.append("\nROLLBACK by day (sequential one-sided harm test, margin 0): share rolled back\n")
    out.append(
        _markdown(
            ["day", *(f"lift {lift:+.0%}" for lift in harm)],
            [[str(d + 1), *(f"{rates[d]:.3f}" for rates in harm.values())] for d in range(days)],
        )
    )

    looks = simulate_looks(replace(base, click_lift=lift_power, seed=base.seed + 2))
    units_last = float(np.median(looks.units[:, -1]))
    plan = ConfidenceSequence(0.05, units_last)
    rows = []
    for label, method in (
        ("fixed (valid at the last look only)", fixed),
        ("sequential, N* = 5,000", sequential),
        (f"sequential, N* = {units_last:,.0f} (the plan)", plan),
    ):
        rates = rule_rates(looks, method, "greater", label)
        some = "-" if method is fixed else f"{rates.at_some_look:.3f}"
        rows.append([label, f"{rates.at_last_look:.3f}", some])
    out.append(
        f"\nPower for a true {lift_power:+.0%} click lift ('better' one-sided test, alpha 0.05)\n"
    )
    out.append(_markdown(("rule", f"rejects at day {days}", "by day (any look)"), rows))

    # Units each rule needs for 80% power at this lift, from the last day's standard error.
    target = float(looks.effect[:, -1].mean())  # the true absolute lift, up to Monte Carlo
    se_last = float(np.median(looks.se[:, -1]))
    rows = []
    for label, method in (("fixed", fixed), ("sequential, N* = 5,000", sequential)):
        needed = units_for_effect(target, se_last, units_last, method, power=0.8)
        rows.append([label, f"{needed:,.0f}", f"{needed / units_last:.2f}"])
    out.append(
        f"\nUnits for 80% power at that lift ({target:.4f} absolute, from the day-{days} se; "
        "abtool.stats.inference.detectable)\n"
    )
    out.append(_markdown(("rule", "units", f"x the {units_last:,.0f} of day {days}"), rows))
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=2000)
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--power-lift", type=float, default=0.10)
    args = parser.parse_args(argv)
    base = PeekingSpec(users=args.users, replicates=args.replicates, seed=args.seed)
    print(report(base, lifts_harm=(-0.10, -0.20), lift_power=args.power_lift))


if __name__ == "__main__":
    main()
