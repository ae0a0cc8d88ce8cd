"""CUPED's sample-size factor pinned against statsmodels' power solvers."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from abtool.stats.cuped_sample_size import adjusted_sd, cuped_sample_size, variance_factor


@pytest.mark.parametrize("rho", [0.3, 0.5, 0.8])
@pytest.mark.parametrize("ratio", [1.0, 19.0])
def test_z_test_sample_size_scales_by_one_minus_rho_squared(rho: float, ratio: float):
    # statsmodels solves the power equation with the smaller (CUPED) standard deviation.
    mde, sd = 0.02, 0.4
    solve = NormalIndPower().solve_power
    plain = solve(effect_size=mde / sd, alpha=0.05, power=0.8, ratio=ratio)
    cuped = solve(effect_size=mde / adjusted_sd(sd, 1 - rho**2), alpha=0.05, power=0.8, ratio=ratio)
    plan = cuped_sample_size(plain, correlation=rho)
    assert plan.factor == pytest.approx(1 - rho**2, rel=1e-15)
    assert plan.units * plan.factor == pytest.approx(cuped, rel=1e-6)
    assert plan.adjusted_units == math.ceil(cuped - 1e-6)


def test_t_test_sample_size_agrees_to_a_unit():
    mde, sd, reduction = 0.05, 1.0, 45.0
    solve = TTestIndPower().solve_power
    plain = solve(effect_size=mde / sd, alpha=0.05, power=0.9)
    factor = variance_factor(variance_reduction_pct=reduction)
    exact = solve(effect_size=mde / adjusted_sd(sd, factor), alpha=0.05, power=0.9)
    plan = cuped_sample_size(plain, variance_reduction_pct=reduction)
    assert factor == 0.55
    assert abs(plan.adjusted_units - math.ceil(exact)) <= 1


def test_exact_products_do_not_round_up():
    assert cuped_sample_size(1000, correlation=0.6).adjusted_units == 640
    assert cuped_sample_size(1000, variance_reduction_pct=0.0).adjusted_units == 1000


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"correlation": 0.5, "variance_reduction_pct": 10.0},
        {"correlation": 1.0},
        {"variance_reduction_pct": 100.0},
        {"variance_reduction_pct": -1.0},
    ],
)
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        variance_factor(**kwargs)
