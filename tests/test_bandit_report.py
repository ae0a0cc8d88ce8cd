"""`abtool bandit-report` end to end: the numbers that reach the JSON, the verdicts, the replay.

Each figure is pinned against the statistics functions (``abtool.stats``) called directly on
per period x arm tables that the test computes from the log's rows with Polars, or against
statsmodels; the logs are simulated with known rates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from abtool.reports.bandit import bandit_report
from abtool.reports.result import Verdict
from abtool.stats.bandit_allocation import next_allocation
from abtool.stats.bandit_verdict import VerdictRule, decide
from abtool.stats.replay import evaluate_policies
from tests.bandit_logs import (
    EQUAL,
    FAILING,
    FAILING_WINNER,
    SAMPLE,
    UNIFORM,
    WINNER,
    direct_comparison,
    generate,
)


@pytest.fixture(scope="module")
def winner_log() -> pl.DataFrame:
    return generate(WINNER)


def test_sample_log_through_the_cli_pins_every_arm(run_cli) -> None:
    result = run_cli("bandit-report", SAMPLE, "--format", "json")
    assert result.exit_code == 3, result.stderr
    report = result.json()
    assert (report["verdict"], report["command"]) == ("CONTINUE", "bandit-report")
    stats = report["stats"]
    frame = pl.read_parquet(SAMPLE)
    comparison = direct_comparison(frame)  # one request a user: units are rows
    assert [a["name"] for a in stats["arms"]] == [a.name for a in comparison.arms]
    for got, want in zip(stats["arms"], comparison.arms, strict=True):
        assert got["pulls"] == want.pulls
        assert got["requests"] == frame.filter(pl.col("model_variant") == want.name).height
        for key in ("mean", "se", "ci_low", "ci_high", "expected_loss"):
            assert got[key] == pytest.approx(getattr(want, key), rel=1e-9), key
        assert got["p_best"] == pytest.approx(want.p_best, abs=2e-5)
        assert got["posterior"]["distribution"] == "beta"
        assert got["posterior"]["alpha"] == pytest.approx(want.posterior.alpha, rel=1e-9)
        assert got["posterior"]["beta"] == pytest.approx(want.posterior.beta, rel=1e-9)
        assert got["posterior"]["ci_low"] == pytest.approx(want.credible_low, rel=1e-9)
    outcome = decide(comparison, VerdictRule())
    assert stats["leader"] == outcome.leader == "v4"
    assert stats["dropped"] == list(outcome.dropped) == ["v1"]
    assert stats["winner"] is None and stats["rolled_back"] == []
    assert stats["leader_p_best"] == pytest.approx(0.917, abs=0.01)  # docs/bandit-report.md
    # Next period: the dropped arm gets nothing, the others share by P(best) with floors.
    allocation = next_allocation(comparison, active=["v2", "v3", "v4"])
    for k, name in enumerate(allocation.arms):
        shares = stats["allocation"]["arms"][name]
        assert shares["thompson_share"] == pytest.approx(allocation.thompson[k], abs=1e-4)
        assert shares["ucb1_share"] == pytest.approx(allocation.ucb1[k], abs=1e-12)
        assert shares["egreedy_share"] == pytest.approx(allocation.egreedy[k], abs=1e-12)
    assert stats["allocation"]["arms"]["v1"]["thompson_share"] == 0.0
    assert stats["estimator"] == "period_weighted" and stats["periods"] == 14
    assert "Per-period weighting" in stats["time_varying_allocation"]
    # The checks say what the stopping rule says.
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["p_best"]["status"] == "fail" and checks["p_best"]["threshold"] == 0.95
    assert checks["drop"]["status"] == "warn" and "v1" in checks["drop"]["message"]
    assert "replay" not in stats


def test_ten_percent_better_arm_is_named_winner(run_cli, tmp_path: Path, winner_log) -> None:
    path = tmp_path / "winner.parquet"
    winner_log.write_parquet(path)
    result = run_cli("bandit-report", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    stats = report["stats"]
    assert report["verdict"] == "WINNER" and stats["winner"] == "v4"
    comparison = direct_comparison(winner_log)
    outcome = decide(comparison, VerdictRule())
    assert outcome.verdict == "WINNER" and outcome.winner == "v4"
    assert stats["leader_p_best"] == pytest.approx(outcome.leader_p_best, abs=2e-5)
    assert stats["leader_p_best"] > 0.95
    assert {a["name"]: a["status"] for a in stats["arms"]}["v4"] == "winner"
    assert report["reasons"][0].startswith("v4 is the best arm")


def test_equal_arms_continue(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "equal.parquet"
    generate(EQUAL).write_parquet(path)
    result = run_cli("bandit-report", path, "--format", "json")
    assert result.exit_code == 3, result.stderr
    report = result.json()
    assert report["verdict"] == "CONTINUE" and report["stats"]["winner"] is None
    assert report["stats"]["leader_p_best"] < 0.95


def test_equal_arms_rarely_win_over_seeds() -> None:
    """Equal arms: a WINNER at the last look is rare (0.2% in docs/bandit-report.md)."""
    winners = [
        bandit_report(generate(EQUAL.__class__(**{**EQUAL.__dict__, "seed": seed})), draws=20_000)
        for seed in range(1, 6)
    ]
    assert all(r.verdict is Verdict.CONTINUE for r in winners)


def test_erroring_arm_is_rolled_back_and_gets_no_traffic(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "failing.parquet"
    frame = generate(FAILING)
    frame.write_parquet(path)
    result = run_cli("bandit-report", path, "--format", "json")
    assert result.exit_code == 1, result.stderr
    report = result.json()
    stats = report["stats"]
    assert report["verdict"] == "ROLLBACK" and stats["rolled_back"] == ["v3"]
    assert stats["winner"] is None
    arms = {a["name"]: a for a in stats["arms"]}
    assert arms["v3"]["status"] == "rollback"
    # Error rates counted here, the baseline being the other arms pooled.
    errors = frame.group_by("model_variant").agg(pl.col("error").sum(), pl.len())
    rows = {r["model_variant"]: r for r in errors.iter_rows(named=True)}
    others = [v for v in rows if v != "v3"]
    base = sum(rows[v]["error"] for v in others) / sum(rows[v]["len"] for v in others)
    own = rows["v3"]["error"] / rows["v3"]["len"]
    check = next(c for c in report["checks"] if c["id"] == "error_rate")
    assert check["status"] == "fail" and check["consequence"] == "rollback"
    assert check["value"] == pytest.approx(own / base, rel=1e-9)
    assert arms["v3"]["error_rate"] == pytest.approx(own, rel=1e-12)
    assert stats["allocation"]["arms"]["v3"]["thompson_share"] == 0.0
    assert "v3" not in stats["allocation"]["active"]
    assert report["reasons"][0].startswith("roll back v3")


def test_guardrail_keeps_the_best_arm_from_winning(tmp_path: Path) -> None:
    report = bandit_report(generate(FAILING_WINNER))
    assert report.verdict is Verdict.ROLLBACK
    assert report.stats.leader == "v4" and report.stats.winner is None
    assert report.stats.rolled_back == ["v4"]
    # Without the guardrail the same log would name v4 (its rewards are WINNER's).
    assert report.check("p_best").passed and report.check("expected_loss").passed


def test_thresholds_and_options_reach_the_rule(winner_log) -> None:
    strict = bandit_report(winner_log, thresholds={"p_best": 0.999}, draws=20_000, seed=3)
    assert strict.verdict is Verdict.CONTINUE
    assert strict.check("p_best").threshold == 0.999
    assert strict.stats.draws == 20_000 and strict.stats.seed == 3
    absolute = bandit_report(winner_log, absolute_loss=True, thresholds={"expected_loss": 1e-6})
    assert absolute.check("expected_loss").passed is False
    assert absolute.stats.rule.relative_loss is False
    two = bandit_report(winner_log, arm=["v1", "v4"])
    assert [a.name for a in two.stats.arms] == ["v1", "v4"]
    assert two.check("p_best").threshold == 0.995  # two arms: one comparison


def test_unit_clustered_standard_errors_match_statsmodels() -> None:
    """Three requests a user: each arm's SE is OLS on a constant with errors clustered by user."""
    spec = UNIFORM.__class__(**{**UNIFORM.__dict__, "periods": 1, "requests_per_unit": 3.0})
    frame = generate(spec)
    report = bandit_report(frame)
    for arm in report.stats.arms:
        rows = frame.filter(pl.col("model_variant") == arm.name)
        y = rows["clicked"].cast(pl.Float64).to_numpy()
        fit = sm.OLS(y, np.ones_like(y)).fit(
            cov_type="cluster", cov_kwds={"groups": rows["user_id"].to_numpy()}
        )
        assert arm.mean == pytest.approx(float(fit.params[0]), rel=1e-12)
        assert arm.se == pytest.approx(float(fit.bse[0]), rel=1e-9)
        assert arm.pulls == rows["user_id"].n_unique()
    assert report.stats.unit == "user_id"


