"""Simulated interleaving experiments: A/A size, power against an A/B test, the simulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from abtool.simulate.interleave import InterleaveSpec, catalogue_relevance, simulate_sessions
from abtool.simulate.interleave_power import (
    ab_sessions_for_power,
    pool_rates,
    rejection_rates,
    sessions_for_power,
    sign_test_power,
)
from abtool.stats.interleaving import sign_test_pvalue

SAMPLE_LOG = Path(__file__).resolve().parent.parent / "sample_logs" / "interleave.parquet"


def _exact_level(decisive: int, alpha: float) -> float:
    """P(reject | d decisive sessions, H0) of the exact two-sided test.

    The p-value of every possible outcome comes from ``sign_test_pvalue``, which
    test_interleave_stats pins to ``scipy.stats.binomtest``; one d is re-checked here.
    """
    k = np.arange(decisive + 1)
    pvalues = sign_test_pvalue(decisive - k, k)
    return float(stats.binom.pmf(k, decisive, 0.5)[pvalues < alpha].sum())


def test_exact_level_helper_uses_binomtest_pvalues() -> None:
    k = np.arange(121)
    expected = [stats.binomtest(int(x), 120, 0.5).pvalue for x in k]
    assert sign_test_pvalue(120 - k, k) == pytest.approx(expected, rel=1e-12)


def test_equal_rankers_reject_at_about_alpha() -> None:
    spec = InterleaveSpec(noise_a=1.0, noise_b=1.0)
    rates = rejection_rates(spec, sessions=300, replicates=1000, alpha=0.05, seed=4)
    # The exact sign test's level given each experiment's decisive count, from scipy.
    levels = {d: _exact_level(int(d), 0.05) for d in np.unique(rates.decisive)}
    expected = float(np.mean([levels[d] for d in rates.decisive]))
    assert 0.03 < expected <= 0.05  # exact tests are conservative, but not by much here
    se = np.sqrt(expected * (1 - expected) / rates.replicates)
    assert abs(rates.interleaving - expected) < 3 * se
    # The A/B Welch t-test on the same kind of sessions also holds its level.
    assert abs(rates.ab_test - 0.05) < 3 * np.sqrt(0.05 * 0.95 / rates.replicates)


def test_better_ranker_found_with_fewer_sessions_than_ab_test() -> None:
    spec = InterleaveSpec(noise_a=1.0, noise_b=0.6)
    rates = rejection_rates(spec, sessions=1000, replicates=150, seed=5)
    # Same 1,000 sessions per experiment: interleaving detects B far more often.
    assert rates.interleaving_b_ahead > rates.ab_test + 0.2
    assert rates.interleaving_b_ahead == rates.interleaving  # never the wrong direction
    pool = pool_rates(spec, sessions=50_000)
    assert pool.p_win_b > pool.p_win_a and pool.clicks_b_mean > pool.clicks_a_mean
    needed_interleaving = sessions_for_power(pool.p_win_a, pool.p_win_b)
    needed_ab = ab_sessions_for_power(pool)
    assert needed_ab > 1.5 * needed_interleaving


def test_sign_test_power_matches_monte_carlo() -> None:
    rng = np.random.default_rng(8)
    counts = rng.multinomial(400, [0.3, 0.36, 0.34], size=20_000)
    empirical = float((sign_test_pvalue(counts[:, 0], counts[:, 1]) < 0.05).mean())
    exact = sign_test_power(400, 0.3, 0.36)
    assert exact == pytest.approx(empirical, abs=3 * np.sqrt(exact * (1 - exact) / 20_000))
    assert sign_test_power(400, 0.3, 0.3) <= 0.05


def test_simulated_clicks_follow_position_bias() -> None:
    spec = InterleaveSpec(position_bias=1.0)
    batch = simulate_sessions(spec, 20_000, np.random.default_rng(0), catalogue_relevance(spec))
    ctr = batch.clicked.mean(axis=0)
    assert (np.diff(ctr[:5]) < 0).all()
    assert (batch.is_b.sum(axis=1) == 5).all()  # team-draft: 5 items per team in 10
    assert all(len(set(row)) == spec.size for row in batch.items[:200])


def test_simulate_long_and_nested_give_the_same_report(tmp_path: Path, run_cli) -> None:
    reports = []
    for fmt in ("long", "nested"):
        out = tmp_path / f"{fmt}.parquet"
        made = run_cli(
            "simulate",
            "interleave",
            "--out",
            out,
            "--sessions",
            "3000",
            "--seed",
            "2",
            "--format",
            fmt,
        )
        assert made.exit_code == 0, made.stderr
        report = run_cli("interleave-report", out, "-f", "json").json()
        assert report["stats"]["log_format"] == fmt
        del report["stats"]["log_format"], report["inputs"]
        reports.append(report)
    assert reports[0] == reports[1]
    long_log = pl.read_parquet(tmp_path / "long.parquet")
    assert long_log.height == 30_000
    assert set(long_log["team"].unique()) == {"A", "B"}


def test_sample_log_is_reproducible_and_go(tmp_path: Path, run_cli) -> None:
    assert SAMPLE_LOG.stat().st_size < 1_000_000
    fresh = tmp_path / "again.parquet"
    run_cli("simulate", "interleave", "--sessions", "5000", "--seed", "7", "--out", fresh)
    assert pl.read_parquet(fresh).equals(pl.read_parquet(SAMPLE_LOG))
    # GO on the one planned look of the fixed-horizon sign test; the always-valid default,
    # which pays for looking at every snapshot, still holds on 5,000 sessions.
    result = run_cli("interleave-report", SAMPLE_LOG, "-f", "json", "--inference", "fixed")
    assert result.exit_code == 0 and result.json()["verdict"] == "GO"
    default = run_cli("interleave-report", SAMPLE_LOG, "-f", "json")
    assert default.exit_code == 3 and default.json()["verdict"] == "HOLD"


@pytest.mark.parametrize(
    "args",
    [["--format", "csv"], ["--size", "30"], ["--catalogue", "5"]],
)
def test_simulate_bad_options(tmp_path: Path, run_cli, args: list[str]) -> None:
    result = run_cli("simulate", "interleave", "--out", tmp_path / "x.parquet", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("abtool: error: ") and len(result.stderr.splitlines()) == 1
