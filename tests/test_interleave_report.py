"""interleave-report on hand-made logs: counts, formats, statistics, verdicts, output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats

from abtool.reports.interleave import InterleaveOptions, interleave_report
from tests.helpers import write_parquet

# session -> list of (item, team, clicked), in shown order
Sessions = dict[str, list[tuple[str, str, bool]]]

HAND_MADE: Sessions = {
    "s1": [("a", "A", True), ("b", "B", False)],  # A wins
    "s2": [("c", "B", True), ("d", "A", True)],  # tie with clicks
    "s3": [("e", "A", False), ("f", "B", False)],  # tie without clicks
    "s4": [("g", "B", True), ("h", "A", False), ("i", "B", True)],  # B wins 2-0
    "s5": [("j", "A", True), ("k", "B", True), ("l", "A", True)],  # A wins 2-1
    "s6": [("m", "B", False), ("n", "A", False)],  # tie without clicks
}


def long_frame(sessions: Sessions) -> pl.DataFrame:
    rows = [
        {"session_id": s, "position": k + 1, "item_id": item, "team": team, "clicked": clicked}
        for s, shown in sessions.items()
        for k, (item, team, clicked) in enumerate(shown)
    ]
    return pl.DataFrame(rows)


def nested_frame(sessions: Sessions) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "session_id": list(sessions),
            "attribution": [
                [{"item": item, "team": team} for item, team, _ in shown]
                for shown in sessions.values()
            ],
            "clicked_items": [
                [item for item, _, clicked in shown if clicked] for shown in sessions.values()
            ],
        },
        schema_overrides={"clicked_items": pl.List(pl.String)},
    )


def direct_counts(sessions: Sessions) -> dict[str, Any]:
    """Wins, ties and click-through counted with plain Python."""
    wins_a = wins_b = ties = no_click = 0
    shown = {"A": 0, "B": 0}
    clicks = {"A": 0, "B": 0}
    for items in sessions.values():
        credit = {"A": 0, "B": 0}
        for _, team, clicked in items:
            shown[team] += 1
            clicks[team] += clicked
            credit[team] += clicked
        wins_a += credit["A"] > credit["B"]
        wins_b += credit["B"] > credit["A"]
        ties += credit["A"] == credit["B"]
        no_click += credit["A"] + credit["B"] == 0
    return {
        "wins_a": wins_a,
        "wins_b": wins_b,
        "ties": ties,
        "no_click": no_click,
        "shown": shown,
        "clicks": clicks,
    }


def random_sessions(n: int, seed: int, p_click_b: float = 0.3) -> Sessions:
    rng = np.random.default_rng(seed)
    sessions: Sessions = {}
    for s in range(n):
        size = int(rng.integers(1, 7))
        sessions[f"q{s}"] = [
            (
                f"i{s}_{k}",
                team := ("A" if rng.random() < 0.5 else "B"),
                bool(rng.random() < (p_click_b if team == "B" else 0.25)),
            )
            for k in range(size)
        ]
    return sessions


def test_hand_made_log_direct_counts(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", long_frame(HAND_MADE))
    result = run_cli("interleave-report", path, "--format", "json")
    report = result.json()
    stats_ = report["stats"]
    assert (stats_["wins_a"], stats_["wins_b"], stats_["ties"]) == (2, 1, 3)
    assert stats_["sessions"] == 6
    assert stats_["no_click_sessions"] == 2
    assert stats_["decisive_sessions"] == 3
    assert stats_["win_rate_b"] == pytest.approx(1 / 3)
    assert stats_["delta_ab"] == pytest.approx((1 + 3 / 2) / 6 - 0.5)
    assert stats_["pvalue"] == pytest.approx(stats.binomtest(1, 3, 0.5).pvalue, rel=1e-12)
    assert stats_["teams"]["a"]["shown"] == 7 and stats_["teams"]["a"]["clicks"] == 4
    assert stats_["teams"]["b"]["shown"] == 7 and stats_["teams"]["b"]["clicks"] == 4
    assert stats_["teams"]["b"]["ctr"] == pytest.approx(4 / 7)
    positions = {p["position"]: p for p in stats_["ctr_by_position"]}
    assert positions[1]["shown"] == 6 and positions[1]["clicks"] == 4
    assert positions[3]["shown"] == 2 and positions[3]["clicks"] == 2
    assert positions[3]["ctr_a"] == 1.0 and positions[3]["ctr_b"] == 1.0
    assert positions[2]["ctr_a"] == pytest.approx(1 / 3)  # d clicked; h, n not
    assert positions[2]["ctr_b"] == pytest.approx(1 / 3)  # k clicked; b, f not
    # 3 decisive sessions: too few for the default 1,000 -> HOLD, exit 3.
    assert report["verdict"] == "HOLD" and result.exit_code == 3
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["min_sessions"]["passed"] is False and checks["min_sessions"]["value"] == 3


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_logs_match_direct_counts(tmp_path: Path, seed: int) -> None:
    sessions = random_sessions(300, seed)
    expected = direct_counts(sessions)
    path = write_parquet(tmp_path / "log.parquet", long_frame(sessions))
    report = interleave_report([path], options=InterleaveOptions(bootstrap=500, inference="fixed"))
    got = report.to_dict()["stats"]
    assert (got["wins_a"], got["wins_b"], got["ties"]) == (
        expected["wins_a"],
        expected["wins_b"],
        expected["ties"],
    )
    assert got["no_click_sessions"] == expected["no_click"]
    for role, team in (("a", "A"), ("b", "B")):
        assert got["teams"][role]["shown"] == expected["shown"][team]
        assert got["teams"][role]["clicks"] == expected["clicks"][team]
    assert got["pvalue"] == pytest.approx(
        stats.binomtest(expected["wins_b"], expected["wins_a"] + expected["wins_b"]).pvalue,
        rel=1e-12,
    )


@pytest.mark.parametrize("sessions", [HAND_MADE, random_sessions(400, 7)], ids=["hand", "random"])
def test_long_and_nested_agree(tmp_path: Path, run_cli, sessions: Sessions) -> None:
    long_path = write_parquet(tmp_path / "long.parquet", long_frame(sessions))
    nested_path = write_parquet(tmp_path / "nested.parquet", nested_frame(sessions))
    long_report = run_cli("interleave-report", long_path, "-f", "json").json()
    nested_report = run_cli("interleave-report", nested_path, "-f", "json").json()
    assert long_report["stats"]["log_format"] == "long"
    assert nested_report["stats"]["log_format"] == "nested"
    for report in (long_report, nested_report):
        del report["stats"]["log_format"], report["inputs"]
    assert long_report == nested_report


def test_nested_integer_items(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "session_id": [1, 2, 3],
            "attribution": [
                [{"item": 10, "team": "A"}, {"item": 11, "team": "B"}],
                [{"item": 12, "team": "B"}, {"item": 13, "team": "A"}],
                [{"item": 14, "team": "A"}],
            ],
            "clicked_items": [[11], [], None],
        }
    )
    report = interleave_report([write_parquet(tmp_path / "n.parquet", frame)])
    assert (
        report.stats.preference.wins_a,
        report.stats.preference.wins_b,
        report.stats.preference.ties,
    ) == (0, 1, 2)
    assert any("null 'clicked_items' taken as no click" in w for w in report.warnings)


def _outcome_log(wins_a: int, wins_b: int, ties: int) -> pl.DataFrame:
    """Two-item sessions: each decisive session has one click on the winner's item."""
    outcomes = ["a"] * wins_a + ["b"] * wins_b + ["t"] * ties
    rows = []
    for s, outcome in enumerate(outcomes):
        rows.append((s, 1, f"x{s}", "A", outcome == "a"))
        rows.append((s, 2, f"y{s}", "B", outcome == "b"))
    return pl.DataFrame(
        rows, schema=["session_id", "position", "item_id", "team", "clicked"], orient="row"
    )


