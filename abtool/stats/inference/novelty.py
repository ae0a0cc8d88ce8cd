"""Novelty and primacy: does the lift of the first days differ from the lift of the rest?

Users react to a change itself: a new ranking gets extra clicks while it is new (novelty) or
fewer while users unlearn the old one (primacy). Either way the first days' lift is not the
lift the model will have, and a canary decided on them is decided on the wrong number; that
is why an experiment should run one to two full weeks (it also covers the weekly cycle).

The check, given per-day estimates ``(effect_d, se_d)`` computed on each day's own traffic:

* each day gets its interval from the given method;
* the first ``early_days`` days and the remaining days are each pooled by the
  inverse-variance weighted mean (the fixed-effect meta-analytic mean, Borenstein et al.
  2009, ch. 11): ``m = sum(w_d e_d) / sum(w_d)``, ``w_d = 1 / se_d^2``, ``Var(m) = 1 / sum(w_d)``;
* the difference ``m_early - m_late`` with ``se = sqrt(Var_early + Var_late)`` is tested
  two-sided against 0 by the same method, whose ``units`` is the sum of the days' units.

A user active on several days appears in several daily estimates, and with a persistent
per-user propensity those estimates are positively correlated; the true variance of the
difference is then smaller than the sum used here, so the test is conservative. A rejection
is a warning (run longer, read the later days), not a verdict.

References:
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., Rothstein, H. R. (2009). Introduction
    to Meta-Analysis, ch. 11 (fixed-effect model).
    Kohavi, R., Tang, D., Xu, Y. (2020). Trustworthy Online Controlled Experiments, ch. 23
    (novelty and primacy effects).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from abtool.stats.inference.methods import Estimate, InferenceMethod, TestResult

DEFAULT_EARLY_DAYS = 2


@dataclass(frozen=True)
class PooledEffect:
    """Inverse-variance weighted mean of several estimates."""

    effect: float
    se: float
    units: int
    days: int


@dataclass(frozen=True)
class NoveltyCheck:
    """Per-day intervals and the early-versus-late test.

    Attributes:
        daily: one two-sided test per day, in input order.
        early_days: how many leading days form the early group.
        early: pooled early effect; None with too few days.
        late: pooled late effect; None with too few days.
        difference: test of ``early - late == 0``; None with fewer than
            ``early_days + 1`` usable days.
        warning: the early lift differs significantly from the later lift.
    """

    daily: tuple[TestResult, ...]
    early_days: int
    early: PooledEffect | None
    late: PooledEffect | None
    difference: TestResult | None
    warning: bool

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON."""

        def pooled(p: PooledEffect | None) -> dict[str, object] | None:
            if p is None:
                return None
            return {"effect": p.effect, "se": p.se, "units": p.units, "days": p.days}

        return {
            "daily": [d.to_dict() for d in self.daily],
            "early_days": self.early_days,
            "early": pooled(self.early),
            "late": pooled(self.late),
            "difference": None if self.difference is None else self.difference.to_dict(),
            "warning": self.warning,
        }


def pooled_effect(estimates: Sequence[Estimate]) -> PooledEffect:
    """Inverse-variance weighted mean and its se; estimates with se 0 are not allowed."""
    if not estimates:
        raise ValueError("pooling needs at least one estimate")
    if any(e.se <= 0 for e in estimates):
        raise ValueError("pooling needs every se > 0")
    weights = [1.0 / e.se**2 for e in estimates]
    total = math.fsum(weights)
    effect = math.fsum(w * e.effect for w, e in zip(weights, estimates, strict=True)) / total
    return PooledEffect(
        effect=effect,
        se=math.sqrt(1.0 / total),
        units=sum(e.units for e in estimates),
        days=len(estimates),
    )


def novelty_check(
    daily: Sequence[Estimate],
    method: InferenceMethod,
    *,
    early_days: int = DEFAULT_EARLY_DAYS,
) -> NoveltyCheck:
    """Per-day intervals and a test of the first ``early_days`` days against the rest.

    Days whose se is 0 (no variation yet) get an interval but are left out of the pooling.
    """
    if early_days < 1:
        raise ValueError(f"early_days must be >= 1, got {early_days}")
    tests = tuple(method.test(e, "two-sided") for e in daily)
    early = [e for e in daily[:early_days] if e.se > 0]
    late = [e for e in daily[early_days:] if e.se > 0]
    if not early or not late:
        return NoveltyCheck(tests, early_days, None, None, None, False)
    p_early, p_late = pooled_effect(early), pooled_effect(late)
    difference = Estimate(
        effect=p_early.effect - p_late.effect,
        se=math.hypot(p_early.se, p_late.se),
        units=p_early.units + p_late.units,
    )
    result = method.test(difference, "two-sided")
    return NoveltyCheck(tests, early_days, p_early, p_late, result, result.reject)
