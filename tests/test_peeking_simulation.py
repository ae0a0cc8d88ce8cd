"""The daily-look simulation: its delta method, A/A error rates, ROLLBACK speed, power cost."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from abtool.simulate.peeking import (
    Looks,
    PeekingSpec,
    cumulative_rate,
    first_rejection,
    null_rates,
    rule_rates,
    simulate_looks,
    standard_error,
    user_totals,
)
from abtool.stats.inference import ConfidenceSequence, FixedHorizon
from abtool.stats.ratio import ratio_estimate, ratio_lift

ALPHA = 0.05
BASE = PeekingSpec(users=4000, days=14, replicates=2000, seed=11)


def test_vectorised_delta_method_is_ratio_lift() -> None:
    spec = PeekingSpec(users=300, days=5, replicates=3, seed=7, click_lift=0.1)
    looks = simulate_looks(spec)
    # the same draws, kept per user: simulate_looks seeds each chunk with [seed, start]
    totals = user_totals(spec, 3, np.random.default_rng([7, 0]))
    for r in range(3):
        for d in range(5):
            x, y = totals.clicks[r, d], totals.requests[r, d]
            seen, treated = y > 0, totals.treated[r]
            lift = ratio_lift(
                ratio_estimate(x[seen & ~treated], y[seen & ~treated]),
                ratio_estimate(x[seen & treated], y[seen & treated]),
            )
            assert looks.effect[r, d] == pytest.approx(lift.lift_abs, rel=1e-9, abs=1e-15)
            assert looks.se[r, d] == pytest.approx(lift.se, rel=1e-9)
            assert looks.units[r, d] == seen.sum()


def test_simulation_is_seeded() -> None:
    spec = PeekingSpec(users=200, days=3, replicates=30, seed=3)
    a, b = simulate_looks(spec), simulate_looks(spec)
    np.testing.assert_array_equal(a.effect, b.effect)
    assert not np.array_equal(a.effect, simulate_looks(replace(spec, seed=4)).effect)


@pytest.fixture(scope="module")
def aa_looks() -> Looks:
    return simulate_looks(BASE)


@pytest.mark.slow
def test_aa_peeking_fixed_inflates_sequential_holds(aa_looks: Looks) -> None:
    bound = ALPHA + 3 * standard_error(ALPHA, BASE.replicates)
    rates = {r.rule: r for r in null_rates(aa_looks, ALPHA)}
    # the fixed-horizon rule is right at one look and wrong when looked at every day
    assert abs(rates["fixed, two-sided"].at_last_look - ALPHA) <= bound - ALPHA
    assert rates["fixed, two-sided"].at_some_look > 0.15
    # the sequential rules: any look, either side
    for rule in ("two-sided", "'better' one-sided (false PROMOTE)"):
        assert rates[f"sequential, {rule}"].at_some_look <= bound
    assert rates["sequential, 'worse' one-sided (false ROLLBACK)"].at_some_look <= bound


@pytest.mark.slow
def test_delta_method_se_matches_the_spread_of_the_lift(aa_looks: Looks) -> None:
    # Over 2,000 replicates the sd of the day-14 lift estimates equals the typical se
    # (the unit-level delta method accounts for requests of one user being correlated).
    spread = aa_looks.effect[:, -1].std(ddof=1)
    assert float(np.median(aa_looks.se[:, -1])) == pytest.approx(spread, rel=0.05)
    assert abs(aa_looks.effect[:, -1].mean()) < 3 * spread / math.sqrt(BASE.replicates)


@pytest.mark.slow
def test_harm_rolls_back_early() -> None:
    looks = simulate_looks(replace(BASE, click_lift=-0.20, replicates=1000, seed=12))
    by_day = cumulative_rate(first_rejection(looks, ConfidenceSequence(ALPHA), "less"), 14)
    assert np.all(np.diff(by_day) >= 0)
    assert by_day[2] > 0.25  # many rolled back within three days
    assert by_day[-1] > 0.95
    # a fixed-horizon one-sided test run daily would roll back more, but also falsely:
    fixed = cumulative_rate(first_rejection(looks, FixedHorizon(ALPHA), "less"), 14)
    assert np.all(fixed >= by_day)


@pytest.mark.slow
def test_power_cost_of_the_sequence() -> None:
    from scipy.stats import norm

    looks = simulate_looks(replace(BASE, click_lift=0.10, replicates=1000, seed=13))
    fixed = rule_rates(looks, FixedHorizon(ALPHA), "greater", "fixed")
    sequential = rule_rates(looks, ConfidenceSequence(ALPHA), "greater", "sequential")
    # fixed-horizon power at day 14 agrees with the normal approximation at the typical se
    effect, se = looks.effect[:, -1].mean(), float(np.median(looks.se[:, -1]))
    expected = norm.sf(norm.isf(ALPHA) - effect / se)
    assert fixed.at_last_look == pytest.approx(expected, abs=3 * standard_error(expected, 1000))
    assert sequential.at_last_look < fixed.at_last_look
    assert sequential.at_some_look >= sequential.at_last_look
