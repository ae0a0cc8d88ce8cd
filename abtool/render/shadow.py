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
from abtool.results.shadow import ShadowStats


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
            ("shadow error rate", fmt_rate(stats.shadow_error_rate)),
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
    for column, values in stats.segments.items():
        rows = [
            [
                "(null)" if v.value is None else str(v.value),
                f"{v.rows:,}",
                fmt_number(v.mean_abs_disagreement),
            ]
            for v in values
        ]
        blocks.append(
            Table(
                f"Segment disagreement by {column}",
                [column, "rows", "mean |primary - shadow|"],
                rows,
                frozenset({1, 2}),
            )
        )
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
