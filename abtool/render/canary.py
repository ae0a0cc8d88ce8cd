"""Sections of canary-decide: variants, validity, primary metric, secondary metrics, segments."""

from __future__ import annotations

from typing import Any

from abtool.render.blocks import Block, Facts, Table, fmt_number, fmt_pvalue, fmt_rate
from abtool.reports.result import Report
from abtool.results.canary import (
    CanaryStats,
    Holm,
    LiftStats,
    MeanTest,
    MetricStats,
    ProportionUnitTest,
)

MAX_BUCKETS = 48  # rows of the over-time table; every bucket is in --format json

ROLES = ("control", "treatment")


def _signed(value: Any) -> str:
    return "n/a" if value is None else f"{value:+.4g}"


def _signed_rate(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:+.2f}%"


def _interval(low: Any, high: Any, rate: bool = False) -> str:
    show = _signed_rate if rate else _signed
    return f"[{show(low)}, {show(high)}]"


def _variants(stats: CanaryStats) -> Table:
    rows = []
    for role in ROLES:
        v = getattr(stats.health.variants, role)
        rows.append(
            [
                role,
                str(v.name),
                fmt_number(v.requests),
                fmt_number(v.units),
                fmt_rate(v.error_rate),
                fmt_number(v.latency_p50_ms),
                fmt_number(v.latency_p99_ms),
                fmt_number(v.prediction_mean),
            ]
        )
    columns = [
        "role",
        "variant",
        "requests",
        "units",
        "error rate",
        "p50 ms",
        "p99 ms",
        "pred mean",
    ]
    return Table("Variants", columns, rows, frozenset(range(2, 8)))


def _validity(stats: CanaryStats) -> Facts:
    health, validity, shift = stats.health, stats.validity, stats.shift
    start = health.time_start.isoformat() if health.time_start else None
    end = health.time_end.isoformat() if health.time_end else None
    items = [
        ("rows", f"{health.rows:,} ({health.excluded_rows:,} excluded)"),
        ("time span", f"{start} → {end}"),
        (
            "treatment share",
            f"{fmt_rate(validity.observed_treatment_share)} of units "
            f"(expected {fmt_rate(validity.expected_treatment_share)}), "
            f"SRM p = {fmt_pvalue(validity.srm_pvalue)}",
        ),
        (
            "inconsistent units",
            f"{validity.inconsistent_units:,} ({fmt_rate(validity.inconsistent_share)}), "
            "left out of the unit-level analysis",
        ),
    ]
    if validity.salt_mismatched_units is not None:
        items.append(("against salt bucket", f"{validity.salt_mismatched_units:,} units"))
    if shift.ks_pvalue is not None:
        d = (
            fmt_number(shift.ks_statistic)
            if shift.ks_statistic is not None or shift.ks_bounds is None
            else f"{fmt_number(shift.ks_bounds[0])}..{fmt_number(shift.ks_bounds[1])}"
        )
        items.append(
            (
                "prediction shift",
                f"KS D = {d} (all rows); "
                f"p = {fmt_pvalue(shift.ks_pvalue)} on the latest "
                f"{shift.ks_recent_n[0]:,}/{shift.ks_recent_n[1]:,}",
            )
        )
    stage, following = stats.stage, stats.next_stage
    items.append(
        ("stage", f"{stage:g}% → next {following:g}%" if stage and following is not None else "n/a")
    )
    inference = stats.inference
    items.append(("inference", inference.label))
    items.append(
        (
            "alpha",
            f"primary {inference.primary_alpha:g} (one-sided), each guardrail "
            f"{inference.guardrail_alpha:g}, harm {inference.harm_alpha:g} over "
            f"{inference.harm_metrics} metric(s) = {inference.harm_alpha_each:.3g} each",
        )
    )
    return Facts("Experiment", items)


def _lift_text(lift: LiftStats) -> str:
    return (
        f"{_signed(lift.lift_abs)} {_interval(lift.ci_low, lift.ci_high)}; "
        f"{_signed_rate(lift.lift_rel)} {_interval(lift.rel_ci_low, lift.rel_ci_high, rate=True)}"
        f", p = {fmt_pvalue(lift.pvalue)}"
    )


