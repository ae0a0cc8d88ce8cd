"""owned_column: a writable numpy copy of one column, however the batches fall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from abtool.engines.polars import source
from abtool.errors import InputError
from tests.helpers import write_parquet


@pytest.mark.parametrize("expected_rows", [None, 0, 1, 999, 1000, 5000])
@pytest.mark.parametrize("batch", [7, 1_000_000])
def test_owned_column_equals_the_column(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, expected_rows: int | None, batch: int
) -> None:
    monkeypatch.setattr(source, "_BATCH_ROWS", batch)
    values = np.random.default_rng(1).normal(size=1000)
    values[::37] = np.nan
    frame = pl.DataFrame({"x": values}).with_columns(
        pl.when(pl.int_range(pl.len()) % 53 == 0).then(None).otherwise(pl.col("x")).alias("x")
    )
    path = write_parquet(tmp_path / "x.parquet", frame)
    got = source.owned_column(pl.scan_parquet(path), pl.col("x"), "x.parquet", expected_rows)
    expected = frame["x"].to_numpy()
    assert got.flags.writeable
    np.testing.assert_array_equal(got, expected)  # nulls and NaN both arrive as NaN
    filtered = pl.scan_parquet(path).filter(pl.col("x") > 0)
    got = source.owned_column(filtered, pl.col("x"), "x.parquet", expected_rows)
    np.testing.assert_array_equal(got, frame.filter(pl.col("x") > 0)["x"].to_numpy())


def test_owned_column_names_the_log_on_failure(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "x.parquet", pl.DataFrame({"x": ["a", "b"]}))
    with pytest.raises(InputError, match=r"x\.parquet"):
        source.owned_column(pl.scan_parquet(path), pl.col("x").cast(pl.Int64), "x.parquet", 2)


def test_columns_of_a_frame_held_in_memory_are_owned_copies() -> None:
    """Without an expected length (a log held in memory) the columns are collected whole and
    copied out one by one: writable, nulls as NaN, and sorting them leaves the frame as it
    was, whatever its chunks."""
    values = np.random.default_rng(2).normal(size=3000)
    chunks = [
        pl.DataFrame({"x": values[i : i + 1000], "k": np.arange(i, i + 1000) % 7})
        for i in range(0, 3000, 1000)
    ]
    frame = pl.concat(chunks, rechunk=False).with_columns(
        pl.when(pl.col("k") == 3).then(None).otherwise(pl.col("x")).alias("x")
    )
    before = frame.clone()
    x, k = source.owned_columns(frame.lazy(), [pl.col("x"), pl.col("k")], "held")
    assert x.flags.writeable and k.flags.writeable
    np.testing.assert_array_equal(x, frame["x"].to_numpy())  # nulls arrive as NaN
    np.testing.assert_array_equal(k, frame["k"].to_numpy())
    x.sort()
    k.sort()
    assert frame.equals(before)
