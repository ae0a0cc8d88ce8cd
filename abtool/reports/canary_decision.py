"""canary-decide's risk-aware decision on metrics: harm, the primary metric, the guardrails.

Each metric's estimate gets three one-sided tests by the active method
(:func:`abtool.stats.inference.margins.metric_tests`), and the decision reads them with alpha
split by the role each plays (Schultzberg, Ankargren and Frånberg 2024):

* **harm** (ROLLBACK): *any* of the K metrics (the primary and each guardrail) significantly
  worse than control beyond its margin rolls back, so each is tested at ``harm / K``
  (Bonferroni) and a harmless candidate is rolled back with probability at most ``harm``.
  It is checked whatever the sample size: stopping for harm early is the point, and a
  confidence sequence stays valid at every look.
* **primary_metric** (HOLD): significantly better at ``primary_metric`` (one-sided), or with
  ``--allow-neutral`` shown non-inferior within ``--nim``.
* **guardrails** (HOLD): *every* guardrail shown non-inferior within its margin, each at the
  full ``guardrails`` level (an intersection-union test needs no correction; Berger 1982).

A HOLD on the primary metric says what is missing: the effect detectable now, and the units
(and days at the current rate) the target effect needs (:mod:`.detectable`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from abtool.commands.canary import SPEC, CanaryThresholds
from abtool.commands.guardrails import Guardrail
from abtool.reports.canary_checks import signed_percent
from abtool.reports.result import Check
from abtool.results.canary import MetricStats
from abtool.stats.inference import Estimate, InferenceMethod, TestResult
from abtool.stats.inference.detectable import DetectionGap, detection_gap
from abtool.stats.inference.margins import harm_alpha, metric_tests

POWER = 0.8


@dataclass(frozen=True)
class Tested:
    """A metric, the estimate its decision reads, and its role in the decision."""

    stats: MetricStats
    estimate: Estimate | None
    direction: str = "increase"
    margin: float = 0.0


def harm_metrics(primary: Tested | None, guardrails: Sequence[Tested]) -> int:
    """K: the metrics that can trigger ROLLBACK."""
    return (primary is not None) + len(guardrails)


def with_tests(item: Tested, method: InferenceMethod, harm_method: InferenceMethod) -> MetricStats:
    """The metric's record with its superiority / non-inferiority / harm tests (if tested)."""
    baseline = item.stats.lift.control_mean
    if item.estimate is None or (item.margin > 0 and baseline is None):
        return item.stats
    tests = metric_tests(
        item.estimate,
        method,
        item.direction,  # type: ignore[arg-type]
        margin=item.margin,
        baseline=baseline,
        harm_method=harm_method,
    )
    margin = abs(tests.threshold) if item.margin > 0 else None
    return dataclasses.replace(item.stats, tests=tests, margin=margin)


def tested_guardrail(guardrail: Guardrail, stats: MetricStats, estimate: Estimate | None) -> Tested:
    return Tested(stats, estimate, guardrail.direction, guardrail.margin)


def _bound(test: TestResult) -> str:
    value = test.low if test.alternative == "greater" else test.high
    side = "lower" if test.alternative == "greater" else "upper"
    return f"one-sided {100 * (1 - test.alpha):g}% {side} bound {value:+.4g}"


def _side(test: TestResult) -> str:
    """How the bound must compare with the tested value to reject."""
    return ">" if test.alternative == "greater" else "<"


def _value(threshold: float) -> str:
    return "0" if threshold == 0 else f"{threshold:+.4g}"


def _lift(metric: MetricStats) -> str:
    lift = metric.lift
    return f"lift {lift.lift_abs:+.4g} ({signed_percent(lift.lift_rel)})"


def harm_check(metrics: Sequence[MetricStats], limits: CanaryThresholds, k: int) -> Check:
    """ROLLBACK when a metric is significantly worse than control beyond its margin."""
    tests = [(m, m.tests) for m in metrics if m.tests is not None]
    if not tests:
        return SPEC.make_check("harm", None, None, limits.harm, "skipped: no metric tested")
    harmful = [(m, t) for m, t in tests if t.harmful.reject]
    each = harm_alpha(limits.harm, max(k, 1))
    smallest = min(t.harmful.pvalue for _, t in tests)
    if not harmful:
        return SPEC.make_check(
            "harm",
            True,
            smallest,
            limits.harm,
            f"no metric significantly worse than control (smallest harm p = {smallest:.3g}; "
            f"rollback below {each:.3g} each, {limits.harm:g} over {k} metric(s))",
        )
    parts = [
        f"{m.name} significantly worse than control"
        + (f" beyond its {t.margin:g} margin" if t.margin else "")
        + f": {_lift(m)}, {_bound(t.harmful)} {_side(t.harmful)} {_value(t.threshold)}, "
        f"p = {t.harmful.pvalue:.3g}"
        for m, t in harmful
    ]
    return SPEC.make_check(
        "harm",
        False,
        smallest,
        limits.harm,
        "; ".join(parts) + f" (rollback below {each:.3g} each, {limits.harm:g} over {k})",
    )


