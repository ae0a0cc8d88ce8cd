"""The Spark engine reads logs as the Polars engine does: ISO-8601 text and epoch numbers as the
same instants, file names Spark would take for globs as literal names, hive keys with the same
values, unified types across files, and the same one-line errors.

Each expectation is the Polars engine's own reading of the same input (its rules are pinned in
tests/test_log_shapes.py and tests/test_hygiene_parts.py).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pyspark.sql import functions as F

from abtool.engines.polars.source import open_files as polars_files
from abtool.engines.polars.timecol import _parsed
from abtool.engines.spark.prepare import parsed_iso, timed
from abtool.engines.spark.source import open_files as spark_files
from abtool.engines.spark.source import open_frame
from abtool.errors import InputError
from tests.corpus.inputs import corrupt_pages, shadow_frame, write

pytestmark = pytest.mark.spark

ISO_TEXT = [
    "2025-04-29T12:00:00", "2025-04-29 12:00:00.123Z", "2025-04-29T12:00:00+02:00",
    "2025-04-29T12:00:00+0200", "2025-04-29T12:00:00+02", "2025-04-29", "2025-04-29T12:00",
    "2025-04-29T12:00Z", " 2025-04-29T12:00:00 ", "2025-4-29", "2025-04-29T1:00:00",
    "2025-04-29T12:00:00.1234567", "2025-04-29T12:00:00.123456789Z", "2025-04-29T12:00:00.",
    "2025-02-30", "2025-04-29T24:00:00", "2025-04-29T12:00:60", "20250429",
    "2025-04-29T12:00:00 +02:00", "2025-04-29T12:00:00-05:30", "2025-04-29T12:00:00z",
    "2025-04-29T12:00:00.5+01:00", "2025-04-29T12", "abc", "2025-04-29T12:00:00UTC",
    "2025-04-29T12:00:00.000000001", "25-04-29", "12025-04-29", "2025-04-29T12:00:00+2",
    "2025-04-29T12:00:00+02:00:00", "2025-04-29T12:00:00+24:00", "2025-04-29T12:00:00+23:59",
    "2025-04-29T12:00:00.123+0530", "2025-04-29T12:00:00Z+01", "2025-04-29T12:00:00-00",
    "2025-04-29t12:00:00", "2025-04-29 T12:00:00", "2025-04-29  12:00:00", "2025-04-29T12:0:0",
    "2025-04-29T012:00:00", "2025-004-29", "2025-04-29T12:00:00,5", "2025-04-29T23:59:60.5",
    "2025-12-31T23:59:60", "\t2025-04-29\n", "2025-04-29T12:00:00-0000", "1900-02-29",
    "2000-02-29", "", "   ", "2024-02-29T23:59:59.999999Z", "1969-12-31T23:59:59.5",
    "1970-01-01T00:00:00+14:00",
]  # fmt: skip


def test_iso_text_reads_as_the_polars_engine_reads_it(spark: Any):
    expected = pl.DataFrame({"t": ISO_TEXT}).select(_parsed(pl.col("t")).dt.epoch("us"))
    frame = spark.createDataFrame([(v,) for v in ISO_TEXT], "t string")
    got = frame.select(F.unix_micros(parsed_iso(F.col("t")).cast("timestamp")).alias("m"))
    assert [r["m"] for r in got.collect()] == expected["t"].to_list()


@pytest.mark.parametrize(
    ("values", "dtype", "unit"),
    [
        ([1_745_928_000, 1_745_928_001, None], pl.Int64, "auto"),
        ([1_745_928_000_123, 1_745_928_000_999], pl.Int64, "auto"),
        ([1_745_928_000_123_456_789, -1_000_000_001_500], pl.Int64, "ns"),
        ([1_745_928_000.5, 1_745_928_000.0000015, math.nan, math.inf], pl.Float64, "auto"),
    ],
    ids=["seconds", "milliseconds", "nanoseconds-before-1970", "float-seconds"],
)
def test_epoch_numbers_read_as_the_polars_engine_reads_them(
    spark: Any, tmp_path: Path, values: list[Any], dtype: pl.DataType, unit: str
):
    log = write(tmp_path / "log.parquet", pl.DataFrame({"ts": values}, schema={"ts": dtype}))
    polars_source = polars_files([log])
    from abtool.engines.polars.timecol import timed as polars_timed

    expected = polars_timed(polars_source, "ts", unit).scan(["ts"]).collect()
    source = timed(spark_files(spark, [log]), "ts", unit)
    got = source.scan(["ts"]).select(F.unix_micros(F.col("ts").cast("timestamp")).alias("m"))
    assert [r["m"] for r in got.collect()] == expected["ts"].dt.epoch("us").to_list()
    assert source.notes == polars_timed(polars_source, "ts", unit).notes


def test_file_names_with_glob_characters_and_hive_keys(spark: Any, tmp_path: Path):
    """A file named like a glob is read literally; hive keys stay text, percent-decoded, the
    default partition is null, the innermost key wins; a column in a file wins over a key."""
    frame = shadow_frame(n=30, seed=4)
    logs = tmp_path / "logs"
    write(logs / "day=07" / "region=BR" / "log[1].parquet", frame.head(10))
    write(logs / "day=08" / "region=a%2Fb" / "country=ZZ" / "{x}.parquet", frame.slice(10, 10))
    default = "region=__HIVE_DEFAULT_PARTITION__"
    write(logs / "day=09" / default / "day=10" / "p.parquet", frame.tail(10))
    columns = ["request_id", "day", "region", "country"]
    expected = polars_files([logs]).scan(columns).collect().sort("request_id")
    source = spark_files(spark, [logs])
    got = pl.from_arrow(source.scan(columns).toArrow()).sort("request_id")  # type: ignore[union-attr]
    assert source.schema["day"] == pl.String
    assert got.to_dicts() == expected.to_dicts()
    assert set(got["region"].to_list()) == {"BR", "a/b", None}
    assert "ZZ" not in set(got["country"].to_list())
    assert set(got["day"]) == {"07", "08", "10"}


def test_types_unified_across_files(spark: Any, tmp_path: Path):
    """bool/int flags as Int64; naive microseconds beside zoned nanoseconds as UTC instants."""
    frame = shadow_frame(n=40, seed=5)
    write(tmp_path / "a.parquet", frame.head(20))
    write(
        tmp_path / "b.parquet",
        frame.tail(20).with_columns(
            pl.col("shadow_error").cast(pl.Int8),
            pl.col("ts").dt.cast_time_unit("ns").dt.replace_time_zone("UTC"),
        ),
    )
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    polars_source = polars_files(paths)
    source = spark_files(spark, paths)
    assert source.schema == polars_source.schema
    expected = polars_source.scan(["request_id", "shadow_error", "ts"]).collect()
    got = source.scan(["request_id", "shadow_error", "ts"]).select(
        "request_id", "shadow_error", F.unix_micros("ts").alias("ts")
    )
    rows = sorted((r["request_id"], r["shadow_error"], r["ts"]) for r in got.collect())
    assert rows == sorted(
        zip(
            expected["request_id"].to_list(),
            expected["shadow_error"].to_list(),
            expected["ts"].dt.epoch("us").to_list(),
            strict=True,
        )
    )


def test_errors_are_the_polars_engines(spark: Any, tmp_path: Path):
    import abtool

    good = write(tmp_path / "logs" / "a.parquet", shadow_frame(n=50, seed=6))
    corrupt_pages(good, tmp_path / "logs" / "b.parquet")
    for call in (
        lambda engine: abtool.shadow_report(tmp_path / "logs", engine=engine),
        lambda engine: abtool.shadow_report(good, engine=engine, primary_col="nope"),
        lambda engine: abtool.shadow_report(tmp_path / "missing.parquet", engine=engine),
    ):
        with pytest.raises(InputError) as polars_error:
            call("polars")
        with pytest.raises(InputError) as spark_error:
            call(abtool.engines.spark.SparkEngine(session=spark))
        assert spark_error.value.message == polars_error.value.message


def test_a_spark_frame_is_typed_as_polars_types_it(spark: Any):
    from decimal import Decimal

    frame = spark.createDataFrame(
        [(1, True, Decimal("0.50"), "x", [1, 2])],
        "a long, b boolean, c decimal(10,2), d string, e array<int>",
    )
    source = open_frame(frame)
    assert source.schema == {
        "a": pl.Int64(),
        "b": pl.Boolean(),
        "c": pl.Float64(),  # a Decimal with a fraction is a number
        "d": pl.String(),
        "e": pl.List(pl.Int32()),
    }
