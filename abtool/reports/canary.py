"""`abtool canary-decide`: promote a canary to the next stage, hold it, or roll it back?

Order of the decision:

1. ROLLBACK when an auto-rollback trigger fires (error rate, p99 latency, prediction mean).
2. HOLD when the experiment is not valid (sample-ratio mismatch, inconsistent assignment),
   has too few units, or the primary metric is not significantly positive (with
   ``allow_neutral``: is significantly negative).
3. PROMOTE otherwise, to the next stage of the ladder 1 -> 5 -> 20 -> 50 -> 100.

A prediction distribution shift is an advisory alert: a better model is expected to predict
differently, so it never changes the verdict by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abtool.assignment import in_treatment
from abtool.config import CanaryThresholds
from abtool.errors import ConfigError, UsageError
from abtool.logs.canary import CanaryColumns, CanaryData, MetricData, UnitSums, aggregate_canary
from abtool.logs.source import open_log, parse_time
from abtool.reports.result import Check, Report, Verdict
from abtool.stats.bootstrap import bootstrap_ratio_lift
from abtool.stats.ks import ks_2samp_sorted, ks_statistic_sorted
from abtool.stats.means import mann_whitney, welch_t
from abtool.stats.multiple import holm
from abtool.stats.proportions import two_proportions
from abtool.stats.ratio import Lift, ratio_estimate, ratio_lift
from abtool.stats.srm import sample_ratio_mismatch

COMMAND = "canary-decide"
STAGES = (1.0, 5.0, 20.0, 50.0, 100.0)
ROLLBACK_TRIGGERS = ("error_rate", "latency_p99", "prediction_mean")
VALIDITY = ("srm", "assignment_consistency", "min_samples")
METRIC_TYPES = ("auto", "proportion", "continuous")
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


@dataclass(frozen=True)
class CanaryOptions:
    """Analysis options of canary-decide (the CLI's flags).

    Attributes:
        metrics: outcome columns; the first is primary, the others secondary.
        metric_type: ``auto`` (0/1 or boolean columns are proportions), ``proportion`` or
            ``continuous``; applies to every metric.
        segments: columns whose 3 largest values get their own primary-metric lift.
        control: control value of the variant column (default: first of the two, sorted).
        treatment: treatment value of the variant column.
        stage: current treatment share in percent (expected share for SRM).
        salt: assignment salt; count units logged against their md5 bucket.
        allow_neutral: promote when the primary metric is not significantly negative.
        bootstrap: replicates of a percentile bootstrap CI (0: none).
        seed: seed of the bootstrap.
        since: keep rows at or after this ISO time.
        until: keep rows before this ISO time.
    """

    metrics: Sequence[str] = ()
    metric_type: str = "auto"
    segments: Sequence[str] = ()
    control: str | None = None
    treatment: str | None = None
    stage: float | None = None
    salt: str | None = None
    allow_neutral: bool = False
    bootstrap: int = 0
    seed: int = 0
    since: str | None = None
    until: str | None = None


def next_stage(stage: float) -> float:
    """The next stage of the ladder 1 -> 5 -> 20 -> 50 -> 100 after ``stage`` percent."""
    return next((s for s in STAGES if s > stage), STAGES[-1])


def _validate(options: CanaryOptions) -> None:
    if options.metric_type not in METRIC_TYPES:
        raise UsageError(
            f"--metric-type must be one of {', '.join(METRIC_TYPES)}, got '{options.metric_type}'"
        )
    if options.stage is not None and not 0 < options.stage < 100:
        raise UsageError(
            f"--stage must be a percentage between 0 and 100 (exclusive), got {options.stage:g}"
        )
    if options.salt is not None and options.stage is None:
        raise UsageError("--salt needs --stage (the treatment share the buckets give)")
    if options.bootstrap < 0:
        raise UsageError(f"--bootstrap must be >= 0, got {options.bootstrap}")
    if len(set(options.metrics)) != len(options.metrics):
        raise UsageError("--metric lists a column twice")


def _validate_thresholds(thresholds: CanaryThresholds) -> None:
    window = thresholds.distribution_shift_window
    if window < 1 or window != int(window):
        raise ConfigError(f"distribution_shift_window must be a positive integer, got {window}")


def canary_report(
    paths: Sequence[str | Path],
    *,
    columns: CanaryColumns | None = None,
    options: CanaryOptions | None = None,
    thresholds: CanaryThresholds | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run the canary stage gate on a canary / A/B log.

    Args:
        paths: Parquet files, globs or (hive-partitioned) directories.
        columns: column names, defaults to the DESIGN.md canary schema.
        options: metrics, variants, stage, segments, time window.
        thresholds: rollback triggers and validity limits (defaults: rollout checklist).
        progress: called with a short status line before long steps.

    Returns:
        A Report with verdict PROMOTE, HOLD or ROLLBACK.
    """
    columns = columns or CanaryColumns()
    options = options or CanaryOptions()
    thresholds = thresholds or CanaryThresholds()
    _validate(options)
    _validate_thresholds(thresholds)
    source = open_log(paths)
    data = aggregate_canary(
        source,
        columns,
        metrics=options.metrics,
        segments=options.segments,
        control=options.control,
        treatment=options.treatment,
        recent_window=int(thresholds.distribution_shift_window),
        since=parse_time(options.since, "--since"),
        until=parse_time(options.until, "--until"),
        progress=progress,
    )
    if progress:
        progress("Computing statistics")
    kinds = [_metric_kind(m, options.metric_type, source.name) for m in data.metrics]
    alpha = thresholds.primary_metric
    warnings: list[str] = []
    stats = _health_stats(data)
    stats.update(_validity_stats(data, options))
    stats.update(_distribution_stats(data))
    metric_stats = [
        _metric_stats(m, kind, alpha, options, warnings)
        for m, kind in zip(data.metrics, kinds, strict=True)
    ]
    stats["metric"] = metric_stats[0] if metric_stats else None
    stats["secondary_metrics"] = _with_holm(metric_stats[1:], alpha)
    stats["segments"] = _segment_stats(data, alpha)
    checks = _checks(stats, data, thresholds, columns, options)
    verdict, reasons = _decide(checks, stats, options)
    stats["stage"] = _whole(options.stage)
    stats["next_stage"] = _whole(_next_stage(verdict, options.stage))
    if verdict is Verdict.PROMOTE and stats["next_stage"] is not None:
        reasons.append(f"promote from {options.stage:g}% to {stats['next_stage']:g}%")
    warnings = _warnings(data, stats, checks, options) + warnings
    return Report(
        command=COMMAND,
        verdict=verdict,
        checks=checks,
        stats=stats,
        warnings=warnings,
        inputs={"paths": [str(p) for p in paths], "files": len(source.files), "rows": data.rows},
        reasons=reasons,
    )


def _metric_kind(metric: MetricData, requested: str, source: str) -> str:
    if requested == "proportion" and not metric.binary:
        raise UsageError(
            f"{source}: --metric-type proportion but column '{metric.name}' holds values "
            "other than 0 and 1"
        )
    if requested == "auto":
        return "proportion" if metric.binary else "continuous"
    return requested


def _rate(part: int | None, whole: int) -> float | None:
    return None if part is None or whole == 0 else part / whole


def _health_stats(data: CanaryData) -> dict[str, Any]:
    duration = None
    if data.time_min is not None and data.time_max is not None:
        duration = (data.time_max - data.time_min).total_seconds() / 3600.0
    variants = {
        role: {
            "name": v.name,
            "requests": v.requests,
            "units": v.units,
            "errors": v.errors,
            "error_rate": _rate(v.errors, v.requests),
            "latency_p50_ms": v.latency_p50_ms,
            "latency_p99_ms": v.latency_p99_ms,
            "prediction_mean": v.prediction_mean,
        }
        for role, v in (("control", data.control), ("treatment", data.treatment))
    }
    return {
        "rows": data.rows,
        "excluded_rows": sum(data.excluded.values()),
        "excluded_reasons": data.excluded,
        "time_start": data.time_min.isoformat() if data.time_min else None,
        "time_end": data.time_max.isoformat() if data.time_max else None,
        "duration_hours": duration,
        "variants": variants,
    }


def _validity_stats(data: CanaryData, options: CanaryOptions) -> dict[str, Any]:
    share = (options.stage if options.stage is not None else 50.0) / 100.0
    stats: dict[str, Any] = {
        "expected_treatment_share": share,
        "observed_treatment_share": (
            data.treatment.units / data.analysed_units if data.analysed_units else None
        ),
        "srm_chi2": None,
        "srm_pvalue": None,
        "units": data.total_units,
        "inconsistent_units": data.inconsistent_units,
        "inconsistent_share": (
            data.inconsistent_units / data.total_units if data.total_units else None
        ),
        "inconsistent_rows": data.inconsistent_rows,
        "salt_mismatched_units": None,
    }
    if data.analysed_units:
        srm = sample_ratio_mismatch(
            [data.control.units, data.treatment.units], [1.0 - share, share]
        )
        stats.update(srm_chi2=srm.chi2, srm_pvalue=srm.pvalue)
    if options.salt is not None:
        salt, fraction = options.salt, share
        wrong = sum(in_treatment(salt, u, fraction) for u in data.unit_ids["control"])
        wrong += sum(not in_treatment(salt, u, fraction) for u in data.unit_ids["treatment"])
        stats["salt_mismatched_units"] = wrong
    return stats


def _distribution_stats(data: CanaryData) -> dict[str, Any]:
    c, t = data.control, data.treatment
    stats: dict[str, Any] = {
        "ks_statistic": None,
        "ks_pvalue": None,
        "ks_recent_statistic": None,
        "ks_recent_n": [len(c.recent_sorted), len(t.recent_sorted)],
    }
    if len(c.predictions_sorted) and len(t.predictions_sorted):
        stats["ks_statistic"] = ks_statistic_sorted(c.predictions_sorted, t.predictions_sorted)
        recent = ks_2samp_sorted(c.recent_sorted, t.recent_sorted)
        stats.update(ks_pvalue=recent.pvalue, ks_recent_statistic=recent.statistic)
    return stats


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


def _metric_stats(
    metric: MetricData, kind: str, alpha: float, options: CanaryOptions, warnings: list[str]
) -> dict[str, Any]:
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
    if options.bootstrap:
        boot = bootstrap_ratio_lift(
            c.x, c.y, t.x, t.y, replicates=options.bootstrap, seed=options.seed, alpha=alpha
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


def _with_holm(results: list[dict[str, Any]], alpha: float) -> list[dict[str, Any]]:
    """Add Holm-adjusted p-values over the tested entries; untested ones get None."""
    tested = [r for r in results if r.get("pvalue") is not None]
    for entry, adjusted in zip(tested, holm([r["pvalue"] for r in tested]), strict=True):
        entry["pvalue_holm"] = adjusted
        entry["significant"] = adjusted <= alpha
    for entry in results:
        entry.setdefault("pvalue_holm", None)
        entry.setdefault("significant", None)
    return results


def _segment_stats(data: CanaryData, alpha: float) -> dict[str, list[dict[str, Any]]]:
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
    _with_holm(family, alpha)
    for entry in family:
        entry["regression"] = bool(entry["significant"]) and entry["lift_abs"] < 0
    return by_column


def _ratio(treatment: float | None, control: float | None) -> float | None:
    if treatment is None or control is None:
        return None
    if control == 0:
        return 1.0 if treatment == 0 else float("inf")
    return treatment / control


def _times(ratio: float) -> str:
    return f"{ratio:.2f}x" if ratio != float("inf") else "control has none"


def _skipped(check_id: str, threshold: float, why: str, advisory: bool = False) -> Check:
    return Check(check_id, None, None, threshold, f"skipped: {why}", advisory)


def _checks(
    stats: dict[str, Any],
    data: CanaryData,
    limits: CanaryThresholds,
    columns: CanaryColumns,
    options: CanaryOptions,
) -> list[Check]:
    c, t = stats["variants"]["control"], stats["variants"]["treatment"]
    checks = [
        _error_check(c, t, limits, columns),
        _latency_check(c, t, limits, columns),
        _prediction_check(c, t, limits, columns),
        _shift_check(stats, limits, columns),
    ]
    p = stats["srm_pvalue"]
    expected = stats["expected_treatment_share"]
    if p is None:
        checks.append(_skipped("srm", limits.srm, "no units"))
    else:
        checks.append(
            Check(
                "srm",
                p >= limits.srm,
                p,
                limits.srm,
                f"units {data.control.units:,} control / {data.treatment.units:,} treatment vs "
                f"expected treatment share {expected:.0%}: SRM p = {p:.3g} "
                f"(hold below {limits.srm:g})",
            )
        )
    checks.append(_consistency_check(stats, limits))
    fewest = min(data.control.units, data.treatment.units)
    checks.append(
        Check(
            "min_samples",
            fewest >= limits.min_samples,
            fewest,
            limits.min_samples,
            f"{fewest:,} units in the smaller variant (need >= {limits.min_samples:,})",
        )
    )
    checks.append(_primary_check(stats["metric"], limits, options))
    return checks


def _error_check(
    c: dict[str, Any], t: dict[str, Any], limits: CanaryThresholds, columns: CanaryColumns
) -> Check:
    if t["error_rate"] is None or c["error_rate"] is None:
        return _skipped("error_rate", limits.error_rate, f"no '{columns.error}' column")
    ratio = _ratio(t["error_rate"], c["error_rate"])
    assert ratio is not None
    fired = ratio > limits.error_rate and t["error_rate"] > limits.error_rate_floor
    return Check(
        "error_rate",
        not fired,
        ratio,
        limits.error_rate,
        f"treatment error rate {t['error_rate']:.2%} vs control {c['error_rate']:.2%} "
        f"({_times(ratio)}; rollback when > {limits.error_rate:g}x and "
        f"> {limits.error_rate_floor:.2%})",
    )


def _latency_check(
    c: dict[str, Any], t: dict[str, Any], limits: CanaryThresholds, columns: CanaryColumns
) -> Check:
    ratio = _ratio(t["latency_p99_ms"], c["latency_p99_ms"])
    if ratio is None:
        return _skipped("latency_p99", limits.latency_p99, f"no '{columns.latency}' values")
    return Check(
        "latency_p99",
        ratio <= limits.latency_p99,
        ratio,
        limits.latency_p99,
        f"treatment p99 {t['latency_p99_ms']:.1f} ms vs control {c['latency_p99_ms']:.1f} ms "
        f"({_times(ratio)}; rollback when > {limits.latency_p99:g}x)",
    )


def _relative_deviation(value: float, base: float) -> float:
    if base == 0:
        return 0.0 if value == 0 else float("inf")
    return abs(value - base) / abs(base)


def _prediction_check(
    c: dict[str, Any], t: dict[str, Any], limits: CanaryThresholds, columns: CanaryColumns
) -> Check:
    base, cand = c["prediction_mean"], t["prediction_mean"]
    if base is None or cand is None:
        return _skipped("prediction_mean", limits.prediction_mean, f"no '{columns.prediction}'")
    deviation = _relative_deviation(cand, base)
    return Check(
        "prediction_mean",
        deviation <= limits.prediction_mean,
        deviation,
        limits.prediction_mean,
        f"treatment prediction mean {cand:.4g} deviates {deviation:.1%} from control {base:.4g} "
        f"(rollback when > {limits.prediction_mean:.0%})",
    )


def _shift_check(stats: dict[str, Any], limits: CanaryThresholds, columns: CanaryColumns) -> Check:
    p = stats["ks_pvalue"]
    if p is None:
        return _skipped(
            "distribution_shift", limits.distribution_shift, f"no '{columns.prediction}'", True
        )
    n_c, n_t = stats["ks_recent_n"]
    return Check(
        "distribution_shift",
        p >= limits.distribution_shift,
        p,
        limits.distribution_shift,
        f"KS p = {p:.3g} on the latest {n_c:,}/{n_t:,} predictions (alert below "
        f"{limits.distribution_shift:g}); KS D = {stats['ks_statistic']:.4f} on all rows",
        advisory=True,
    )


def _consistency_check(stats: dict[str, Any], limits: CanaryThresholds) -> Check:
    units = stats["units"]
    bad = stats["inconsistent_units"] + (stats["salt_mismatched_units"] or 0)
    share = bad / units if units else 0.0
    detail = f"{stats['inconsistent_units']:,} unit(s) seen under both variants"
    if stats["salt_mismatched_units"] is not None:
        detail += f", {stats['salt_mismatched_units']:,} logged against their salt bucket"
    return Check(
        "assignment_consistency",
        share <= limits.assignment_consistency,
        share,
        limits.assignment_consistency,
        f"{detail}: {share:.2%} of {units:,} units "
        f"(hold above {limits.assignment_consistency:.2%})",
    )


def _primary_check(
    metric: dict[str, Any] | None, limits: CanaryThresholds, options: CanaryOptions
) -> Check:
    alpha = limits.primary_metric
    if metric is None:
        return _skipped("primary_metric", alpha, "no --metric given")
    p = metric["pvalue"]
    if p is None:
        return _skipped("primary_metric", alpha, f"'{metric['name']}' could not be tested")
    positive = p < alpha and metric["lift_abs"] > 0
    negative = p < alpha and metric["lift_abs"] < 0
    passed = positive or (options.allow_neutral and not negative)
    if positive:
        verdict = "significantly positive"
    elif negative:
        verdict = "significantly negative"
    else:
        verdict = "not significant"
    level = 1 - alpha
    return Check(
        "primary_metric",
        passed,
        p,
        alpha,
        f"{metric['name']} {verdict}: lift {metric['lift_abs']:+.4g} "
        f"({_pct(metric['lift_rel'])}), {level:.0%} CI [{metric['ci_low']:+.4g}, "
        f"{metric['ci_high']:+.4g}], p = {p:.3g}",
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:+.2%}"


def _decide(
    checks: Sequence[Check], stats: dict[str, Any], options: CanaryOptions
) -> tuple[Verdict, list[str]]:
    failed = {c.id: c for c in checks if c.passed is False and not c.advisory}
    triggers = [failed[i].message for i in ROLLBACK_TRIGGERS if i in failed]
    if triggers:
        return Verdict.ROLLBACK, triggers
    holds = [failed[i].message for i in (*VALIDITY, "primary_metric") if i in failed]
    primary = next(c for c in checks if c.id == "primary_metric")
    if primary.passed is None and not options.allow_neutral:
        holds.append(
            f"primary metric {primary.message}; give --metric, or --allow-neutral to promote "
            "on guardrails alone"
        )
    if holds:
        return Verdict.HOLD, holds
    reasons = ["guardrails hold"]
    if primary.passed:
        reasons.append(primary.message)
    return Verdict.PROMOTE, reasons


def _whole(value: float | None) -> float | int | None:
    """Stages as integers in JSON when they are whole percentages (5, not 5.0)."""
    return int(value) if value is not None and value == int(value) else value


def _next_stage(verdict: Verdict, stage: float | None) -> float | None:
    if verdict is Verdict.ROLLBACK:
        return 0.0
    if stage is None:
        return None
    return next_stage(stage) if verdict is Verdict.PROMOTE else stage


def _warnings(
    data: CanaryData, stats: dict[str, Any], checks: Sequence[Check], options: CanaryOptions
) -> list[str]:
    warnings = []
    if data.excluded:
        reasons = ", ".join(f"{n:,} with {reason}" for reason, n in data.excluded.items())
        warnings.append(
            f"excluded {sum(data.excluded.values()):,} of {data.rows:,} rows: {reasons}"
        )
    for variant in (data.control, data.treatment):
        for column, n in variant.missing.items():
            warnings.append(
                f"{n:,} {variant.name} rows with a null {column} left out of the figures "
                f"that use '{column}'"
            )
    if data.inconsistent_units:
        warnings.append(
            f"{data.inconsistent_units:,} unit(s) with {data.inconsistent_rows:,} rows were logged "
            "under both variants: they count in the per-variant health figures but are left "
            "out of SRM, metrics and segments"
        )
    for check in checks:
        if check.id in ROLLBACK_TRIGGERS and check.passed is None:
            warnings.append(f"rollback trigger '{check.id}' not evaluated: {check.message}")
    if options.stage is None:
        warnings.append(
            "no --stage given: SRM assumes an equal split and no next stage is proposed"
        )
    metric = stats["metric"]
    for entry in [metric, *stats["secondary_metrics"]] if metric else []:
        if entry["missing_rows"]:
            warnings.append(
                f"metric '{entry['name']}': {entry['missing_rows']:,} rows with a null or NaN "
                "value left out of it"
            )
    for column, entries in stats["segments"].items():
        for entry in entries:
            if entry.get("regression"):
                warnings.append(
                    f"segment {column} = {entry['value']}: {metric['name'] if metric else ''} "
                    f"significantly worse ({_pct(entry['lift_rel'])}, Holm p = "
                    f"{entry['pvalue_holm']:.3g})"
                )
    untested = metric is None or metric.get("pvalue") is None
    if options.allow_neutral and not untested and metric["pvalue"] >= metric["alpha"]:
        warnings.append("--allow-neutral: the primary metric is not significant either way")
    return warnings
