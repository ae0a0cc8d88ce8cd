"""sample-size's companions: the always-valid plan with its N*, and the CUPED plan."""

from __future__ import annotations

import math

import pytest
from scipy import stats
from statsmodels.stats.power import TTestIndPower

import abtool


def sequential_factor(alpha: float, power: float) -> float:
    """Two-sided: ((k + z_power) / (z_alpha/2 + z_power))^2 with k the CS half-width / se at
    N* = n (Waudby-Smith et al. 2023, eqs. 9 and 161)."""
    c = -2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha))
    k = math.sqrt(2 * (c + 1) / c * math.log(math.sqrt(c + 1) / alpha))
    z_a, z_b = stats.norm.isf(alpha / 2), stats.norm.ppf(power)
    return ((k + z_b) / (z_a + z_b)) ** 2


def test_tuning_units_fit_the_plan(run_cli):
    result = run_cli("sample-size", "--baseline", "0.12", "--mde", "0.01", "-f", "json")
    s = result.json()["stats"]
    expected = math.ceil(s["n_total"] * sequential_factor(0.05, 0.8))
    assert s["tuning_units"] == expected == s["sequential"]["n_total"]
    text = run_cli("sample-size", "--baseline", "0.12", "--mde", "0.01").stdout
    assert "--tuning-units (N*)" in text and f"{expected:,}" in text
    # Given n: the plan's units are N*, and the sequence's MDE is larger.
    given = run_cli("sample-size", "--baseline", "0.12", "--n-total", "40000", "-f", "json")
    g = given.json()["stats"]
    assert g["tuning_units"] == 40_000
    assert g["sequential"]["mde_abs"] == pytest.approx(
        g["mde_abs"] * math.sqrt(sequential_factor(0.05, 0.8)), rel=1e-6
    )


def test_cuped_shrinks_each_group_by_the_variance_factor(run_cli):
    base = ["sample-size", "--baseline", "40", "--sd", "30", "--mde", "1", "-f", "json"]
    plain = run_cli(*base).json()["stats"]
    reduced = run_cli(*base, "--variance-reduction", "36").json()["stats"]
    by_rho = run_cli(*base, "--covariate-correlation", "0.6").json()["stats"]
    cuped = reduced["cuped"]
    assert cuped["variance_factor"] == pytest.approx(0.64)
    assert cuped["n_per_group"] == math.ceil(plain["n_per_group"] * 0.64 - 1e-9)
    assert by_rho["cuped"]["n_total"] == cuped["n_total"]
    # Against the t-test solved with the adjusted standard deviation, within a unit.
    exact = TTestIndPower().solve_power(1 / (30 * math.sqrt(0.64)), alpha=0.05, power=0.8)
    assert abs(cuped["n_per_group"] - math.ceil(exact)) <= 1
    # N* fits the adjusted plan: the sequential total of the CUPED sample.
    assert reduced["tuning_units"] == math.ceil(cuped["n_total"] * sequential_factor(0.05, 0.8))
    mde = run_cli(
        "sample-size", "--baseline", "40", "--sd", "30", "--n", "5000",
        "--variance-reduction", "36", "-f", "json",
    ).json()["stats"]  # fmt: skip
    assert mde["cuped"]["mde_abs"] == pytest.approx(mde["mde_abs"] * 0.8, rel=1e-12)
    power = abtool.sample_size_report(
        baseline=40.0, sd=30.0, mde=1.0, n=5000, variance_reduction=36.0
    ).stats
    assert power.cuped.power == pytest.approx(
        TTestIndPower().power(1 / (30 * 0.8), nobs1=5000, alpha=0.05), rel=1e-9
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--variance-reduction", "30", "--covariate-correlation", "0.5"], "not both"),
        (["--variance-reduction", "120"], "--variance-reduction"),
        (["--covariate-correlation", "1.0"], "--covariate-correlation"),
    ],
)
def test_cuped_options_are_checked(run_cli, args, fragment):
    result = run_cli("sample-size", "--baseline", "0.12", "--mde", "0.01", *args)
    assert result.exit_code == 2 and fragment in result.stderr


def test_interleaving_has_no_cuped(run_cli):
    result = run_cli(
        "sample-size", "--kind", "interleaving", "--win-rate", "0.55", "--variance-reduction", "10"
    )
    assert result.exit_code == 2 and "interleaving" in result.stderr
