"""`abtool sample-size` through the real entry point: JSON contract, formats, days, errors."""

from __future__ import annotations

import json
import math

import pytest
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

from abtool.reports.sample_size import duration_days, parse_ratio

DESIGN_KEYS = {"n_per_group", "n_total", "effect_size", "method", "days"}


def test_json_contract_and_exit_code(run_cli) -> None:
    result = run_cli("sample-size", "--baseline", "0.12", "--mde", "0.01", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["command"] == "sample-size"
    assert report["verdict"] == "INFO"
    assert report["exit_code"] == 0
    assert report["checks"] == []
    stats = report["stats"]
    assert set(stats) >= DESIGN_KEYS
    expected = NormalIndPower().solve_power(
        effect_size=proportion_effectsize(0.13, 0.12), alpha=0.05, power=0.8
    )
    assert stats["n_per_group"] == math.ceil(expected) == 17_164
    assert stats["n_total"] == 2 * 17_164
    assert stats["method"] == "cohen-h"
    assert stats["effect_size"] == pytest.approx(proportion_effectsize(0.13, 0.12))
    assert stats["days"] is None
    assert stats["mde_rel"] == pytest.approx(0.01 / 0.12)
    assert [row["mde_abs"] for row in stats["sensitivity"]] == pytest.approx(
        [0.005, 0.0075, 0.01, 0.015, 0.02]
    )
    assert report["reasons"][0].startswith("17,164 units per group")


def test_t_approx_method(run_cli) -> None:
    stats = run_cli(
        "sample-size", "--baseline", "0.12", "--mde", "0.01", "--method", "t-approx", "-f", "json"
    ).json()["stats"]
    expected = TTestIndPower().solve_power(
        effect_size=0.01 / math.sqrt(0.12 * 0.88), alpha=0.05, power=0.8
    )
    assert stats["n_per_group"] == math.ceil(expected) == 16_578
    assert stats["method"] == "t-approx"


def test_canary_ratio_and_variants(run_cli) -> None:
    stats = run_cli(
        "sample-size",
        "--baseline",
        "0.05",
        "--mde-rel",
        "0.1",
        "--ratio",
        "0.05/0.95",
        "--variants",
        "2",
        "-f",
        "json",
    ).json()["stats"]
    ratio = 0.05 / 0.95
    expected = NormalIndPower().solve_power(
        effect_size=abs(proportion_effectsize(0.055, 0.05)), alpha=0.025, power=0.8, ratio=ratio
    )
    assert stats["ratio"] == pytest.approx(ratio)
    assert stats["n_control"] == math.ceil(expected)
    assert stats["n_treatment"] == math.ceil(expected * ratio)
    assert stats["n_total"] == stats["n_control"] + 2 * stats["n_treatment"]
    assert stats["alpha_adjusted"] == pytest.approx(0.025)


@pytest.mark.parametrize(
    ("text", "value"), [("0.05/0.95", 0.05 / 0.95), ("5:95", 5 / 95), ("2", 2.0), ("1:1", 1.0)]
)
def test_ratio_forms(text: str, value: float) -> None:
    assert parse_ratio(text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("raw_units", "expected"),
    [
        (1, (7, 1)),
        (6_999, (7, 1)),
        (21_000, (7, 3)),
        (49_000, (7, 7)),
        (50_000, (14, 8)),
        (91_000, (14, 13)),
        (98_000, (14, 14)),
        (105_000, (15, 15)),
        (301_000, (43, 43)),
    ],
)
def test_days_round_up_to_whole_weeks_under_two_weeks(raw_units: int, expected: tuple) -> None:
    days, raw, note = duration_days(raw_units, 7_000)
    assert (days, raw) == expected
    assert (note is not None and "rounded up" in note) == (days != raw)


def test_days_in_the_report(run_cli) -> None:
    report = run_cli(
        "sample-size", "--baseline", "0.12", "--mde", "0.01", "--daily-units", "5000", "-f", "json"
    ).json()
    stats = report["stats"]
    assert stats["days_raw"] == math.ceil(34_328 / 5_000) == 7
    assert stats["days"] == 7
    report = run_cli(
        "sample-size", "--baseline", "0.12", "--mde", "0.01", "--daily-units", "4000", "-f", "json"
    ).json()
    assert (report["stats"]["days_raw"], report["stats"]["days"]) == (9, 14)
    assert "rounded up from 9 to 14 days" in report["stats"]["days_note"]
    assert all("days" in row for row in report["stats"]["sensitivity"])


def test_solve_mde_and_power(run_cli) -> None:
    mde = run_cli("sample-size", "--baseline", "0.12", "--n", "17164", "-f", "json").json()
    assert mde["stats"]["solve_for"] == "mde"
    assert mde["stats"]["mde_abs"] == pytest.approx(0.01, rel=1e-4)
    power = run_cli(
        "sample-size", "--baseline", "0.12", "--mde", "0.01", "--n", "17164", "-f", "json"
    ).json()
    assert power["stats"]["solve_for"] == "power"
    expected = NormalIndPower().power(
        effect_size=proportion_effectsize(0.13, 0.12), nobs1=17164, alpha=0.05
    )
    assert power["stats"]["power"] == pytest.approx(expected, abs=1e-10)


def test_continuous_metric(run_cli) -> None:
    stats = run_cli(
        "sample-size",
        "--baseline",
        "12.5",
        "--sd",
        "40",
        "--mde-rel",
        "0.02",
        "--sided",
        "one",
        "-f",
        "json",
    ).json()["stats"]
    expected = TTestIndPower().solve_power(
        effect_size=0.25 / 40, alpha=0.05, power=0.8, alternative="larger"
    )
    assert stats["kind"] == "continuous"
    assert stats["method"] == "t-test"
    assert stats["n_per_group"] == math.ceil(expected)


def test_interleaving(run_cli) -> None:
    report = run_cli(
        "sample-size",
        "--kind",
        "interleaving",
        "--win-rate",
        "0.55",
        "--tie-rate",
        "0.6",
        "--daily-units",
        "500",
        "-f",
        "json",
    ).json()
    stats = report["stats"]
    assert stats["method"] == "sign-test"
    assert stats["n_per_group"] == stats["decisive_sessions"] == 820
    assert stats["n_total"] == math.ceil(820 / 0.4)
    assert stats["effect_size"] == pytest.approx(0.05)
    assert (stats["days_raw"], stats["days"]) == (5, 7)
    assert any("saw-tooth" in w for w in report["warnings"])


def test_rich_and_markdown_show_the_mde_table(run_cli, tmp_path) -> None:
    rich = run_cli("sample-size", "--baseline", "0.12", "--mde", "0.01", "-f", "rich")
    assert rich.exit_code == 0
    assert "Sample size against the MDE" in rich.stdout
    assert "67,490" in rich.stdout  # the MDE 0.005 row
    out = tmp_path / "plan.md"
    result = run_cli(
        "sample-size", "--baseline", "0.12", "--mde", "0.01", "-f", "markdown", "-o", out
    )
    assert result.exit_code == 0
    text = out.read_text()
    assert "| +0.005 | +4.17% |" in text
    assert "17,164" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--baseline", "1.2", "--mde", "0.01"],
            "--baseline 1.2: must be strictly between 0 and 1",
        ),
        (["--baseline", "0", "--mde", "0.01"], "--baseline 0: must be strictly between 0 and 1"),
        (["--baseline", "0.95", "--mde", "0.1"], "impossible MDE: baseline 0.95 + MDE 0.1"),
        (["--baseline", "0.05", "--mde", "-0.06"], "impossible MDE"),
        (["--baseline", "0.95", "--mde-rel", "0.1"], "impossible MDE"),
        (["--baseline", "5", "--sd", "-2", "--mde", "1"], "--sd -2: must be positive"),
        (["--baseline", "5", "--sd", "0", "--mde", "1"], "--sd 0: must be positive"),
        (["--baseline", "0.1", "--mde", "0.01", "--alpha", "1.5"], "--alpha 1.5"),
        (["--baseline", "0.1", "--mde", "0.01", "--alpha", "0"], "--alpha 0"),
        (["--baseline", "0.1", "--mde", "0.01", "--power", "1"], "--power 1"),
        (["--baseline", "0.1", "--mde", "0.01", "--power", "-0.2"], "--power -0.2"),
        (["--baseline", "0.1", "--mde", "0"], "must be non-zero"),
        (["--baseline", "0.1"], "give --mde or --mde-rel"),
        (["--mde", "0.01"], "--baseline is required"),
        (["--baseline", "0.1", "--mde", "0.01", "--mde-rel", "0.1"], "not both"),
        (["--baseline", "0.1", "--mde", "0.01", "--ratio", "0/1"], "--ratio '0/1'"),
        (["--baseline", "0.1", "--mde", "0.01", "--variants", "0"], "--variants 0"),
        (["--baseline", "0.1", "--mde", "0.01", "--method", "t-test"], "--method 't-test'"),
        (["--baseline", "0.1", "--mde", "0.01", "--daily-units", "0"], "--daily-units 0"),
        (["--baseline", "0.1", "--mde", "0.01", "--sided", "both"], "--sided 'both'"),
        (["--sd", "3", "--mde", "1"], None),  # continuous without baseline is fine
        (["--sd", "3", "--mde-rel", "0.1"], "--mde-rel needs a non-zero --baseline"),
        (["--kind", "interleaving", "--win-rate", "0.5"], "--win-rate 0.5"),
        (["--kind", "interleaving", "--win-rate", "1.1"], "--win-rate 1.1"),
        (["--win-rate", "0.6", "--tie-rate", "1"], "--tie-rate 1"),
        (["--win-rate", "0.6", "--baseline", "0.1"], "--baseline does not apply"),
        (["--baseline", "0.1", "--n", "1"], "--n 1"),
        (["--kind", "ratio", "--baseline", "0.1", "--mde", "0.01"], "--kind 'ratio'"),
    ],
)
def test_bad_input_is_one_line_exit_2(run_cli, args: list[str], message: str | None) -> None:
    result = run_cli("sample-size", *args, "-f", "json")
    if message is None:
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("abtool: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_typer_route_gives_the_same_report() -> None:
    from typer.testing import CliRunner

    from abtool.cli import app

    args = ["sample-size", "--baseline", "0.2", "--mde", "0.02", "--variants", "2", "-f", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)["stats"]
    expected = NormalIndPower().solve_power(
        effect_size=proportion_effectsize(0.22, 0.2), alpha=0.025, power=0.8
    )
    assert stats["n_per_group"] == math.ceil(expected)
    bad = CliRunner().invoke(app, ["sample-size", "--baseline", "2", "--mde", "0.1"])
    assert bad.exit_code != 0


def test_help_lists_every_option(run_cli) -> None:
    result = run_cli("sample-size", "--help")
    assert result.exit_code == 0
    for option in [
        "--baseline",
        "--sd",
        "--mde-rel",
        "--n-total",
        "--ratio",
        "--variants",
        "--win-rate",
        "--tie-rate",
        "--daily-units",
        "--format",
        "--output",
    ]:
        assert option in result.stdout
    assert "sample-size" in run_cli("--help").stdout


def test_treatment_percent_is_the_ratio_in_percent(run_cli) -> None:
    base = ("sample-size", "--baseline", "0.12", "--mde-rel", "0.05", "-f", "json")
    percent = run_cli(*base, "--treatment-percent", "5").json()
    ratio = run_cli(*base, "--ratio", "5:95").json()
    assert percent["stats"]["ratio"] == pytest.approx(5 / 95)
    assert percent["stats"]["n_control"] == ratio["stats"]["n_control"]
    assert percent["stats"]["n_treatment"] == ratio["stats"]["n_treatment"]
    assert percent["warnings"] == []
    assert any("--ratio is deprecated" in w for w in ratio["warnings"])
    # Three treatments of 10% each leave 70% for the control: 10/70 units per control unit.
    three = run_cli(*base, "--treatment-percent", "10", "--variants", "3").json()
    assert three["stats"]["ratio"] == pytest.approx(10 / 70)
    hint = run_cli(*base, "--treatment-percent", "0.05").json()
    assert any("give --treatment-percent 5" in w for w in hint["warnings"])
    both = run_cli(*base, "--treatment-percent", "5", "--ratio", "5:95")
    assert both.exit_code == 2 and "not both" in both.stderr


def test_power_curve_and_mde_by_days_come_from_the_solvers(run_cli) -> None:
    stats = run_cli(
        "sample-size", "--baseline", "0.12", "--mde", "0.01", "--daily-units", "5000", "-f", "json"
    ).json()["stats"]
    curve = stats["power_curve"]
    # At the planned size the curve passes through the target power; it rises with units.
    at_plan = curve["units"].index(stats["n_total"])
    assert curve["power"][at_plan] == pytest.approx(0.8, abs=1e-3)
    assert curve["power"] == sorted(curve["power"])
    expected = NormalIndPower().power(
        effect_size=proportion_effectsize(0.13, 0.12),
        nobs1=stats["n_per_group_exact"] / 2,
        alpha=0.05,
        ratio=1.0,
    )
    assert curve["power"][1] == pytest.approx(expected, rel=1e-9)  # half the units
    by_days = stats["mde_by_days"]
    assert by_days["days"][:3] == [1, 2, 3]
    # Day 7 holds 35,000 units: the MDE there is the plan's own question solved for the MDE.
    day7 = by_days["mde_abs"][by_days["days"].index(7)]
    back = run_cli("sample-size", "--baseline", "0.12", "--n-total", "35000", "-f", "json").json()[
        "stats"
    ]
    assert day7 == pytest.approx(back["mde_abs"], rel=1e-9)
