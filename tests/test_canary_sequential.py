"""canary-decide's always-valid decisions end to end: intervals, harm, guardrails, HOLD gaps,
setup hints, segments, and the time series, through the CLI and the library."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import abtool
from abtool.simulate.canary import CanarySpec, canary_chunks
from abtool.simulate.writer import write_chunks
from tests.helpers import assert_one_line_error, write_parquet

BASE = {"users": 8_000, "requests_per_user": 3.0, "stage": 50.0, "seed": 11}


@pytest.fixture(scope="module")
def simulate(tmp_path_factory: pytest.TempPathFactory):
    cache: dict[tuple[tuple[str, Any], ...], Path] = {}

    def make(**changes: Any) -> Path:
        params = {**BASE, **changes}
        key = tuple(sorted(params.items()))
        if key not in cache:
            path = tmp_path_factory.mktemp("canary") / "log.parquet"
            write_chunks(canary_chunks(CanarySpec(**params)), path)
            cache[key] = path
        return cache[key]

    return make


def run(run_cli, path: Path, *args: str):
    result = run_cli(
        "canary-decide", path, "--metric", "clicked", "--stage", "50", "-f", "json", *args
    )
    return result, (result.json() if result.stdout else None)


def failed(report: dict[str, Any]) -> set[str]:
    return {c["id"] for c in report["checks"] if c["passed"] is False}


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["id"] == check_id)


def cs_halfwidth(se: float, n: float, alpha: float, tuning: float, two_sided: bool) -> float:
    """GrowthBook's sequential half-width (Waudby-Smith et al. 2023, eqs. 9, 134, 161)."""
    a = alpha if two_sided else 2 * alpha
    rho2 = (-2 * math.log(a) + math.log(1 - 2 * math.log(a))) / tuning
    t = n * rho2 + 1
    log_term = (
        math.log(math.sqrt(t) / alpha) if two_sided else math.log1p(math.sqrt(t) / (2 * alpha))
    )
    return se * math.sqrt(n * 2 * t / (n * n * rho2) * log_term)


def test_intervals_are_the_confidence_sequence_and_outputs_name_it(run_cli, simulate):
    path = simulate(click_lift=0.2)
    result, report = run(run_cli, path, "--tuning-units", "20000")
    assert result.exit_code in (0, 3)
    s = report["stats"]
    m = s["metric"]
    n = m["units"]["control"] + m["units"]["treatment"]
    hw = cs_halfwidth(m["se"], n, 0.05, 20_000, two_sided=True)
    assert m["ci_low"] == pytest.approx(m["lift_abs"] - hw, rel=1e-9)
    assert m["ci_high"] == pytest.approx(m["lift_abs"] + hw, rel=1e-9)
    # Always-valid two-sided p: sqrt(t) exp(-rho^2 S / (2 t)) with S = n (d / se)^2.
    rho2 = (-2 * math.log(0.05) + math.log(1 - 2 * math.log(0.05))) / 20_000
    t = n * rho2 + 1
    p = min(1.0, math.sqrt(t) * math.exp(-rho2 * n * (m["lift_abs"] / m["se"]) ** 2 / (2 * t)))
    assert m["pvalue"] == pytest.approx(p, rel=1e-9)
    lower = m["tests"]["superior"]["low"]
    assert lower == pytest.approx(m["lift_abs"] - cs_halfwidth(m["se"], n, 0.05, 20_000, False))
    assert s["inference"]["method"] == "sequential" and s["inference"]["tuning_units"] == 20_000
    assert "confidence sequence" in m["interval"]
    md = run_cli("canary-decide", path, "--metric", "clicked", "--stage", "50", "-f", "markdown")
    assert "confidence sequence" in md.stdout
    fixed = run_cli(
        "canary-decide", path, "--metric", "clicked", "--stage", "50", "--inference", "fixed",
        "-f", "markdown",
    )  # fmt: skip
    assert "fixed horizon" in fixed.stdout and "confidence sequence" not in fixed.stdout


