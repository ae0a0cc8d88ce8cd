"""CUPED in canary-decide: the adjusted lift, CI and p equal tea-tasting's (computed here) on
the same data, for a mean and a ratio metric, whichever way the pre-period is given."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
import tea_tasting as tt  # the dev extra's peer implementation

import abtool
from tests.helpers import write_parquet

REL = 1e-9
START = datetime(2025, 5, 10)


def logs(seed: int, *, many_rows: bool, users: int = 3_000, new_share: float = 0.0):
    """Experiment and pre-period logs of the same users; the pre-period predicts the metric.

    ``many_rows``: click rows (a ratio metric, clicks per request); else one row per user with
    a continuous ``value`` (a mean metric). ``new_share`` of the users have no pre-period.
    """
    rng = np.random.default_rng(seed)
    treated = rng.uniform(size=users) < 0.5
    u = rng.normal(size=users)
    has_pre = rng.uniform(size=users) >= new_share
    if many_rows:
        p = 1 / (1 + np.exp(-(-2.0 + u)))
        n_exp, n_pre = 1 + rng.poisson(3, users), 1 + rng.poisson(5, users)
        exp_user = np.repeat(np.arange(users), n_exp)
        pre_user = np.repeat(np.arange(users)[has_pre], n_pre[has_pre])
        exp_values = rng.uniform(size=len(exp_user)) < p[exp_user] * np.where(
            treated[exp_user], 1.05, 1.0
        )
        pre_values = rng.uniform(size=len(pre_user)) < p[pre_user]
        column = "clicked"
    else:
        exp_user, pre_user = np.arange(users), np.arange(users)[has_pre]
        exp_values = 5 + 2 * u + rng.normal(size=users) + 0.1 * treated
        pre_values = 5 + 2 * u[has_pre] + rng.normal(size=len(pre_user))
        column = "value"

    def frame(user, values, start, variant):
        seconds = rng.integers(0, 5 * 86_400, len(user))
        return pl.DataFrame(
            {
                "user_id": user,
                "model_variant": variant,
                "ts": [start + timedelta(seconds=int(s)) for s in seconds],
                column: values,
            }
        )

    experiment = frame(exp_user, exp_values, START, np.where(treated[exp_user], "v2", "v1"))
    pre = frame(pre_user, pre_values, START - timedelta(days=9), "v1")
    return experiment, pre, column


def per_user(experiment: pl.DataFrame, pre: pl.DataFrame, column: str) -> pd.DataFrame:
    """One row per analysed user: variant, x, y and the pre-period xc, yc (0 without)."""
    exp = experiment.group_by("user_id").agg(
        pl.col(column).cast(pl.Float64).sum().alias("x"),
        pl.len().cast(pl.Float64).alias("y"),
        (pl.col("model_variant").first() == "v2").cast(pl.Int64).alias("variant"),
    )
    before = pre.group_by("user_id").agg(
        pl.col(column).cast(pl.Float64).sum().alias("xc"), pl.len().cast(pl.Float64).alias("yc")
    )
    joined = exp.join(before, on="user_id", how="left").fill_null(0.0)
    return joined.sort("user_id").to_pandas()


def tea(frame: pd.DataFrame, metric: str, *columns: str):
    with tt.config_context(use_t=False):
        return tt.Experiment(m=getattr(tt, metric)(*columns)).analyze(frame)["m"]


def assert_equals(ours, theirs) -> None:
    pairs = {
        "control_mean": theirs.control,
        "treatment_mean": theirs.treatment,
        "lift_abs": theirs.effect_size,
        "ci_low": theirs.effect_size_ci_lower,
        "ci_high": theirs.effect_size_ci_upper,
        "lift_rel": theirs.rel_effect_size,
        "rel_ci_low": theirs.rel_effect_size_ci_lower,
        "rel_ci_high": theirs.rel_effect_size_ci_upper,
        "pvalue": theirs.pvalue,
        "z": theirs.statistic,
    }
    for name, expected in pairs.items():
        assert getattr(ours, name) == pytest.approx(expected, rel=REL, abs=0), name


@pytest.mark.parametrize("many_rows", [False, True], ids=["mean", "ratio"])
def test_adjusted_lift_equals_tea_tasting(tmp_path: Path, many_rows: bool):
    experiment, pre, column = logs(1, many_rows=many_rows)
    pre_path = write_parquet(tmp_path / "pre.parquet", pre)
    report = abtool.canary_report(
        experiment, metric=[column], stage=50, control="v1", inference="fixed",
        covariate_log=str(pre_path),
    )  # fmt: skip
    metric = report.stats.metric
    assert metric is not None and metric.cuped is not None
    frame = per_user(experiment, pre, column)
    if many_rows:
        adjusted, plain = (
            tea(frame, "RatioOfMeans", "x", "y", "xc", "yc"),
            tea(frame, "RatioOfMeans", "x", "y"),
        )
    else:
        adjusted, plain = tea(frame, "Mean", "x", "xc"), tea(frame, "Mean", "x")
    assert_equals(metric.cuped.adjusted, adjusted)
    assert_equals(metric.cuped.unadjusted, plain)
    # The decision reads the adjusted estimate: it is the metric's own lift.
    assert metric.lift == metric.cuped.adjusted
    reduction = 100 * (1 - (adjusted.effect_size_ci_upper - adjusted.effect_size) ** 2 / (
        plain.effect_size_ci_upper - plain.effect_size) ** 2)  # fmt: skip
    assert metric.cuped.variance_reduction_pct == pytest.approx(reduction, rel=1e-7)
    assert metric.cuped.variance_reduction_pct > (50 if not many_rows else 10)
    assert metric.cuped.source.startswith("covariate log")


def test_a_pre_until_split_of_one_log_is_the_same_adjustment(tmp_path: Path):
    experiment, pre, column = logs(2, many_rows=True)
    pre_path = write_parquet(tmp_path / "pre.parquet", pre)
    both = pl.concat([pre, experiment])
    settings = {"metric": [column], "stage": 50, "control": "v1", "inference": "fixed"}
    separate = abtool.canary_report(experiment, covariate_log=str(pre_path), **settings)
    split = abtool.canary_report(both, pre_until=START.isoformat(), **settings)
    assert split.stats.metric.cuped.adjusted == pytest.approx(separate.stats.metric.cuped.adjusted)
    assert split.stats.metric.cuped.source == f"rows before {START.isoformat()}+00:00"
    assert split.inputs.rows == experiment.height  # the pre-period is not the canary's


def test_a_per_row_covariate_column(tmp_path: Path):
    experiment, _, column = logs(3, many_rows=False)
    rng = np.random.default_rng(0)
    # A score fixed before assignment, logged on every row: correlated with the metric.
    score = experiment["value"].to_numpy() + rng.normal(scale=2.0, size=experiment.height)
    experiment = experiment.with_columns(
        activity=score - 0.1 * (experiment["model_variant"] == "v2")
    )
    report = abtool.canary_report(
        experiment, metric=[column], stage=50, control="v1", inference="fixed",
        covariate="activity",
    )  # fmt: skip
    frame = experiment.to_pandas().assign(variant=lambda d: (d.model_variant == "v2").astype(int))
    assert_equals(report.stats.metric.cuped.adjusted, tea(frame, "Mean", "value", "activity"))
    assert report.stats.metric.cuped.covariate == "activity"


def test_units_without_pre_period_are_kept_and_sequential_uses_the_adjusted_se(tmp_path):
    experiment, pre, column = logs(4, many_rows=True, new_share=0.2)
    pre_path = write_parquet(tmp_path / "pre.parquet", pre)
    report = abtool.canary_report(
        experiment, metric=[column], stage=50, control="v1", covariate_log=str(pre_path)
    )
    metric = report.stats.metric
    cuped = metric.cuped
    users = experiment["user_id"].n_unique()
    assert metric.units.control + metric.units.treatment == users
    assert cuped.units_without_pre == users - pre["user_id"].n_unique()
    assert cuped.theta_missing != 0.0
    # Sequential (the default): the adjusted estimate with the sequence's half-width.
    n = users
    rho2 = (-2 * math.log(0.05) + math.log(1 - 2 * math.log(0.05))) / 5000
    t = n * rho2 + 1
    hw = cuped.adjusted.se * math.sqrt(n * 2 * t / (n * n * rho2) * math.log(math.sqrt(t) / 0.05))
    assert metric.lift.ci_low == pytest.approx(cuped.adjusted.lift_abs - hw, rel=1e-9)
    assert metric.tests.superior.se == pytest.approx(cuped.adjusted.se, rel=1e-12)


def test_cli_shows_both_lifts_and_errors(run_cli, tmp_path: Path):
    experiment, pre, column = logs(5, many_rows=True)
    exp_path = write_parquet(tmp_path / "exp.parquet", experiment)
    pre_path = write_parquet(tmp_path / "pre.parquet", pre)
    result = run_cli(
        "canary-decide", exp_path, "--metric", column, "--stage", "50", "--control", "v1",
        "--covariate-log", pre_path, "-f", "markdown",
    )  # fmt: skip
    assert "lift, unadjusted" in result.stdout and "lift, CUPED" in result.stdout
    assert "variance reduction" in result.stdout
    both = run_cli(
        "canary-decide", exp_path, "--covariate-log", pre_path, "--pre-until", "2025-05-10"
    )
    assert both.exit_code == 2 and "not both" in both.stderr
    missing = run_cli("canary-decide", exp_path, "--metric", column, "--covariate", "nope")
    assert missing.exit_code == 2 and "'nope'" in missing.stderr
