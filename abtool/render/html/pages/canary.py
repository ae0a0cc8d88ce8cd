"""Plots of the canary-decide page, each read from the report dictionary."""

from __future__ import annotations

from collections.abc import Iterator

from abtool.render.html.pages.common import MAX_BARS, Report, check, cut, roles
from abtool.render.html.plots import (
    Plot,
    Reference,
    band_line,
    bucket_series,
    forest,
    grouped_bars,
    line_series,
    ranked_bars,
)


def canary_metrics(report: Report) -> Plot | None:
    stats = report["stats"]
    metrics = [m for m in [stats.get("metric"), *stats.get("secondary_metrics", [])] if m]
    if not metrics:
        return None
    return forest(
        [m["name"] for m in metrics],
        [m["lift_rel"] for m in metrics],
        [m["rel_ci_low"] for m in metrics],
        [m["rel_ci_high"] for m in metrics],
        references=[Reference(0.0, "no change")],
        percent=True,
        key="metric_lifts",
        title="Relative lift per metric (primary first)",
        xlabel="treatment vs control",
    )


def canary_variants(report: Report) -> Iterator[Plot | None]:
    """Error rate and latency per variant; the treatment is highlighted when its check failed."""
    variants = report["stats"].get("variants")
    if not variants:
        return
    error_check = check(report, "error_rate")
    error_failed = error_check is not None and error_check["status"] == "fail"
    yield ranked_bars(
        [f"{v['name']} ({role})" for role, v in variants.items()],
        [v["error_rate"] for v in variants.values()],
        failing=[error_failed and role == "treatment" for role in variants],
        percent=True,
        key="variant_error_rate",
        title="Error rate per variant",
        xlabel="error rate",
    )
    yield grouped_bars(
        ["p50", "p99"],
        roles({v["name"]: v for v in variants.values()}, "latency_p50_ms", "latency_p99_ms"),
        key="variant_latency",
        title="Latency per variant",
        ylabel="ms",
    )


def canary_segments(report: Report) -> Iterator[Plot | None]:
    """Forest plot per segment column; entries with ``regression: true`` are highlighted."""
    for column, values in report["stats"].get("segments", {}).items():
        shown = values[:MAX_BARS]
        yield forest(
            ["(null)" if v["value"] is None else v["value"] for v in shown],
            [v["lift_rel"] for v in shown],
            [v["rel_ci_low"] for v in shown],
            [v["rel_ci_high"] for v in shown],
            failing=[bool(v.get("regression")) for v in shown],
            references=[Reference(0.0, "no change")],
            percent=True,
            key="segment_forest",
            title=f"Primary metric lift by {column}" + cut(values),
            xlabel="relative lift",
        )


def canary_lift_over_time(report: Report) -> Iterator[Plot | None]:
    """Reads ``stats.metric.timeline`` (cumulative) and ``stats.metric.daily`` (per bucket)."""
    metric = report["stats"].get("metric") or {}
    refs = [Reference(0.0, "no change")]
    if metric.get("margin") is not None:
        refs.append(Reference(-metric["margin"], "margin", "margin"))
    for name, cumulative in (("timeline", True), ("daily", False)):
        series = metric.get(name)
        if not series:
            continue
        kind = "cumulative lift" if cumulative else "lift per bucket (novelty)"
        yield band_line(
            series["start"],
            series["lift"],
            series["ci_low"],
            series["ci_high"],
            references=refs,
            band_label=series.get("interval", "confidence interval"),
            key="lift_over_time" if cumulative else "lift_per_bucket",
            title=f"{metric['name']}: {kind}",
            xlabel="time",
            ylabel="treatment - control",
        )


def canary_timeline(report: Report) -> Iterator[Plot | None]:
    """Reads ``stats.timeline``: per-variant error rate, p99, units, and the treatment share."""
    stats = report["stats"]
    timeline = stats.get("timeline")
    if not timeline:
        return
    start, flagged = timeline["start"], timeline.get("flagged_bucket")
    yield bucket_series(
        start, timeline.get("error_rate", {}), percent=True, highlight=flagged,
        key="error_rate_over_time", title="Error rate per variant over time", ylabel="error rate",
    )  # fmt: skip
    yield bucket_series(
        start, timeline.get("latency_p99_ms", {}), highlight=flagged,
        key="latency_over_time", title="p99 latency per variant over time", ylabel="p99 ms",
    )  # fmt: skip
    if "treatment_share" in timeline:
        yield line_series(
            start,
            {"treatment share of units (cumulative)": timeline["treatment_share"]},
            references=[Reference(stats["expected_treatment_share"], "expected", "expected")],
            percent=True,
            key="srm_over_time",
            title="Units per variant against the expected share",
            xlabel="time",
            ylabel="treatment share",
        )
