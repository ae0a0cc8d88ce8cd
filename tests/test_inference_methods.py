"""FixedHorizon and ConfidenceSequence: peers, duality of bounds and p-values, validity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from abtool.stats.inference import (
    ConfidenceSequence,
    Estimate,
    FixedHorizon,
    estimate_from_lift,
    method_named,
)
from abtool.stats.inference.sequential import (
    halfwidth_one_sided,
    halfwidth_two_sided,
    sequential_rho,
    tuning_units_for_plan,
)
from abtool.stats.ratio import ratio_estimate, ratio_lift

ALTERNATIVES = ("two-sided", "greater", "less")
SM_ALTERNATIVE = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("effect", [-0.03, 0.0, 0.012, 0.2])
def test_fixed_horizon_matches_statsmodels(alternative: str, effect: float) -> None:
    from statsmodels.stats.weightstats import _zconfint_generic, _zstat_generic

    est = Estimate(effect, 0.01, 4000)
    result = FixedHorizon(0.05).test(est, alternative, null=0.005)  # type: ignore[arg-type]
    low, high = _zconfint_generic(effect, 0.01, 0.05, SM_ALTERNATIVE[alternative])
    _, p = _zstat_generic(effect, 0.0, 0.01, SM_ALTERNATIVE[alternative], diff=0.005)
    assert result.low == pytest.approx(low, rel=1e-12)
    assert result.high == pytest.approx(high, rel=1e-12)
    assert result.pvalue == pytest.approx(p, rel=1e-12)
    assert result.reject == (p <= 0.05)
    assert result.method == "fixed"


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_sequential_pvalue_is_the_alpha_where_the_bound_meets_the_null(alternative: str) -> None:
    # Duality: at alpha = p the sequence's bound passes through the null, for every side.
    cs = ConfidenceSequence(0.05, tuning_units=8000)
    rho = cs.rho(alternative)  # type: ignore[arg-type]
    rng = np.random.default_rng(1)
    for _ in range(50):
        se = rng.uniform(0.001, 0.05)
        units = int(rng.integers(100, 100_000))
        effect = rng.normal(0.0, 5.0) * se
        p = float(cs.pvalue(effect, se, units, alternative))  # type: ignore[arg-type]
        d = effect if alternative != "less" else -effect
        if alternative == "two-sided":
            d = abs(effect)
        width = halfwidth_two_sided if alternative == "two-sided" else halfwidth_one_sided
        if p >= 1.0:
            # p is capped at 1: even at alpha = 1 the bound does not pass the null
            assert d <= float(width(se, units, 1.0, rho)) * (1 + 1e-12)
        else:
            assert float(width(se, units, p, rho)) == pytest.approx(d, rel=1e-9)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_reject_agrees_with_pvalue(alternative: str) -> None:
    rng = np.random.default_rng(2)
    for method in (FixedHorizon(0.05), ConfidenceSequence(0.05)):
        for _ in range(200):
            est = Estimate(rng.normal(0, 0.05), 0.01, int(rng.integers(50, 50_000)))
            result = method.test(est, alternative)  # type: ignore[arg-type]
            if abs(result.pvalue - 0.05) > 1e-9:
                assert result.reject == (result.pvalue <= 0.05)


def test_sequence_is_wider_than_the_fixed_interval_at_every_n() -> None:
    units = np.unique(np.geomspace(10, 10**7, 200).astype(int))
    for alternative in ALTERNATIVES:
        cs = ConfidenceSequence(0.05).halfwidth(1.0, units, alternative)  # type: ignore[arg-type]
        fixed = FixedHorizon(0.05).halfwidth(1.0, units, alternative)  # type: ignore[arg-type]
        assert np.all(cs > fixed)


def test_rho_minimises_the_width_near_the_tuning_units() -> None:
    # Eq. 161 is an approximate minimiser of the width at n = N*.
    n_star = 5000
    rho_star = sequential_rho(0.05, n_star)
    grid = rho_star * np.geomspace(0.2, 5.0, 401)
    widths = np.array([float(halfwidth_two_sided(1.0, n_star, 0.05, r)) for r in grid])
    best = widths.min()
    assert float(halfwidth_two_sided(1.0, n_star, 0.05, rho_star)) <= best * 1.01


def test_sequence_covers_a_null_random_walk_at_every_look() -> None:
    # Monte Carlo: a mean of iid N(0, 1) observed after every 50 of them, 1,000 looks.
    rng = np.random.default_rng(3)
    cs = ConfidenceSequence(0.05, tuning_units=5000)
    fixed = FixedHorizon(0.05)
    reps, looks, step = 2000, 100, 50
    draws = rng.standard_normal((reps, looks, step)).sum(axis=2).cumsum(axis=1)
    n = step * np.arange(1, looks + 1)
    mean = draws / n
    se = 1.0 / np.sqrt(n)
    ever_cs = (cs.pvalue(mean, se, n) <= 0.05).any(axis=1).mean()
    ever_fixed = (fixed.pvalue(mean, se, n) <= 0.05).any(axis=1).mean()
    assert ever_cs <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps)
    assert ever_fixed > 0.25  # 100 looks at a fixed-horizon test


def test_estimate_from_lift_uses_both_arms_and_the_delta_method() -> None:
    rng = np.random.default_rng(4)
    reqs_c, reqs_t = rng.integers(1, 9, 800), rng.integers(1, 9, 900)
    clicks_c, clicks_t = rng.binomial(reqs_c, 0.1), rng.binomial(reqs_t, 0.12)
    lift = ratio_lift(ratio_estimate(clicks_c, reqs_c), ratio_estimate(clicks_t, reqs_t))
    absolute = estimate_from_lift(lift)
    relative = estimate_from_lift(lift, relative=True)
    assert absolute.units == relative.units == 1700
    assert (absolute.effect, absolute.se) == (lift.lift_abs, lift.se)
    assert relative.effect == lift.lift_rel
    # ratio_lift's relative interval is lift_rel +- z * (the same se)
    z = (lift.rel_ci_high - lift.rel_ci_low) / (2 * relative.se)
    from scipy.stats import norm

    assert z == pytest.approx(norm.ppf(0.975), rel=1e-12)


def test_zero_variance_is_not_tested() -> None:
    for method in (FixedHorizon(), ConfidenceSequence()):
        result = method.test(Estimate(0.3, 0.0, 10))
        assert not result.reject
        assert result.pvalue == 1.0
        assert result.to_dict()["low"] is None


def test_results_name_their_method_and_serialise() -> None:
    est = Estimate(0.02, 0.01, 3000)
    seq = method_named("sequential", 0.05, 3000).test(est, "greater")
    fixed = method_named("fixed").test(est, "greater")
    assert seq.method == "sequential" and "N*=3000" in seq.method_label
    assert fixed.method == "fixed"
    data = seq.to_dict()
    assert data["high"] is None and data["method"] == "sequential"
    with pytest.raises(ValueError, match="inference must be"):
        method_named("bayes")


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="se must be"):
        Estimate(0.1, -1.0, 10)
    with pytest.raises(ValueError, match="units"):
        Estimate(0.1, 0.1, 0)
    with pytest.raises(ValueError, match="alpha"):
        ConfidenceSequence(1.5)
    with pytest.raises(ValueError, match="alpha"):
        ConfidenceSequence(0.6).test(Estimate(0.1, 0.1, 10), "greater")
    with pytest.raises(ValueError, match="tuning_units"):
        ConfidenceSequence(0.05, 0)
    with pytest.raises(ValueError, match="alternative"):
        FixedHorizon().test(Estimate(0.1, 0.1, 10), "both")  # type: ignore[arg-type]


def test_tuning_units_for_plan() -> None:
    assert tuning_units_for_plan(12_345.4) == 12_345
    assert tuning_units_for_plan(1) == 1
    with pytest.raises(ValueError):
        tuning_units_for_plan(0)


def test_importing_the_package_does_not_import_scipy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, abtool.stats.inference, abtool.stats.inference.margins, "
        "abtool.stats.inference.detectable, abtool.stats.inference.novelty, "
        "abtool.stats.inference.preference; print('scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_tuning_is_forgiving_as_documented() -> None:
    # tuning_units_for_plan's docstring: N* within a factor of 3 costs at most 6% width.
    for alternative in ("two-sided", "greater"):
        best = ConfidenceSequence(0.05, 5000).halfwidth(1.0, 5000, alternative)  # type: ignore[arg-type]
        for factor in (1 / 3, 1 / 2, 2, 3):
            other = ConfidenceSequence(0.05, 5000 * factor).halfwidth(1.0, 5000, alternative)  # type: ignore[arg-type]
            assert 1.0 < float(other / best) <= 1.06
