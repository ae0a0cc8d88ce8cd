"""Bad interleaving logs and options: exit 2 with one line naming the file and column."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.helpers import assert_one_line_error, write_parquet

GOOD_LONG = {
    "session_id": ["s1", "s1", "s2", "s2"],
    "position": [1, 2, 1, 2],
    "item_id": ["a", "b", "c", "d"],
    "team": ["A", "B", "B", "A"],
    "clicked": [True, False, False, True],
}


def _nested(clicked_items: list[list[str]], **overrides: object) -> pl.DataFrame:
    data = {
        "session_id": ["s1", "s2"],
        "attribution": [
            [{"item": "a", "team": "A"}, {"item": "b", "team": "B"}],
            [{"item": "c", "team": "B"}, {"item": "d", "team": "A"}],
        ],
        "clicked_items": clicked_items,
    }
    data.update(overrides)
    return pl.DataFrame(data, schema_overrides={"clicked_items": pl.List(pl.String)})


def test_third_team_value_long(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", {**GOOD_LONG, "team": ["A", "B", "C", "A"]})
    result = run_cli("interleave-report", path)
    assert_one_line_error(result, str(path), "column 'team'", "'C'", "'A' or 'B'")


def test_null_team_long(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", {**GOOD_LONG, "team": ["A", None, "B", "A"]})
    assert_one_line_error(run_cli("interleave-report", path), "column 'team'", "null")


def test_third_team_value_nested(tmp_path: Path, run_cli) -> None:
    frame = _nested(
        [["a"], []],
        attribution=[
            [{"item": "a", "team": "A"}, {"item": "b", "team": "X"}],
            [{"item": "c", "team": "B"}, {"item": "d", "team": "A"}],
        ],
    )
    path = write_parquet(tmp_path / "log.parquet", frame)
    assert_one_line_error(run_cli("interleave-report", path), "'attribution.team'", "'X'")


def test_team_values_must_match_options(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", GOOD_LONG)
    result = run_cli("interleave-report", path, "--team-a", "control", "--team-b", "B")
    assert_one_line_error(result, "column 'team'", "'A'", "'control' or 'B'")


def test_duplicate_session_position_long(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", {**GOOD_LONG, "position": [1, 2, 1, 1]})
    result = run_cli("interleave-report", path)
    assert_one_line_error(
        result, str(path), "duplicate (session_id, position)", "session_id 's2'", "position 1"
    )


def test_duplicate_session_nested(tmp_path: Path, run_cli) -> None:
    frame = _nested([["a"], []], session_id=["s1", "s1"])
    path = write_parquet(tmp_path / "log.parquet", frame)
    assert_one_line_error(run_cli("interleave-report", path), "column 'session_id'", "'s1'")


def test_clicked_item_not_shown(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", _nested([["a"], ["zz"]]))
    result = run_cli("interleave-report", path)
    assert_one_line_error(
        result, str(path), "column 'clicked_items'", "not in 'attribution'", "session_id 's2'"
    )


@pytest.mark.parametrize("missing", ["session_id", "position", "item_id", "team", "clicked"])
def test_missing_long_column(tmp_path: Path, run_cli, missing: str) -> None:
    data = {k: v for k, v in GOOD_LONG.items() if k != missing}
    path = write_parquet(tmp_path / "log.parquet", data)
    result = run_cli("interleave-report", path)
    assert_one_line_error(result, str(path), f"missing column '{missing}'", "columns present")


def test_missing_nested_column(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", _nested([["a"], []]).drop("clicked_items"))
    result = run_cli("interleave-report", path)
    assert_one_line_error(result, "missing column 'clicked_items'", "--clicked-items-col")


def test_attribution_not_a_struct_list(tmp_path: Path, run_cli) -> None:
    frame = pl.DataFrame(
        {"session_id": ["s1"], "attribution": [["a", "b"]], "clicked_items": [["a"]]}
    )
    path = write_parquet(tmp_path / "log.parquet", frame)
    assert_one_line_error(
        run_cli("interleave-report", path), "column 'attribution'", "struct{item, team}"
    )


def test_clicked_items_type_mismatch(tmp_path: Path, run_cli) -> None:
    frame = pl.DataFrame(
        {
            "session_id": ["s1"],
            "attribution": [[{"item": "a", "team": "A"}]],
            "clicked_items": [[1]],
        }
    )
    path = write_parquet(tmp_path / "log.parquet", frame)
    assert_one_line_error(run_cli("interleave-report", path), "'clicked_items' holds Int64")


def test_null_session_id(tmp_path: Path, run_cli) -> None:
    path = write_parquet(
        tmp_path / "log.parquet", {**GOOD_LONG, "session_id": ["s1", "s1", None, "s2"]}
    )
    assert_one_line_error(run_cli("interleave-report", path), "column 'session_id'", "1 null")


def test_float_position(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", {**GOOD_LONG, "position": [1.0, 2.0, 1.0, 2.5]})
    assert_one_line_error(run_cli("interleave-report", path), "'position'", "integer")


def test_empty_log(tmp_path: Path, run_cli) -> None:
    frame = pl.DataFrame(GOOD_LONG).head(0)
    path = write_parquet(tmp_path / "log.parquet", frame)
    assert_one_line_error(run_cli("interleave-report", path), str(path), "no rows")


def test_null_clicks_counted_in_a_warning(tmp_path: Path, run_cli) -> None:
    path = write_parquet(
        tmp_path / "log.parquet", {**GOOD_LONG, "clicked": [True, None, None, True]}
    )
    report = run_cli("interleave-report", path, "-f", "json").json()
    assert "2 row(s) with null 'clicked' taken as no click" in report["warnings"]


def test_empty_attribution_excluded_with_warning(tmp_path: Path, run_cli) -> None:
    frame = _nested([["a"], []], attribution=[[{"item": "a", "team": "A"}], []])
    path = write_parquet(tmp_path / "log.parquet", frame)
    report = run_cli("interleave-report", path, "-f", "json").json()
    assert report["stats"]["sessions"] == 1 and report["stats"]["excluded_sessions"] == 1
    assert report["warnings"] == ["excluded 1 session(s) with empty 'attribution' (nothing shown)"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--team-a", "X", "--team-b", "X"], "must differ"),
        (["--bootstrap", "0"], "--bootstrap"),
        (["--confidence", "1.5"], "--confidence"),
    ],
)
def test_bad_options(tmp_path: Path, run_cli, args: list[str], fragment: str) -> None:
    path = write_parquet(tmp_path / "log.parquet", GOOD_LONG)
    result = run_cli("interleave-report", path, *args)
    assert result.exit_code == 2 and fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config(tmp_path: Path, run_cli) -> None:
    path = write_parquet(tmp_path / "log.parquet", GOOD_LONG)
    config = tmp_path / "c.toml"
    config.write_text("[interleave]\nalpha = 0.1\n")
    result = run_cli("interleave-report", path, "--config", config)
    assert_one_line_error(result, "unknown threshold 'alpha'", "min_sessions, preference")
    config.write_text("[interleave]\npreference = 2.0\n")
    assert_one_line_error(run_cli("interleave-report", path, "--config", config), "(0, 1)")


def test_missing_file(tmp_path: Path, run_cli) -> None:
    result = run_cli("interleave-report", tmp_path / "nope.parquet")
    assert_one_line_error(result, "no such file")


def test_unbalanced_sessions_warned(tmp_path: Path, run_cli) -> None:
    data = {
        "session_id": ["s1", "s1", "s2", "s2", "s3", "s3", "s3"],
        "position": [1, 2, 1, 2, 1, 2, 3],
        "item_id": list("abcdefg"),
        "team": ["A", "B", "A", "A", "B", "B", "A"],  # s2: 2-0 (unbalanced), s3: 2-1 (fine)
        "clicked": [True, False, False, True, False, False, False],
    }
    path = write_parquet(tmp_path / "log.parquet", data)
    report = run_cli("interleave-report", path, "-f", "json").json()
    assert report["stats"]["unbalanced_sessions"] == 1
    assert any("1 session(s) show more than one item more" in w for w in report["warnings"])