def _decision_items(metric: MetricStats) -> list[tuple[str, str]]:
    """The metric's one-sided tests, CUPED, what a HOLD waits for, and novelty."""
    items: list[tuple[str, str]] = []
    tests = metric.tests
    if tests is not None:
        items.append(
            (
                "better / non-inferior / harmful",
                f"p = {fmt_pvalue(tests.superior.pvalue)} / "
                f"{fmt_pvalue(tests.non_inferior.pvalue)} / {fmt_pvalue(tests.harmful.pvalue)}"
                f" (one-sided; margin {100 * tests.margin:g}% of control)",
            )
        )
    cuped = metric.cuped
    if cuped is not None:
        items += [
            (
                "CUPED covariate",
                f"{cuped.covariate} from the {cuped.source}; variance reduction "
                f"{cuped.variance_reduction_pct:.1f}%, {cuped.units_without_pre:,} units "
                "without pre-period data",
            ),
            ("lift, unadjusted", _lift_text(cuped.unadjusted)),
            ("lift, CUPED", _lift_text(cuped.adjusted)),
        ]
    gap = metric.gap
    if gap is not None:
        needed = "out of reach" if gap.units_needed is None else f"{gap.units_needed:,} units"
        days = f" (~{gap.more_days:.1f} more days)" if gap.more_days else ""
        items.append(
            (
                "waiting for",
                f"detectable now (80% power) {_signed(gap.mde)}; target "
                f"{_signed(gap.target_effect)} needs {needed}{days}",
            )
        )
    novelty = metric.novelty
    if novelty is not None:
        items.append(
            (
                "novelty",
                f"first {novelty.early_days} days {_signed(novelty.early_lift)} vs later "
                f"{_signed(novelty.late_lift)}, p = {fmt_pvalue(novelty.pvalue)}"
                + (" — differs" if novelty.differs else ""),
            )
        )
    return items


def _metric(metric: MetricStats) -> Facts:
    lift = metric.lift
    items = [
        ("metric", f"{metric.name} ({metric.type})"),
        ("method", metric.method),
        ("units", f"{metric.units.control:,} control / {metric.units.treatment:,} treatment"),
        (
            "mean",
            f"{fmt_number(lift.control_mean)} control → "
            f"{fmt_number(lift.treatment_mean)} treatment",
        ),
        (
            "lift",
            f"{_signed(lift.lift_abs)} {_interval(lift.ci_low, lift.ci_high)}; "
            f"{_signed_rate(lift.lift_rel)} "
            f"{_interval(lift.rel_ci_low, lift.rel_ci_high, rate=True)}",
        ),
        ("p-value", fmt_pvalue(lift.pvalue)),
        ("interval", metric.interval or "n/a"),
        *_decision_items(metric),
    ]
    test = metric.unit_test
    if isinstance(test, ProportionUnitTest):
        rates = test.test
        items.append(
            (
                test.value,
                f"{fmt_rate(rates.control_rate)} → {fmt_rate(rates.treatment_rate)}, "
                f"z = {rates.z:.3f}, p = {fmt_pvalue(rates.pvalue)}",
            )
        )
    elif isinstance(test, MeanTest):
        welch, mwu = test.welch, test.mann_whitney
        ranks = (
            f"; Mann-Whitney p = {fmt_pvalue(mwu.pvalue)}, "
            f"P(T > C) = {fmt_number(mwu.prob_superiority)}"
            if mwu is not None
            else "; Mann-Whitney not computed (per-unit values stayed in the engine)"
        )
        items.append(
            (
                test.value,
                f"Welch diff {_signed(welch.diff)} {_interval(welch.ci_low, welch.ci_high)}, "
                f"p = {fmt_pvalue(welch.pvalue)}{ranks}",
            )
        )
    if metric.bootstrap is not None:
        boot = metric.bootstrap
        items.append(
            (
                f"bootstrap ({boot.replicates:,}, seed {boot.seed})",
                f"{_interval(boot.ci_low, boot.ci_high)}; "
                f"{_interval(boot.rel_ci_low, boot.rel_ci_high, rate=True)}",
            )
        )
    return Facts("Primary metric", items)


def _lift_row(first: list[str], lift: LiftStats, holm: Holm | None) -> list[str]:
    return [
        *first,
        fmt_number(lift.control_mean),
        fmt_number(lift.treatment_mean),
        _signed_rate(lift.lift_rel),
        _interval(lift.ci_low, lift.ci_high),
        fmt_pvalue(lift.pvalue),
        fmt_pvalue(holm.pvalue_holm if holm is not None else None),
    ]


