"""Real reports for the HTML tests: seeded simulated logs with hostile segment values.

``build_reports(folder)`` simulates small shadow, canary and interleaving logs, plants hostile
values in their segment columns and team names, runs every command (and a gate policy over
the logs) and returns each report's dictionary. Every report carries the time series and curves
its page plots (``docs/html-report.md``) itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

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
            full=reports,
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
