"""The Python API takes what notebook users pass: one path, a list, a DataFrame; CLI names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pytest

import abtool
from abtool.errors import UsageError
from tests.helpers import differences

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"
SHADOW = SAMPLES / "shadow.parquet"


@pytest.fixture(scope="module")
def by_list() -> dict:
    return abtool.shadow_report([str(SHADOW)]).to_dict()


def test_a_single_path_string_is_one_log_not_its_characters(by_list: dict) -> None:
    report = abtool.shadow_report(str(SHADOW))
    assert report.to_dict()["stats"] == by_list["stats"]
    assert report.to_dict()["inputs"] == by_list["inputs"]
    assert abtool.shadow_report(SHADOW).to_dict()["stats"] == by_list["stats"]  # a Path


@pytest.mark.parametrize(
    "convert",
    [
        pl.read_parquet,
        lambda path: pl.scan_parquet(path),
        pd.read_parquet,
    ],
    ids=["polars", "lazy", "pandas"],
)
def test_dataframes_give_the_same_statistics(by_list: dict, convert) -> None:
    report = abtool.shadow_report(convert(SHADOW)).to_dict()
    # Sums may differ in the last bits (another summation order); nothing else may.
    assert differences(by_list["stats"], report["stats"]) == []
    assert report["verdict"] == by_list["verdict"]
    assert report["inputs"] == {"paths": ["<DataFrame>"], "files": 0, "rows": 20_000}


def test_options_are_named_as_on_the_command_line() -> None:
    report = abtool.shadow_report(
        SHADOW, threshold=0.6, segment=["device"], top=2, thresholds={"agreement_rate": 0.99}
    )
    assert report.stats.decision_threshold == 0.6
    assert list(report.stats.segments) == ["device"] and len(report.stats.segments["device"]) == 2
    assert report.check("agreement_rate").threshold == 0.99
    assert report.verdict == abtool.Verdict.NO_GO


def test_canary_and_interleave_take_cli_names_too() -> None:
    canary = abtool.canary_report(SAMPLES / "canary.parquet", metric="clicked", stage=50)
    assert canary.stats.metric is not None and canary.stats.metric.name == "clicked"
    preference = abtool.interleave_report(
        SAMPLES / "interleave.parquet", b_name="candidate", bootstrap=200, inference="fixed"
    )
    assert (
        preference.stats.teams.b.name == "candidate"
        and preference.stats.preference.bootstrap == 200
    )


def test_bad_values_and_unknown_names_are_refused_before_reading() -> None:
    with pytest.raises(UsageError, match="top must be >= 1, got 0"):
        abtool.shadow_report("no-such-file.parquet", top=0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'treshold'"):
        abtool.shadow_report("no-such-file.parquet", treshold=0.5)


def test_sample_size_takes_keywords() -> None:
    plan = abtool.sample_size_report(baseline=0.12, mde=0.01)
    assert plan.stats.n_per_group == 17_164
