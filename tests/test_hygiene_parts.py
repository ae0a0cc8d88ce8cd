"""The parts behind the corpus: safe writes, escaping, time units, duplicates, hive keys."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from abtool.engines.polars.duplicates import drop_duplicate_requests
from abtool.engines.polars.hygiene import blank_ids
from abtool.engines.polars.partitions import hive_values
from abtool.engines.polars.source import open_files, open_frame
from abtool.engines.polars.timecol import timed
from abtool.errors import InputError, UsageError
from abtool.escape import code_fence, markdown_text, printable, unicode_safe, xml_text
from abtool.outputs import record_input, recording, write_text
from abtool.render.json import render_json

# ---------------------------------------------------------------- outputs


def test_write_is_atomic_when_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.md"
    target.write_text("old report")

    def fail(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(UsageError, match=r"report\.md: cannot write output"):
        write_text(target, "new report")
    assert target.read_text() == "old report"
    assert os.listdir(tmp_path) == ["report.md"]  # no temporary file left behind


def test_write_keeps_the_mode_of_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_text("x")
    target.chmod(0o640)
    write_text(target, "y")
    assert target.read_text() == "y"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        write_text(tmp_path / "new.json", "{}")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


def test_write_through_a_symlink_replaces_its_target(tmp_path: Path) -> None:
    (tmp_path / "real.md").write_text("old")
    (tmp_path / "link.md").symlink_to(tmp_path / "real.md")
    write_text(tmp_path / "link.md", "new")
    assert (tmp_path / "link.md").is_symlink()
    assert (tmp_path / "real.md").read_text() == "new"


def test_a_fifo_is_written_directly(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    write_text(pipe, "through the pipe")
    reader.join(timeout=10)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)


def test_inputs_are_protected_only_while_recording(tmp_path: Path) -> None:
    log = tmp_path / "log.parquet"
    log.write_text("data")
    record_input(log)  # outside recording: nothing remembered
    write_text(tmp_path / "other.txt", "fine")
    with recording():
        record_input(log)
        with pytest.raises(UsageError, match="input of this run"):
            write_text(tmp_path / "." / "log.parquet", "report")
    assert log.read_text() == "data"
    write_text(log, "overwritten outside a run")  # the library's caller decides
    assert log.read_text() == "overwritten outside a run"


# ---------------------------------------------------------------- escaping


def test_printable_strips_controls_and_bidi() -> None:
    assert printable("a\x1b[2Jb\rc\u202ed\x00e\tf\ng") == "a[2Jbcde f g"
    assert printable("x\ny", newlines=True) == "x\ny"


def test_markdown_text_is_literal() -> None:
    assert markdown_text("a|b") == "a\\|b"
    assert markdown_text("<img src=x>") == "&lt;img src=x>"
    assert markdown_text("[x](http://e)") == "[x\\](http://e)"
    assert markdown_text("`c` *e* \\") == "\\`c\\` \\*e\\* \\\\"
    assert markdown_text("[not required] a & b") == "[not required] a &amp; b"
    assert code_fence("x ``` y ```` z") == "`````"


def test_xml_text_keeps_the_document_parseable() -> None:
    import xml.etree.ElementTree as ET

    value = xml_text("gate \x01\x1b[31m <&> \ufffe\ud800 ok")
    element = ET.Element("testcase", name=value)
    element.text = value
    assert ET.fromstring(ET.tostring(element)).get("name") == "gate [31m <&> \ufffd ok"


def test_json_is_valid_utf8_with_a_lone_surrogate() -> None:
    name = os.fsdecode(b"log-\xff.parquet")
    text = render_json({"inputs": {"paths": [name]}, name: 1})
    text.encode("utf-8")
    assert json.loads(text) == {
        "inputs": {"paths": ["log-\ufffd.parquet"]},
        "log-\ufffd.parquet": 1,
    }
    assert unicode_safe("ok") == "ok"


def test_error_messages_are_one_printable_line() -> None:
    assert InputError("a\nb\x1b[31m c").message == "a b[31m c"


# ---------------------------------------------------------------- time columns


def _epochs(values: list[int | float | None]) -> pl.DataFrame:
    return pl.DataFrame({"ts": values})


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (100_000_000, "s"),  # 1973-03-03, the lowest second-epoch read as seconds
        (99_999_999_999, "s"),  # year 5138
        (100_000_000_000, "ms"),
        (1_745_798_400_000_000, "us"),
        (1_745_798_400_000_000_000, "ns"),
    ],
)
def test_auto_unit_by_magnitude(value: int, unit: str) -> None:
    if unit == "s" and value > 10**10:
        with pytest.raises(InputError, match="years"):  # 5138 is past the 2500 limit
            timed(open_frame(_epochs([value])), "ts")
        return
    source = timed(open_frame(_epochs([value, value + 1])), "ts")
    names = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
    assert f"read as {names[unit]}" in source.notes[-1]
    (read,) = source.scan(["ts"]).head(1).collect()["ts"].to_list()
    expected = np.datetime64(value, unit).astype("datetime64[us]").item()
    assert read == expected


def test_auto_unit_refuses_mixed_magnitudes() -> None:
    with pytest.raises(InputError, match="set --time-unit"):
        timed(open_frame(_epochs([0, 1_745_798_400_000])), "ts")


def test_explicit_unit_outside_plausible_years() -> None:
    with pytest.raises(InputError, match="years"):
        timed(open_frame(_epochs([1_745_798_400_000])), "ts", "s")
    source = timed(open_frame(_epochs([1_745_798_400_000, None])), "ts", "ms")
    assert source.notes == ()  # an explicit unit is not an assumption
    values = source.scan(["ts"]).collect()["ts"].to_list()
    assert values[1] is None and values[0].year == 2025


def test_iso_text_with_offsets_is_utc() -> None:
    frame = pl.DataFrame({"ts": ["2025-04-29T12:00:00+02:00", "2025-04-29 10:00:00Z", "x"]})
    source = timed(open_frame(frame), "ts")
    values = source.scan(["ts"]).collect()["ts"].to_list()
    assert values[0] == values[1] and values[0].hour == 10 and values[2] is None
    assert "1 value(s) are not ISO-8601 times" in source.notes[-1]


# ---------------------------------------------------------------- duplicates


@pytest.mark.parametrize("ids", [["r1", "r2", "r3", "r1", "r2", "r4"], [5, 3, 9, 5, 3, 1]])
def test_identical_copies_dropped_differing_rows_kept(ids: list[object]) -> None:
    frame = pl.DataFrame({"request_id": ids, "latency": [1.0, 2.0, 3.0, 1.0, 2.5, 4.0]}).lazy()
    deduped, found = drop_duplicate_requests(frame, "request_id", "log")
    assert found is not None and (found.dropped, found.kept) == (1, 1)
    rows = deduped.collect().sort("latency")["latency"].to_list()
    assert rows == [1.0, 2.0, 2.5, 3.0, 4.0]


def test_rows_left_after_dropping_copies_keep_the_file_order() -> None:
    # A thinned segment KS takes every k-th row, so the order must repeat from run to run:
    # the rows without a copy in file order, then one row of each copied request, in order.
    rng = np.random.default_rng(7)
    ids = rng.permutation(200_000)
    copied = ids[:100_000]
    frame = pl.DataFrame(
        {"request_id": np.concatenate([ids, copied]), "x": np.concatenate([ids, copied]) * 0.5}
    ).lazy()
    deduped, found = drop_duplicate_requests(frame, "request_id", "log")
    assert found is not None and found.dropped == 100_000
    kept = deduped.collect()["request_id"].to_numpy()
    np.testing.assert_array_equal(kept, np.concatenate([ids[100_000:], copied]))


def test_rows_without_id_are_never_duplicates() -> None:
    frame = pl.DataFrame({"request_id": [None, None, 7], "x": [1, 1, 1]}).lazy()
    deduped, found = drop_duplicate_requests(frame, "request_id", "log")
    assert found is not None and (found.dropped, found.kept) == (0, 0)
    assert deduped.collect().height == 3


def test_rising_ids_take_the_fast_path() -> None:
    frame = pl.DataFrame({"request_id": np.arange(10_000), "x": np.ones(10_000)}).lazy()
    deduped, found = drop_duplicate_requests(frame, "request_id", "log")
    assert deduped is frame and found is not None and found.dropped == 0


# ---------------------------------------------------------------- hive keys


def test_hive_values() -> None:
    path = Path(
        "/data/run=1/logs/date=2025-04-29/country=a%2Fb/x=__HIVE_DEFAULT_PARTITION__/p.parquet"
    )
    assert hive_values(path) == {
        "run": "1",
        "date": "2025-04-29",
        "country": "a/b",
        "x": None,
    }
    assert hive_values(Path("date=1/date=2/p.parquet")) == {"date": "2"}
    assert hive_values(Path("_tmp=1/.x=2/p.parquet")) == {}


# ---------------------------------------------------------------- blank ids from statistics


def _ids_file(path: Path, groups: list[list[str | None]], **options: object) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetWriter(path, pa.schema([("user_id", pa.string())]), **options) as writer:
        for ids in groups:
            writer.write_table(pa.table({"user_id": pa.array(ids, pa.string())}))
    return path


@pytest.mark.parametrize(
    "blank", ["", " ", "\t", " u1", "\u00a0", "\u3000", "\u2028", "\u0085", "\u1680"]
)
def test_statistics_never_rule_out_a_blank_id(tmp_path: Path, blank: str) -> None:
    from abtool.engines.polars.text_stats import may_hold_blank

    # The blank value sits in the second row group only: every group is looked at.
    path = _ids_file(tmp_path / "log.parquet", [["u1", "u2"], ["u3", blank, None]])
    assert may_hold_blank([path], "user_id")
    is_blank = pl.Series([blank]).str.strip_chars().str.len_chars() == 0
    notes = blank_ids(open_files([path]), "user_id").notes  # the scan that follows
    assert notes == (
        ("1 row(s) hold an empty 'user_id': read as having none (null)",) if is_blank.item() else ()
    )


def test_statistics_rule_out_blanks_among_plain_ids(tmp_path: Path) -> None:
    from abtool.engines.polars.text_stats import may_hold_blank

    path = _ids_file(tmp_path / "log.parquet", [["u000001", "u999999", None], ["abc", "zz"]])
    assert not may_hold_blank([path], "user_id")
    # Without statistics, in object storage, or for a column not in the file: no answer.
    bare = _ids_file(tmp_path / "bare.parquet", [["u1", "u2"]], write_statistics=False)
    assert may_hold_blank([bare], "user_id")
    assert may_hold_blank(["s3://bucket/log.parquet"], "user_id")
    assert may_hold_blank([path], "session_id")
    # Values starting with a byte at or above 0xC2 are not ruled out (conservative).
    accented = _ids_file(tmp_path / "accented.parquet", [["u1", "\u00e9t\u00e9"]])
    assert may_hold_blank([accented], "user_id")
