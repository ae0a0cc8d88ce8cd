"""`abtool gate` with canary and interleave gates, end to end on generated log snapshots.

Each snapshot is small (a few thousand users or sessions) and has a known effect, so the
verdicts are clear-cut: a click lift well above the noise (PROMOTE), a 1.8x latency regression
(ROLLBACK), a ranker B much less noisy than A (GO), equal rankers (no preference).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats as scipy_stats

from abtool.render.blocks import fmt_number
from abtool.reports.canary import CanaryOptions, canary_report
from abtool.reports.interleave import InterleaveOptions, interleave_report
from abtool.simulate.canary import CanarySpec, canary_chunks
from abtool.simulate.interleave import InterleaveSpec, interleave_chunks
from abtool.simulate.writer import write_chunks
from tests.helpers import junit_counts, write_policy

LIFT = CanarySpec(users=2400, requests_per_user=2, stage=50, click_lift=0.6, seed=3)
SLOW = CanarySpec(
    users=2400, requests_per_user=2, stage=50, click_lift=0.6, seed=3, latency_factor=1.8
)
PREFERRED_B = InterleaveSpec(sessions=3000, seed=3, noise_b=0.4)
EQUAL = InterleaveSpec(sessions=3000, seed=3, noise_a=1.0, noise_b=1.0)
BOOTSTRAP = 2000  # resamples of the interleave CI: enough for two decimals, and fast


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """canary-lift, canary-slow, interleave-b and interleave-equal snapshots (Parquet)."""
    root = tmp_path_factory.mktemp("gate-kinds")
    write_chunks(canary_chunks(LIFT), root / "canary-lift.parquet")
    write_chunks(canary_chunks(SLOW), root / "canary-slow.parquet")
    write_chunks(interleave_chunks(PREFERRED_B), root / "interleave-b.parquet")
    write_chunks(interleave_chunks(EQUAL), root / "interleave-equal.parquet")
    return root


def canary_gate(name: str, path: str, extra: str = "") -> str:
    return (
        f'[[gate]]\nname = "{name}"\nkind = "canary"\npaths = ["{path}"]\n'
        f'metric = "clicked"\nstage = 50\n{extra}\n'
    )


def interleave_gate(name: str, path: str, extra: str = "") -> str:
    # The fixed-horizon test: its sign test and bootstrap CI are pinned against scipy here.
    return (
        f'[[gate]]\nname = "{name}"\nkind = "interleave"\npaths = ["{path}"]\n'
        f'bootstrap = {BOOTSTRAP}\ninference = "fixed"\n{extra}\n'
    )


def team_draft_wins(path: Path) -> tuple[int, int]:
    """(wins_a, wins_b): sessions whose clicks went more to A's / B's items (team-draft credit)."""
    per_session = (
        pl.read_parquet(path)
        .group_by("session_id")
        .agg(
            (pl.col("clicked") & (pl.col("team") == "A")).sum().alias("a"),
            (pl.col("clicked") & (pl.col("team") == "B")).sum().alias("b"),
        )
    )
    return int((per_session["a"] > per_session["b"]).sum()), int(
        (per_session["b"] > per_session["a"]).sum()
    )


def test_passing_policy_promotes_and_goes(run_cli, logs: Path, tmp_path: Path):
    policy = write_policy(
        logs,
        canary_gate("canary-50pct", "canary-lift.parquet", 'salt = "canary"')
        + interleave_gate("ranker", "interleave-b.parquet", 'b_name = "candidate"'),
    )
    junit, markdown = tmp_path / "junit.xml", tmp_path / "summary.md"
    result = run_cli("gate", policy, "-f", "json", "--junit", junit, "--markdown", markdown)
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert (report["verdict"], report["exit_code"]) == ("PROMOTE", 0)
    canary, ranker = report["gates"]
    assert (canary["command"], canary["verdict"], canary["exit_code"]) == (
        "canary-decide",
        "PROMOTE",
        0,
    )
    assert (ranker["command"], ranker["verdict"], ranker["exit_code"]) == (
        "interleave-report",
        "GO",
        0,
    )
    assert canary["stats"]["stage"] == 50 and canary["stats"]["next_stage"] == 100
    assert canary["stats"]["salt_mismatched_units"] == 0  # the salt reached the report

    # SRM against scipy on the units per variant of the log.
    log = pl.read_parquet(logs / "canary-lift.parquet")
    units = log.group_by("model_variant").agg(pl.col("user_id").n_unique()).sort("model_variant")
    control_units, treatment_units = units["user_id"].to_list()
    total = control_units + treatment_units
    expected = scipy_stats.chisquare([control_units, treatment_units], [total / 2, total / 2])
    assert canary["stats"]["srm_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9)
    # The click rate of each variant is its rows' mean (ratio of per-unit sums).
    metric = canary["stats"]["metric"]
    clicked = {v: log.filter(pl.col("model_variant") == v)["clicked"] for v in ("v1", "v2")}
    assert metric["control_mean"] == pytest.approx(float(clicked["v1"].mean()), rel=1e-9)
    assert metric["treatment_mean"] == pytest.approx(float(clicked["v2"].mean()), rel=1e-9)
    # The same figures as the report function called directly with the policy's options.
    direct = canary_report(
        [logs / "canary-lift.parquet"],
        options=CanaryOptions(metrics=("clicked",), stage=50.0, salt="canary"),
    )
    for key in ("lift_abs", "ci_low", "ci_high", "pvalue"):
        assert metric[key] == pytest.approx(getattr(direct.stats.metric.lift, key), rel=1e-9)
    assert metric["ci_low"] > 0 and metric["pvalue"] < 0.05

    # Interleave: team-draft wins counted here, sign test by scipy.
    wins_a, wins_b = team_draft_wins(logs / "interleave-b.parquet")
    stats = ranker["stats"]
    assert (stats["wins_a"], stats["wins_b"]) == (wins_a, wins_b)
    assert stats["win_rate_b"] == pytest.approx(wins_b / (wins_a + wins_b), rel=1e-9)
    binom = scipy_stats.binomtest(wins_b, wins_a + wins_b, 0.5)
    assert stats["pvalue"] == pytest.approx(binom.pvalue, rel=1e-9)
    assert stats["bootstrap"] == BOOTSTRAP
    assert stats["teams"]["b"]["name"] == "candidate"

    counts = junit_counts(junit)
    checks = len(canary["checks"]) + len(ranker["checks"])
    assert counts["tests"] == checks + 2  # + one verdict case per gate
    assert (counts["failures"], counts["errors"]) == (0, 0)
    assert set(counts["suites"]) == {"canary-50pct", "ranker"}
    primary = counts["suites"]["canary-50pct"].find("testcase[@name='primary_metric']")
    assert primary is not None and primary.find("failure") is None

    text = markdown.read_text()
    assert text.startswith("## abtool gate: ✅ PROMOTE\n")
    assert "| canary-50pct | canary | yes | PROMOTE | - | clicked lift " in text
    assert "SRM p " in text and "stage 50% -> 100%" in text
    win_rate = f"{100 * wins_b / (wins_a + wins_b):.2f}%"
    assert f"| ranker | interleave | yes | GO | - | candidate win rate {win_rate}, delta " in text
    assert "### ranker (interleave-report): GO" in text


def test_canary_rollback_exits_1(run_cli, logs: Path, tmp_path: Path):
    policy = write_policy(
        logs,
        canary_gate("canary-50pct", "canary-slow.parquet")
        + interleave_gate("ranker", "interleave-b.parquet"),
    )
    junit, markdown = tmp_path / "junit.xml", tmp_path / "summary.md"
    result = run_cli("gate", policy, "-f", "json", "--junit", junit, "--markdown", markdown)
    assert result.exit_code == 1
    report = result.json()
    assert report["verdict"] == "ROLLBACK"
    assert [g["verdict"] for g in report["gates"]] == ["ROLLBACK", "GO"]
    canary = report["gates"][0]
    assert canary["stats"]["next_stage"] == 0
    latency = next(c for c in canary["checks"] if c["id"] == "latency_p99")
    p99 = {
        role: canary["stats"]["variants"][role]["latency_p99_ms"]
        for role in ("control", "treatment")
    }
    assert latency["value"] == pytest.approx(p99["treatment"] / p99["control"], rel=1e-9)
    assert latency["value"] > 1.5 and latency["passed"] is False

    counts = junit_counts(junit)
    assert counts["failures"] == 2  # latency_p99 and the canary's verdict
    suite = counts["suites"]["canary-50pct"]
    failure = suite.find("testcase[@name='latency_p99']/failure")
    assert f"value {fmt_number(latency['value'])}, threshold 1.50:" in failure.get("message")
    assert suite.find("testcase[@name='verdict']/failure").get("type") == "ROLLBACK"
    assert counts["suites"]["ranker"].get("failures") == "0"

    text = markdown.read_text()
    assert text.startswith("## abtool gate: ❌ ROLLBACK\n")
    assert "| canary-50pct | canary | yes | ROLLBACK | latency_p99 |" in text
    assert "stage 50% -> 0%" in text


def test_hold_exits_3_and_1_with_fail_on_hold(run_cli, logs: Path, tmp_path: Path):
    # Equal rankers: the sign test finds no preference, so the interleave gate HOLDs.
    policy = write_policy(
        logs,
        canary_gate("canary-50pct", "canary-lift.parquet")
        + interleave_gate("ranker", "interleave-equal.parquet"),
    )
    wins_a, wins_b = team_draft_wins(logs / "interleave-equal.parquet")
    assert scipy_stats.binomtest(wins_b, wins_a + wins_b, 0.5).pvalue >= 0.05

    held = run_cli("gate", policy, "-f", "json")
    assert held.exit_code == 3
    report = held.json()
    assert (report["verdict"], report["exit_code"]) == ("HOLD", 3)
    assert [g["verdict"] for g in report["gates"]] == ["PROMOTE", "HOLD"]
    assert report["gates"][1]["reasons"][0].startswith("no significant preference between A and B")

    junit = tmp_path / "junit.xml"
    failing = run_cli("gate", policy, "--fail-on-hold", "-f", "json", "--junit", junit)
    assert failing.exit_code == 1
    assert (failing.json()["verdict"], failing.json()["exit_code"]) == ("HOLD", 1)
    counts = junit_counts(junit)
    assert counts["failures"] == 2  # the preference check and the HOLD verdict
    suite = counts["suites"]["ranker"]
    assert suite.find("testcase[@name='preference']/failure") is not None
    assert suite.find("testcase[@name='verdict']/failure").get("type") == "HOLD"

    # Not required, the same HOLD is reported but does not count.
    optional = write_policy(
        logs,
        canary_gate("canary-50pct", "canary-lift.parquet")
        + interleave_gate("ranker", "interleave-equal.parquet", "required = false"),
        "optional.toml",
    )
    result = run_cli("gate", optional, "--fail-on-hold", "-f", "json")
    assert result.exit_code == 0
    assert [g["verdict"] for g in result.json()["gates"]] == ["PROMOTE", "HOLD"]


def test_canary_without_metric_holds_and_thresholds_apply(run_cli, logs: Path):
    # No metric: guardrails only, and the command HOLDs unless allow_neutral is set.
    text = (
        '[[gate]]\nname = "guardrails"\nkind = "canary"\npaths = ["canary-lift.parquet"]\n'
        "stage = 50\n\n"
        '[[gate]]\nname = "neutral"\nkind = "canary"\npaths = ["canary-lift.parquet"]\n'
        "stage = 50\nallow_neutral = true\n[gate.thresholds]\nmin_samples = 5000\n"
    )
    result = run_cli("gate", write_policy(logs, text, "no-metric.toml"), "-f", "json")
    assert result.exit_code == 3
    guardrails, neutral = result.json()["gates"]
    assert guardrails["verdict"] == "HOLD"
    assert any("give --metric, or --allow-neutral" in r for r in guardrails["reasons"])
    assert neutral["verdict"] == "HOLD"  # 5,000 units per variant is more than the log has
    check = next(c for c in neutral["checks"] if c["id"] == "min_samples")
    assert (check["threshold"], check["passed"]) == (5000, False)
    smaller = min(neutral["stats"]["variants"][r]["units"] for r in ("control", "treatment"))
    assert check["value"] == smaller


def test_interleave_options_and_columns_reach_the_report(run_cli, logs: Path, tmp_path: Path):
    renamed = (
        pl.read_parquet(logs / "interleave-b.parquet")
        .rename({"session_id": "sid", "team": "ranker"})
        .with_columns(pl.col("ranker").replace({"A": "prod", "B": "cand"}))
    )
    renamed.write_parquet(tmp_path / "renamed.parquet")
    policy = write_policy(
        tmp_path,
        interleave_gate(
            "ranker",
            "renamed.parquet",
            'session_col = "sid"\nteam_col = "ranker"\nteam_a = "prod"\nteam_b = "cand"\n'
            "confidence = 0.9\nseed = 11\n[gate.thresholds]\nmin_sessions = 100",
        ),
    )
    result = run_cli("gate", policy, "-f", "json")
    assert result.exit_code == 0, result.stderr
    stats = result.json()["gates"][0]["stats"]
    direct = interleave_report(
        [logs / "interleave-b.parquet"],
        options=InterleaveOptions(bootstrap=BOOTSTRAP, confidence=0.9, seed=11, inference="fixed"),
    )
    for key in ("wins_a", "wins_b", "ties", "pvalue", "delta_ab", "ci_low", "ci_high"):
        assert stats[key] == pytest.approx(direct.to_dict()["stats"][key], rel=1e-9), key
    assert (stats["confidence"], stats["seed"]) == (0.9, 11)
    assert stats["teams"]["b"]["value"] == "cand"
    # The CI is a 90% percentile interval of the bootstrap, inside the range of deltas.
    assert stats["ci_low"] < stats["delta_ab"] < stats["ci_high"]
    assert np.isfinite([stats["ci_low"], stats["ci_high"]]).all()


def gate_text(kind: str, extra: str) -> str:
    return f'[[gate]]\nname = "g"\nkind = "{kind}"\npaths = ["x.parquet"]\n{extra}\n'


# (policy text, line the error names, fragment of the message); no log exists: validation
# must fail before anything is read.
BAD_POLICIES = [
    (gate_text("canary", 'metrc = "clicked"'), 5, "unknown key 'metrc' - did you mean 'metric'?"),
    (gate_text("canary", 'stage = "five"'), 5, "'stage' must be a number, got string 'five'"),
    (
        gate_text("canary", 'metric = "clicked"\nmetric_type = "binary"'),
        6,
        "'metric_type' must be one of auto, proportion, continuous; got 'binary'",
    ),
    (
        gate_text("canary", "stage = 100"),
        5,
        "'stage' must be in (0, 100), got 100",
    ),
    (gate_text("canary", "metric = 3"), 5, "'metric' must be a string or a list of strings"),
    (gate_text("canary", "metric = []"), 5, "'metric' must not be an empty list"),
    (gate_text("canary", "bootstrap = -1"), 5, "'bootstrap' must be >= 0, got -1"),
    (gate_text("canary", 'allow_neutral = "yes"'), 5, "'allow_neutral' must be true or false"),
    (
        gate_text("canary", 'since = "yesterday"'),
        5,
        "'since' 'yesterday' is not an ISO date or date-time",
    ),
    # Combinations of settings (the spec's check hook): reported at the gate's header.
    (gate_text("canary", 'salt = "canary"'), 1, "gate 'g': --salt needs --stage"),
    (gate_text("canary", 'metric = ["clicked", "clicked"]'), 1, "--metric lists a column twice"),
    (
        gate_text("canary", "[gate.thresholds]\ndistribution_shift_window = 0.5"),
        6,
        "threshold 'distribution_shift_window' must be an integer, got 0.5",
    ),
    (
        gate_text("canary", "[gate.thresholds]\nlift = 0.1"),
        6,
        "thresholds: unknown threshold 'lift' (known: error_rate,",
    ),
    (gate_text("interleave", "confidence = 1.5"), 5, "'confidence' must be in (0, 1), got 1.5"),
    (gate_text("interleave", "bootstrap = 0"), 5, "'bootstrap' must be >= 1, got 0"),
    (gate_text("interleave", "seed = -1"), 5, "'seed' must be >= 0, got -1"),
    (gate_text("interleave", "team_b = 2"), 5, "'team_b' must be a string, got integer 2"),
    (gate_text("interleave", 'since = "2025-01-01"'), 5, "unknown key 'since'"),
    (
        gate_text("interleave", "[gate.thresholds]\npreference = 2.0"),
        6,
        "threshold 'preference' must be in (0, 1), got 2",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_POLICIES)
def test_bad_canary_and_interleave_policies_exit_2(run_cli, tmp_path: Path, text, line, message):
    policy = write_policy(tmp_path, text)
    result = run_cli("gate", policy)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"abtool: error: {policy}:{line}: gate 'g': ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""
