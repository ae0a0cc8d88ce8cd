"""Plots of the shadow-report page, each read from the report dictionary."""

from __future__ import annotations

from collections.abc import Iterator

from abtool.render.blocks import fmt_number
from abtool.render.html.pages.common import MAX_BARS, Report, check, cut, roles
from abtool.render.html.plots import (
    KsGap,
    Plot,
    Reference,
    bucket_series,
    ecdf_pair,
    grouped_bars,
    histogram_overlay,
    ranked_bars,
)


def shadow_histogram(report: Report) -> Plot | None:
    hist = report["stats"].get("histogram")
    if not hist:
        return None
    return histogram_overlay(
        hist["edges"],
        {"primary": hist["primary"], "shadow": hist["shadow"]},
        key="histogram",
        title="Prediction distributions",
        xlabel="prediction",
        caption="Counts per bin of both models' predictions on the same requests.",
    )


def shadow_ecdf(report: Report) -> Plot | None:
    """Reads ``stats.ecdf``: probabilities, per-model quantiles and the KS gap location."""
    stats = report["stats"]
    ecdf = stats.get("ecdf")
    if not ecdf:
        return None
    probabilities = ecdf["probabilities"]
    gap = None
    if ecdf.get("ks_x") is not None:
        gap = KsGap(
            ecdf["ks_x"],
            ecdf["ks_cdf_primary"],
            ecdf["ks_cdf_shadow"],
            f"KS D = {fmt_number(stats.get('ks_statistic'))}",
        )
    return ecdf_pair(
        {role: (ecdf[role], probabilities) for role in ("primary", "shadow")},
        gap=gap,
        key="ecdf",
        title="Empirical CDFs and the KS distance",
        xlabel="prediction",
        caption="The vermilion bar is where the two cumulative distributions differ most (D).",
    )


def shadow_latency(report: Report) -> Plot | None:
    latency = report["stats"].get("latency")
    if not latency:
        return None
    return grouped_bars(
        ["p50", "p95", "p99"],
        roles(latency, "p50_ms", "p95_ms", "p99_ms"),
        key="latency_quantiles",
        title="Latency quantiles per model",
        ylabel="ms",
    )


def shadow_segments(report: Report) -> Iterator[Plot | None]:
    """Disagreement per segment value; entries with ``failed: true`` are highlighted."""
    stats = report["stats"]
    overall = Reference(stats["mean_abs_disagreement"], "all rows", "zero")
    for column, values in stats.get("segments", {}).items():
        shown = values[:MAX_BARS]
        yield ranked_bars(
            ["(null)" if v["value"] is None else v["value"] for v in shown],
            [v["mean_abs_disagreement"] for v in shown],
            failing=[bool(v.get("failed")) for v in shown],
            references=[overall],
            key="segment_disagreement",
            title=f"Disagreement by {column}" + cut(values),
            xlabel="mean |primary - shadow|",
        )
        if all("agreement_rate" in v for v in shown):
            required = check(report, "segment_agreement") or check(report, "agreement_rate")
            refs = [Reference(required["threshold"], "required", "margin")] if required else []
            yield ranked_bars(
                ["(null)" if v["value"] is None else v["value"] for v in shown],
                [v["agreement_rate"] for v in shown],
                failing=[bool(v.get("failed")) for v in shown],
                references=refs,
                percent=True,
                key="segment_agreement",
                title=f"Agreement by {column}" + cut(values),
                xlabel="agreement rate",
            )


def shadow_timeline(report: Report) -> Iterator[Plot | None]:
    """Reads ``stats.timeline``: bucket starts, error rate and p99 per model per bucket."""
    timeline = report["stats"].get("timeline")
    if not timeline:
        return
    flagged = timeline.get("flagged_bucket")
    rates = {"shadow errors": timeline.get("shadow_error_rate") or []}
    if timeline.get("timeout_rate") is not None:
        rates["timeouts"] = timeline["timeout_rate"]
    yield bucket_series(
        timeline["start"],
        rates,
        kind="bar",
        highlight=flagged,
        percent=True,
        key="error_rate_over_time",
        title="Shadow error rate per time bucket",
        ylabel="error rate",
    )
    yield bucket_series(
        timeline["start"],
        timeline.get("latency_p99_ms", {}),
        highlight=flagged,
        key="latency_over_time",
        title="p99 latency per time bucket",
        ylabel="p99 ms",
    )


def shadow_labels(report: Report) -> Plot | None:
    labels = report["stats"].get("labels")
    if not labels:
        return None
    return grouped_bars(
        labels["values"],
        {"primary": labels["primary"], "shadow": labels["shadow"]},
        key="label_counts",
        title="Predicted label counts",
        ylabel="rows",
    )
