"""Unusable input: one line on stderr naming the file/column, exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.helpers import assert_one_line_error, write_parquet

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"


def good_frame(n: int = 50) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    return pl.DataFrame(
        {
            "ts": pl.datetime_range(
                pl.datetime(2025, 1, 1), pl.datetime(2025, 1, 5), "1h", eager=True
            )[:n],
            "primary_prediction": rng.uniform(size=n),
            "shadow_prediction": rng.uniform(size=n),
        }
    )


def test_missing_file(run_cli, tmp_path: Path) -> None:
    missing = tmp_path / "nope.parquet"
    assert_one_line_error(run_cli("shadow-report", missing), str(missing), "no such file")


def test_csv_named_parquet(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    good_frame().write_csv(path)
    assert_one_line_error(run_cli("shadow-report", path), str(path), "not a Parquet file")


def test_text_file_named_parquet(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "notes.parquet"
    path.write_text("hello\n")
    assert_one_line_error(run_cli("shadow-report", path), str(path), "not a Parquet file")


def test_zero_byte_file(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    path.write_bytes(b"")
    assert_one_line_error(run_cli("shadow-report", path), str(path), "empty")


def test_missing_column_lists_present(run_cli, tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "log.parquet", good_frame().drop("shadow_prediction"))
    result = run_cli("shadow-report", path)
    assert_one_line_error(
        result, str(path), "'shadow_prediction'", "ts, primary_prediction", "--shadow-col"
    )


def test_renamed_column_option(run_cli, tmp_path: Path) -> None:
    frame = good_frame().rename({"shadow_prediction": "candidate_score"})
    path = write_parquet(tmp_path / "log.parquet", frame)
    result = run_cli("shadow-report", path, "--shadow-col", "candidate_score", "-f", "json")
    assert result.exit_code in (0, 1)
    assert result.json()["stats"]["rows"] == 50


def test_wrong_dtype_time(run_cli, tmp_path: Path) -> None:
    frame = good_frame().with_columns(pl.lit(True).alias("ts"))
    path = write_parquet(tmp_path / "log.parquet", frame)
    assert_one_line_error(run_cli("shadow-report", path), str(path), "'ts'", "timestamp")


def test_score_against_label(run_cli, tmp_path: Path) -> None:
    frame = good_frame().with_columns(pl.col("shadow_prediction").cast(pl.String))
    path = write_parquet(tmp_path / "log.parquet", frame)
    assert_one_line_error(
        run_cli("shadow-report", path), str(path), "'shadow_prediction'", "String"
    )


def test_empty_log(run_cli, tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "log.parquet", good_frame().head(0))
    assert_one_line_error(run_cli("shadow-report", path), str(path), "no rows")


def test_all_nan_predictions(run_cli, tmp_path: Path) -> None:
    frame = good_frame().with_columns(pl.lit(float("nan")).alias("shadow_prediction"))
    path = write_parquet(tmp_path / "log.parquet", frame)
    assert_one_line_error(run_cli("shadow-report", path), str(path), "'shadow_prediction'", "NaN")


def test_some_nulls_are_counted_not_dropped_silently(run_cli, tmp_path: Path) -> None:
    frame = good_frame().with_columns(
        pl.when(pl.int_range(pl.len()) < 7)
        .then(None)
        .otherwise(pl.col("primary_prediction"))
        .alias("primary_prediction")
    )
    path = write_parquet(tmp_path / "log.parquet", frame)
    report = run_cli("shadow-report", path, "-f", "json").json()
    assert report["stats"]["excluded_rows"] == 7
    assert report["stats"]["excluded_reasons"] == {"null or NaN primary_prediction": 7}
    assert "excluded 7 of 50 rows" in report["warnings"][0]


def test_directory_without_parquet(run_cli, tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "readme.txt").write_text("x")
    result = run_cli("shadow-report", tmp_path / "logs")
    assert_one_line_error(result, str(tmp_path / "logs"), "no .parquet files")


def test_glob_matching_nothing(run_cli, tmp_path: Path) -> None:
    result = run_cli("shadow-report", str(tmp_path / "date=*" / "*.parquet"))
    assert_one_line_error(result, "matches no files")


def test_mixed_schemas(run_cli, tmp_path: Path) -> None:
    write_parquet(tmp_path / "logs" / "a.parquet", good_frame())
    other = good_frame().with_columns(pl.col("shadow_prediction").cast(pl.Float32))
    write_parquet(tmp_path / "logs" / "b.parquet", other)
    result = run_cli("shadow-report", tmp_path / "logs")
    assert_one_line_error(result, "b.parquet", "'shadow_prediction'", "mixed schemas")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "config file not found"),
        ("[shadow\nagreement_rate = ", "not valid TOML"),
        ("[shadow]\nagreement = 0.9\n", "unknown threshold 'agreement'"),
        ("[shadow]\nagreement_rate = 'high'\n", "must be a number"),
        ("[shadw]\n", "unknown table [shadw]"),
    ],
)
def test_unusable_config(run_cli, tmp_path: Path, content: str | None, fragment: str) -> None:
    log = write_parquet(tmp_path / "log.parquet", good_frame())
    config = tmp_path / "abtool.toml"
    if content is not None:
        config.write_text(content)
    result = run_cli("shadow-report", log, "--config", config)
    assert_one_line_error(result, str(config), fragment)


def test_bad_since(run_cli, tmp_path: Path) -> None:
    log = write_parquet(tmp_path / "log.parquet", good_frame())
    assert_one_line_error(run_cli("shadow-report", log, "--since", "yesterday"), "--since")


def test_unknown_option_is_usage_error(run_cli, tmp_path: Path) -> None:
    log = write_parquet(tmp_path / "log.parquet", good_frame())
    result = run_cli("shadow-report", log, "--frobnicate")
    assert_one_line_error(result, "No such option: --frobnicate")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("shadow-report",), "Missing argument"),
        (("shadow-report", "x.parquet", "--top", "0"), "--top must be >= 1, got 0"),
        (("no-such-command",), "No such command"),
        (("shadow-report", "x.parquet", "--format", "xml"), "'--format'"),
    ],
)
def test_usage_errors_are_one_line(run_cli, args: tuple[str, ...], fragment: str) -> None:
    assert_one_line_error(run_cli(*args), fragment)


@pytest.mark.parametrize(
    "args",
    [
        ("simulate", "shadow", "--out", "x.parquet", "--seed", "-1"),
        ("interleave-report", str(SAMPLES / "interleave.parquet"), "--seed", "-1"),
        ("canary-decide", str(SAMPLES / "canary.parquet"), "--bootstrap", "10", "--seed", "-1"),
    ],
)
def test_negative_seed_is_usage_error(run_cli, args: tuple[str, ...]) -> None:
    assert_one_line_error(run_cli(*args), "--seed")
