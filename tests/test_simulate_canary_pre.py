"""`abtool simulate canary --pre-days`: a pre-period that CUPED can adjust with."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from abtool.simulate.canary import PRE_REQUEST_IDS
from abtool.stats.cuped import CupedArm, cuped

START = datetime(2025, 4, 28)
BASE = ("simulate", "canary", "--users", "3000", "--stage", "50", "--seed", "4")


def test_experiment_rows_do_not_change_with_a_pre_period(run_cli, tmp_path: Path) -> None:
    plain, split, pre, joint = (tmp_path / f"{n}.parquet" for n in ("plain", "split", "pre", "j"))
    assert run_cli(*BASE, "--out", plain).exit_code == 0
    result = run_cli(*BASE, "--pre-days", "2", "--pre-out", pre, "--out", split)
    assert result.exit_code == 0 and "pre-period rows" in result.stderr
    assert split.read_bytes() == plain.read_bytes()
    assert run_cli(*BASE, "--pre-days", "2", "--out", joint).exit_code == 0
    both = pl.read_parquet(joint)
    # One log split at the start time holds the same two parts.
    assert both.filter(pl.col("ts") >= START).sort("request_id").equals(pl.read_parquet(plain))
    assert (
        both.filter(pl.col("ts") < START)
        .sort("request_id")
        .equals(pl.read_parquet(pre).sort("request_id"))
    )


def test_pre_period_rows(run_cli, tmp_path: Path) -> None:
    exp, pre = tmp_path / "e.parquet", tmp_path / "p.parquet"
    args = ("--pre-days", "3", "--pre-coverage", "0.7", "--pre-out", pre, "--out", exp)
    assert run_cli(*BASE, *args).exit_code == 0
    e, p = pl.read_parquet(exp), pl.read_parquet(pre)
    assert p.schema == e.schema
    assert p["ts"].min() >= START - timedelta(days=3) and p["ts"].max() < START
    assert p["model_variant"].unique().to_list() == ["v1"]  # everyone had the old model
    assert p["request_id"].min() >= PRE_REQUEST_IDS and p["request_id"].is_unique().all()
    covered = p["user_id"].n_unique() / 3000
    assert covered == pytest.approx(0.7, abs=0.03)
    # The same request rate per hour: 5 per user per 24 h, for 72 h.
    assert p.height / p["user_id"].n_unique() == pytest.approx(15, rel=0.05)
    # Users keep their country and device.
    pairs = e.select("user_id", "country", "device").unique()
    assert (
        p.select("user_id", "country", "device")
        .unique()
        .join(pairs, on="user_id")
        .filter(
            (pl.col("country") != pl.col("country_right"))
            | (pl.col("device") != pl.col("device_right"))
        )
        .is_empty()
    )


def per_user(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
    return frame.group_by("user_id").agg(
        pl.col("clicked").cast(pl.Float64).sum().alias(f"{prefix}x"),
        pl.len().cast(pl.Float64).alias(f"{prefix}y"),
        pl.col("model_variant").first().alias(f"{prefix}variant"),
    )


def cuped_on_logs(exp: Path, pre: Path):
    """What canary-decide does with a covariate log: per-unit sums, left join, zeros."""
    units = per_user(pl.read_parquet(exp), "").join(
        per_user(pl.read_parquet(pre), "pre_"), on="user_id", how="left"
    )
    units = units.with_columns(pl.col("pre_x", "pre_y").fill_null(0.0))
    arms = [
        CupedArm.ratio(*(d[c].to_numpy() for c in ("x", "y", "pre_x", "pre_y")))
        for d in (units.filter(pl.col("variant") == v) for v in ("v1", "v2"))
    ]
    return cuped(*arms)


@pytest.mark.parametrize(("rho", "low", "high"), [(0.0, -1.0, 1.0), (0.95, 15.0, 60.0)])
def test_pre_correlation_sets_the_variance_reduction(run_cli, tmp_path: Path, rho, low, high):
    exp, pre = tmp_path / "e.parquet", tmp_path / "p.parquet"
    args = ("--pre-days", "7", "--pre-correlation", str(rho), "--pre-out", pre, "--out", exp)
    assert run_cli(*BASE, *args).exit_code == 0
    result = cuped_on_logs(exp, pre)
    assert low < result.variance_reduction_pct < high
    assert result.units == pl.read_parquet(exp)["user_id"].n_unique()  # none lost
    assert result.units_without_pre == pytest.approx(300, abs=60)  # coverage 0.9


def test_bad_pre_options(run_cli, tmp_path: Path) -> None:
    out, pre = tmp_path / "o.parquet", tmp_path / "p.parquet"
    result = run_cli(*BASE, "--pre-out", pre, "--out", out)
    assert result.exit_code == 2 and "--pre-out needs --pre-days" in result.stderr
    result = run_cli(*BASE, "--pre-days", "1", "--pre-out", out, "--out", out)
    assert result.exit_code == 2 and "--pre-out must differ from --out" in result.stderr
    assert not out.exists() and not pre.exists()
