"""canary-decide's checklist: rollback triggers, distribution shift, validity, primary metric."""

from __future__ import annotations

from abtool.commands.canary import SPEC, CanaryColumns, CanaryThresholds
from abtool.reports.result import Check
from abtool.results.canary import (
    MetricStats,
    PredictionShift,
    Validity,
    Variants,
    VariantStats,
)


def _ratio(treatment: float | None, control: float | None) -> float | None:
    if treatment is None or control is None:
        return None
    if control == 0:
        return 1.0 if treatment == 0 else float("inf")
    return treatment / control


def _times(ratio: float) -> str:
    return f"{ratio:.2f}x" if ratio != float("inf") else "control has none"


def _skipped(check_id: str, threshold: float, why: str, *, required: bool = False) -> Check:
    return SPEC.make_check(check_id, None, None, threshold, f"skipped: {why}", required=required)


def canary_checks(
    variants: Variants,
    validity: Validity,
    shift: PredictionShift,
    metric: MetricStats | None,
    limits: CanaryThresholds,
    columns: CanaryColumns,
    allow_neutral: bool,
) -> list[Check]:
    """The checklist, in the order of the command's declared checks.

    Args:
        variants: each variant's health figures.
        validity: sample ratio and assignment consistency.
        shift: the prediction distribution shift.
        metric: the primary metric (None without ``--metric``).
        limits: thresholds by check id.
        columns: column names, for the messages of skipped checks.
        allow_neutral: the primary metric passes unless significantly negative.
    """
    c, t = variants.control, variants.treatment
    checks = [
        _error_check(c, t, limits, columns),
        _latency_check(c, t, limits, columns),
        _prediction_check(c, t, limits, columns),
        _shift_check(shift, limits, columns),
    ]
    p = validity.srm_pvalue
    expected = validity.expected_treatment_share
    if p is None:
        checks.append(_skipped("srm", limits.srm, "no units"))
    else:
        checks.append(
            SPEC.make_check(
                "srm",
                p >= limits.srm,
                p,
                limits.srm,
                f"units {c.units:,} control / {t.units:,} treatment vs "
                f"expected treatment share {expected:.0%}: SRM p = {p:.3g} "
                f"(hold below {limits.srm:g})",
            )
        )
    checks.append(_consistency_check(validity, limits))
    fewest = min(c.units, t.units)
    checks.append(
        SPEC.make_check(
            "min_samples",
            fewest >= limits.min_samples,
            fewest,
            limits.min_samples,
            f"{fewest:,} units in the smaller variant (need >= {limits.min_samples:,})",
        )
    )
    checks.append(_primary_check(metric, limits, allow_neutral))
    return checks


def _error_check(
    c: VariantStats, t: VariantStats, limits: CanaryThresholds, columns: CanaryColumns
) -> Check:
    if t.error_rate is None or c.error_rate is None:
        return _skipped("error_rate", limits.error_rate, f"no '{columns.error}' column")
    ratio = _ratio(t.error_rate, c.error_rate)
    assert ratio is not None
    fired = ratio > limits.error_rate and t.error_rate > limits.error_rate_floor
    return SPEC.make_check(
        "error_rate",
        not fired,
        ratio,
        limits.error_rate,
        f"treatment error rate {t.error_rate:.2%} vs control {c.error_rate:.2%} "
        f"({_times(ratio)}; rollback when > {limits.error_rate:g}x and "
        f"> {limits.error_rate_floor:.2%})",
    )


def _latency_check(
    c: VariantStats, t: VariantStats, limits: CanaryThresholds, columns: CanaryColumns
) -> Check:
    ratio = _ratio(t.latency_p99_ms, c.latency_p99_ms)
    if ratio is None:
        return _skipped("latency_p99", limits.latency_p99, f"no '{columns.latency}' values")
    return SPEC.make_check(
        "latency_p99",
        ratio <= limits.latency_p99,
        ratio,
        limits.latency_p99,
        f"treatment p99 {t.latency_p99_ms:.1f} ms vs control {c.latency_p99_ms:.1f} ms "
        f"({_times(ratio)}; rollback when > {limits.latency_p99:g}x)",
    )


