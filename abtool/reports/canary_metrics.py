"""canary-decide's metric analysis: lift with CIs at the randomization unit, per metric and segment.

Every comparison uses the delta method on per-unit sums (see :mod:`abtool.stats.ratio`);
proportions add a unit-level two-proportion test, continuous metrics Welch's t and the
Mann-Whitney U test on per-unit means, and families of tests get Holm-adjusted p-values.
"""

from __future__ import annotations

from typing import Any

from abtool.errors import UsageError
from abtool.logs.canary import CanaryData, MetricData, UnitSums
from abtool.stats.bootstrap import bootstrap_ratio_lift
from abtool.stats.means import mann_whitney, welch_t
from abtool.stats.multiple import holm
from abtool.stats.proportions import two_proportions
from abtool.stats.ratio import Lift, ratio_estimate, ratio_lift

LIFT_KEYS = (
    "control_mean",
    "treatment_mean",
    "lift_abs",
    "lift_rel",
    "ci_low",
    "ci_high",
    "rel_ci_low",
    "rel_ci_high",
    "z",
    "se",
    "pvalue",
)
DELTA_METHOD = "delta method, ratio of per-unit sums (Deng et al. 2018)"


def metric_kind(metric: MetricData, requested: str, source: str) -> str:
    """``proportion`` or ``continuous`` for a metric, from ``--metric-type`` and its values.

    Raises:
        UsageError: ``proportion`` was requested for a column with values other than 0/1.
    """
    if requested == "proportion" and not metric.binary:
        raise UsageError(
            f"{source}: --metric-type proportion but column '{metric.name}' holds values "
            "other than 0 and 1"
        )
    if requested == "auto":
        return "proportion" if metric.binary else "continuous"
    return requested


def _lift_fields(lift: Lift) -> dict[str, Any]:
    values = (
        lift.control.ratio,
        lift.treatment.ratio,
        lift.lift_abs,
        lift.lift_rel,
        lift.ci_low,
        lift.ci_high,
        lift.rel_ci_low,
        lift.rel_ci_high,
        lift.z,
        lift.se,
        lift.pvalue,
    )
    return dict(zip(LIFT_KEYS, values, strict=True))


def _lift(control: UnitSums, treatment: UnitSums, alpha: float) -> Lift | None:
    if control.units < 2 or treatment.units < 2:
        return None
    return ratio_lift(
        ratio_estimate(control.x, control.y), ratio_estimate(treatment.x, treatment.y), alpha
    )


def metric_stats(
    metric: MetricData,
    kind: str,
    alpha: float,
    warnings: list[str],
    *,
    bootstrap: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """The JSON entry of one metric: delta-method lift and CIs plus the unit-level tests.

    Args:
        metric: per-unit sums of the metric in each variant.
        kind: ``proportion`` or ``continuous``.
        alpha: significance level; CIs are ``1 - alpha``.
        warnings: receives a message when the metric cannot be tested.
        bootstrap: replicates of the percentile bootstrap CI (0: none).
        seed: seed of the bootstrap.
    """
    c, t = metric.control, metric.treatment
    result: dict[str, Any] = {
        "name": metric.name,
        "type": kind,
        "method": DELTA_METHOD,
        "alpha": alpha,
        "units": {"control": c.units, "treatment": t.units},
        "rows": {"control": int(c.y.sum()), "treatment": int(t.y.sum())},
        "missing_rows": metric.missing_rows,
    }
    lift = _lift(c, t, alpha)
    if lift is None:
        warnings.append(
            f"metric '{metric.name}': fewer than 2 units with a value in a variant; not tested"
        )
        return {**result, **dict.fromkeys(LIFT_KEYS)}
    result.update(_lift_fields(lift))
    if c.y.max() <= 1 and t.y.max() <= 1:
        result["method"] = "unit-level z-test (one row per unit; delta method reduces to it)"
    if kind == "proportion":
        test = two_proportions(int((c.x > 0).sum()), c.units, int((t.x > 0).sum()), t.units, alpha)
        result["unit_test"] = {
            "value": f"share of units with {metric.name} > 0",
            "method": "two-proportion z-test (pooled) = Pearson chi-square, per unit",
            "control_rate": test.control_rate,
            "treatment_rate": test.treatment_rate,
            "diff": test.diff,
            "ci_low": test.ci_low,
            "ci_high": test.ci_high,
            "z": test.z,
            "chi2": test.chi2,
            "pvalue": test.pvalue,
        }
    else:
        per_unit_c, per_unit_t = c.x / c.y, t.x / t.y
        welch = welch_t(per_unit_c, per_unit_t, alpha)
        mwu = mann_whitney(per_unit_c, per_unit_t)
        result["unit_test"] = {
            "value": f"per-unit mean of {metric.name}",
            "welch": {
                "diff": welch.diff,
                "ci_low": welch.ci_low,
                "ci_high": welch.ci_high,
                "t": welch.t,
                "df": welch.df,
                "pvalue": welch.pvalue,
            },
            "mann_whitney": {
                "u": mwu.u,
                "pvalue": mwu.pvalue,
                "prob_superiority": mwu.prob_superiority,
            },
        }
    if bootstrap:
        boot = bootstrap_ratio_lift(
            c.x, c.y, t.x, t.y, replicates=bootstrap, seed=seed, alpha=alpha
        )
        result["bootstrap"] = {
            "replicates": boot.replicates,
            "seed": boot.seed,
            "ci_low": boot.ci_low,
            "ci_high": boot.ci_high,
            "rel_ci_low": boot.rel_ci_low,
            "rel_ci_high": boot.rel_ci_high,
        }
    return result


def with_holm(results: list[dict[str, Any]], alpha: float) -> list[dict[str, Any]]:
    """Add Holm-adjusted p-values over the tested entries; untested ones get None."""
    tested = [r for r in results if r.get("pvalue") is not None]
    for entry, adjusted in zip(tested, holm([r["pvalue"] for r in tested]), strict=True):
        entry["pvalue_holm"] = adjusted
        entry["significant"] = adjusted <= alpha
    for entry in results:
        entry.setdefault("pvalue_holm", None)
        entry.setdefault("significant", None)
    return results


def segment_stats(data: CanaryData, alpha: float) -> dict[str, list[dict[str, Any]]]:
    """Primary-metric lift per segment value, Holm-adjusted over every segment test.

    An entry is a ``regression`` when its adjusted p-value is at most ``alpha`` and the
    lift is negative.
    """
    by_column: dict[str, list[dict[str, Any]]] = {}
    family: list[dict[str, Any]] = []
    for column, values in data.segments.items():
        entries = []
        for segment in values:
            entry: dict[str, Any] = {
                "value": segment.value,
                "rows": segment.rows,
                "units_control": segment.control.units,
                "units_treatment": segment.treatment.units,
            }
            lift = _lift(segment.control, segment.treatment, alpha)
            fields = _lift_fields(lift) if lift else dict.fromkeys(LIFT_KEYS)
            entry.update(fields)
            entries.append(entry)
        family += entries
        by_column[column] = entries
    with_holm(family, alpha)
    for entry in family:
        entry["regression"] = bool(entry["significant"]) and entry["lift_abs"] < 0
    return by_column
