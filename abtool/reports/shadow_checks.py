"""shadow-report's checklist: each check from the statistics, and the reasons of a verdict."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from abtool.commands.shadow import SPEC, ShadowColumns, ShadowOptions, ShadowThresholds
from abtool.reports.result import Check, Consequence, failing_messages
from abtool.reports.shadow_figures import SegmentFinding, SpikeFindings
from abtool.reports.shadow_scores import BOUNDS_METHOD
from abtool.results.shadow import ShadowStats

NAMED = 5  # failing segment values named in a message before "and N more"
SKIPPED = "skipped: "


def _buckets(n: int) -> str:
    return f"{n:,} bucket{'' if n == 1 else 's'}"


def _p(value: float) -> str:
    return "< 1e-300" if value < 1e-300 else f"= {value:.2g}"


def skipped(check_id: str, limit: float, why: str) -> Check:
    return SPEC.make_check(check_id, None, None, limit, SKIPPED + why)


def duration_check(stats: ShadowStats, limits: ShadowThresholds) -> Check:
    """At least ``duration`` hours, less the gaps the first and last request may leave."""
    hours, limit, slack = stats.duration_hours, limits.duration, stats.duration_tolerance_hours
    message = f"shadow ran {hours:.1f} h (need >= {limit:g} h)"
    if limit - slack <= hours < limit:
        message = (
            f"shadow ran {hours:.1f} h (need >= {limit:g} h; the first and last requests are "
            f"{hours:.4f} h apart, within {slack * 3600:.3g} s, two mean gaps between "
            "requests, of it)"
        )
    return SPEC.make_check("duration", hours >= limit - slack, hours, limit, message)


def segment_check(
    findings: Sequence[SegmentFinding],
    columns: Sequence[str],
    limits: ShadowThresholds,
    options: ShadowOptions,
) -> Check:
    floor = limits.segment_agreement
    if not columns:
        return skipped("segment_agreement", floor, "no segment column")
    if not findings:
        return skipped(
            "segment_agreement",
            floor,
            f"no segment value has >= {options.min_segment_rows} compared rows",
        )
    failing = sorted((f for f in findings if f.test.failed), key=lambda f: f.test.agreement_rate)
    worst = failing[0] if failing else min(findings, key=lambda f: f.test.agreement_rate)
    value = worst.test.agreement_rate
    tested = f"{len(findings)} value{'s' if len(findings) > 1 else ''} tested"
    if not failing:
        return SPEC.make_check(
            "segment_agreement",
            True,
            value,
            floor,
            f"no segment value's agreement is significantly and materially below the rest "
            f"({tested}; lowest {worst.label} {value:.2%})",
        )
    named = ", ".join(
        f"{f.label} {f.test.agreement_rate:.2%} vs {f.test.rest_agreement_rate:.2%} in the "
        f"rest (Holm p {_p(f.test.adjusted_pvalue)})"
        for f in failing[:NAMED]
    )
    more = f" and {len(failing) - NAMED} more" if len(failing) > NAMED else ""
    gap = limits.segment_agreement_gap * 100
    return SPEC.make_check(
        "segment_agreement",
        False,
        value,
        floor,
        f"agreement too low in {named}{more}; a value fails when significantly below the "
        f"rest (alpha {limits.segment_agreement_alpha:g}) and under {floor:.0%} or {gap:g} "
        f"points below it ({tested})",
    )


def distribution_check(stats: ShadowStats, limits: ShadowThresholds, mode: str) -> Check:
    d = stats.ks_statistic
    if stats.shift_measure == "psi":
        limit = limits.distribution_shift_psi
        ks_text = f"KS D {d:.4f}" if d is not None else "KS D " + _bounds_text(stats)
        return SPEC.make_check(
            "distribution_shift",
            stats.psi <= limit,
            stats.psi,
            limit,
            f"PSI {stats.psi:.4f} ({stats.psi_reading}) between primary and shadow "
            f"(need <= {limit:g}; {ks_text}, not gated)",
        )
    limit = limits.distribution_shift
    if d is None:  # --ks approximate: bounds that decide the check
        assert stats.ks_bounds is not None
        low, high = stats.ks_bounds
        passed = high <= limit
        return SPEC.make_check(
            "distribution_shift",
            passed,
            high if passed else low,
            limit,
            f"KS D {_bounds_text(stats)} between primary and shadow (need <= {limit:g}; "
            f"{BOUNDS_METHOD})",
        )
    what = "KS D" if mode == "score" else "label distance"
    return SPEC.make_check(
        "distribution_shift",
        d <= limit,
        d,
        limit,
        f"{what} {d:.4f} between primary and shadow (need <= {limit:g};"
        f" p = {stats.ks_pvalue:.3g}, not gated)",
    )


def _bounds_text(stats: ShadowStats) -> str:
    assert stats.ks_bounds is not None
    low, high = stats.ks_bounds
    return f"between {low:.4f} and {high:.4f}"


def range_check(stats: ShadowStats, limits: ShadowThresholds) -> Check:
    limit = limits.prediction_range
    found = stats.prediction_range
    if stats.prediction_kind == "label":
        return skipped("prediction_range", limit, "class labels have no range")
    if found is None:
        return skipped("prediction_range", limit, "no --expected-range given")
    return SPEC.make_check(
        "prediction_range",
        found.share <= limit,
        found.share,
        limit,
        f"{found.share:.3%} of shadow scores ({found.outside:,} of {found.scored:,}) outside "
        f"[{found.low:g}, {found.high:g}] (need <= {limit:.3%})",
    )


def error_rate_check(stats: ShadowStats, limits: ShadowThresholds, columns: ShadowColumns) -> Check:
    rate, limit = stats.shadow_error_rate, limits.shadow_error_rate
    if rate is None:
        return skipped("shadow_error_rate", limit, f"no '{columns.shadow_error}' column")
    return SPEC.make_check(
        "shadow_error_rate",
        rate <= limit,
        rate,
        limit,
        f"shadow error rate {rate:.2%} (need <= {limit:.2%})",
    )


def _bucket_name(start: datetime, bucket: str) -> str:
    return f"the {bucket} bucket at {start:%Y-%m-%d %H:%M} UTC"


def error_spike_check(
    stats: ShadowStats, spikes: SpikeFindings, limits: ShadowThresholds, columns: ShadowColumns
) -> Check:
    ratio = limits.error_spike
    timeline = stats.timeline
    if stats.shadow_errors is None and stats.timeouts is None:
        return skipped(
            "error_spike",
            ratio,
            f"no '{columns.shadow_error}' column and no --timeout-ms/--timeout-error",
        )
    if timeline is None or len(timeline.start) < 2:
        return skipped("error_spike", ratio, "the log fills fewer than two time buckets")
    worst = spikes.worst_rate()
    assert worst is not None
    kind, spike = worst
    what = "shadow errors" if kind == "errors" else "timeouts"
    overall = spike.rate / spike.ratio if spike.ratio == spike.ratio and spike.ratio else 0.0
    where = _bucket_name(timeline.start[spike.index], timeline.bucket)
    failing = len(spikes.failing_rates())
    tests = sum(len(found) for found in spikes.rates.values())
    detail = (
        f"{what} {spike.rate:.2%} of {spike.requests:,} requests in {where} vs {overall:.2%} "
        f"overall"
    )
    if spike.failed:
        return SPEC.make_check(
            "error_spike",
            False,
            spike.ratio,
            ratio,
            f"{detail} ({spike.ratio:.1f}x; binomial p {_p(spike.pvalue)}, Bonferroni over "
            f"{tests} tests); {failing} failed (a bucket fails at >= {ratio:g}x "
            f"the log's rate, above {limits.error_spike_floor:.0%} and significant at "
            f"{limits.error_spike_alpha:g})",
        )
    if spike.rate <= limits.error_spike_floor:
        why = f"within the {limits.error_spike_floor:.0%} floor"
    elif spike.adjusted_pvalue > limits.error_spike_alpha:
        why = f"not significant: Bonferroni p {_p(spike.adjusted_pvalue)}"
    else:
        why = f"under {ratio:g}x the log"
    # The value is the highest ratio among buckets both above the floor and significant (the
    # only ones the ratio can fail), so a passing check never shows a value over its limit.
    eligible = [
        s.ratio
        for found in spikes.rates.values()
        for s in found
        if s.rate > limits.error_spike_floor and s.adjusted_pvalue <= limits.error_spike_alpha
    ]
    return SPEC.make_check(
        "error_spike",
        True,
        max(eligible) if eligible else None,
        ratio,
        f"no time bucket spikes; highest rate: {detail} ({why})",
    )


def latency_checks(
    stats: ShadowStats, spikes: SpikeFindings, limits: ShadowThresholds, columns: ShadowColumns
) -> list[Check]:
    latency = stats.latency
    checks = []
    if "primary" in latency and "shadow" in latency:
        base, cand = latency["primary"].p99_ms, latency["shadow"].p99_ms
        ratio = cand / base if base > 0 else (1.0 if cand == 0 else float("inf"))
        checks.append(
            SPEC.make_check(
                "latency_p99",
                ratio <= limits.latency_p99,
                ratio,
                limits.latency_p99,
                f"shadow p99 {cand:.1f} ms = {ratio:.2f}x primary p99 {base:.1f} ms "
                f"(need <= {limits.latency_p99:g}x)",
            )
        )
    else:
        checks.append(
            skipped(
                "latency_p99",
                limits.latency_p99,
                f"needs '{columns.primary_latency}' and '{columns.shadow_latency}'",
            )
        )
    checks.append(_latency_spike(stats, spikes, limits, columns))
    return checks


def _latency_spike(
    stats: ShadowStats, spikes: SpikeFindings, limits: ShadowThresholds, columns: ShadowColumns
) -> Check:
    ratio, least = limits.latency_spike, limits.latency_spike_min_requests
    timeline = stats.timeline
    if "shadow" not in stats.latency:
        return skipped("latency_spike", ratio, f"no '{columns.shadow_latency}' column")
    if timeline is None or len(timeline.start) < 2:
        return skipped("latency_spike", ratio, "the log fills fewer than two time buckets")
    if not spikes.latency:
        return skipped("latency_spike", ratio, f"no time bucket has >= {least:,} requests")
    failing = [s for s in spikes.latency if s.failed]
    worst = max(failing or spikes.latency, key=lambda s: s.value)
    typical = worst.value / worst.ratio if worst.ratio else float("nan")
    where = _bucket_name(timeline.start[worst.index], timeline.bucket)
    detail = (
        f"shadow p99 {worst.value:.1f} ms in {where} = {worst.ratio:.2f}x the median "
        f"bucket's {typical:.1f} ms"
    )
    if failing:
        return SPEC.make_check(
            "latency_spike",
            False,
            worst.ratio,
            ratio,
            f"{detail}; {len(failing)} of {_buckets(len(spikes.latency))} with >= {least:,} "
            f"requests failed (a bucket fails at >= {ratio:g}x the median bucket's p99)",
        )
    return SPEC.make_check(
        "latency_spike",
        True,
        worst.ratio,
        ratio,
        f"no time bucket spikes; highest: {detail} ({_buckets(len(spikes.latency))} with "
        f">= {least:,} requests)",
    )


def reasons(checks: Sequence[Check]) -> list[str]:
    """The failing checks' messages; never "every check passed" when some were skipped."""
    found = failing_messages(checks, *Consequence)
    missed = [c for c in checks if c.passed is None]
    if not found:
        evaluated = len(checks) - len(missed)
        found = [f"all {evaluated} evaluated checks passed" if missed else "every check passed"]
    if missed:
        why = "; ".join(f"{c.id}: {c.message.removeprefix(SKIPPED)}" for c in missed)
        found.append(f"{len(missed)} check{'s' if len(missed) > 1 else ''} skipped ({why})")
    return found
