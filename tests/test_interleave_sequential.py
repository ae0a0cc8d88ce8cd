"""interleave-report with always-valid inference: NO_GO as soon as A is significantly preferred,
GO only with enough decisive sessions, the interval is the confidence sequence of Δ."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from tests.helpers import write_parquet


def interleaving(path: Path, wins_a: int, wins_b: int, ties: int, seed: int = 0) -> Path:
    """Two-item sessions (A's item first, B's second), in shuffled session order."""
    outcomes = np.array(["A"] * wins_a + ["B"] * wins_b + ["T"] * ties)
    np.random.default_rng(seed).shuffle(outcomes)
    n = len(outcomes)
    return write_parquet(
        path,
        pl.DataFrame(
            {
                "session_id": np.repeat(np.arange(n), 2),
                "position": np.tile([1, 2], n),
                "item_id": [f"{team}{i}" for i in range(n) for team in ("a", "b")],
                "team": np.tile(["A", "B"], n),
                "clicked": np.column_stack([outcomes == "A", outcomes == "B"]).ravel(),
            }
        ),
    )


def test_a_preferred_is_no_go_whatever_the_session_count(run_cli, tmp_path):
    path = interleaving(tmp_path / "log.parquet", 754, 81, 71)
    result = run_cli("interleave-report", path, "-f", "json")
    assert result.exit_code == 1
    report = result.json()
    assert report["verdict"] == "NO_GO"
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["min_sessions"]["passed"] is False  # 835 decisive < 1,000
    assert checks["preference"]["consequence"] == "no_go"
    assert report["reasons"][0].startswith("A is preferred over B")
    # The fixed-horizon sign test agrees now, without waiting for the minimum either.
    fixed = run_cli("interleave-report", path, "--inference", "fixed")
    assert fixed.exit_code == 1


def test_interval_is_the_confidence_sequence_of_the_mean_session_score(run_cli, tmp_path):
    wins_a, wins_b, ties = 1_279, 1_414, 2_307
    path = interleaving(tmp_path / "log.parquet", wins_a, wins_b, ties)
    report = run_cli("interleave-report", path, "-f", "json").json()
    s = report["stats"]
    # Scores +1 (B), -1 (A), 0 (tie): Δ is half their mean, se half the mean's se (ddof 1).
    scores = np.r_[np.ones(wins_b), -np.ones(wins_a), np.zeros(ties)]
    n = len(scores)
    delta, se = scores.mean() / 2, scores.std(ddof=1) / math.sqrt(n) / 2
    rho2 = (-2 * math.log(0.05) + math.log(1 - 2 * math.log(0.05))) / 5000
    t = n * rho2 + 1
    hw = se * math.sqrt(n * 2 * t / (n * n * rho2) * math.log(math.sqrt(t) / 0.05))
    assert s["delta_ab"] == pytest.approx(delta, rel=1e-12)
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((delta - hw, delta + hw), rel=1e-9)
    assert s["inference"] == "sequential" and "confidence sequence" in s["interval"]
    assert s["bootstrap"] == 0
    # The sign test would say B (p = 0.0098); the always-valid test waits: HOLD.
    assert report["verdict"] == "HOLD"
    assert stats.binomtest(wins_b, wins_a + wins_b).pvalue < 0.05
    fixed = run_cli("interleave-report", path, "--inference", "fixed", "-f", "json").json()
    assert fixed["verdict"] == "GO" and fixed["stats"]["pvalue"] == pytest.approx(
        stats.binomtest(wins_b, wins_a + wins_b).pvalue, rel=1e-9
    )


def test_go_needs_the_minimum_and_significance(run_cli, tmp_path):
    small = interleaving(tmp_path / "small.parquet", 100, 400, 50)
    result = run_cli("interleave-report", small, "-f", "json")
    assert result.exit_code == 3
    report = result.json()
    assert report["reasons"][0].startswith("keep collecting: 500 decisive sessions")
    enough = run_cli("interleave-report", small, "-f", "json", "--config", _config(tmp_path))
    assert enough.exit_code == 0 and enough.json()["verdict"] == "GO"


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "thresholds.toml"
    path.write_text("[interleave]\nmin_sessions = 400\n")
    return path


def test_timeline_is_cumulative_in_session_order(run_cli, tmp_path):
    path = interleaving(tmp_path / "log.parquet", 300, 500, 200, seed=3)
    report = run_cli("interleave-report", path, "-f", "json").json()
    timeline = report["stats"]["timeline"]
    assert len(timeline["sessions"]) == 20 and timeline["sessions"][-1] == 1000
    assert timeline["delta_ab"][-1] == pytest.approx(report["stats"]["delta_ab"])
    assert timeline["ci_low"][-1] == pytest.approx(report["stats"]["ci_low"])
    # The point at 250 sessions: the first 250 session ids.
    log = pl.read_parquet(path)
    first = log.filter(pl.col("session_id") < 250)
    b = first.filter(pl.col("clicked") & (pl.col("team") == "B")).height
    a = first.filter(pl.col("clicked") & (pl.col("team") == "A")).height
    k = timeline["sessions"].index(250)
    assert timeline["delta_ab"][k] == pytest.approx((b - a) / 250 / 2)