def test_a_harmful_canary_rolls_back_before_the_minimum_sample(run_cli, simulate):
    path = simulate(users=1_400, click_lift=-0.5)
    result, report = run(run_cli, path)
    assert result.exit_code == 1 and report["verdict"] == "ROLLBACK"
    assert {"harm", "min_samples"} <= failed(report)  # fewer than 1,000 units a variant
    assert check(report, "harm")["consequence"] == "rollback"
    assert any(r.startswith("clicked significantly worse than control") for r in report["reasons"])
    assert report["stats"]["next_stage"] == 0


def test_harm_margin_and_alpha_split(run_cli, simulate):
    # A mildly worse candidate: harmful at margin 0, not beyond a 50% margin.
    path = simulate(users=20_000, click_lift=-0.15)
    _, strict = run(run_cli, path)
    assert "harm" in failed(strict)
    _, lenient = run(run_cli, path, "--nim", "0.5")
    assert "harm" not in failed(lenient)
    # Two metrics that can trigger ROLLBACK share alpha: each is tested at 0.05 / 2.
    _, both = run(run_cli, path, "--guardrail", "revenue")
    assert both["stats"]["inference"]["harm_metrics"] == 2
    assert both["stats"]["metric"]["tests"]["harmful"]["alpha"] == pytest.approx(0.025)


def test_guardrails_promote_hold_and_roll_back(run_cli, simulate):
    healthy = simulate(users=20_000, click_lift=0.3)
    result, report = run(run_cli, healthy, "--guardrail", "latency_ms:decrease:0.05")
    assert result.exit_code == 0, report["reasons"]
    guard = report["stats"]["guardrails"][0]
    assert guard["name"] == "latency_ms" and guard["tests"]["direction"] == "decrease"
    assert guard["tests"]["non_inferior"]["reject"]
    assert any("every guardrail shown non-inferior" in r for r in report["reasons"])
    # 30% slower on average: significantly worse beyond the 5% margin -> ROLLBACK, although
    # the p99 trigger (1.5x) does not fire.
    slow = simulate(users=20_000, click_lift=0.3, latency_factor=1.3)
    result, report = run(run_cli, slow, "--guardrail", "latency_ms:decrease:5%")
    assert result.exit_code == 1 and failed(report) == {"harm", "guardrails"}
    assert (
        "latency_ms significantly worse than control beyond its 0.05 margin"
        in (check(report, "harm")["message"])
    )
    # Too little data to show non-inferiority within 1%: HOLD on the guardrail.
    result, report = run(run_cli, healthy, "--guardrail", "latency_ms:decrease:0.001")
    assert result.exit_code == 3 and failed(report) == {"guardrails"}
    assert "latency_ms not yet shown non-inferior" in report["reasons"][0]


def test_guardrail_syntax_in_python_policy_and_errors(run_cli, simulate, tmp_path):
    path = simulate(users=20_000, click_lift=0.3)
    report = abtool.canary_report(
        path, metric=["clicked"], stage=50, guardrail=["latency_ms:decrease:0.05"]
    )
    assert report.stats.guardrails[0].tests is not None
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'[[gate]]\nname = "c"\nkind = "canary"\npaths = ["{path}"]\nmetric = ["clicked"]\n'
        'stage = 50\nguardrail = ["latency_ms:decrease:0.05", "revenue"]\n'
    )
    gate = run_cli("gate", policy, "-f", "json")
    assert gate.exit_code == 0, gate.stdout
    assert [g["name"] for g in gate.json()["gates"][0]["stats"]["guardrails"]] == [
        "latency_ms",
        "revenue",
    ]
    bad = tmp_path / "bad.toml"
    bad.write_text(policy.read_text().replace('"revenue"', '"revenue:up"'))
    result = run_cli("gate", bad)
    assert result.exit_code == 2 and "direction 'up'" in result.stderr
    assert_one_line_error(
        run_cli("canary-decide", path, "--guardrail", "latency_ms:down"), "--guardrail", "'down'"
    )
    assert_one_line_error(
        run_cli("canary-decide", path, "--guardrail", "latency_ms:decrease:-1"), "margin"
    )
    assert_one_line_error(
        run_cli("canary-decide", path, "--guardrail", "a", "--guardrail", "a:decrease"), "twice"
    )


