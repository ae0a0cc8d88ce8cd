"""Plots of the interleave-report page, each read from the report dictionary."""

from __future__ import annotations

from abtool.render.html.pages.common import MAX_POSITIONS, Report
from abtool.render.html.plots import (
    Plot,
    Reference,
    band_line,
    line_series,
)


def interleave_positions(report: Report) -> Plot | None:
    stats = report["stats"]
    positions = stats.get("ctr_by_position", [])[:MAX_POSITIONS]
    teams = stats["teams"]
    return line_series(
        [p["position"] for p in positions],
        {
            teams["a"]["name"]: [p["ctr_a"] for p in positions],
            teams["b"]["name"]: [p["ctr_b"] for p in positions],
        },
        percent=True,
        key="ctr_by_position",
        title="Click-through by position per team",
        xlabel="position",
        ylabel="CTR",
    )


def interleave_timeline(report: Report) -> Plot | None:
    """Reads ``stats.timeline``: cumulative Δ preference and its interval per step.

    Steps are time buckets (``start``) when the log has a time column, else cumulative
    session counts (``sessions``).
    """
    stats = report["stats"]
    timeline = stats.get("timeline")
    if not timeline:
        return None
    by_time = "start" in timeline
    return band_line(
        timeline["start"] if by_time else timeline["sessions"],
        timeline["delta_ab"],
        timeline["ci_low"],
        timeline["ci_high"],
        references=[Reference(0.0, "no preference")],
        label="Δ preference",
        band_label=f"{100 * stats.get('confidence', 0.95):g}% interval",
        key="preference_over_time",
        title=f"Cumulative Δ preference for {stats['teams']['b']['name']}",
        xlabel="time" if by_time else "sessions",
        ylabel="Δ preference",
    )
