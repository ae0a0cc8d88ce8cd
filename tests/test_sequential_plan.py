"""The units a confidence sequence needs for a fixed-horizon plan, against the closed form.

Tuned at N* = n, the sequence's half-width over the standard error is a constant k(alpha)
(n rho^2 is fixed by Waudby-Smith et al. 2023, eq. 161), so for the same effect and power
n_seq / n_fixed = ((k + z_power) / (z_alpha + z_power))^2; computed here with scipy.
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

from abtool.stats.inference.plan import sequential_plan


def closed_form(alpha: float, power: float, two_sided: bool) -> float:
    a = alpha if two_sided else 2 * alpha
    c = -2 * math.log(a) + math.log(1 - 2 * math.log(a))  # n rho^2 at n = N*
    log_term = (
        math.log(math.sqrt(c + 1) / alpha)
        if two_sided
        else math.log1p(math.sqrt(c + 1) / (2 * alpha))
    )
    k = math.sqrt(2 * (c + 1) / c * log_term)
    z_alpha = stats.norm.isf(alpha / 2 if two_sided else alpha)
    z_power = stats.norm.ppf(power)
    return ((k + z_power) / (z_alpha + z_power)) ** 2


@pytest.mark.parametrize(
    ("alpha", "power", "two_sided"), [(0.05, 0.8, True), (0.05, 0.8, False), (0.01, 0.9, True)]
)
def test_factor_is_the_closed_form(alpha: float, power: float, two_sided: bool):
    for units in (800, 34_328, 2_000_000):
        plan = sequential_plan(units, alpha, power, two_sided=two_sided)
        assert plan.factor == pytest.approx(closed_form(alpha, power, two_sided), rel=1e-8)
        assert plan.units == math.ceil(units * plan.factor - 1e-6)


def test_mde_factor_at_the_planned_units():
    plan = sequential_plan(10_000, 0.05, 0.8)
    # At N* = n the sequence's MDE over the z-test's is (k + z_power) / (z_alpha + z_power),
    # the square root of the units factor.
    assert plan.mde_factor == pytest.approx(math.sqrt(plan.factor), rel=1e-8)