def _relative_deviation(value: float, base: float) -> float:
    if base == 0:
        return 0.0 if value == 0 else float("inf")
    return abs(value - base) / abs(base)


def _prediction_check(
    c: VariantStats, t: VariantStats, limits: CanaryThresholds, columns: CanaryColumns
) -> Check:
    base, cand = c.prediction_mean, t.prediction_mean
    if base is None or cand is None:
        return _skipped("prediction_mean", limits.prediction_mean, f"no '{columns.prediction}'")
    deviation = _relative_deviation(cand, base)
    return SPEC.make_check(
        "prediction_mean",
        deviation <= limits.prediction_mean,
        deviation,
        limits.prediction_mean,
        f"treatment prediction mean {cand:.4g} deviates {deviation:.1%} from control {base:.4g} "
        f"(rollback when > {limits.prediction_mean:.0%})",
    )


def _shift_check(shift: PredictionShift, limits: CanaryThresholds, columns: CanaryColumns) -> Check:
    p = shift.ks_pvalue
    if p is None:
        return _skipped(
            "distribution_shift", limits.distribution_shift, f"no '{columns.prediction}'"
        )
    n_c, n_t = shift.ks_recent_n
    return SPEC.make_check(
        "distribution_shift",
        p >= limits.distribution_shift,
        p,
        limits.distribution_shift,
        f"KS p = {p:.3g} on the latest {n_c:,}/{n_t:,} predictions (alert below "
        f"{limits.distribution_shift:g}); KS D = {shift.ks_statistic:.4f} on all rows",
    )


def _consistency_check(validity: Validity, limits: CanaryThresholds) -> Check:
    units = validity.units
    bad = validity.inconsistent_units + (validity.salt_mismatched_units or 0)
    share = bad / units if units else 0.0
    detail = f"{validity.inconsistent_units:,} unit(s) seen under both variants"
    if validity.salt_mismatched_units is not None:
        detail += f", {validity.salt_mismatched_units:,} logged against their salt bucket"
    return SPEC.make_check(
        "assignment_consistency",
        share <= limits.assignment_consistency,
        share,
        limits.assignment_consistency,
        f"{detail}: {share:.2%} of {units:,} units "
        f"(hold above {limits.assignment_consistency:.2%})",
    )


def _primary_check(
    metric: MetricStats | None, limits: CanaryThresholds, allow_neutral: bool
) -> Check:
    alpha = limits.primary_metric
    # Without a tested primary metric nothing shows the candidate is better: that holds,
    # unless --allow-neutral promotes on guardrails alone.
    required = not allow_neutral
    if metric is None:
        return _skipped("primary_metric", alpha, "no --metric given", required=required)
    lift = metric.lift
    p = lift.pvalue
    if p is None or lift.lift_abs is None:
        return _skipped(
            "primary_metric",
            alpha,
            f"'{metric.name}' could not be tested",
            required=required,
        )
    positive = p < alpha and lift.lift_abs > 0
    negative = p < alpha and lift.lift_abs < 0
    passed = positive or (allow_neutral and not negative)
    if positive:
        verdict = "significantly positive"
    elif negative:
        verdict = "significantly negative"
    else:
        verdict = "not significant"
    level = 1 - alpha
    return SPEC.make_check(
        "primary_metric",
        passed,
        p,
        alpha,
        f"{metric.name} {verdict}: lift {lift.lift_abs:+.4g} "
        f"({signed_percent(lift.lift_rel)}), {level:.0%} CI [{lift.ci_low:+.4g}, "
        f"{lift.ci_high:+.4g}], p = {p:.3g}",
    )


def signed_percent(value: float | None) -> str:
    """A signed percentage such as ``+4.20%`` (``n/a`` for None or NaN)."""
    return "n/a" if value is None or value != value else f"{value:+.2%}"