def test_estimators_ipw_and_pooled(winner_log) -> None:
    ipw = bandit_report(winner_log, estimator="ipw", draws=20_000)
    pooled = bandit_report(winner_log, estimator="pooled", draws=20_000)
    for arm_ipw, arm_pooled in zip(ipw.stats.arms, pooled.stats.arms, strict=True):
        rows = winner_log.filter(pl.col("model_variant") == arm_ipw.name)
        y = rows["clicked"].cast(pl.Float64).to_numpy()
        w = 1.0 / rows["propensity"].to_numpy()
        assert arm_ipw.mean == pytest.approx(float((w * y).sum() / w.sum()), rel=1e-9)
        assert arm_pooled.mean == pytest.approx(float(y.mean()), rel=1e-12)
        assert arm_pooled.se == pytest.approx(float(y.std(ddof=1) / np.sqrt(y.size)), rel=1e-9)
    assert any("pooled means are biased" in w for w in pooled.warnings)


def test_replay_on_uniform_logging_recovers_each_arm_over_seeds() -> None:
    """30 fixed-arm replay CIs (10 logs x 3 arms): about 95% cover the arm's true rate.

    Expected 28.5 covered; fewer than 25 has probability 0.003 under correct coverage.
    """
    covered, misses = 0, []
    for seed in range(10):
        spec = UNIFORM.__class__(**{**UNIFORM.__dict__, "periods": 4, "seed": seed})
        report = bandit_report(generate(spec), replay=True, draws=1000, seed=seed)
        assert report.stats.replay is not None
        fixed = {p.policy: p.replay for p in report.stats.replay.policies}
        for name, rate in zip(("v1", "v2", "v3"), UNIFORM.rates, strict=True):
            value = fixed[f"arm:{name}"]
            covered += value.ci_low <= rate <= value.ci_high
            misses.append(abs(value.value - rate) / value.se)
    assert covered >= 25, covered
    assert max(misses) < 4.0


