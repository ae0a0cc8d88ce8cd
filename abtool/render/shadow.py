"""Sections of the shadow report: summary, distributions, segments, latency, histogram."""

from __future__ import annotations

from abtool.render.blocks import (
    Block,
    Facts,
    Preformatted,
    Table,
    bar_chart,
    fmt_number,
    fmt_pvalue,
    fmt_rate,
)
from abtool.reports.result import Report
from abtool.results.shadow import ShadowStats, Timeline


def _time(value: object) -> str:
    return "None" if value is None else value.isoformat()  # type: ignore[attr-defined]


def sections(report: Report[ShadowStats]) -> list[Block]:
    """Blocks of the shadow report, built from its statistics."""
    stats = report.stats
    excluded = f"{stats.excluded_rows:,}"
    if stats.excluded_reasons:
        excluded += (
            " ("
            + ", ".join(f"{n:,} {reason}" for reason, n in stats.excluded_reasons.items())
            + ")"
        )
    summary = Facts(
        "Summary",
        [
            ("rows", f"{stats.rows:,}"),
            ("excluded rows", excluded),
            ("time span", f"{_time(stats.time_start)} → {_time(stats.time_end)}"),
            ("duration", f"{stats.duration_hours:.1f} h"),
            ("agreement rate", fmt_rate(stats.agreement_rate)),
            ("mean |primary - shadow|", fmt_number(stats.mean_abs_disagreement)),
            (
                "distribution shift",
                f"D = {fmt_number(stats.ks_statistic)}, p = {fmt_pvalue(stats.ks_pvalue)} "
                f"({stats.ks_method})",
            ),
            ("population stability", f"PSI = {fmt_number(stats.psi)} ({stats.psi_reading})"),
            ("shadow error rate", fmt_rate(stats.shadow_error_rate)),
            *_optional_facts(stats),
        ],
    )
    blocks: list[Block] = [summary]
    if stats.predictions is not None:
        rows = [
            [role, *(fmt_number(v) for v in (s.n, s.mean, s.p5, s.p50, s.p95))]
            for role, s in stats.predictions.items()
        ]
        blocks.append(
            Table(
                "Predictions",
                ["model", "n", "mean", "p5", "p50", "p95"],
                rows,
                frozenset(range(1, 6)),
            )
        )
    if stats.latency:
        rows = [
            [role, *(fmt_number(v) for v in (q.p50_ms, q.p95_ms, q.p99_ms))]
            for role, q in stats.latency.items()
        ]
        blocks.append(
            Table("Latency (ms)", ["model", "p50", "p95", "p99"], rows, frozenset({1, 2, 3}))
        )
    distance = "KS D" if stats.prediction_kind == "score" else "label distance"
    for column, values in stats.segments.items():
        rows = [
            [
                "(null)" if v.value is None else str(v.value),
                f"{v.rows:,}",
                fmt_rate(v.agreement_rate),
                fmt_number(v.mean_abs_disagreement),
                fmt_number(v.ks_statistic),
                "✗ fails" if v.failed else "",
            ]
            for v in values
        ]
        blocks.append(
            Table(
                f"Segment disagreement by {column}",
                [column, "rows", "agreement", "mean |primary - shadow|", distance, ""],
                rows,
                frozenset({1, 2, 3, 4}),
            )
        )
    if stats.timeline is not None:
        blocks += _flagged_buckets(stats.timeline)
    if stats.histogram is not None:
        edges = stats.histogram.edges
        labels = [f"{edges[i]:.3g}–{edges[i + 1]:.3g}" for i in range(len(edges) - 1)]
        chart = bar_chart(
            labels, {"primary": stats.histogram.primary, "shadow": stats.histogram.shadow}
        )
        blocks.append(Preformatted("Prediction distributions", chart))
    if stats.labels is not None:
        counts = stats.labels
        rows = [
            [value, f"{p:,}", f"{s:,}"]
            for value, p, s in zip(counts.values, counts.primary, counts.shadow, strict=True)
        ]
        blocks.append(
            Table("Label counts", ["label", "primary", "shadow"], rows, frozenset({1, 2}))
        )
    return blocks


def _optional_facts(stats: ShadowStats) -> list[tuple[str, str]]:
    facts = []
    if stats.timeout_rate is not None:
        facts.append(("shadow timeout rate", fmt_rate(stats.timeout_rate)))
    if stats.prediction_range is not None:
        r = stats.prediction_range
        facts.append(
            (f"outside [{r.low:g}, {r.high:g}]", f"{fmt_rate(r.share)} ({r.outside:,} scores)")
        )
    facts.append(
        (
            "segment values tested",
            f"{stats.segments_tested:,} ({stats.segments_failed:,} failing)",
        )
    )
    return facts


def _flagged_buckets(timeline: Timeline) -> list[Block]:
    """The time buckets that failed a spike check (none: no table)."""
    failing = sorted(set(timeline.error_spike_buckets) | set(timeline.latency_spike_buckets))
    if not failing:
        return []
    p99 = timeline.latency_p99_ms.get("shadow")
    rows = [
        [
            f"{timeline.start[i]:%Y-%m-%d %H:%M} UTC",
            f"{timeline.requests[i]:,}",
            fmt_rate(timeline.shadow_error_rate[i]),
            fmt_rate(timeline.timeout_rate[i]) if timeline.timeout_rate is not None else "n/a",
            fmt_number(p99[i]) if p99 is not None else "n/a",
        ]
        for i in failing
    ]
    return [
        Table(
            f"Time buckets ({timeline.bucket}) that spiked",
            ["bucket start", "requests", "shadow errors", "timeouts", "shadow p99 ms"],
            rows,
            frozenset({1, 2, 3, 4}),
        )
    ]


def key_figures(report: Report[ShadowStats]) -> str:
    """The headline numbers of a shadow report, for the gate table."""
    stats = report.stats
    parts = [
        f"agreement {fmt_rate(stats.agreement_rate)}",
        f"KS D {fmt_number(stats.ks_statistic)}",
    ]
    latency = report.check("latency_p99").value
    if latency is not None:
        parts.append(f"p99 {latency:.2f}x")
    if stats.shadow_error_rate is not None:
        parts.append(f"errors {fmt_rate(stats.shadow_error_rate)}")
    parts.append(f"{stats.duration_hours:.1f} h")
    parts.append(f"{fmt_number(stats.rows)} rows")
    return ", ".join(parts)
