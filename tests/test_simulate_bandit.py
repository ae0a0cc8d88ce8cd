"""`abtool simulate bandit`: schema, logged propensities, known rates, the committed sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from abtool.simulate.bandit import BanditSpec, bandit_chunks

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ARGS = ["--rates", "0.08,0.10,0.10,0.12", "--contexts", "2", "--seed", "7"]


def generate(**kwargs: object) -> pl.DataFrame:
    table = pa.concat_tables(list(bandit_chunks(BanditSpec(**kwargs))))  # type: ignore[arg-type]
    return pl.from_arrow(table)  # type: ignore[return-value]


def test_committed_sample_is_the_documented_command(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "bandit.parquet"
    result = run_cli("simulate", "bandit", *SAMPLE_ARGS, "--out", out)
    assert result.exit_code == 0, result.stderr
    fresh = pl.read_parquet(out)
    committed = pl.read_parquet(ROOT / "sample_logs" / "bandit.parquet")
    assert fresh.equals(committed)
    assert (ROOT / "sample_logs" / "bandit.parquet").stat().st_size < 500_000
    assert fresh.columns == [
        "request_id",
        "ts",
        "period",
        "user_id",
        "model_variant",
        "propensity",
        "clicked",
        "revenue",
        "latency_ms",
        "error",
        "feature_1",
        "feature_2",
    ]


def test_propensities_are_the_periods_shares_with_floors() -> None:
    log = generate(
        rates=(0.05, 0.1, 0.2), periods=8, units_per_period=2000, seed=3, requests_per_unit=2.0
    )
    shares = log.group_by("period", "model_variant").agg(
        pl.col("propensity").n_unique().alias("distinct"), pl.col("propensity").first()
    )
    assert shares["distinct"].max() == 1  # one share per period and arm
    per_period = shares.group_by("period").agg(pl.col("propensity").sum())
    assert per_period["propensity"].to_numpy() == pytest.approx(np.ones(8))
    assert shares["propensity"].min() >= 0.05 - 1e-12
    last = shares.filter(pl.col("period") == 7).sort("model_variant")
    assert last["propensity"][2] > 0.6  # Thompson has found the best arm
    # Units are sticky: one arm per user, several requests each.
    per_user = log.group_by("user_id").agg(pl.col("model_variant").n_unique(), pl.len())
    assert per_user["model_variant"].max() == 1 and per_user["len"].mean() > 1.5


@pytest.mark.parametrize("contexts,trend", [(0, 0.0), (3, 0.0), (0, 0.8)])
def test_arm_rates_are_the_chosen_rates_under_uniform_allocation(
    contexts: int, trend: float
) -> None:
    rates = np.array([0.05, 0.10, 0.20])
    log = generate(
        rates=tuple(rates),
        policy="uniform",
        periods=10,
        units_per_period=6000,
        contexts=contexts,
        trend=trend,
        seed=4,
    )
    assert log["propensity"].unique().to_list() == pytest.approx([1 / 3])
    got = (
        log.group_by("model_variant").agg(pl.col("clicked").mean(), pl.len()).sort("model_variant")
    )
    n = got["len"].to_numpy()
    se = np.sqrt(rates * (1 - rates) / n)
    assert np.all(np.abs(got["clicked"].to_numpy() - rates) < 4 * se)


def test_contexts_change_the_best_arm() -> None:
    log = generate(
        rates=(0.10, 0.10),
        policy="uniform",
        contexts=1,
        context_effect=0.8,
        periods=4,
        units_per_period=5000,
        seed=5,
    )
    by = (
        log.group_by("feature_1", "model_variant")
        .agg(pl.col("clicked").mean())
        .sort("feature_1", "model_variant")
    )
    low, high = by["clicked"].to_numpy().reshape(2, 2)
    assert np.sign(low[0] - low[1]) == -np.sign(high[0] - high[1])


def test_seeded_and_validated(run_cli, tmp_path: Path) -> None:
    assert generate(seed=1, periods=3).equals(generate(seed=1, periods=3))
    bad = run_cli("simulate", "bandit", "--rates", "0.1,x", "--out", tmp_path / "x.parquet")
    assert bad.exit_code == 2 and "--rates" in bad.stderr
    bad = run_cli("simulate", "bandit", "--policy", "greedy", "--out", tmp_path / "x.parquet")
    assert bad.exit_code == 2 and "--policy" in bad.stderr
    bad = run_cli("simulate", "bandit", "--floor", "0.3", "--out", tmp_path / "x.parquet")
    assert bad.exit_code == 2 and "--floor" in bad.stderr
    ok = run_cli(
        "simulate",
        "bandit",
        "--policy",
        "ucb1",
        "--periods",
        "3",
        "--arms",
        "a,b,c,d",
        "--latency-factors",
        "1,1,1,2",
        "--out",
        tmp_path / "u.parquet",
    )
    assert ok.exit_code == 0, ok.stderr
    log = pl.read_parquet(tmp_path / "u.parquet")
    assert sorted(log["model_variant"].unique()) == ["a", "b", "c", "d"]
