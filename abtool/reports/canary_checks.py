"""canary-decide's checklist: rollback triggers, distribution shift, validity, and the order in
which the metric checks (:mod:`abtool.reports.canary_decision`) and advisories join it."""

from __future__ import annotations

from collections.abc import Sequence

from abtool.commands.canary import SPEC, CanaryColumns, CanaryThresholds
from abtool.reports.result import Check
from abtool.results.canary import (
    Novelty,
    PredictionShift,
    SegmentLift,
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
    limits: CanaryThresholds,
    columns: CanaryColumns,
    decision: Sequence[Check],
    srm_hint: str | None = None,
) -> list[Check]:
    """The checklist, in the order of the command's declared checks.

    Args:
        variants: each variant's health figures.
        validity: sample ratio and assignment consistency.
        shift: the prediction distribution shift.
        limits: thresholds by check id.
        columns: column names, for the messages of skipped checks.
        decision: the metric checks (:mod:`abtool.reports.canary_decision`) and the advisory
            ones; each goes to its declared place.
        srm_hint: appended to the SRM message (a ``--stage`` that looks mistyped).
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
                f"(hold below {limits.srm:g})" + (f"; {srm_hint}" if srm_hint else ""),
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
    checks += decision
    order = [spec.id for spec in SPEC.checks]
    return sorted(checks, key=lambda check: order.index(check.id))


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
        f"{limits.distribution_shift:g}); KS D = {_all_rows_d(shift)} on all rows",
    )


def _all_rows_d(shift: PredictionShift) -> str:
    if shift.ks_statistic is not None:
        return f"{shift.ks_statistic:.4f}"
    assert shift.ks_bounds is not None
    low, high = shift.ks_bounds
    return f"{low:.4f}..{high:.4f} (--ks approximate)"


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


def novelty_check(novelty: Novelty | None, limits: CanaryThresholds, bucket: str | None) -> Check:
    """Advisory: the first days' lift differs from the later days' (novelty or primacy)."""
    if novelty is None:
        why = "needs day buckets and 3 days or more" if bucket != "day" else "too few days"
        return SPEC.make_check("novelty", None, None, limits.novelty, f"skipped: {why}")
    detail = (
        f"lift {novelty.early_lift:+.4g} over the first {novelty.early_days} days vs "
        f"{novelty.late_lift:+.4g} over the next {novelty.late_days} (difference p = "
        f"{novelty.pvalue:.3g})"
    )
    if novelty.differs:
        detail += ": the early lift is not the lasting one; read the later days and run whole weeks"
    return SPEC.make_check("novelty", not novelty.differs, novelty.pvalue, limits.novelty, detail)


def segment_check(segments: dict[str, list[SegmentLift]], metric: str | None) -> Check:
    """Advisory: no tested segment value has the primary metric significantly worse."""
    entries = [(column, e) for column, values in segments.items() for e in values]
    if not entries:
        return SPEC.make_check("segment_regression", None, None, None, "skipped: no --segment")
    regressions = [(c, e) for c, e in entries if e.regression]
    if not regressions:
        return SPEC.make_check(
            "segment_regression",
            True,
            len(entries),
            None,
            f"no significant regression in {len(entries)} segment value(s) (Holm-adjusted)",
        )
    column, worst = min(regressions, key=lambda item: item[1].lift.lift_rel or 0.0)
    others = len(regressions) - 1
    return SPEC.make_check(
        "segment_regression",
        False,
        len(regressions),
        None,
        f"segment {column} = {worst.value}: {metric or 'primary metric'} significantly worse "
        f"({signed_percent(worst.lift.lift_rel)}, Holm p = {worst.holm.pvalue_holm:.3g})"
        + (f"; {others} more value(s) regress" if others else ""),
    )


def signed_percent(value: float | None) -> str:
    """A signed percentage such as ``+4.20%`` (``n/a`` for None or NaN)."""
    return "n/a" if value is None or value != value else f"{value:+.2%}"
