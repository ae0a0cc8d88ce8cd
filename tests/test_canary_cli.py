"""canary-decide end to end: verdicts, exit codes, figures pinned against scipy on the same log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from abtool.simulate.canary import CanarySpec, canary_chunks
from abtool.simulate.writer import write_chunks
from tests.helpers import write_parquet

BASE = {"users": 10_000, "requests_per_user": 3.0, "stage": 20.0, "seed": 5}


@pytest.fixture(scope="module")
def simulate(tmp_path_factory: pytest.TempPathFactory):
    """Write a simulated canary log once per parameter set."""
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


def decide(run_cli, path: Path, *args: str):
    result = run_cli(
        "canary-decide", path, "--metric", "clicked", "--stage", "20", "-f", "json", *args
    )
    return result, (result.json() if result.stdout else None)


def failed(report: dict[str, Any]) -> set[str]:
    return {c["id"] for c in report["checks"] if c["passed"] is False}


def test_healthy_lift_promotes_to_next_stage(run_cli, simulate):
    result, report = decide(run_cli, simulate(click_lift=0.3))
    assert result.exit_code == 0, result.stderr
    assert report["verdict"] == "PROMOTE"
    assert report["stats"]["next_stage"] == 50
    assert failed(report) == set()
    metric = report["stats"]["metric"]
    assert metric["lift_abs"] > 0 and metric["pvalue"] < 0.05
    assert metric["ci_low"] > 0
    assert metric["method"].startswith("delta method")
    assert any("promote from 20% to 50%" in r for r in report["reasons"])


def test_json_figures_match_scipy_on_the_same_log(run_cli, simulate):
    path = simulate(click_lift=0.3)
    # The fixed-horizon z-test: its CIs and p-values are pinned here (the sequential ones in
    # tests/test_canary_sequential.py).
    result, report = decide(run_cli, path, "--metric", "revenue", "--inference", "fixed")
    assert result.exit_code == 0
    log = pl.read_parquet(path)
    s = report["stats"]
    roles = {"control": "v1", "treatment": "v2"}
    for role, name in roles.items():
        rows = log.filter(pl.col("model_variant") == name)
        v = s["variants"][role]
        assert v["name"] == name and v["requests"] == rows.height
        assert v["units"] == rows["user_id"].n_unique()
        assert v["error_rate"] == pytest.approx(rows["error"].mean(), rel=1e-12)
        assert v["latency_p99_ms"] == pytest.approx(np.quantile(rows["latency_ms"], 0.99))
        assert v["prediction_mean"] == pytest.approx(rows["prediction"].mean(), rel=1e-12)
    users = log.group_by("user_id", "model_variant").agg(
        pl.len().alias("y"), pl.col("clicked").sum().alias("x"), pl.col("revenue").sum().alias("r")
    )
    c = users.filter(pl.col("model_variant") == "v1")
    t = users.filter(pl.col("model_variant") == "v2")

    # Primary metric: delta method reproduced through the linearization x - R y per user.
    def ratio_and_var(g: pl.DataFrame, col: str) -> tuple[float, float]:
        x, y = g[col].to_numpy().astype(float), g["y"].to_numpy().astype(float)
        r = x.sum() / y.sum()
        return r, np.var(x - r * y, ddof=1) / (len(x) * y.mean() ** 2)

    (rc, vc), (rt, vt) = ratio_and_var(c, "x"), ratio_and_var(t, "x")
    m = s["metric"]
    assert m["control_mean"] == pytest.approx(rc, rel=1e-12)
    assert m["treatment_mean"] == pytest.approx(rt, rel=1e-12)
    z = (rt - rc) / np.sqrt(vc + vt)
    assert m["pvalue"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-8)
    assert m["ci_low"] == pytest.approx(rt - rc - 1.959963984540054 * np.sqrt(vc + vt), rel=1e-9)
    # Unit-level proportion test: users with at least one click.
    count = [int((t["x"] > 0).sum()), int((c["x"] > 0).sum())]
    _, p = proportions_ztest(count, [t.height, c.height])
    assert m["type"] == "proportion"
    assert m["unit_test"]["pvalue"] == pytest.approx(p, rel=1e-9)
    # Continuous secondary metric: Welch and Mann-Whitney on per-user mean revenue.
    rev = s["secondary_metrics"][0]
    assert rev["name"] == "revenue" and rev["type"] == "continuous"
    per_c = (c["r"] / c["y"]).to_numpy()
    per_t = (t["r"] / t["y"]).to_numpy()
    welch = stats.ttest_ind(per_t, per_c, equal_var=False)
    mwu = stats.mannwhitneyu(per_t, per_c, alternative="two-sided")
    assert rev["unit_test"]["welch"]["pvalue"] == pytest.approx(welch.pvalue, rel=1e-9)
    assert rev["unit_test"]["mann_whitney"]["pvalue"] == pytest.approx(mwu.pvalue, rel=1e-9)
    assert rev["pvalue_holm"] == rev["pvalue"]  # a family of one
    # SRM and KS.
    srm = stats.chisquare([c.height, t.height], [0.8 * users.height, 0.2 * users.height])
    assert s["srm_pvalue"] == pytest.approx(srm.pvalue, rel=1e-9)
    pc = log.filter(pl.col("model_variant") == "v1")
    pt = log.filter(pl.col("model_variant") == "v2")
    ks_all = stats.ks_2samp(pc["prediction"].to_numpy(), pt["prediction"].to_numpy())
    assert s["ks_statistic"] == pytest.approx(ks_all.statistic, rel=1e-12)
    recent_c = pc.sort("ts").tail(1000)["prediction"].to_numpy()
    recent_t = pt.sort("ts").tail(1000)["prediction"].to_numpy()
    assert s["ks_pvalue"] == pytest.approx(stats.ks_2samp(recent_c, recent_t).pvalue, rel=1e-9)


@pytest.mark.parametrize(
    ("changes", "trigger"),
    [
        ({"treatment_error_rate": 0.05}, "error_rate"),
        ({"latency_factor": 2.0}, "latency_p99"),
        ({"prediction_shift": 1.5}, "prediction_mean"),
    ],
)
def test_rollback_triggers(run_cli, simulate, changes, trigger):
    result, report = decide(run_cli, simulate(click_lift=0.3, **changes))
    assert result.exit_code == 1
    assert report["verdict"] == "ROLLBACK"
    assert failed(report) & {"error_rate", "latency_p99", "prediction_mean"} == {trigger}
    assert report["stats"]["next_stage"] == 0
    assert report["reasons"] == [
        report["checks"][[c["id"] for c in report["checks"]].index(trigger)]["message"]
    ]


def test_error_rate_needs_both_ratio_and_floor(run_cli, simulate):
    # 3x control but below the 1% floor: no rollback.
    result, report = decide(
        run_cli, simulate(click_lift=0.3, error_rate=0.001, treatment_error_rate=0.003)
    )
    check = next(c for c in report["checks"] if c["id"] == "error_rate")
    assert check["value"] > 2 and check["passed"] is True
    assert result.exit_code == 0


def test_distribution_shift_is_advisory(run_cli, simulate, tmp_path):
    # Shift the prediction logit enough for KS to alert but keep the mean within 20%.
    result, report = decide(run_cli, simulate(click_lift=0.3, prediction_shift=0.6))
    shift = next(c for c in report["checks"] if c["id"] == "distribution_shift")
    assert shift["advisory"] is True and shift["passed"] is False and shift["status"] == "warn"
    assert report["verdict"] == "PROMOTE" and result.exit_code == 0


def test_srm_holds(run_cli, simulate):
    result, report = decide(run_cli, simulate(click_lift=0.3, srm=0.3))
    assert result.exit_code == 3 and report["verdict"] == "HOLD"
    assert "srm" in failed(report)
    assert report["stats"]["srm_pvalue"] < 0.001
    assert report["stats"]["next_stage"] == 20


def test_inconsistent_units_are_counted_excluded_and_hold(run_cli, simulate):
    path = simulate(click_lift=0.3, inconsistent=0.05)
    result, report = decide(run_cli, path)
    assert result.exit_code == 3 and "assignment_consistency" in failed(report)
    log = pl.read_parquet(path)
    both = log.group_by("user_id").agg(pl.col("model_variant").n_unique().alias("n"))
    n_both = int((both["n"] > 1).sum())
    s = report["stats"]
    assert s["inconsistent_units"] == n_both
    assert s["inconsistent_share"] == pytest.approx(n_both / both.height)
    metric_units = s["metric"]["units"]["control"] + s["metric"]["units"]["treatment"]
    assert metric_units == both.height - n_both  # never double-counted
    assert any("both variants" in w for w in report["warnings"])


def test_too_few_samples_hold(run_cli, simulate):
    result, report = decide(run_cli, simulate(users=2000, click_lift=0.3))
    assert result.exit_code == 3
    assert "min_samples" in failed(report)


def test_neutral_result_holds_unless_allowed(run_cli, simulate):
    path = simulate()
    result, report = decide(run_cli, path)
    assert result.exit_code == 3 and report["verdict"] == "HOLD"
    assert report["stats"]["metric"]["pvalue"] >= 0.05
    assert failed(report) == {"primary_metric"}
    # --allow-neutral needs the loss it accepts; a 10% margin is shown non-inferior here.
    result, report = decide(run_cli, path, "--allow-neutral", "--nim", "0.10")
    assert result.exit_code == 0 and report["verdict"] == "PROMOTE"
    tests = report["stats"]["metric"]["tests"]
    assert tests["non_inferior"]["reject"] and not tests["superior"]["reject"]
    result, _ = decide(run_cli, path, "--allow-neutral")
    assert result.exit_code == 2 and "--nim" in result.stderr


def test_salt_mismatch_is_reported(run_cli, simulate):
    path = simulate(click_lift=0.3)
    _, right = decide(run_cli, path, "--salt", "canary")
    assert right["stats"]["salt_mismatched_units"] == 0
    result, wrong = decide(run_cli, path, "--salt", "other")
    assert wrong["stats"]["salt_mismatched_units"] > 1000
    assert result.exit_code == 3 and "assignment_consistency" in failed(wrong)


def test_segments_and_bootstrap(run_cli, simulate):
    _, report = decide(
        run_cli, simulate(click_lift=0.3), "--segment", "country", "--bootstrap", "200"
    )
    segments = report["stats"]["segments"]["country"]
    assert [s["value"] for s in segments] == ["US", "IN", "BR"]
    holm = sorted(s["pvalue_holm"] for s in segments)
    raw = sorted(s["pvalue"] for s in segments)
    assert holm[0] == pytest.approx(min(1.0, 3 * raw[0]))
    boot = report["stats"]["metric"]["bootstrap"]
    assert boot["replicates"] == 200 and boot["ci_low"] < boot["ci_high"]


def test_markdown_and_rich_render(run_cli, simulate):
    path = simulate(click_lift=0.3)
    md = run_cli("canary-decide", path, "--metric", "clicked", "--stage", "20", "-f", "markdown")
    assert md.exit_code == 0
    assert "## abtool canary-decide: ✅ PROMOTE" in md.stdout and "### Primary metric" in md.stdout
    rich = run_cli("canary-decide", path, "--metric", "clicked", "--stage", "20")
    assert "PROMOTE" in rich.stdout and "Variants" in rich.stdout


def test_config_overrides_thresholds(run_cli, simulate, tmp_path):
    config = tmp_path / "t.toml"
    config.write_text("[canary]\nmin_samples = 5000\n")
    result, report = decide(run_cli, simulate(click_lift=0.3), "--config", config)
    assert result.exit_code == 3 and "min_samples" in failed(report)


# --- bad input: exit 2 and one line on stderr ----------------------------------------------


def small_log(tmp_path: Path, **overrides: Any) -> Path:
    data: dict[str, Any] = {
        "ts": pl.datetime_range(
            pl.datetime(2025, 1, 1), pl.datetime(2025, 1, 1, 0, 0, 5), "1s", eager=True
        ),
        "user_id": [1, 2, 3, 4, 5, 6],
        "model_variant": ["v1", "v2", "v1", "v2", "v1", "v2"],
        "clicked": [True, False, True, True, False, False],
    }
    data.update(overrides)
    return write_parquet(tmp_path / "log.parquet", {k: v for k, v in data.items() if v is not None})


def assert_usage_error(result, *fragments: str) -> None:
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("abtool: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_one_variant_only(run_cli, tmp_path):
    path = small_log(tmp_path, model_variant=["v1"] * 6)
    result = run_cli("canary-decide", path, "--metric", "clicked")
    assert_usage_error(result, str(path), "model_variant", "1 variant")


def test_three_variants_need_names(run_cli, tmp_path):
    path = small_log(tmp_path, model_variant=["v1", "v2", "v3", "v1", "v2", "v3"])
    assert_usage_error(
        run_cli("canary-decide", path, "--metric", "clicked"), "3 variants", "--control"
    )
    named = run_cli(
        "canary-decide",
        path,
        "--metric",
        "clicked",
        "--control",
        "v1",
        "--treatment",
        "v3",
        "-f",
        "json",
    )
    assert named.exit_code == 3
    report = named.json()
    assert report["stats"]["excluded_rows"] == 2
    assert report["stats"]["variants"]["treatment"]["name"] == "v3"
    assert any("model_variant = v2" in w for w in report["warnings"])


def test_non_numeric_metric(run_cli, tmp_path):
    path = small_log(tmp_path, clicked=["a", "b", "c", "d", "e", "f"])
    assert_usage_error(run_cli("canary-decide", path, "--metric", "clicked"), "'clicked'", "number")


def test_missing_unit_column(run_cli, tmp_path):
    path = small_log(tmp_path, user_id=None)
    result = run_cli("canary-decide", path, "--metric", "clicked")
    assert_usage_error(result, str(path), "missing column 'user_id'", "--unit")


def test_unknown_named_variant(run_cli, tmp_path):
    path = small_log(tmp_path)
    result = run_cli("canary-decide", path, "--control", "v9")
    assert_usage_error(result, "--control 'v9'", "v1, v2")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--stage", "150"], "--stage"),
        (["--salt", "x"], "--salt needs --stage"),
        (["--metric-type", "proportion", "--metric", "revenue"], "other than 0 and 1"),
        (["--metric-type", "binary"], "--metric-type"),
    ],
)
def test_bad_options(run_cli, tmp_path, args, fragment):
    path = small_log(tmp_path, revenue=[0.5, 1.0, 0.0, 2.0, 0.0, 3.0])
    assert_usage_error(run_cli("canary-decide", path, *args), fragment)


def test_unknown_config_key(run_cli, tmp_path):
    config = tmp_path / "t.toml"
    config.write_text("[canary]\nerror_rat = 3\n")
    result = run_cli("canary-decide", small_log(tmp_path), "--config", config)
    assert_usage_error(result, "unknown threshold 'error_rat'")


# --- assign ---------------------------------------------------------------------------------


def test_assign_matches_md5_rule(run_cli, tmp_path):
    import hashlib

    ids = tmp_path / "ids.txt"
    ids.write_text("alice\n\nbob\n")
    result = run_cli(
        "assign", "--salt", "exp", "--percent", "50", "carol", "--from", ids, "-f", "json"
    )
    assert result.exit_code == 0
    units = result.json()["units"]
    assert [u["unit"] for u in units] == ["carol", "alice", "bob"]
    for u in units:
        b = int(hashlib.md5(f"exp:{u['unit']}".encode()).hexdigest(), 16) % 10000
        assert u["bucket"] == b
        assert u["variant"] == ("treatment" if b < 5000 else "control")


def test_assign_agrees_with_the_simulator(run_cli, simulate):
    log = pl.read_parquet(simulate(click_lift=0.3))
    sample = log.unique("user_id").sort("user_id").head(50)
    users = [str(u) for u in sample["user_id"]]
    result = run_cli("assign", "--salt", "canary", "--percent", "20", *users, "-f", "json")
    got = {u["unit"]: u["variant"] for u in result.json()["units"]}
    expected = {
        str(u): ("treatment" if v == "v2" else "control")
        for u, v in sample.select("user_id", "model_variant").iter_rows()
    }
    assert got == expected


def test_assign_bad_input(run_cli, tmp_path):
    assert_usage_error(run_cli("assign", "--salt", "s", "--percent", "50"), "no unit ids")
    missing = tmp_path / "nope.txt"
    assert_usage_error(
        run_cli("assign", "--salt", "s", "--percent", "50", "--from", missing), str(missing)
    )


def test_significant_negative_segment_is_flagged(run_cli, simulate, tmp_path):
    log = pl.read_parquet(simulate(click_lift=0.3))
    broken = log.with_columns(
        clicked=pl.when((pl.col("country") == "IN") & (pl.col("model_variant") == "v2"))
        .then(False)
        .otherwise(pl.col("clicked"))
    )
    path = write_parquet(tmp_path / "broken.parquet", broken)
    # Fixed horizon: the overall lift stays significant, so the verdict shows the segment
    # is advisory.
    result, report = decide(run_cli, path, "--segment", "country", "--inference", "fixed")
    entries = {e["value"]: e for e in report["stats"]["segments"]["country"]}
    assert entries["IN"]["regression"] is True and entries["IN"]["lift_abs"] < 0
    assert entries["US"]["regression"] is False
    assert any("segment country = IN" in w for w in report["warnings"])
    # Advisory: the segment is flagged and named in the reasons, the verdict follows the
    # primary metric.
    assert report["verdict"] == "PROMOTE" and result.exit_code == 0
    assert any(r.startswith("segment country = IN: clicked") for r in report["reasons"])
    assert report["checks"][-1]["id"] == "segment_regression"
    assert report["checks"][-1]["status"] == "warn"
    md = run_cli(
        "canary-decide",
        path,
        "--metric",
        "clicked",
        "--stage",
        "20",
        "-s",
        "country",
        "--inference",
        "fixed",
        "-f",
        "markdown",
    )
    assert "| regression |" in md.stdout


def test_hive_partitioned_directory_and_time_window(run_cli, tmp_path):
    out = tmp_path / "logs"
    made = run_cli(
        "simulate",
        "canary",
        "--users",
        "3000",
        "--hours",
        "48",
        "--stage",
        "50",
        "--seed",
        "3",
        "--partition-by-date",
        "--out",
        out,
    )
    assert made.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["date=2025-04-28", "date=2025-04-29"]
    whole = run_cli("canary-decide", out, "--metric", "clicked", "--stage", "50", "-f", "json")
    day = run_cli(
        "canary-decide",
        out,
        "--metric",
        "clicked",
        "--stage",
        "50",
        "-f",
        "json",
        "--until",
        "2025-04-29",
    )
    log = pl.read_parquet(out / "*" / "*.parquet")
    first_day = log.filter(pl.col("ts") < pl.datetime(2025, 4, 29))
    assert whole.json()["stats"]["rows"] == log.height
    assert day.json()["stats"]["rows"] == first_day.height
    assert day.json()["inputs"]["files"] == 2


def test_all_null_units(run_cli, tmp_path):
    path = small_log(tmp_path, user_id=pl.Series([None] * 6, dtype=pl.Int64))
    result = run_cli("canary-decide", path, "--metric", "clicked")
    assert_usage_error(result, str(path), "'user_id'", "all null")


def test_simulator_is_seeded_and_assigns_by_bucket():
    from abtool.assignment import in_treatment

    spec = CanarySpec(users=500, stage=30.0, seed=9, inconsistent=0.0)
    first = pl.concat([pl.from_arrow(t) for t in canary_chunks(spec, chunk_rows=700)])
    again = pl.concat([pl.from_arrow(t) for t in canary_chunks(spec, chunk_rows=700)])
    assert first.equals(again)
    assert first["request_id"].to_list() == list(range(first.height))
    variants = first.group_by("user_id").agg(pl.col("model_variant").unique())
    for user, values in variants.iter_rows():
        assert values == (["v2"] if in_treatment("canary", user, 0.30) else ["v1"])


def test_assign_takes_a_percent_and_the_old_fraction_with_a_warning(run_cli) -> None:
    users = [f"u{i}" for i in range(200)]
    by_percent = run_cli("assign", "--salt", "s", "--percent", "20", *users, "-f", "json")
    by_fraction = run_cli("assign", "--salt", "s", "--fraction", "0.2", *users, "-f", "json")
    assert by_percent.exit_code == by_fraction.exit_code == 0
    assert by_percent.json()["units"] == by_fraction.json()["units"]
    assert by_percent.json()["percent"] == 20
    assert by_percent.stderr == ""
    assert "--fraction is deprecated" in by_fraction.stderr and "--percent 20" in by_fraction.stderr
    hint = run_cli("assign", "--salt", "s", "--percent", "0.05", "u1")
    assert "--percent 0.05 means 0.05% of units" in hint.stderr
    assert_usage_error(run_cli("assign", "--salt", "s", "u1"), "--percent is required")
