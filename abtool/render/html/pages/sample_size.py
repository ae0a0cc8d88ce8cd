"""Plots of the sample-size page, each read from the report dictionary."""

from __future__ import annotations

from collections.abc import Iterator

from abtool.render.html.pages.common import Report
from abtool.render.html.plots import (
    Plot,
    Reference,
    line_series,
)


def sample_size_sensitivity(report: Report) -> Iterator[Plot | None]:
    stats = report["stats"]
    rows = stats.get("sensitivity") or []
    interleaving = stats["kind"] == "interleaving"
    x_key = "win_rate" if interleaving else "mde_abs"
    x = [row[x_key] for row in rows]
    planned = stats.get(x_key)
    refs = [Reference(planned, "this plan", "expected", axis="x")] if planned is not None else []
    xlabel = "win rate of the new ranker" if interleaving else "MDE (absolute)"
    yield line_series(
        x,
        {"sessions in all" if interleaving else "units in all": [r["n_total"] for r in rows]},
        references=refs,
        key="n_against_mde",
        title="Sample size against the effect to detect",
        xlabel=xlabel,
        ylabel="units",
    )
    if rows and all("days" in r for r in rows):
        yield line_series(
            x,
            {"days": [r["days"] for r in rows]},
            references=refs,
            key="days_against_mde",
            title="Days against the effect to detect",
            xlabel=xlabel,
            ylabel="days",
        )


def sample_size_curves(report: Report) -> Iterator[Plot | None]:
    """Reads ``stats.power_curve`` {units, power} and ``stats.mde_by_days`` {days, mde_abs}."""
    stats = report["stats"]
    curve = stats.get("power_curve")
    if curve:
        refs = [Reference(stats["power"], "target power", "margin")]
        if stats.get("n_total") is not None:
            refs.append(Reference(stats["n_total"], "this plan", "expected", axis="x"))
        yield line_series(
            curve["units"], {"power": curve["power"]}, references=refs,
            key="power_against_units", title="Power against units",
            xlabel="units in all", ylabel="power",
        )  # fmt: skip
    by_days = stats.get("mde_by_days")
    if by_days:
        yield line_series(
            by_days["days"], {"MDE (absolute)": by_days["mde_abs"]},
            key="mde_against_days", title="Detectable effect against days",
            xlabel="days", ylabel="MDE (absolute)",
        )  # fmt: skip
