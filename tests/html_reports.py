"""Real reports for the HTML tests: seeded simulated logs with hostile segment values.

``build_reports(folder)`` simulates small shadow, canary and interleaving logs, plants hostile
values in their segment columns and team names, runs every command (and a gate policy over
the logs) and returns each report's dictionary. canary-decide and interleave-report carry
their time series themselves; ``with_time_series(reports, folder)`` adds the keys the other
pages will read (``docs/html-report.md``), computed here from the same logs, so those pages
can be checked with every plot they will have.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from statsmodels.stats.power import NormalIndPower

SCRIPT = "<script>alert(1)</script>"
QUOTES = "a|b \"double\" 'single' & <b>bold</b>"
CONTROL = "ctl\x07bell\x1b[31mred"
IMG = '<img src=x onerror="alert(2)">'
HOSTILE = (SCRIPT, QUOTES, CONTROL)
CONTROL_SHOWN = "ctl\\x07bell\\x1b[31mred"  # how a page shows CONTROL


_CACHE: dict[str, Any] = {}


def cached_reports(make_folder: Callable[[], Path]) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """(log folder, report dicts, report dicts with time series), built once per process."""
    if not _CACHE:
        folder = make_folder()
        results = build_reports(folder)
        reports = {name: result.to_dict() for name, result in results.items()}
        _CACHE.update(
            folder=folder,
            results=results,
            reports=reports,
            full=with_time_series(reports, folder),
        )
    return _CACHE["folder"], _CACHE["reports"], _CACHE["full"]


_PAGES: dict[tuple[str, bool], str] = {}


def rendered(name: str, full: bool = False) -> str:
    """The HTML page of a cached result (``full``: plots read the time-series keys too)."""
    from abtool.render import sections_for
    from abtool.render.html import render_html

    if (name, full) not in _PAGES:
        result = _CACHE["results"][name]
        report = _CACHE["full"][name] if full else None
        _PAGES[name, full] = render_html(
            result, sections_for(result.command)(result), report=report
        )
    return _PAGES[name, full]


def _simulate(kind: str, out: Path, *args: str) -> Path:
    from abtool.cli import main

    try:
        main(["simulate", kind, *args, "--out", str(out)])
    except SystemExit as done:
        assert done.code in (0, None), done.code
    return out


def _plant_hostile(path: Path) -> None:
    """Rename the three most frequent countries to hostile values (ranked segments show them)."""
    frame = pl.read_parquet(path)
    top = frame["country"].value_counts(sort=True)["country"].head(3).to_list()
    frame.with_columns(
        pl.col("country").replace(dict(zip(top, HOSTILE, strict=True)))
    ).write_parquet(path)


def build_reports(folder: Path) -> dict[str, Any]:
    """name -> result (a report or a gate run) of every page the tests look at."""
    import abtool
    from abtool.gate.policy import load_policy

    shadow_log = _simulate(
        "shadow", folder / "shadow.parquet", "--rows", "6000", "--hours", "30", "--seed", "3",
        "--bad-segment", "BR",
    )  # fmt: skip
    canary_log = _simulate(
        "canary", folder / "canary.parquet", "--users", "3000", "--stage", "50", "--seed", "5",
        "--click-lift", "0.15",
    )  # fmt: skip
    interleave_log = _simulate(
        "interleave", folder / "interleave.parquet", "--sessions", "3000", "--seed", "2"
    )
    _plant_hostile(shadow_log)
    _plant_hostile(canary_log)
    bandit_log = folder / "bandit.parquet"
    arms = {"v2": SCRIPT, "v3": QUOTES}  # hostile arm names reach labels, tables and JSON keys
    pl.read_parquet(
        Path(__file__).resolve().parents[1] / "sample_logs" / "bandit.parquet"
    ).with_columns(pl.col("model_variant").replace(arms)).write_parquet(bandit_log)
    policy = folder / "policy.toml"
    policy.write_text(
        f'[[gate]]\nname = "shadow {SCRIPT}"\nkind = "shadow"\npaths = ["{shadow_log}"]\n'
        'segment = ["country"]\n\n'
        f'[[gate]]\nname = "canary"\nkind = "canary"\npaths = ["{canary_log}"]\n'
        'metric = ["clicked"]\nstage = 50\n\n'
        f'[[gate]]\nname = "missing"\nkind = "shadow"\npaths = ["{folder / "absent.parquet"}"]\n'
    )
    return {
        "shadow": abtool.shadow_report(shadow_log, segment=["country", "device"]),
        "shadow_no_go": abtool.shadow_report(
            shadow_log, thresholds={"agreement_rate": 0.99, "duration": 48}
        ),
        "canary": abtool.canary_report(
            canary_log, metric=["clicked", "revenue"], segment=["country", "device"], stage=50
        ),
        "interleave": abtool.interleave_report(interleave_log, b_name=IMG, bootstrap=2000),
        "sample_size": abtool.sample_size_report(baseline=0.12, mde_rel=0.05, daily_units=5000),
        "bandit": abtool.bandit_report(
            bandit_log, replay=True, context=["feature_1", "feature_2"], draws=20_000
        ),
        "sample_size_interleaving": abtool.sample_size_report(kind="interleaving", win_rate=0.55),
        "gate": abtool.run_policy(load_policy(policy)),
    }


def _iso(values: pl.Series) -> list[str]:
    return [v.isoformat() for v in values.to_list()]


def shadow_ecdf(log: pl.DataFrame) -> dict[str, Any]:
    """Quantile points of both ECDFs and where they differ most (the two-sample KS D)."""
    data = log.drop_nulls(["primary_prediction", "shadow_prediction"]).filter(
        pl.col("primary_prediction").is_not_nan() & pl.col("shadow_prediction").is_not_nan()
    )
    a = np.sort(data["primary_prediction"].to_numpy())
    b = np.sort(data["shadow_prediction"].to_numpy())
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    at = int(np.argmax(np.abs(fa - fb)))
    probabilities = np.linspace(0, 1, 101)
    return {
        "probabilities": probabilities.tolist(),
        "primary": np.quantile(a, probabilities).tolist(),
        "shadow": np.quantile(b, probabilities).tolist(),
        "ks_x": float(grid[at]),
        "ks_cdf_primary": float(fa[at]),
        "ks_cdf_shadow": float(fb[at]),
    }


def _shadow_series(stats: dict[str, Any], log: pl.DataFrame) -> None:
    buckets = (
        log.sort("ts")
        .group_by_dynamic("ts", every="2h")
        .agg(
            pl.col("shadow_error").mean().alias("error_rate"),
            pl.col("primary_latency_ms").quantile(0.99).alias("p99_primary"),
            pl.col("shadow_latency_ms").quantile(0.99).alias("p99_shadow"),
        )
    )
    errors = buckets["error_rate"].to_list()
    stats["ecdf"] = shadow_ecdf(log)
    stats["timeline"] = {
        "start": _iso(buckets["ts"]),
        "shadow_error_rate": errors,
        "latency_p99_ms": {
            "primary": buckets["p99_primary"].to_list(),
            "shadow": buckets["p99_shadow"].to_list(),
        },
        "flagged_bucket": int(np.argmax(errors)),
    }
    for values in stats["segments"].values():
        for i, entry in enumerate(values):
            entry["agreement_rate"] = 0.95 - 0.02 * i
            entry["failed"] = entry["value"] == SCRIPT


def _sample_size_curves(plan: dict[str, Any]) -> None:
    solver = NormalIndPower()
    units = np.linspace(plan["n_total"] / 4, plan["n_total"] * 2, 12)
    power = solver.power(plan["effect_size"], nobs1=units / 2, alpha=plan["alpha"], ratio=1.0)
    days = np.array([7, 14, 21, 28, 42])
    h = np.array(
        [
            solver.solve_power(
                None, nobs1=d * plan["daily_units"] / 2, alpha=plan["alpha"], power=plan["power"]
            )
            for d in days
        ]
    )
    base = 2 * np.arcsin(np.sqrt(plan["baseline"]))
    mde = np.sin((h + base) / 2) ** 2 - plan["baseline"]  # Cohen's h back to a proportion
    plan["power_curve"] = {"units": units.tolist(), "power": list(power)}
    plan["mde_by_days"] = {"days": days.tolist(), "mde_abs": mde.tolist()}


def with_time_series(reports: dict[str, dict[str, Any]], folder: Path) -> dict[str, Any]:
    """Copies of the reports with the planned time-series keys added, from the same logs."""
    out = copy.deepcopy(reports)
    _shadow_series(out["shadow"]["stats"], pl.read_parquet(folder / "shadow.parquet"))
    _sample_size_curves(out["sample_size"]["stats"])
    return out
