"""Stop the bandit with a winner, or keep collecting: the k-arm verdict.

``WINNER`` when the *leader* (the arm with the highest P(best)) has

* ``P(best) > p_best`` (default 0.95 with three or more arms, 0.995 with two), and
* expected loss ``< max_loss`` (default 1% of the leader's mean reward; an absolute reward
  amount with ``relative_loss=False``), and
* every arm has at least ``min_pulls`` units (default 100, so that the normal approximation
  behind the estimates holds and a decision is not made on a handful of units);

``CONTINUE`` otherwise. Arms with ``P(best) < drop_below`` (default 0.01) and at least
``min_pulls`` units are listed as ``DROP``: with a correct posterior, at most 1 in 100 dropped
arms is in fact the best, and then by little.

Why these defaults. P(best) > 0.95 and "the value the other arms could still add is below 1%
of the champion's" are the stopping rule of Google Analytics content experiments, a bandit run
at scale (Scott 2015); here both must hold, so a WINNER is both likely best and cheap to be
wrong about. But P(best) is a posterior statement, not an error rate, and the verdict is
checked after every period, each look a chance to stop. The **stated error rate** is the
false-WINNER rate with *equal* arms when the verdict is checked after each of up to 20
periods (Thompson allocation with floors, per-period weighted posteriors), measured by
``python -m abtool.simulate.bandit_power``: **about 5% or less** with the defaults (two
runs of 1000 experiments, 10 and 20 looks: 4 arms 0.5-2.5%, 3 arms 3.6-6.3%, 2 arms at 0.995
3.5-4.3%). With two arms 0.95 would give 33-39%: the leader's P(best) is then just
``Phi(z)`` of one comparison, crossed by chance at one of many looks; hence 0.995 for two
arms. For more looks or another design, ``bandit_power --calibrate ARMS`` prints the
threshold with a 5% false-WINNER rate. The tables are in ``docs/bandit-report.md``.

References:
    Scott, S. L. (2015). Multi-armed bandit experiments in the online service economy. Applied
    Stochastic Models in Business and Industry 31, 37-49.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abtool.stats.bandit import Comparison

TWO_ARM_P_BEST = 0.995
MANY_ARM_P_BEST = 0.95


@dataclass(frozen=True)
class VerdictRule:
    """Thresholds of the verdict (see the module docstring for the defaults' reasons).

    ``p_best=None`` means the default for the number of arms (:meth:`resolved`).
    """

    p_best: float | None = None
    max_loss: float = 0.01
    relative_loss: bool = True
    drop_below: float = 0.01
    min_pulls: int = 100

    def to_dict(self) -> dict[str, float | int | bool | None]:
        return asdict(self)

    def threshold(self, arms: int) -> float:
        """``p_best``, or its default: 0.995 for two arms, 0.95 for more."""
        if self.p_best is not None:
            return self.p_best
        return TWO_ARM_P_BEST if arms == 2 else MANY_ARM_P_BEST

    def resolved(self, arms: int) -> VerdictRule:
        """The rule with ``p_best`` set for ``arms`` arms."""
        return replace(self, p_best=self.threshold(arms))


@dataclass(frozen=True)
class RuleOutcome:
    """Vectorised outcome of :func:`apply_rule`: arrays over experiments ``(...)``."""

    leader: NDArray[np.intp]
    winner: NDArray[np.bool_]
    drop: NDArray[np.bool_]
    loss_ratio: NDArray[np.float64]


def apply_rule(
    p_best: ArrayLike,
    expected_loss: ArrayLike,
    means: ArrayLike,
    pulls: ArrayLike,
    rule: VerdictRule,
) -> RuleOutcome:
    """The rule over arrays shaped ``(..., arms)`` (one row per experiment).

    ``loss_ratio`` is the leader's expected loss over the threshold (``< 1`` passes).
    """
    p = np.asarray(p_best, dtype=np.float64)
    loss = np.asarray(expected_loss, dtype=np.float64)
    m = np.asarray(means, dtype=np.float64)
    n = np.asarray(pulls, dtype=np.float64)
    threshold = rule.threshold(p.shape[-1])
    leader = p.argmax(axis=-1)
    pick = leader[..., None]
    lead_p = np.take_along_axis(p, pick, -1)[..., 0]
    lead_loss = np.take_along_axis(loss, pick, -1)[..., 0]
    scale = np.abs(np.take_along_axis(m, pick, -1)[..., 0]) if rule.relative_loss else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(lead_loss > 0, lead_loss / (rule.max_loss * scale), 0.0)
    enough = np.all(n >= rule.min_pulls, axis=-1)
    winner = (lead_p > threshold) & (ratio < 1.0) & enough
    not_leader = np.arange(p.shape[-1]) != pick
    drop = (p < rule.drop_below) & (n >= rule.min_pulls) & not_leader
    return RuleOutcome(leader, winner, drop, ratio)


@dataclass(frozen=True)
class BanditVerdict:
    """The verdict of one comparison.

    Attributes:
        verdict: ``WINNER`` or ``CONTINUE``.
        winner: the winning arm, or None.
        leader: the arm with the highest P(best).
        leader_p_best: its P(best).
        leader_expected_loss: its expected loss (reward units).
        leader_relative_loss: that loss over the leader's mean (NaN when the mean is 0).
        dropped: arms clearly worse (P(best) below ``rule.drop_below``).
        reasons: why not WINNER (empty for WINNER).
        rule: the thresholds used (``p_best`` resolved for the number of arms).
    """

    verdict: str
    winner: str | None
    leader: str
    leader_p_best: float
    leader_expected_loss: float
    leader_relative_loss: float
    dropped: tuple[str, ...]
    reasons: tuple[str, ...]
    rule: VerdictRule

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["dropped"] = list(self.dropped)
        out["reasons"] = list(self.reasons)
        out["rule"] = self.rule.to_dict()
        return out


def decide(comparison: Comparison, rule: VerdictRule | None = None) -> BanditVerdict:
    """WINNER, CONTINUE and the DROP list for one comparison."""
    arms = comparison.arms
    rule = (VerdictRule() if rule is None else rule).resolved(len(arms))
    outcome = apply_rule(
        [a.p_best for a in arms],
        [a.expected_loss for a in arms],
        [a.mean for a in arms],
        [a.pulls for a in arms],
        rule,
    )
    lead = arms[int(outcome.leader)]
    winner = bool(outcome.winner)
    reasons: list[str] = []
    if not winner:
        threshold = rule.threshold(len(arms))
        if lead.p_best <= threshold:
            reasons.append(f"P(best) of {lead.name} is {lead.p_best:.3f}, not above {threshold:g}")
        if float(outcome.loss_ratio) >= 1.0:
            unit = " of its mean" if rule.relative_loss else ""
            reasons.append(
                f"expected loss of {lead.name} is {lead.expected_loss:.4g}, not below "
                f"{rule.max_loss:g}{unit}"
            )
        few = [a.name for a in arms if a.pulls < rule.min_pulls]
        if few:
            reasons.append(f"fewer than {rule.min_pulls} pulls: {', '.join(few)}")
    relative = lead.expected_loss / abs(lead.mean) if lead.mean != 0 else float("nan")
    return BanditVerdict(
        verdict="WINNER" if winner else "CONTINUE",
        winner=lead.name if winner else None,
        leader=lead.name,
        leader_p_best=lead.p_best,
        leader_expected_loss=lead.expected_loss,
        leader_relative_loss=relative,
        dropped=tuple(a.name for a, d in zip(arms, outcome.drop, strict=True) if d),
        reasons=tuple(reasons),
        rule=rule,
    )
