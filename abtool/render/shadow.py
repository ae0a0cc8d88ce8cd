"""Sections of the shadow report: summary, distributions, segments, latency, histogram."""

from __future__ import annotations

from typing import Any

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


def sections(report: dict[str, Any]) -> list[Block]:
    """Blocks of the shadow report, built only from its JSON dictionary."""
    stats = report["stats"]
    excluded = f"{stats['excluded_rows']:,}"
    if stats["excluded_reasons"]:
        excluded += (
            " ("
            + ", ".join(f"{n:,} {reason}" for reason, n in stats["excluded_reasons"].items())
            + ")"
        )
    summary = Facts(
        "Summary",
        [
            ("rows", f"{stats['rows']:,}"),
            ("excluded rows", excluded),
            ("time span", f"{stats['time_start']} → {stats['time_end']}"),
            ("duration", f"{stats['duration_hours']:.1f} h"),
            ("agreement rate", fmt_rate(stats["agreement_rate"])),
            ("mean |primary - shadow|", fmt_number(stats["mean_abs_disagreement"])),
            (
                "distribution shift",
                f"D = {fmt_number(stats['ks_statistic'])}, p = {fmt_pvalue(stats['ks_pvalue'])} "
                f"({stats['ks_method']})",
            ),
            ("shadow error rate", fmt_rate(stats["shadow_error_rate"])),
        ],
    )
    blocks: list[Block] = [summary]
    if "predictions" in stats:
        rows = [
            [role, *(fmt_number(s[k]) for k in ("n", "mean", "p5", "p50", "p95"))]
            for role, s in stats["predictions"].items()
        ]
        blocks.append(
            Table(
                "Predictions",
                ["model", "n", "mean", "p5", "p50", "p95"],
                rows,
                frozenset(range(1, 6)),
            )
        )
    if stats["latency"]:
        rows = [
            [role, *(fmt_number(q[k]) for k in ("p50_ms", "p95_ms", "p99_ms"))]
            for role, q in stats["latency"].items()
        ]
        blocks.append(
            Table("Latency (ms)", ["model", "p50", "p95", "p99"], rows, frozenset({1, 2, 3}))
        )
    for column, values in stats["segments"].items():
        rows = [
            [
                "(null)" if v["value"] is None else str(v["value"]),
                f"{v['rows']:,}",
                fmt_number(v["mean_abs_disagreement"]),
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
    if "histogram" in stats:
        edges = stats["histogram"]["edges"]
        labels = [f"{edges[i]:.3g}–{edges[i + 1]:.3g}" for i in range(len(edges) - 1)]
        chart = bar_chart(
            labels,
            {"primary": stats["histogram"]["primary"], "shadow": stats["histogram"]["shadow"]},
        )
        blocks.append(Preformatted("Prediction distributions", chart))
    if "labels" in stats:
        labels = stats["labels"]
        rows = [
            [value, f"{p:,}", f"{s:,}"]
            for value, p, s in zip(
                labels["values"], labels["primary"], labels["shadow"], strict=True
            )
        ]
        blocks.append(
            Table("Label counts", ["label", "primary", "shadow"], rows, frozenset({1, 2}))
        )
    return blocks
