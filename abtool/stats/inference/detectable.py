"""What a HOLD is waiting for: the effect detectable now, and the units a target effect needs.

An estimate over ``n`` units with standard error ``se`` has per-unit standard deviation
``sigma = se * sqrt(n)``; with more units of the same traffic the standard error shrinks as
``sigma / sqrt(n')``. A one-sided test at level alpha rejects "not better" when the estimate
exceeds the bound's distance ``hw(se, n)`` (:meth:`InferenceMethod.halfwidth`), so it detects a
true effect ``delta`` with probability ``power`` when

    delta >= hw(se(n'), n') + z_power * se(n'),

the usual ``(z_alpha + z_power) * se`` for a fixed horizon and a wider one for a confidence
sequence, whose bound is wider than the z bound at every n. The minimum detectable effect
(MDE) is the right-hand side at the current ``n``; the units needed solve it for ``n'``
(Brent's method; the right-hand side decreases in ``n'``). Days follow from the current
arrival rate of units, assumed constant; the canary's units grow more slowly when users
return, so the answer is a lower bound in days.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from abtool.stats.inference.methods import Alternative, InferenceMethod

_MAX_GROWTH = 1e12


@dataclass(frozen=True)
class DetectionGap:
    """What the primary metric needs before a test can show ``target_effect``.

    Attributes:
        method: name of the inference method.
        alternative: the one-sided test the numbers are for.
        power: planned probability of detecting ``target_effect``.
        units: units so far (both arms).
        mde: effect detectable now with ``power`` (in the estimate's units).
        target_effect: the effect to detect (positive: a distance in the tested direction).
        units_needed: total units at which ``target_effect`` becomes detectable (None if
            not within 1e12 times the current units).
        more_units: ``units_needed - units`` (0 when already enough; None as above).
        more_days: ``more_units / units_per_day``; None without a rate.
    """

    method: str
    alternative: Alternative
    power: float
    units: int
    mde: float
    target_effect: float
    units_needed: int | None
    more_units: int | None
    more_days: float | None

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON."""
        return asdict(self)


def detectable_effect(
    se: float,
    units: float,
    method: InferenceMethod,
    *,
    power: float = 0.8,
    alternative: Alternative = "greater",
) -> float:
    """Smallest true effect (a positive distance) detected with ``power`` at these units."""
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be in (0, 1), got {power}")
    from scipy import special  # not at import time: the package loads without scipy

    hw = float(method.halfwidth(se, units, alternative))
    return hw + float(special.ndtri(power)) * se


def units_for_effect(
    target_effect: float,
    se: float,
    units: float,
    method: InferenceMethod,
    *,
    power: float = 0.8,
    alternative: Alternative = "greater",
) -> float:
    """Total units at which ``target_effect`` is detected with ``power`` (same traffic)."""
    if not target_effect > 0:
        raise ValueError(f"target_effect must be a positive distance, got {target_effect}")
    if not (se > 0 and units >= 1):
        raise ValueError("units_for_effect needs se > 0 and units >= 1")
    from scipy.optimize import brentq  # not at import time: the package loads without scipy

    sigma = se * math.sqrt(units)

    def gap(log_n: float) -> float:
        n = math.exp(log_n)
        return (
            detectable_effect(sigma / math.sqrt(n), n, method, power=power, alternative=alternative)
            - target_effect
        )

    low = math.log(units)
    if gap(low) <= 0:
        return float(units)
    high = low
    while gap(high) > 0:
        high += math.log(4.0)
        if high - low > math.log(_MAX_GROWTH):
            return math.inf
    return math.exp(float(brentq(gap, high - math.log(4.0), high, xtol=1e-9)))


def detection_gap(
    target_effect: float,
    se: float,
    units: int,
    method: InferenceMethod,
    *,
    power: float = 0.8,
    alternative: Alternative = "greater",
    units_per_day: float | None = None,
) -> DetectionGap:
    """The current MDE and how many more units (and days) ``target_effect`` needs.

    Args:
        target_effect: effect to detect, as a positive distance in the tested direction
            (e.g. the ``--mde`` times the control mean for an absolute lift).
        se: current standard error of the estimate.
        units: current units (both arms).
        method: the active inference method (a confidence sequence needs more units).
        power: planned power.
        alternative: ``"greater"`` when an increase is better, ``"less"`` when a decrease is.
        units_per_day: current arrival rate of new units, for ``more_days``.
    """
    needed = units_for_effect(
        target_effect, se, units, method, power=power, alternative=alternative
    )
    needed_int = math.ceil(needed) if math.isfinite(needed) else None
    more = None if needed_int is None else max(0, needed_int - units)
    days = None
    if units_per_day is not None and units_per_day > 0 and more is not None:
        days = more / units_per_day
    return DetectionGap(
        method=method.name,
        alternative=alternative,
        power=power,
        units=units,
        mde=detectable_effect(se, units, method, power=power, alternative=alternative),
        target_effect=target_effect,
        units_needed=needed_int,
        more_units=more,
        more_days=days,
    )
