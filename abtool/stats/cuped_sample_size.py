"""Planning with CUPED: the smaller sample a variance reduction buys.

CUPED with a covariate whose correlation with the metric is ``rho`` leaves the fraction
``1 - rho**2`` of the metric's variance (Deng et al. 2013, section 3.1). The z-test's sample
size is proportional to the variance, so the same minimum detectable effect at the same power
needs ``n * (1 - rho**2)`` units. A variance reduction measured on an earlier experiment (the
``variance_reduction_pct`` of :class:`abtool.stats.cuped.CupedResult`) gives the factor
``1 - reduction / 100`` directly.

For the t-test the proportionality is not exact (the degrees of freedom shrink with n); the
exact answer is to solve the power equation with the standard deviation scaled by
``sqrt(factor)``, which :func:`adjusted_sd` gives. At experiment sizes the two agree to a unit.

References:
    Deng, A., Xu, Y., Kohavi, R., Walker, T. (2013). Improving the Sensitivity of Online
    Controlled Experiments by Utilizing Pre-Experiment Data. WSDM 2013, 123-132.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class CupedSampleSize:
    """Units needed without and with CUPED for the same effect, alpha and power.

    Attributes:
        units: units needed without adjustment.
        adjusted_units: ``ceil(units * factor)``.
        factor: the variance multiplier ``1 - rho**2`` (or ``1 - reduction / 100``).
    """

    units: float
    adjusted_units: int
    factor: float

    def to_dict(self) -> dict[str, float | int]:
        return {"units": self.units, "adjusted_units": self.adjusted_units, "factor": self.factor}


def variance_factor(
    *, correlation: float | None = None, variance_reduction_pct: float | None = None
) -> float:
    """The fraction of variance CUPED leaves: ``1 - rho**2`` or ``1 - reduction / 100``.

    Give exactly one of the two.

    Raises:
        ValueError: neither or both given, ``|rho| >= 1``, or a reduction outside [0, 100).
    """
    if (correlation is None) == (variance_reduction_pct is None):
        raise ValueError("give exactly one of correlation and variance_reduction_pct")
    if correlation is not None:
        if not -1.0 < correlation < 1.0:
            raise ValueError(
                f"the correlation must lie strictly between -1 and 1, got {correlation}"
            )
        return 1.0 - correlation**2
    assert variance_reduction_pct is not None
    if not 0.0 <= variance_reduction_pct < 100.0:
        raise ValueError(
            f"the variance reduction must lie in [0, 100) percent, got {variance_reduction_pct}"
        )
    return 1.0 - variance_reduction_pct / 100.0


def adjusted_sd(sd: float, factor: float) -> float:
    """The metric's standard deviation after CUPED: ``sd * sqrt(factor)``."""
    return sd * math.sqrt(factor)


def cuped_sample_size(
    units: float, *, correlation: float | None = None, variance_reduction_pct: float | None = None
) -> CupedSampleSize:
    """The sample an unadjusted plan of ``units`` shrinks to with CUPED (z-test, exact).

    Args:
        units: units (per group or in total: the factor applies to either) without CUPED.
        correlation: correlation between the covariate and the metric, per unit.
        variance_reduction_pct: or the variance reduction expected, in percent.
    """
    factor = variance_factor(correlation=correlation, variance_reduction_pct=variance_reduction_pct)
    # The tiny tolerance keeps an exact product (e.g. 1000 * 0.64) from rounding up a unit.
    adjusted = math.ceil(units * factor * (1.0 - 1e-12))
    return CupedSampleSize(units=units, adjusted_units=adjusted, factor=factor)
