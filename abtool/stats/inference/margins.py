"""One-sided tests with a margin: superiority, non-inferiority and harm of one metric.

A metric has a better direction (``increase``: clicks, revenue; ``decrease``: errors,
latency) and an optional margin ``m`` relative to the control mean ``c``: the largest loss
that is still acceptable, ``m * |c|`` in the metric's units. ``baseline`` is ``c`` for an
absolute lift and ``1.0`` for a relative lift (``t / c - 1 >= -m`` is ``t - c >= -m c``),
as in Spotify's confidence library, whose null value is ``-m * mean_control`` for
``increase`` and ``+m * mean_control`` for ``decrease``.

With ``w = -m |baseline|`` for ``increase`` (``+m |baseline|`` for ``decrease``) and the effect
read in the better direction, three one-sided tests answer three questions:

* superiority: H0 effect <= 0 (not better); rejecting it means significantly better;
* non-inferiority: H0 effect <= w (worse than the margin); rejecting it means the candidate
  is shown to lose at most the margin (a guardrail passes);
* harm: H0 effect >= w (not worse than the margin); rejecting it means the candidate is
  significantly worse than control beyond the margin (default margin 0: just worse).

All three use the given method, so with a :class:`ConfidenceSequence` they stay valid when the
CI gate re-runs them on every snapshot, and harm can stop the experiment as soon as it shows.

How alpha is split across metrics (Schultzberg, Ankargren and Frånberg 2024):

* Guardrails: PROMOTE needs *every* guardrail shown non-inferior. That is an
  intersection-union test (Berger 1982): the decision is wrong only if at least one guardrail
  is truly worse than its margin, and then that guardrail's own test must have falsely
  rejected, which happens with probability <= alpha. So each guardrail is tested at the full
  alpha, with no multiplicity correction. The cost is power: all G guardrails must pass, so
  P(all pass) >= 1 - sum(beta_i) and each test must be planned for power 1 - beta / (G + 1)
  (with one success metric) to keep the decision's power at 1 - beta. Spotify's confidence
  implements exactly this (its "spot-1" corrections count only success metrics in the
  Bonferroni factor and set ``adjusted_power = 1 - (1 - power) / (G + 1)``).
* Success metrics: PROMOTE needs *at least one* success metric significantly better, a
  union-intersection test, so with S success metrics each is tested at alpha / S
  (Bonferroni); canary-decide has one primary metric, S = 1.
* Harm: ROLLBACK fires if *any* of the K metrics tested for harm (primary + guardrails) is
  significantly worse, again a union, so a false rollback of a harmless candidate has
  probability <= K * alpha_harm; :func:`harm_alpha` gives alpha / K to keep it at alpha.
  A missed harm is costly too, which is why the test is sequential and may stop early
  rather than why its alpha should be inflated.

References:
    Schultzberg, M., Ankargren, S., Frånberg, M. (2024). Risk-aware product decisions in A/B
    tests with multiple metrics. arXiv:2402.11609.
    Berger, R. L. (1982). Multiparameter hypothesis testing and acceptance sampling.
    Technometrics 24(4), 295-300.
    Spotify confidence: ``spotify_confidence/analysis/frequentist/nims_and_mdes.py`` (signed
    margins) and ``multiple_comparison.py`` (``get_num_comparisons``, ``add_adjusted_power``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from abtool.stats.inference.methods import Alternative, Estimate, InferenceMethod, TestResult

Direction = Literal["increase", "decrease"]
DIRECTIONS: tuple[Direction, ...] = ("increase", "decrease")


def margin_threshold(margin: float, direction: Direction, baseline: float | None) -> float:
    """The effect at the margin, ``-m |baseline|`` (increase) or ``+m |baseline|`` (decrease).

    ``baseline`` may be None only when the margin is 0.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'increase' or 'decrease', got {direction!r}")
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a finite number >= 0, got {margin}")
    if margin == 0:
        return 0.0
    if baseline is None or not math.isfinite(baseline):
        raise ValueError(f"a margin needs a finite baseline (the control mean), got {baseline}")
    size = margin * abs(baseline)
    return -size if direction == "increase" else size


