"""Columns held in memory or scanned per pass: the same reports, and the budget respected.

Logs under a million rows are scanned per pass, so every other test reads them that way; here
the shadow and canary goldens are checked once more with those logs held in memory, as a log
of millions of rows within the budget is read.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from abtool.engines.polars import resident as resident_module
from abtool.engines.polars.resident import log_rows, resident
from abtool.engines.polars.source import UnreadableLog, open_files, open_frame
from tests.golden_cases import CASES, GOLDEN, Case, run_case
from tests.helpers import differences

HELD_CASES = [c for c in CASES if c.name.startswith(("shadow_", "canary_"))]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("held")


@pytest.mark.parametrize("case", HELD_CASES, ids=[c.name for c in HELD_CASES])
def test_holding_the_columns_in_memory_gives_the_goldens(
    case: Case, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resident_module, "RESIDENT_MIN_ROWS", 0)
    golden = json.loads((GOLDEN / f"{case.name}.json").read_text(encoding="utf-8"))
    assert differences(golden, run_case(case, workdir)) == []


def _log(tmp_path: Path, rows: int = 5000) -> Path:
    path = tmp_path / "log.parquet"
    pl.DataFrame(
        {"x": pl.int_range(rows, eager=True).cast(pl.Float64), "label": ["abcdef"] * rows}
    ).write_parquet(path, row_group_size=1000)
    return path


def _in_memory(frame: pl.LazyFrame) -> bool:
    return "Parquet SCAN" not in frame.explain(optimized=False)


def test_a_log_within_the_budget_is_read_once_into_memory(tmp_path: Path) -> None:
    source = open_files([_log(tmp_path)])
    scan = source.scan(["x", "label"]).filter(pl.col("x") >= 10)
    held = resident(scan, source, budget=10**9, min_rows=0)
    assert _in_memory(held) and not _in_memory(scan)
    assert held.collect().equals(scan.collect())
    assert log_rows(source) == 5000


def test_a_log_over_the_budget_is_scanned_per_pass(tmp_path: Path) -> None:
    source = open_files([_log(tmp_path)])
    scan = source.scan(["x", "label"])
    # 5000 rows of a float and a short string take far more than 1 kB.
    assert resident(scan, source, budget=1000, min_rows=0) is scan
    assert resident(scan, source, budget=0, min_rows=0) is scan


def test_a_small_log_is_scanned_per_pass(tmp_path: Path) -> None:
    source = open_files([_log(tmp_path)])
    scan = source.scan(["x"])
    assert resident(scan, source, budget=10**9, min_rows=5001) is scan
    assert _in_memory(resident(scan, source, budget=10**9, min_rows=5000))


def test_a_frame_log_is_left_as_it_is() -> None:
    source = open_frame(pl.DataFrame({"x": [1.0, 2.0]}))
    scan = source.scan(["x"])
    assert log_rows(source) is None
    assert resident(scan, source, budget=10**9, min_rows=0) is scan


def test_an_unreadable_log_names_itself(tmp_path: Path) -> None:
    path = _log(tmp_path)
    source = open_files([path])
    data = bytearray(path.read_bytes())
    data[200:4000] = b"\x00" * 3800  # corrupt the pages, keep the footer
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableLog, match=r"log\.parquet: cannot read log"):
        resident(source.scan(["x", "label"]), source, budget=10**9, min_rows=0)


@pytest.mark.parametrize("concurrent", [True, False])
def test_a_step_beside_gives_its_value_or_its_error(concurrent: bool) -> None:
    import threading

    from abtool.engines.polars.resident import Beside

    ran_on: list[str] = []

    def step() -> int:
        ran_on.append(threading.current_thread().name)
        return 42

    beside = Beside(concurrent, step)
    assert beside.result() == 42
    # Concurrent: on a thread of its own; otherwise on the caller's, when asked for.
    assert (ran_on[0] != threading.current_thread().name) is concurrent

    def fails() -> int:
        raise UnreadableLog("log.parquet: cannot read log (truncated)")

    with pytest.raises(UnreadableLog, match=r"log\.parquet"):
        Beside(concurrent, fails).result()