@pytest.mark.parametrize(
    ("wins_a", "wins_b", "verdict", "code"),
    [(560, 700, "GO", 0), (700, 560, "NO_GO", 1), (620, 640, "HOLD", 3)],
)
def test_verdicts(
    tmp_path: Path, run_cli, wins_a: int, wins_b: int, verdict: str, code: int
) -> None:
    path = write_parquet(tmp_path / "log.parquet", _outcome_log(wins_a, wins_b, 300))
    # The fixed-horizon test: the sign test and bootstrap CI (the sequential one is pinned in
    # tests/test_interleave_sequential.py).
    result = run_cli("interleave-report", path, "-f", "json", "--seed", "3", "--inference", "fixed")
    report = result.json()
    assert report["verdict"] == verdict and result.exit_code == code
    pvalue = stats.binomtest(wins_b, wins_a + wins_b, 0.5).pvalue
    assert report["stats"]["pvalue"] == pytest.approx(pvalue, rel=1e-12)
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["preference"]["passed"] is (verdict == "GO")
    assert checks["preference"]["threshold"] == 0.05
    assert checks["min_sessions"]["passed"] is True
    assert report["stats"]["ci_low"] < report["stats"]["delta_ab"] < report["stats"]["ci_high"]
    # The CI agrees with the normal approximation for a mean of bounded session scores.
    scores = np.repeat([0.0, 1.0, 0.5], [wins_a, wins_b, 300])
    se = scores.std() / np.sqrt(scores.size)
    assert report["stats"]["ci_low"] == pytest.approx(scores.mean() - 0.5 - 1.96 * se, abs=4e-3)


