"""Logs as pipelines write them give the report the canonical schema gives.

Each test writes one log twice: in the documented schema (datetime ``ts``, boolean flags,
float predictions, every column in the file) and in a shape real pipelines produce (epoch
numbers, ISO-8601 text, zoned times, bool/int flags across files, hive keys in folder
names, Decimal numbers, every row delivered twice). The verdict, the checks and every
statistic must match; the shape may only add a warning stating what was assumed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from abtool import canary_report, shadow_report
from tests.corpus.inputs import canary_frame, shadow_frame, write
from tests.helpers import differences

TIME_KEYS = {"time_start", "time_end"}


def _instant(value: Any) -> Any:
    """An ISO time as an aware UTC datetime (a zoned and a naive-UTC time compare equal)."""
    if not isinstance(value, str):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _normalised(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: _instant(v) if k in TIME_KEYS else v for k, v in stats.items()}


def assert_same_report(canonical: Any, shaped: Any, *notes: str) -> None:
    """Same verdict, checks and statistics; the shape's warnings are the canonical ones plus
    one holding each of ``notes``."""
    a, b = canonical.to_dict(), shaped.to_dict()
    assert b["verdict"] == a["verdict"]
    assert differences(a["checks"], b["checks"]) == []
    assert differences(_normalised(a["stats"]), _normalised(b["stats"])) == []
    assert b["reasons"] == a["reasons"]
    extra = [w for w in b["warnings"] if w not in a["warnings"]]
    assert [w for w in a["warnings"] if w not in b["warnings"]] == []
    assert len(extra) == len(notes), extra
    for note in notes:
        assert any(note in w for w in extra), (note, extra)


@pytest.fixture(scope="module")
def shadow_log() -> pl.DataFrame:
    # whole milliseconds, so every epoch unit holds the times exactly
    frame = shadow_frame(n=1500, seed=11)
    return frame.with_columns(pl.col("ts").dt.truncate("1ms"))


@pytest.fixture(scope="module")
def canonical(shadow_log: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = write(tmp_path_factory.mktemp("canonical") / "log.parquet", shadow_log)
    return shadow_report(path)


@pytest.mark.parametrize(
    ("unit", "option"),
    [("s", "auto"), ("ms", "auto"), ("us", "auto"), ("ns", "auto"), ("ms", "ms")],
)
def test_epoch_integers(
    shadow_log: pl.DataFrame, canonical: Any, tmp_path: Path, unit: str, option: str
) -> None:
    frame = shadow_log
    if unit == "s":  # whole seconds in both logs
        frame = frame.with_columns(pl.col("ts").dt.truncate("1s"))
        canonical = shadow_report(write(tmp_path / "canonical.parquet", frame))
    shaped = write(tmp_path / "log.parquet", frame.with_columns(pl.col("ts").dt.epoch(unit)))
    report = shadow_report(shaped, time_unit=option)
    notes = ["read as"] if option == "auto" else []
    assert_same_report(canonical, report, *notes)
    if option == "auto":
        names = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
        assert any(f"read as {names[unit]} since 1970" in w for w in report.warnings)


def test_epoch_float_seconds(shadow_log: pl.DataFrame, canonical: Any, tmp_path: Path) -> None:
    seconds = pl.col("ts").dt.epoch("ms").cast(pl.Float64) / 1000  # time.time()-style
    shaped = write(tmp_path / "log.parquet", shadow_log.with_columns(seconds.alias("ts")))
    assert_same_report(canonical, shadow_report(shaped), "read as seconds")


@pytest.mark.parametrize(
    "iso",
    [
        pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.3f"),
        pl.col("ts").dt.strftime("%Y-%m-%d %H:%M:%S%.3fZ"),
        pl.col("ts")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone("Asia/Kolkata")
        .dt.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z"),
    ],
    ids=["naive", "zulu", "offset"],
)
def test_iso_text(shadow_log: pl.DataFrame, canonical: Any, tmp_path: Path, iso: pl.Expr) -> None:
    shaped = write(tmp_path / "log.parquet", shadow_log.with_columns(iso.alias("ts")))
    assert_same_report(canonical, shadow_report(shaped), "holds ISO-8601 text")


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_zoned_datetimes(
    shadow_log: pl.DataFrame, canonical: Any, tmp_path: Path, zone: str
) -> None:
    zoned = pl.col("ts").dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
    shaped = write(tmp_path / "log.parquet", shadow_log.with_columns(zoned))
    report = shadow_report(shaped, since="2025-04-28T06:00:00Z")
    expected = shadow_report(write(tmp_path / "c.parquet", shadow_log), since="2025-04-28T06:00")
    assert_same_report(expected, report)


def test_zones_and_units_across_files(shadow_log: pl.DataFrame, tmp_path: Path) -> None:
    """One partition naive in microseconds, the other zoned in nanoseconds."""
    first, second = shadow_log.head(700), shadow_log.tail(800)
    canonical = shadow_report(
        [write(tmp_path / "c/a.parquet", first), write(tmp_path / "c/b.parquet", second)]
    )
    write(tmp_path / "s/a.parquet", first)
    write(
        tmp_path / "s/b.parquet",
        second.with_columns(
            pl.col("ts")
            .dt.cast_time_unit("ns")
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone("Europe/Berlin")
        ),
    )
    assert_same_report(canonical, shadow_report(tmp_path / "s"))


def test_flag_bool_in_one_file_integers_in_another(
    shadow_log: pl.DataFrame, tmp_path: Path
) -> None:
    first, second = shadow_log.head(700), shadow_log.tail(800)
    canonical = shadow_report(
        [write(tmp_path / "c/a.parquet", first), write(tmp_path / "c/b.parquet", second)]
    )
    write(tmp_path / "s/a.parquet", first)
    write(tmp_path / "s/b.parquet", second.with_columns(pl.col("shadow_error").cast(pl.Int32)))
    assert_same_report(canonical, shadow_report(tmp_path / "s"))


def test_canary_flags_across_files(tmp_path: Path) -> None:
    frame = canary_frame(n=3000, seed=5)
    first, second = frame.head(1400), frame.tail(1600)
    canonical = canary_report(
        [write(tmp_path / "c/a.parquet", first), write(tmp_path / "c/b.parquet", second)],
        metric=["clicked"],
    )
    write(tmp_path / "s/a.parquet", first)
    write(tmp_path / "s/b.parquet", second.with_columns(pl.col("clicked", "error").cast(pl.Int8)))
    assert_same_report(canonical, canary_report(tmp_path / "s", metric=["clicked"]))


def test_hive_keys_as_columns(shadow_log: pl.DataFrame, tmp_path: Path) -> None:
    dated = shadow_log.with_columns(pl.col("ts").dt.date().cast(pl.String).alias("date"))
    canonical = shadow_report(write(tmp_path / "c.parquet", dated), segment=["country", "date"])
    for (day,), part in dated.partition_by("date", as_dict=True).items():
        write(tmp_path / f"logs/date={day}/part-0.parquet", part.drop("date"))
    shaped = shadow_report(tmp_path / "logs", segment=["country", "date"])
    assert_same_report(canonical, shaped)
    # never a default segment: without --segment only the file's text column is ranked
    assert set(shadow_report(tmp_path / "logs").stats.segments) == {"country"}


def test_hive_keys_in_canary_segments(tmp_path: Path) -> None:
    frame = canary_frame(n=3000, seed=6).with_columns(
        pl.col("ts").dt.date().cast(pl.String).alias("date")
    )
    canonical = canary_report(
        write(tmp_path / "c.parquet", frame), metric=["clicked"], segment=["date"]
    )
    for (day,), part in frame.partition_by("date", as_dict=True).items():
        write(tmp_path / f"logs/date={day}/part-0.parquet", part.drop("date"))
    shaped = canary_report(tmp_path / "logs", metric=["clicked"], segment=["date"])
    assert_same_report(canonical, shaped)


def test_decimal_numbers(shadow_log: pl.DataFrame, tmp_path: Path) -> None:
    columns = ["primary_prediction", "shadow_prediction", "shadow_latency_ms"]
    rounded = shadow_log.with_columns(pl.col(columns).round(6))
    canonical = shadow_report(write(tmp_path / "c.parquet", rounded))
    decimal = rounded.with_columns(pl.col(columns).cast(pl.Decimal(12, 6)))
    assert_same_report(canonical, shadow_report(write(tmp_path / "d.parquet", decimal)))


def test_every_row_delivered_twice(shadow_log: pl.DataFrame, tmp_path: Path) -> None:
    """Identical copies are dropped: every statistic is the clean log's; only the rows read
    and their exclusion differ."""
    clean = shadow_report(write(tmp_path / "c.parquet", shadow_log)).to_dict()
    twice = shadow_report(write(tmp_path / "d.parquet", pl.concat([shadow_log, shadow_log])))
    doubled = twice.to_dict()
    n = shadow_log.height
    assert doubled["stats"]["rows"] == 2 * n
    assert doubled["stats"]["excluded_reasons"] == {
        **clean["stats"]["excluded_reasons"],
        "duplicate request_id (identical row)": n,
    }
    for key in ("rows", "excluded_rows", "excluded_reasons"):
        clean["stats"].pop(key), doubled["stats"].pop(key)
    assert differences(clean["stats"], doubled["stats"]) == []
    assert doubled["verdict"] == clean["verdict"]
    assert differences(clean["checks"], doubled["checks"]) == []


def test_canary_every_row_delivered_twice(tmp_path: Path) -> None:
    frame = canary_frame(n=3000, seed=7)
    clean = canary_report(write(tmp_path / "c.parquet", frame), metric=["clicked"]).to_dict()
    doubled = canary_report(
        write(tmp_path / "d.parquet", pl.concat([frame, frame.sample(fraction=1.0, seed=1)])),
        metric=["clicked"],
    ).to_dict()
    assert doubled["stats"]["excluded_reasons"] == {"duplicate request_id (identical row)": 3000}
    for key in ("rows", "excluded_rows", "excluded_reasons"):
        clean["stats"].pop(key), doubled["stats"].pop(key)
    assert differences(clean["stats"], doubled["stats"]) == []
    assert differences(clean["checks"], doubled["checks"]) == []
