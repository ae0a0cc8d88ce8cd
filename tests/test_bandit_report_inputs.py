"""bandit-report as a gate kind, its config table, and one-line errors for unusable inputs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from abtool.reports.bandit import bandit_report
from abtool.simulate.bandit import bandit_chunks
from abtool.simulate.writer import write_chunks
from tests.bandit_logs import FAILING, SAMPLE, WINNER
from tests.helpers import assert_one_line_error, junit_counts, write_parquet, write_policy


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bandit-gate")
    write_chunks(bandit_chunks(WINNER), root / "winner.parquet")
    write_chunks(bandit_chunks(FAILING), root / "failing.parquet")
    return root


def bandit_gate(name: str, path: str, extra: str = "") -> str:
    return f'[[gate]]\nname = "{name}"\nkind = "bandit"\npaths = ["{path}"]\n{extra}\n'


def test_winner_gate_passes_with_junit_and_markdown(run_cli, logs: Path, tmp_path: Path) -> None:
    policy = write_policy(
        logs,
        bandit_gate("models", "winner.parquet", "draws = 20000\n[gate.thresholds]\nmin_pulls = 500")
        + bandit_gate("sample", str(SAMPLE), "required = false"),
    )
    junit, markdown = tmp_path / "junit.xml", tmp_path / "summary.md"
    result = run_cli("gate", policy, "-f", "json", "--junit", junit, "--markdown", markdown)
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert (report["verdict"], report["exit_code"]) == ("WINNER", 0)
    models, sample = report["gates"]
    assert (models["command"], models["verdict"], models["exit_code"]) == (
        "bandit-report",
        "WINNER",
        0,
    )
    assert models["stats"]["draws"] == 20_000  # the gate's option reached the report
    assert next(c for c in models["checks"] if c["id"] == "min_pulls")["threshold"] == 500
    direct = bandit_report(logs / "winner.parquet", draws=20_000, thresholds={"min_pulls": 500})
    assert models["stats"]["leader_p_best"] == direct.stats.leader_p_best
    assert sample["verdict"] == "CONTINUE"  # not required: reported, not gating
    counts = junit_counts(junit)
    assert counts["tests"] == len(models["checks"]) + len(sample["checks"]) + 2
    assert (counts["failures"], counts["errors"]) == (0, 0)
    text = markdown.read_text()
    assert text.startswith("## abtool gate: ✅ WINNER\n")
    assert "| models | bandit | yes | WINNER |" in text
    assert "leader v4 P(best)" in text


def test_failing_arm_fails_the_gate(run_cli, logs: Path, tmp_path: Path) -> None:
    policy = write_policy(logs, bandit_gate("models", "failing.parquet"), "failing.toml")
    junit = tmp_path / "junit.xml"
    result = run_cli("gate", policy, "-f", "json", "--junit", junit)
    assert result.exit_code == 1, result.stderr
    assert result.json()["verdict"] == "ROLLBACK"
    suite = junit_counts(junit)["suites"]["models"]
    error_case = suite.find("testcase[@name='error_rate']")
    assert error_case is not None and error_case.find("failure") is not None


def test_config_table_sets_thresholds(run_cli, tmp_path: Path) -> None:
    config = tmp_path / "abtool.toml"
    config.write_text("[bandit]\np_best = 0.9\n")
    result = run_cli("bandit-report", SAMPLE, "--config", config, "--format", "json")
    assert result.exit_code == 0, result.stderr  # v4's P(best) 0.917 clears 0.9
    report = result.json()
    assert report["verdict"] == "WINNER" and report["stats"]["winner"] == "v4"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_parquet(
        tmp_path / "tiny.parquet",
        {
            "model_variant": ["a", "b", "a", "b"],
            "clicked": [0, 1, 1, 0],
            "reward_text": ["x", "y", "z", "w"],
            "period": [0, 0, 0, 0],
        },
    )


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--arm-col", "variant"], ["{log}", "missing column 'variant'", "--arm-col"]),
        (["--reward", "reward_text"], ["{log}", "column 'reward_text' is String", "a number"]),
        (["--arm", "a", "--arm", "c"], ["{log}", "--arm 'c' not found in 'model_variant'"]),
        (["--estimator", "ipw"], ["{log}", "missing column 'propensity'", "--propensity-col"]),
        (["--replay"], ["{log}", "missing column 'ts'", "--time-col"]),
        (["--control", "z"], ["{log}", "--control 'z' not found"]),
        (["--context", "period"], ["--context needs --replay"]),
        (["--arm", "a"], ["--arm needs at least two arms"]),
    ],
)
def test_bad_inputs_are_one_line_errors(run_cli, tiny: Path, args, fragments) -> None:
    result = run_cli("bandit-report", tiny, *args)
    assert_one_line_error(result, *[f.replace("{log}", str(tiny)) for f in fragments])


def test_one_arm_only(run_cli, tmp_path: Path) -> None:
    path = write_parquet(
        tmp_path / "one.parquet", {"model_variant": ["a"] * 4, "clicked": [0, 1, 1, 0]}
    )
    result = run_cli("bandit-report", path, "--period-col", "nope")
    assert_one_line_error(result, "missing column 'ts'", "--time-col")
    frame = pl.read_parquet(path).with_columns(period=pl.lit(0))
    write_parquet(path, frame)
    result = run_cli("bandit-report", path)
    assert_one_line_error(result, "holds 1 arm(s) (a)", "at least two")


def test_non_binary_reward_with_binary_type(run_cli, tmp_path: Path) -> None:
    path = write_parquet(
        tmp_path / "revenue.parquet",
        {"model_variant": ["a", "b"] * 4, "revenue": [0.0, 2.5, 1.0, 0.0] * 2, "period": [0] * 8},
    )
    result = run_cli("bandit-report", path, "--reward", "revenue", "--reward-type", "binary")
    assert_one_line_error(result, "--reward-type binary", "column 'revenue'")


def test_replay_cap_and_missing_period_coverage(run_cli, tmp_path: Path) -> None:
    result = run_cli("bandit-report", SAMPLE, "--replay", "--replay-max-events", "1000")
    assert_one_line_error(result, "--replay reads at most 1,000 rows", "14,000")
    # Every row in its own hour: no period holds two units of every arm.
    result = run_cli("bandit-report", SAMPLE, "--period-col", "none", "--period-hours", "0.001")
    assert_one_line_error(result, "no period", "two units of every arm")


def test_floor_that_does_not_fit(run_cli) -> None:
    result = run_cli("bandit-report", SAMPLE, "--floor", "0.5")
    assert_one_line_error(result, "--floor 0.5 times 3 active arms is above 1")


def test_time_buckets_match_the_period_column_and_the_window_cuts_periods() -> None:
    """The sample's periods are UTC days: 24 h buckets of ``ts`` give the same analysis."""
    by_column = bandit_report(SAMPLE, draws=20_000)
    by_time = bandit_report(SAMPLE, period_col="none", period_hours=24, draws=20_000)
    assert by_time.stats.period_source == "24h buckets of 'ts'"
    assert by_time.stats.periods == by_column.stats.periods == 14
    for a, b in zip(by_column.stats.arms, by_time.stats.arms, strict=True):
        assert (a.pulls, a.p_best) == (b.pulls, b.p_best)
        assert a.mean == pytest.approx(b.mean, rel=1e-12)
    week = bandit_report(SAMPLE, until="2025-05-05", draws=20_000)
    frame = pl.read_parquet(SAMPLE).filter(pl.col("ts") < pl.datetime(2025, 5, 5))
    assert (week.stats.periods, week.stats.rows) == (7, frame.height)
    assert week.stats.timeline.period == [str(p) for p in range(7)]