def test_config_min_sessions_holds_a_significant_result(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", _outcome_log(560, 700, 0))
    config = tmp_path / "abtool.toml"
    config.write_text("[interleave]\nmin_sessions = 5000\npreference = 0.01\n")
    result = run_cli("interleave-report", path, "-f", "json", "--config", config)
    report = result.json()
    assert result.exit_code == 3 and report["verdict"] == "HOLD"
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["min_sessions"]["threshold"] == 5000 and checks["min_sessions"]["value"] == 1260
    assert checks["preference"]["threshold"] == 0.01 and checks["preference"]["passed"] is True


def test_bootstrap_seed_and_resamples(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", _outcome_log(40, 60, 30))
    fixed = ("-f", "json", "--inference", "fixed")
    first = run_cli("interleave-report", path, *fixed, "--seed", "5").json()["stats"]
    again = run_cli("interleave-report", path, *fixed, "--seed", "5").json()["stats"]
    other = run_cli("interleave-report", path, *fixed, "--seed", "6", "--bootstrap", "500").json()[
        "stats"
    ]
    assert (first["ci_low"], first["ci_high"]) == (again["ci_low"], again["ci_high"])
    assert (first["ci_low"], first["ci_high"]) != (other["ci_low"], other["ci_high"])
    assert other["bootstrap"] == 500


def test_team_names_and_values(tmp_path: Path, run_cli) -> None:
    frame = _outcome_log(3, 5, 1).with_columns(
        pl.col("team").replace({"A": "control", "B": "treatment"})
    )
    path = write_parquet(tmp_path / "log.parquet", frame)
    result = run_cli(
        "interleave-report",
        path,
        "--team-a",
        "control",
        "--team-b",
        "treatment",
        "--a-name",
        "prod",
        "--b-name",
        "cand",
        "-f",
        "markdown",
    )
    assert result.exit_code == 3
    assert "| prod | 9 | 3 | 33.33% |" in result.stdout
    assert "| cand | 9 | 5 | 55.56% |" in result.stdout
    assert "cand won 5 and prod 3 decisive sessions" in result.stdout


def test_rich_output_shows_the_same_numbers(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", long_frame(HAND_MADE))
    result = run_cli("interleave-report", path, "--b-name", "new")
    assert result.exit_code == 3
    assert "interleave-report  HOLD" in result.stdout
    assert "new wins" in result.stdout and "ties" in result.stdout
    assert "3 (2 without clicks)" in result.stdout