LIFT_COLUMNS = ["control", "treatment", "lift", "CI (abs)", "p", "p Holm"]


def _guardrails(guardrails: list[MetricStats]) -> Table:
    rows = []
    for g in guardrails:
        tests = g.tests
        lift = g.lift
        rows.append(
            [
                g.name,
                tests.direction if tests else "n/a",
                f"{100 * tests.margin:g}%" if tests else "n/a",
                _signed_rate(lift.lift_rel),
                _interval(lift.ci_low, lift.ci_high),
                fmt_pvalue(tests.non_inferior.pvalue) if tests else "n/a",
                fmt_pvalue(tests.harmful.pvalue) if tests else "n/a",
                "non-inferior" if tests and tests.non_inferior.reject else "not shown",
            ]
        )
    columns = ["guardrail", "better", "margin", "lift", "interval (abs)", "p NI", "p harm", ""]
    return Table("Guardrails", columns, rows, frozenset(range(2, 7)))


def _over_time(metric: MetricStats) -> Table | None:
    cumulative, daily = metric.timeline, metric.daily
    if cumulative is None or daily is None:
        return None
    rows = []
    for k, start in enumerate(cumulative.start[:MAX_BUCKETS]):
        rows.append(
            [
                start.isoformat(timespec="minutes"),
                fmt_number(cumulative.units[k]),
                _signed(cumulative.lift[k]),
                _interval(cumulative.ci_low[k], cumulative.ci_high[k]),
                _signed(daily.lift[k]),
                _interval(daily.ci_low[k], daily.ci_high[k]),
            ]
        )
    title = f"{metric.name} over time ({cumulative.interval})"
    if len(cumulative.start) > MAX_BUCKETS:
        title += f", first {MAX_BUCKETS} of {len(cumulative.start)} buckets"
    columns = ["bucket", "units", "cumulative lift", "band", "bucket lift", "band"]
    return Table(title, columns, rows, frozenset(range(1, 6)))


def sections(report: Report[CanaryStats]) -> list[Block]:
    """Blocks of canary-decide, built from its statistics."""
    stats = report.stats
    blocks: list[Block] = [_variants(stats), _validity(stats)]
    if stats.metric is not None:
        blocks.append(_metric(stats.metric))
        over_time = _over_time(stats.metric)
        if over_time is not None:
            blocks.append(over_time)
    if stats.guardrails:
        blocks.append(_guardrails(stats.guardrails))
    if stats.secondary_metrics:
        rows = [_lift_row([m.name], m.lift, m.holm) for m in stats.secondary_metrics]
        blocks.append(
            Table("Secondary metrics", ["metric", *LIFT_COLUMNS], rows, frozenset(range(1, 7)))
        )
    for column, entries in stats.segments.items():
        flagged = any(e.regression for e in entries)
        rows = []
        for e in entries:
            first = [str(e.value), f"{e.units_control:,}/{e.units_treatment:,}"]
            row = _lift_row(first, e.lift, e.holm)
            rows.append([*row, "regression"] if e.regression else row + [""] * flagged)
        headers = [column, "units c/t", *LIFT_COLUMNS] + ["flag"] * flagged
        blocks.append(Table(f"Primary metric by {column}", headers, rows, frozenset(range(1, 8))))
    return blocks


def key_figures(report: Report[CanaryStats]) -> str:
    """The headline numbers of a canary report, for the gate table."""
    stats = report.stats
    metric = stats.metric
    if metric is None:
        parts = ["no metric"]
    else:
        lift = metric.lift
        kind = "CS" if stats.inference.method == "sequential" else "CI"
        level = f"{100 * (1 - metric.alpha):g}% {kind}"
        text = f"{metric.name} lift {_signed(lift.lift_abs)}"
        if lift.lift_rel is not None:
            text += f" ({100 * lift.lift_rel:+.2f}%)"
        if lift.ci_low is not None:
            text += f" {level} [{_signed(lift.ci_low)}, {_signed(lift.ci_high)}]"
        parts = [text, f"p {fmt_pvalue(lift.pvalue)}"]
    parts.append(f"SRM p {fmt_pvalue(stats.validity.srm_pvalue)}")
    stage, following = stats.stage, stats.next_stage
    if following is None:
        parts.append("no stage given")
    elif stage is None:
        parts.append(f"next stage {following:g}%")
    else:
        parts.append(f"stage {stage:g}% -> {following:g}%")
    return ", ".join(parts)
