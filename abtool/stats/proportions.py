"""Two independent proportions: pooled z-test, chi-square test and the Wald CI of the difference.

The counts are of randomization units (e.g. users with at least one click), so the
independence the tests assume holds. The z-test equals ``statsmodels``'
``proportions_ztest`` (pooled variance) and its square the uncorrected Pearson chi-square of
``scipy.stats.chi2_contingency(..., correction=False)``; the CI of the difference uses the
unpooled (Wald) standard error, as ``confint_proportions_2indep(method='wald')``.

References:
    Agresti, A. (2013). Categorical Data Analysis, 3rd ed., sections 2.1 and 3.1. Wiley.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ProportionTest:
    """Two-proportion comparison (treatment minus control)."""

    control_rate: float
    treatment_rate: float
    diff: float
    ci_low: float
    ci_high: float
    z: float
    chi2: float
    pvalue: float


def two_proportions(
    successes_control: int,
    n_control: int,
    successes_treatment: int,
    n_treatment: int,
    alpha: float = 0.05,
) -> ProportionTest:
    """Compare the success rates of two independent groups.

    Args:
        successes_control: units with a success in control.
        n_control: units in control (> 0).
        successes_treatment: units with a success in treatment.
        n_treatment: units in treatment (> 0).
        alpha: 1 - confidence level of the CI.

    Raises:
        ValueError: when a group is empty or has more successes than units.
    """
    # scipy.special's ufuncs are what scipy.stats.norm evaluates (same digits), without the
    # second of import time scipy.stats costs.
    from scipy import special

    if n_control <= 0 or n_treatment <= 0:
        raise ValueError("both groups need at least one unit")
    if not (0 <= successes_control <= n_control and 0 <= successes_treatment <= n_treatment):
        raise ValueError("successes must lie between 0 and the group size")
    p_c = successes_control / n_control
    p_t = successes_treatment / n_treatment
    diff = p_t - p_c
    pooled = (successes_control + successes_treatment) / (n_control + n_treatment)
    se_pooled = float(np.sqrt(pooled * (1 - pooled) * (1 / n_control + 1 / n_treatment)))
    if se_pooled > 0:
        z = diff / se_pooled
        pvalue = float(2.0 * special.ndtr(-abs(z)))
    else:
        z, pvalue = 0.0, 1.0
    se = float(np.sqrt(p_c * (1 - p_c) / n_control + p_t * (1 - p_t) / n_treatment))
    z_crit = float(special.ndtri(1.0 - alpha / 2.0))
    return ProportionTest(
        control_rate=p_c,
        treatment_rate=p_t,
        diff=diff,
        ci_low=diff - z_crit * se,
        ci_high=diff + z_crit * se,
        z=z,
        chi2=z * z,
        pvalue=pvalue,
    )
