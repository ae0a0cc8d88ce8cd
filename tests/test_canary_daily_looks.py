"""A gate that re-runs canary-decide every day: null canaries are seldom promoted at any of 14
looks (the sequential default keeps it at about alpha), and a harmful one is rolled back.

Through the library's canary_report on logs held in memory (abtool.simulate.canary_looks),
seeded; about a minute on 2 cores.
"""

from __future__ import annotations

import math

import pytest

from abtool.simulate.canary_looks import LooksSpec, canary_log, run_looks

ALPHA = 0.05


@pytest.mark.slow
def test_a_null_canary_is_promoted_at_most_about_alpha_of_the_time_over_14_looks():
    rates = run_looks(LooksSpec(replicates=200, seed=1))
    bound = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / 200)
    assert rates.promoted <= bound
    assert rates.rolled_back <= bound  # harm has its own alpha, also kept at every look
    assert rates.promoted_by_day == sorted(rates.promoted_by_day)


def test_a_harmful_canary_is_rolled_back_at_a_daily_look():
    rates = run_looks(LooksSpec(replicates=8, users=3000, click_lift=-0.5, seed=2))
    assert rates.rolled_back == 1.0
    assert rates.promoted == 0.0
    assert rates.rolled_back_by_day[0] < 1.0  # it takes some days of data


def test_the_simulated_log_is_seeded():
    import numpy as np

    spec = LooksSpec(users=50)
    first = canary_log(spec, np.random.default_rng(3))
    second = canary_log(spec, np.random.default_rng(3))
    assert first.equals(second)  # type: ignore[attr-defined]
