"""A/A simulation: with many correlated requests per unit, only unit-level inference holds alpha."""

from __future__ import annotations

import numpy as np
from statsmodels.stats.proportion import proportions_ztest

from abtool.stats.ratio import ratio_estimate, ratio_lift

RUNS = 400
UNITS = 300  # per variant: few users ...
REQUESTS = 40  # ... with many requests each


def test_unit_level_delta_method_holds_alpha_where_request_level_test_does_not():
    rng = np.random.default_rng(0)
    shape = (RUNS, 2, UNITS)
    # Both variants share one distribution (A/A); each user has their own click propensity
    # (Beta(0.5, 4.5), mean 0.1, intra-user correlation 1/6), so requests are clustered.
    requests = 1 + rng.poisson(REQUESTS - 1, shape)
    clicks = rng.binomial(requests, rng.beta(0.5, 4.5, shape))
    unit_level = np.array(
        [
            ratio_lift(
                ratio_estimate(clicks[r, 0], requests[r, 0]),
                ratio_estimate(clicks[r, 1], requests[r, 1]),
            ).pvalue
            for r in range(RUNS)
        ]
    )
    # The blog-post test: every request an independent Bernoulli trial.
    request_level = np.array(
        [proportions_ztest(clicks[r].sum(axis=1), requests[r].sum(axis=1))[1] for r in range(RUNS)]
    )
    unit_rate = float((unit_level < 0.05).mean())
    request_rate = float((request_level < 0.05).mean())
    assert 0.02 <= unit_rate <= 0.08, unit_rate
    assert request_rate > 0.2, request_rate
    # p-values of a calibrated test are uniform under the null.
    assert 0.4 <= float(np.median(unit_level)) <= 0.6
