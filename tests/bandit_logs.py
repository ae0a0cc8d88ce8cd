"""Simulated bandit logs with known rates for the bandit-report tests (small and seeded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from abtool.simulate.bandit import BanditSpec, bandit_chunks
from abtool.stats.bandit import BetaBernoulli, Comparison, compare_arms
from abtool.stats.bandit_estimates import period_weighted_estimates

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_logs" / "bandit.parquet"

# Four arms, v4 10% better; Thompson allocation. At 8,000 units a period the simulated power
# of the default rule is about 0.97 (docs/bandit-report.md); seed 1 ends with P(best) 0.97.
WINNER = BanditSpec(rates=(0.10, 0.10, 0.10, 0.11), periods=14, units_per_period=8000, seed=1)
EQUAL = BanditSpec(rates=(0.10, 0.10, 0.10, 0.10), periods=14, units_per_period=2000, seed=0)
# v3 errors on 5% of its requests, the others on 0.1%.
FAILING = BanditSpec(
    rates=(0.10, 0.10, 0.10, 0.11),
    periods=14,
    units_per_period=8000,
    seed=1,
    error_rates=(0.001, 0.001, 0.05, 0.001),
)
# The 10%-better arm itself errors on 5% of its requests.
FAILING_WINNER = BanditSpec(
    rates=(0.10, 0.10, 0.10, 0.11),
    periods=14,
    units_per_period=8000,
    seed=1,
    error_rates=(0.001, 0.001, 0.001, 0.05),
)
# Uniform random logging (the replay's textbook case), three arms with distinct rates.
UNIFORM = BanditSpec(rates=(0.05, 0.10, 0.15), policy="uniform", periods=10, seed=5)


def generate(spec: BanditSpec) -> pl.DataFrame:
    """The log of ``spec`` as a DataFrame."""
    frame = pl.from_arrow(pa.concat_tables(list(bandit_chunks(spec))))
    assert isinstance(frame, pl.DataFrame)
    return frame


def period_arm_table(
    frame: pl.DataFrame, reward: str = "clicked", period: str = "period"
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(arms, pulls, means, sample variances), each ``(periods, arms)``, straight from rows."""
    arms = sorted(frame["model_variant"].unique().to_list())
    cells = (
        frame.group_by(period, "model_variant")
        .agg(
            n=pl.len(),
            m=pl.col(reward).cast(pl.Float64).mean(),
            v=pl.col(reward).cast(pl.Float64).var(ddof=1),
        )
        .sort(period)
    )
    periods = sorted(cells[period].unique().to_list())
    shape = (len(periods), len(arms))
    n, m, v = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for row in cells.iter_rows(named=True):
        i, k = periods.index(row[period]), arms.index(row["model_variant"])
        n[i, k], m[i, k], v[i, k] = row["n"], row["m"], row["v"]
    return arms, n, m, v


def direct_comparison(frame: pl.DataFrame, draws: int = 100_000, seed: int = 0) -> Comparison:
    """The statistics functions called on the log's rows, as the report should call them."""
    arms, n, m, v = period_arm_table(frame)
    estimates = period_weighted_estimates(arms, n, m, v)
    return compare_arms(estimates, BetaBernoulli(), draws=draws, seed=seed)
