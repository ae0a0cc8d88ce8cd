"""The plots of each command's page, read from its report dictionary (the JSON contract).

Each command has a list of small builders ``(report) -> Plot | None`` (or an iterator of
them, for one plot per segment column); a builder returns None when its keys are absent, so
a plot appears as soon as the report carries its data. To add a plot, write a builder in the
command's module and append it to the command's list in :data:`PAGE_PLOTS`. Builders for keys
that reports do not carry yet (canary-decide's ``stats.timeline``, ...) are already here with
the shape they read; ``docs/html-report.md`` lists those shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from abtool.render.html.pages import bandit, canary, interleave, sample_size, shadow
from abtool.render.html.pages.common import Report
from abtool.render.html.plots import Plot

Builder = Callable[[Report], Plot | Iterator[Plot | None] | None]

PAGE_PLOTS: dict[str, list[Builder]] = {
    "shadow-report": [
        shadow.shadow_histogram,
        shadow.shadow_ecdf,
        shadow.shadow_latency,
        shadow.shadow_segments,
        shadow.shadow_timeline,
        shadow.shadow_labels,
    ],
    "canary-decide": [
        canary.canary_lift_over_time,
        canary.canary_metrics,
        canary.canary_timeline,
        canary.canary_variants,
        canary.canary_segments,
    ],
    "interleave-report": [interleave.interleave_timeline, interleave.interleave_positions],
    "sample-size": [sample_size.sample_size_sensitivity, sample_size.sample_size_curves],
    "bandit-report": [
        bandit.bandit_p_best,
        bandit.bandit_means,
        bandit.bandit_allocation,
        bandit.bandit_shares,
        bandit.bandit_replay,
    ],
}


def plots_for(report: Report) -> list[Plot]:
    """Every plot of ``report``'s page that its data allows, in page order."""
    plots: list[Plot] = []
    for builder in PAGE_PLOTS.get(report.get("command", ""), []):
        made = builder(report)
        items = made if isinstance(made, Iterator) else [made]
        plots += [plot for plot in items if plot is not None]
    return plots