def test_hold_says_what_is_missing(run_cli, simulate):
    path = simulate(users=4_000, click_lift=0.1)
    result, report = run(run_cli, path)
    assert result.exit_code == 3 and failed(report) == {"primary_metric"}
    gap = report["stats"]["metric"]["gap"]
    units = report["stats"]["metric"]["units"]
    assert gap["units"] == units["control"] + units["treatment"]
    assert gap["units_needed"] > gap["units"] and gap["more_days"] > 0
    waiting = [r for r in report["reasons"] if "detectable now" in r]
    assert len(waiting) == 1 and f"{gap['units_needed']:,} units in all" in waiting[0]
    # A planned effect instead of the observed one: a 50% lift is within reach sooner.
    _, planned = run(run_cli, path, "--mde-rel", "0.5")
    assert planned["stats"]["metric"]["gap"]["units_needed"] < gap["units_needed"]


def canary_frame(shares: dict[str, float], users: int = 4_000, seed: int = 0) -> pl.DataFrame:
    """One row per user; variant drawn with ``shares``; no effect."""
    rng = np.random.default_rng(seed)
    names = list(shares)
    variant = rng.choice(names, size=users, p=list(shares.values()))
    start = datetime(2025, 5, 1)
    return pl.DataFrame(
        {
            "user_id": np.arange(users),
            "model_variant": variant,
            "ts": [start + timedelta(seconds=int(s)) for s in rng.integers(0, 86_400, users)],
            "clicked": rng.uniform(size=users) < 0.1,
        }
    )


def test_control_is_the_larger_variant_of_a_small_stage(run_cli, tmp_path):
    path = write_parquet(tmp_path / "log.parquet", canary_frame({"prod": 0.95, "candidate": 0.05}))
    # By name, "candidate" sorts first and would be taken as control (a reversed lift).
    for args in (("--stage", "5"), ()):
        result = run_cli("canary-decide", path, "--metric", "clicked", *args, "-f", "json")
        report = result.json()
        assert report["stats"]["variants"]["control"]["name"] == "prod"
        assert any(
            "control 'prod' and treatment 'candidate' assumed" in w for w in report["warnings"]
        )
    even = write_parquet(tmp_path / "even.parquet", canary_frame({"b": 0.5, "a": 0.5}))
    report = run_cli("canary-decide", even, "-f", "json").json()
    assert report["stats"]["variants"]["control"]["name"] == "a"
    assert any("sort order of their names" in w for w in report["warnings"])
    named = run_cli("canary-decide", even, "--control", "b", "-f", "json").json()
    assert not any("assumed" in w for w in named["warnings"])


def test_a_stage_typed_as_a_fraction_or_missing_gets_a_hint(run_cli, tmp_path):
    path = write_parquet(tmp_path / "log.parquet", canary_frame({"v1": 0.95, "v2": 0.05}))
    result = run_cli("canary-decide", path, "--stage", "0.05", "-f", "json")
    report = result.json()
    assert result.exit_code == 3 and "srm" in failed(report)
    assert "did you mean --stage 5?" in check(report, "srm")["message"]
    assert any("did you mean --stage 5?" in w for w in report["warnings"])
    report = run_cli("canary-decide", path, "-f", "json").json()
    assert any("no --stage: did you mean --stage 5?" in w for w in report["warnings"])
    right = run_cli("canary-decide", path, "--stage", "5", "-f", "json").json()
    assert "srm" not in failed(right)
    assert not any("did you mean" in w for w in right["warnings"])


def test_top_segment_values(run_cli, simulate):
    path = simulate(click_lift=0.2)
    _, report = run(run_cli, path, "--segment", "country", "--top", "6")
    assert len(report["stats"]["segments"]["country"]) == 6
    assert check(report, "segment_regression")["status"] == "pass"


def test_cumulative_points_are_the_report_cut_there(run_cli, simulate):
    path = simulate(click_lift=0.2, hours=24.0)
    _, report = run(run_cli, path, "--metric", "revenue")
    m = report["stats"]["metric"]
    series = m["timeline"]
    assert len(series["start"]) == 24 and "confidence sequence" in series["interval"]
    assert series["lift"][-1] == pytest.approx(m["lift_abs"], rel=1e-9)
    assert series["ci_low"][-1] == pytest.approx(m["ci_low"], rel=1e-9)
    k = 9
    until = datetime.fromisoformat(series["start"][k + 1]).strftime("%Y-%m-%dT%H:%M:%S")
    _, cut = run(run_cli, path, "--until", until)
    c = cut["stats"]["metric"]
    assert series["units"][k] == c["units"]["control"] + c["units"]["treatment"]
    assert series["lift"][k] == pytest.approx(c["lift_abs"], rel=1e-9)
    assert (series["ci_low"][k], series["ci_high"][k]) == pytest.approx(
        (c["ci_low"], c["ci_high"]), rel=1e-9
    )
    assert m["daily"]["units"][0] == series["units"][0]


