"""The command-spec contract: a command declared once is a gate kind, validated, run, rendered.

Besides the registered commands (shadow-report, canary-decide, interleave-report), this test
declares a small command of its own, built exactly as they are (a columns, an options and a
thresholds dataclass, a ``CommandSpec`` with a ``kind``, a report function and a render module),
whose report counts the log's rows and HOLDs below ``min_rows``: the contract (HOLD,
``--fail-on-hold``, ``choices``, the spec's ``check`` hook) on a report whose every figure the
test controls.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from abtool import commands
from abtool.commands.common import since_option, until_option
from abtool.engines.polars.source import open_files
from abtool.errors import UsageError
from abtool.records import Record
from abtool.render.blocks import Block, Facts
from abtool.reports.result import Consequence, Report, Verdict, Verdicts, decide
from abtool.spec import NON_NEGATIVE, CheckSpec, CommandSpec, column, option, threshold


@dataclass(frozen=True)
class RowColumns:
    value: str = column("value", "--value-col", "The column summarised.")


@dataclass(frozen=True)
class RowOptions:
    statistic: str = option("mean", "--statistic", "mean or max.", choices=("mean", "max"))
    level: float = option(0.95, "--level", "A level, checked by the spec's hook.")
    since: str | None = since_option()
    until: str | None = until_option()


@dataclass(frozen=True)
class RowThresholds:
    min_rows: int = threshold(10, "Hold below this many rows.", NON_NEGATIVE, integer=True)


@dataclass(frozen=True)
class RowStats(Record):
    rows: int
    value: float


def row_report(
    paths: Sequence[str | Path],
    *,
    columns: RowColumns,
    options: RowOptions,
    thresholds: RowThresholds,
    progress: Callable[[str], None] | None = None,
) -> Report:
    frame = open_files(paths).scan([columns.value]).collect()
    rows = frame.height
    value = float(getattr(frame[columns.value], options.statistic)())
    enough = rows >= thresholds.min_rows
    check = SPEC.make_check("min_rows", enough, rows, thresholds.min_rows, f"{rows} rows")
    assert SPEC.verdicts is not None
    return Report("row-report", decide([check], SPEC.verdicts), [check], RowStats(rows, value))


def check_level(_columns: Any, options: RowOptions, _thresholds: Any) -> None:
    if not 0 < options.level < 1:
        raise UsageError(f"level must be in (0, 1), got {options.level}")


def sections(report: Report[RowStats]) -> list[Block]:
    return [Facts("Rows", [("rows", str(report.stats.rows))])]


def key_figures(report: Report[RowStats]) -> str:
    return f"{report.stats.rows} rows, value {report.stats.value}"


SPEC = CommandSpec(
    name="row-report",
    summary="Count a log's rows.",
    options=RowOptions,
    columns=RowColumns,
    thresholds=RowThresholds,
    checks=(CheckSpec("min_rows", Consequence.HOLD, "the log has at least this many rows"),),
    verdicts=Verdicts(Verdict.GO, Verdict.NO_GO),
    kind="rows",
    section="rows",
    run=f"{__name__}:row_report",
    render=__name__,
    check=check_level,
)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch):
    """The `row-report` command added to the registry as one entry, for this test only."""
    monkeypatch.setitem(commands._MODULES, "row-report", __name__)
    commands.command_spec.cache_clear()
    yield
    commands.command_spec.cache_clear()


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "rows.parquet"
    pl.DataFrame({"score": [1.0, 2.0, 6.0]}).write_parquet(path)
    return path


def policy_file(tmp_path: Path, extra: str) -> Path:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'[[gate]]\nname = "few"\nkind = "rows"\npaths = ["rows.parquet"]\n'
        f'value_col = "score"\n{extra}\n'
    )
    return policy


def test_registered_kind_runs_with_the_policy_settings(run_cli, registered, log, tmp_path):
    policy = policy_file(tmp_path, 'statistic = "max"\n[gate.thresholds]\nmin_rows = 3')
    result = run_cli("gate", policy, "--format", "json")
    assert result.exit_code == 0, result.stderr
    gate = result.json()["gates"][0]
    assert (gate["kind"], gate["command"], gate["verdict"]) == ("rows", "row-report", "GO")
    assert gate["stats"] == {"rows": 3, "value": 6.0}  # max of the renamed column
    table = run_cli("gate", policy).stdout
    assert "3 rows, value 6.0" in table  # the kind's key figures


def test_hold_exits_3_or_1_with_fail_on_hold(run_cli, registered, log, tmp_path):
    policy = policy_file(tmp_path, "")
    assert run_cli("gate", policy).exit_code == 3
    junit = tmp_path / "junit.xml"
    held = run_cli("gate", policy, "--fail-on-hold", "--format", "json", "--junit", junit)
    assert held.exit_code == 1
    assert (held.json()["verdict"], held.json()["exit_code"]) == ("HOLD", 1)
    verdict = ET.parse(junit).getroot().find("testsuite/testcase[@name='verdict']/failure")
    assert verdict.get("type") == "HOLD"


def test_hold_of_an_optional_gate_does_not_count(run_cli, registered, log, tmp_path):
    policy = policy_file(tmp_path, "required = false")
    with policy.open("a") as handle:
        handle.write('\n[[gate]]\nname = "enough"\nkind = "rows"\npaths = ["rows.parquet"]\n')
        handle.write('value_col = "score"\n[gate.thresholds]\nmin_rows = 2\n')
    result = run_cli("gate", policy, "--fail-on-hold", "--format", "json")
    assert result.exit_code == 0
    assert [g["verdict"] for g in result.json()["gates"]] == ["HOLD", "GO"]


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        ('statistic = "median"', 6, "'statistic' must be one of mean, max; got 'median'"),
        ("level = 1.5", 1, "gate 'few': level must be in (0, 1), got 1.5"),  # the spec's check
        ("[gate.thresholds]\nmin_rows = true", 7, "threshold 'min_rows' must be an integer"),
        ("metric = 'clicked'", 6, "unknown key 'metric' (known: name, kind, paths"),
    ],
)
def test_registered_kind_is_validated_before_running(
    run_cli, registered, tmp_path, extra, line, message
):
    policy = policy_file(tmp_path, extra)  # no log written: validation must fail first
    result = run_cli("gate", policy)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"abtool: error: {policy}:{line}: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_unregistered_kind_names_the_registered_ones(run_cli, tmp_path):
    policy = policy_file(tmp_path, "")
    result = run_cli("gate", policy)
    assert result.exit_code == 2
    assert "unknown kind 'rows' (known: shadow, canary, interleave, bandit)" in result.stderr