def primary_check(
    metric: MetricStats | None, limits: CanaryThresholds, allow_neutral: bool
) -> Check:
    """HOLD until the primary metric is significantly better (or non-inferior if allowed)."""
    alpha = limits.primary_metric
    # Without a tested primary metric nothing shows the candidate is better: that holds,
    # unless --allow-neutral promotes on guardrails alone.
    required = not allow_neutral
    if metric is None:
        return SPEC.make_check(
            "primary_metric", None, None, alpha, "skipped: no --metric given", required=required
        )
    tests = metric.tests
    if tests is None:
        return SPEC.make_check(
            "primary_metric",
            None,
            None,
            alpha,
            f"skipped: '{metric.name}' could not be tested",
            required=required,
        )
    lift = metric.lift
    kind = "CS" if tests.superior.method == "sequential" else "CI"  # a confidence sequence
    level = f"{100 * (1 - alpha):g}%"
    shown = f"{_lift(metric)}, {level} {kind} [{lift.ci_low:+.4g}, {lift.ci_high:+.4g}]"
    test = tests.non_inferior if allow_neutral else tests.superior
    if tests.superior.reject:
        verdict = "significantly better"
        test = tests.superior
    elif tests.harmful.reject:
        verdict = "significantly worse"
    elif allow_neutral:
        within = "non-inferior" if tests.non_inferior.reject else "not yet shown non-inferior"
        verdict = f"{within} within {tests.margin:.2%} of control"
    else:
        verdict = "not significantly better"
    passed = tests.superior.reject or (allow_neutral and tests.non_inferior.reject)
    return SPEC.make_check(
        "primary_metric",
        passed,
        test.pvalue,
        alpha,
        f"{metric.name} {verdict}: {shown}; {_bound(test)}, p = {test.pvalue:.3g}",
    )


def guardrails_check(guardrails: Sequence[MetricStats], limits: CanaryThresholds) -> Check:
    """HOLD until every guardrail is shown non-inferior within its margin."""
    alpha = limits.guardrails
    if not guardrails:
        return SPEC.make_check("guardrails", None, None, alpha, "skipped: no --guardrail given")
    missing = []
    largest = 0.0
    for g in guardrails:
        tests = g.tests
        if tests is None:
            missing.append(f"{g.name} could not be tested")
            largest = 1.0
            continue
        largest = max(largest, tests.non_inferior.pvalue)
        if not tests.non_inferior.reject:
            missing.append(
                f"{g.name} not yet shown non-inferior ({tests.direction} is better, margin "
                f"{tests.margin:.2%}): {_lift(g)}, {_bound(tests.non_inferior)} not "
                f"{_side(tests.non_inferior)} {_value(tests.threshold)}"
            )
    if missing:
        return SPEC.make_check("guardrails", False, largest, alpha, "; ".join(missing))
    names = ", ".join(g.name for g in guardrails)
    return SPEC.make_check(
        "guardrails",
        True,
        largest,
        alpha,
        f"every guardrail shown non-inferior within its margin ({names}; largest p = "
        f"{largest:.3g})",
    )


def gap(
    metric: MetricStats,
    estimate: Estimate | None,
    method: InferenceMethod,
    *,
    allow_neutral: bool,
    mde_rel: float | None,
    units_per_day: float | None,
) -> DetectionGap | None:
    """What the primary metric's test still needs: the MDE now, and units for the target.

    The target is ``--mde-rel`` times the control mean, else the observed lift; with
    ``--allow-neutral`` it is measured from the non-inferiority margin. None when there is
    no positive target (nothing the test could show) or no spread to scale.
    """
    control = metric.lift.control_mean
    tests = metric.tests
    if estimate is None or tests is None or control is None or estimate.se <= 0:
        return None
    assumed = mde_rel * abs(control) if mde_rel is not None else max(estimate.effect, 0.0)
    target = assumed - tests.threshold if allow_neutral else assumed
    if not target > 0:
        return None
    return detection_gap(
        target, estimate.se, estimate.units, method, power=POWER, units_per_day=units_per_day
    )


def gap_reason(metric: MetricStats, allow_neutral: bool, mde_rel: float | None) -> str | None:
    """One sentence: the effect detectable now and what the target needs."""
    found = metric.gap
    control = metric.lift.control_mean
    if found is None or not control:
        return None
    what = "non-inferior" if allow_neutral else "better"
    mde = f"{found.mde:+.4g} ({found.mde / abs(control):+.2%})"
    target = "the planned" if mde_rel is not None else "the observed"
    above = " above the margin" if allow_neutral else ""
    text = f"{metric.name}: detectable now ({POWER:.0%} power): a lift of {mde}{above}; "
    if found.units_needed is None:
        return text + f"{target} lift is out of reach at this traffic"
    if found.more_units == 0:
        return text + f"{target} lift should show as {what} at the next looks"
    days = f", about {found.more_days:.1f} more days at the current rate" if found.more_days else ""
    return (
        text + f"to show {target} lift {what} it needs about {found.units_needed:,} units in "
        f"all ({found.more_units:,} more{days})"
    )