def test_health_timeline_matches_the_log(run_cli, simulate):
    path = simulate(click_lift=0.2, treatment_error_rate=0.05)
    result, report = run(run_cli, path)
    assert result.exit_code == 1 and "error_rate" in failed(report)
    timeline = report["stats"]["timeline"]
    log = pl.read_parquet(path).with_columns(pl.col("ts").dt.truncate("1h").alias("hour"))
    for name in ("v1", "v2"):
        per = log.filter(pl.col("model_variant") == name).group_by("hour").agg(
            pl.len().alias("n"),
            pl.col("error").mean().alias("rate"),
            pl.col("latency_ms").quantile(0.99, "linear").alias("p99"),
        ).sort("hour")  # fmt: skip
        assert timeline["requests"][name] == per["n"].to_list()
        assert timeline["error_rate"][name] == pytest.approx(per["rate"].to_list(), rel=1e-12)
        assert timeline["latency_p99_ms"][name] == pytest.approx(per["p99"].to_list(), rel=1e-12)
    firsts = log.group_by("user_id").agg(pl.col("hour").min(), pl.col("model_variant").first())
    treated = firsts.filter(pl.col("model_variant") == "v2").height
    assert timeline["treatment_share"][-1] == pytest.approx(treated / firsts.height)
    assert timeline["flagged_bucket"] is not None


def novelty_frame(days: int, early_lift: float, seed: int = 3) -> pl.DataFrame:
    """Daily visits of 6,000 users over ``days`` days; treatment clicks more on days 1-2 only."""
    rng = np.random.default_rng(seed)
    users = 6_000
    treated = rng.uniform(size=users) < 0.5
    rows_user, rows_day = np.nonzero(rng.uniform(size=(users, days)) < 0.5)
    p = np.where(treated[rows_user] & (rows_day < 2), 0.1 * (1 + early_lift), 0.1)
    start = datetime(2025, 5, 1)
    return pl.DataFrame(
        {
            "user_id": rows_user,
            "model_variant": np.where(treated[rows_user], "v2", "v1"),
            "ts": [start + timedelta(days=int(d), hours=12) for d in rows_day],
            "clicked": rng.uniform(size=len(rows_user)) < p,
        }
    )


def test_novelty_is_a_warning_with_per_day_lifts():
    frame = novelty_frame(8, early_lift=0.6)
    report = abtool.canary_report(frame, metric=["clicked"], stage=50, control="v1")
    novelty = report.check("novelty")
    assert novelty.passed is False and novelty.advisory
    daily = report.stats.metric.daily
    assert daily is not None and len(daily.start) == 8
    assert daily.lift[0] > daily.lift[-1]
    assert any("novelty or primacy" in w for w in report.warnings)
    steady = abtool.canary_report(
        novelty_frame(8, early_lift=0.0), metric=["clicked"], stage=50, control="v1"
    )
    assert steady.check("novelty").passed is True
    short = abtool.canary_report(frame, metric=["clicked"], stage=50, control="v1", bucket="hour")
    assert short.check("novelty").passed is None


def test_bucket_none_skips_the_series_and_day_buckets_from_36_hours(run_cli, simulate):
    path = simulate(click_lift=0.2, hours=40.0)
    _, report = run(run_cli, path)
    assert report["stats"]["timeline"]["bucket"] == "day"
    assert len(report["stats"]["metric"]["timeline"]["start"]) in (2, 3)
    _, bare = run(run_cli, path, "--bucket", "none")
    assert "timeline" not in bare["stats"] and "timeline" not in bare["stats"]["metric"]
    assert bare["stats"]["metric"]["lift_abs"] == report["stats"]["metric"]["lift_abs"]