def test_replay_reaches_the_json_as_computed(run_cli, tmp_path: Path) -> None:
    frame = generate(UNIFORM)
    path = tmp_path / "uniform.parquet"
    frame.write_parquet(path)
    result = run_cli("bandit-report", path, "--replay", "--format", "json")
    assert result.exit_code in (0, 3), result.stderr
    replay = result.json()["stats"]["replay"]
    policies = {p["policy"]: p for p in replay["policies"]}
    assert replay["best_fixed_arm"]["replay"] == "v3"
    assert (replay["events"], replay["logging"]) == (frame.height, "propensity")
    # The same numbers as the replay called directly on the rows in time order.
    ordered = frame.sort("ts", maintain_order=True)
    arms = ordered["model_variant"].replace_strict({"v1": 0, "v2": 1, "v3": 2}).to_numpy()
    direct = evaluate_policies(
        arms,
        ordered["clicked"].cast(pl.Float64).to_numpy(),
        ["v1", "v2", "v3"],
        propensities=ordered["propensity"].to_numpy(),
        binary=True,
    )
    for evaluation in direct.policies:
        got = policies[evaluation.policy]
        assert got["accepted"] == evaluation.accepted
        for method in ("replay", "ips", "snips"):
            want = evaluation.value(method)
            for key in ("value", "ci_low", "ci_high", "regret"):
                assert got[method][key] == pytest.approx(getattr(want, key), rel=1e-9, abs=1e-12)


def test_sample_replay_with_contexts_has_linucb() -> None:
    report = bandit_report(SAMPLE, replay=True, context=["feature_1", "feature_2"])
    replay = report.stats.replay
    assert replay is not None and replay.logging == "propensity"
    assert [p.policy for p in replay.policies][-1] == "linucb(1)"
    assert replay.events == 14_000


@pytest.mark.parametrize("fmt", ["markdown", "rich", "html"])
def test_formats_show_arms_allocation_and_weighting(run_cli, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    replay = ["--replay"] if fmt == "html" else []
    result = run_cli("bandit-report", SAMPLE, *replay, "--format", fmt, "--output", out)
    assert result.exit_code == 3, result.stderr
    text = out.read_text()
    for fragment in ("CONTINUE", "v4", "Thompson", "Per-period weighting", "DROP"):
        assert fragment in text, fragment
    if fmt == "html":
        for plot in ("p_best", "arm_means", "allocation", "share_over_time", "replay_values"):
            assert f'data-plot="{plot}"' in text, plot