def _better(direction: Direction) -> Alternative:
    return "greater" if direction == "increase" else "less"


def _worse(direction: Direction) -> Alternative:
    return "less" if direction == "increase" else "greater"


def superiority(estimate: Estimate, method: InferenceMethod, direction: Direction) -> TestResult:
    """One-sided test that the candidate is better than control (H0: not better)."""
    return method.test(estimate, _better(direction), 0.0)


def non_inferiority(
    estimate: Estimate,
    method: InferenceMethod,
    direction: Direction,
    *,
    margin: float,
    baseline: float | None,
) -> TestResult:
    """One-sided test that the candidate loses at most ``margin`` (relative to ``baseline``)."""
    threshold = margin_threshold(margin, direction, baseline)
    return method.test(estimate, _better(direction), threshold)


def harm(
    estimate: Estimate,
    method: InferenceMethod,
    direction: Direction,
    *,
    margin: float = 0.0,
    baseline: float | None = None,
) -> TestResult:
    """One-sided test that the candidate is worse than control beyond ``margin``.

    ``reject`` is the ROLLBACK trigger. With the default margin 0 no baseline is needed.
    """
    threshold = margin_threshold(margin, direction, baseline)
    return method.test(estimate, _worse(direction), threshold)


def harm_alpha(alpha: float, metrics: int) -> float:
    """Bonferroni share of alpha for each of ``metrics`` harm tests (any one triggers ROLLBACK)."""
    if metrics < 1:
        raise ValueError(f"metrics must be >= 1, got {metrics}")
    return alpha / metrics


def guardrail_power(power: float, guardrails: int, success_metrics: int = 1) -> float:
    """Power each test must be planned for so that the PROMOTE rule keeps ``power``.

    ``1 - (1 - power) / (G + 1)`` with a success metric, ``1 - (1 - power) / G`` without
    (Schultzberg et al. 2024; Spotify confidence ``add_adjusted_power``).
    """
    if guardrails < 0 or success_metrics < 0:
        raise ValueError("guardrails and success_metrics must be >= 0")
    tests = guardrails + (1 if success_metrics > 0 else 0)
    if tests == 0:
        return power
    return 1.0 - (1.0 - power) / tests


@dataclass(frozen=True)
class MetricTests:
    """Superiority, non-inferiority and harm of one metric, by one method.

    Attributes:
        direction: which way is better.
        margin: non-inferiority / harm margin, relative to the control mean.
        threshold: the margin in the estimate's units (signed, see :func:`margin_threshold`).
        superior: significantly better than control.
        non_inferior: shown to lose at most the margin.
        harmful: significantly worse than control beyond the margin (ROLLBACK trigger).
    """

    direction: Direction
    margin: float
    threshold: float
    superior: TestResult
    non_inferior: TestResult
    harmful: TestResult

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON."""
        return {
            "direction": self.direction,
            "margin": self.margin,
            "threshold": self.threshold,
            "superior": self.superior.to_dict(),
            "non_inferior": self.non_inferior.to_dict(),
            "harmful": self.harmful.to_dict(),
        }


def metric_tests(
    estimate: Estimate,
    method: InferenceMethod,
    direction: Direction,
    *,
    margin: float = 0.0,
    baseline: float | None = None,
    harm_method: InferenceMethod | None = None,
) -> MetricTests:
    """All three one-sided tests of a metric; ``harm_method`` defaults to ``method``.

    Pass ``harm_method=method.with_alpha(harm_alpha(alpha, K))`` to split alpha over the K
    metrics that can trigger ROLLBACK.
    """
    return MetricTests(
        direction=direction,
        margin=margin,
        threshold=margin_threshold(margin, direction, baseline),
        superior=superiority(estimate, method, direction),
        non_inferior=non_inferiority(estimate, method, direction, margin=margin, baseline=baseline),
        harmful=harm(estimate, harm_method or method, direction, margin=margin, baseline=baseline),
    )
