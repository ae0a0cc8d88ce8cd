"""Planning for always-valid inference: the units a confidence sequence needs, and its N*.

A fixed-horizon plan of ``n`` units detects, with power ``1 - beta``, the effect
``delta = hw_z(n) + z_beta se(n)`` (:func:`abtool.stats.inference.detectable.detectable_effect`),
``se(n) = sigma / sqrt(n)``. A confidence sequence is wider at every ``n``, so for the same
``delta`` and power it needs more units; and its width depends on the tuning units ``N*``
where it is tightest (:mod:`abtool.stats.inference.sequential`), best set to the units the
experiment will reach. The sequential plan is therefore a fixed point: the ``n'`` at which the
sequence tuned at ``N* = n'`` detects ``delta`` with the same power. Iterating
``n' <- units_for_effect(delta; N* = n')`` converges in a few steps (the width is flat in
``N*`` near ``n'``: a third or three times ``n'`` costs at most 6% of width).

Both answers are ratios on the scale of ``se(n) = sigma / sqrt(n)``, so they hold for any
metric whose test is a z-test on an estimate with that scaling (normal approximation); the
sample-size command applies the ratio to its exact plan.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from abtool.stats.inference.detectable import detectable_effect, units_for_effect
from abtool.stats.inference.methods import Alternative, ConfidenceSequence, FixedHorizon

_MAX_ITERATIONS = 50


@dataclass(frozen=True)
class SequentialPlan:
    """The units a confidence sequence needs for a fixed-horizon plan's effect and power.

    Attributes:
        fixed_units: the fixed-horizon plan's total units.
        units: total units the sequence needs (``ceil``), the ``N*`` to run it with.
        factor: ``units / fixed_units`` before rounding.
        mde_factor: at ``fixed_units`` (and ``N* = fixed_units``), the sequence's detectable
            effect over the fixed-horizon one.
    """

    fixed_units: float
    units: int
    factor: float
    mde_factor: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def sequential_plan(
    fixed_units: float, alpha: float, power: float, *, two_sided: bool = True
) -> SequentialPlan:
    """The sequential counterpart of a fixed-horizon plan of ``fixed_units`` units.

    Args:
        fixed_units: total units of the fixed-horizon plan (both arms).
        alpha: the plan's (adjusted) level.
        power: the plan's power.
        two_sided: a two-sided plan (else one-sided in the effect's direction).
    """
    if not fixed_units >= 1:
        raise ValueError(f"fixed_units must be >= 1, got {fixed_units}")
    alternative: Alternative = "two-sided" if two_sided else "greater"
    se = 1.0 / math.sqrt(fixed_units)  # per-unit sigma 1: only ratios matter
    delta = detectable_effect(
        se, fixed_units, FixedHorizon(alpha), power=power, alternative=alternative
    )
    units = fixed_units
    for _ in range(_MAX_ITERATIONS):
        method = ConfidenceSequence(alpha, units)
        found = units_for_effect(
            delta, se, fixed_units, method, power=power, alternative=alternative
        )
        if abs(found - units) <= 1e-9 * units:
            units = found
            break
        units = found
    sequence = ConfidenceSequence(alpha, fixed_units)
    mde_factor = (
        detectable_effect(se, fixed_units, sequence, power=power, alternative=alternative) / delta
    )
    return SequentialPlan(
        fixed_units=fixed_units,
        units=math.ceil(units * (1.0 - 1e-12)),
        factor=units / fixed_units,
        mde_factor=mde_factor,
    )
