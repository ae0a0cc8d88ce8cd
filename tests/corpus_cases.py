"""The corpus: malformed and adversarial inputs, each with the outcome abtool must give.

Each case builds its inputs in an empty folder and returns the command line to run there.
Expected: an exit code (2 with one ``abtool: error:`` line naming the culprit for unusable
input; 0, 1 or 3 for dirty-but-usable input, whose exclusions are checked in the JSON),
plus the harness's checks for every case (tests/test_corpus.py): no traceback, no hang, no
warning on stderr, and no input file changed.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from tests.corpus_inputs import (
    canary_frame,
    corrupt_pages,
    fifo,
    interleave_frame,
    replace_rows,
    shadow_frame,
    write,
)

REPORTS = (0, 1, 3)  # a verdict was given


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    folder: Path

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


@dataclass(frozen=True)
class Case:
    """One corpus entry.

    Attributes:
        id: short name (the pytest id).
        area: files, schema, values, options, outputs, policy or escape.
        what: the input, in words.
        build: writes the inputs into a folder, returns the arguments after ``abtool``.
        expect: the exit codes allowed.
        culprit: fragments the one error line must hold (exit 2).
        check: asserts on the outcome (exclusions counted, output well-formed).
        writes: files the case may create (outputs), relative to the folder.
    """

    id: str
    area: str
    what: str
    build: Callable[[Path], list[str]]
    expect: tuple[int, ...]
    culprit: tuple[str, ...] = ()
    check: Callable[[Outcome], None] | None = None
    writes: tuple[str, ...] = field(default=())


def _shadow(d: Path, frame: pl.DataFrame | None = None, name: str = "log.parquet") -> str:
    write(d / name, shadow_frame() if frame is None else frame)
    return name


def _canary(d: Path, frame: pl.DataFrame | None = None) -> str:
    write(d / "canary.parquet", canary_frame() if frame is None else frame)
    return "canary.parquet"


def _stats(outcome: Outcome) -> dict[str, Any]:
    return outcome.json()["stats"]


def _no_nan(outcome: Outcome) -> None:
    report = outcome.json()
    text = json.dumps({k: report[k] for k in ("verdict", "reasons", "checks")}).lower()
    assert not re.search(r"\bnan\b|\binf\b|infinity", text), text


def _excluded(reason: str, count: int) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        _no_nan(outcome)
        stats = _stats(outcome)
        reasons = stats.get("excluded_reasons") or stats.get("health", {}).get("excluded_reasons")
        assert reasons.get(reason) == count, reasons
        assert any(reason in w for w in outcome.json()["warnings"]), outcome.json()["warnings"]

    return check


def _values(reason: str, count: int) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        _no_nan(outcome)
        values = _stats(outcome).get("excluded_values")
        assert values is not None and values.get(reason) == count, values
        assert any(reason in w for w in outcome.json()["warnings"])

    return check


def _rows(count: int, note: str | None = None) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        report = outcome.json()
        assert report["stats"]["rows"] == count
        assert report["stats"]["excluded_rows"] == 0
        if note is not None:
            assert any(note in w for w in report["warnings"]), report["warnings"]

    return check


def _policy(d: Path, body: str, paths: str = '["log.parquet"]') -> str:
    (d / "policy.toml").write_text(
        f'[[gate]]\nname = "shadow"\nkind = "shadow"\npaths = {paths}\n{body}'
    )
    return "policy.toml"


HOSTILE = [
    "a|b",
    "<script>alert(1)</script>",
    "\x1b[2J\x1b[31mRED",
    "line\nbreak",
    "[x](http://example.com)",
    "`tick`",
    "\u202eevil",
]


def _hostile_frame() -> pl.DataFrame:
    frame = shadow_frame(n=len(HOSTILE) * 40)
    values = [HOSTILE[i % len(HOSTILE)] for i in range(frame.height)]
    return frame.with_columns(pl.Series("country", values))


def _markdown_safe(outcome: Outcome) -> None:
    text = outcome.stdout
    assert "<script>" not in text and "\x1b" not in text and "\u202e" not in text
    assert not re.search(r"(?<!\\)\]\(", text), "a value made a link"
    assert not re.search(r"(?<!\\)`tick", text), "a value opened a code span"
    lines = text.splitlines()
    start = lines.index("### Segment disagreement by country")
    table = lines[start + 2 : start + 4 + len(HOSTILE)]
    cells = {len(re.split(r"(?<!\\)\|", row)) for row in table}
    assert cells == {5}, table  # every value stayed in its cell, every row on one line


def _rich_safe(outcome: Outcome) -> None:
    assert "\x1b" not in outcome.stdout and "\u202e" not in outcome.stdout
    assert "RED" in outcome.stdout


def _junit_safe(outcome: Outcome) -> None:
    ET.parse(outcome.folder / "junit.xml")  # raises on invalid XML


def _latency_skipped(outcome: Outcome) -> None:
    _no_nan(outcome)
    checks = {c["id"]: c for c in outcome.json()["checks"]}
    assert checks["latency_p99"]["passed"] is None
    assert _stats(outcome)["excluded_values"] == {"infinite shadow_latency_ms": 240}


def _canary_values(outcome: Outcome) -> None:
    _no_nan(outcome)
    values = _stats(outcome)["excluded_values"]
    assert values == {"infinite prediction": 5, "negative latency_ms": 7}, values
    assert outcome.json()["verdict"] != "ROLLBACK"


def _canary_metric_inf(outcome: Outcome) -> None:
    _no_nan(outcome)
    stats = _stats(outcome)
    assert stats["metric"]["missing_rows"] == 4
    assert stats["excluded_values"] == {"infinite revenue": 4}


def _canary_latency_skipped(outcome: Outcome) -> None:
    _no_nan(outcome)
    checks = {c["id"]: c for c in outcome.json()["checks"]}
    assert checks["latency_p99"]["passed"] is None
    assert outcome.json()["verdict"] != "ROLLBACK"


def _empty_units(outcome: Outcome) -> None:
    report = outcome.json()
    assert report["stats"]["excluded_reasons"] == {"null user_id": 30}
    assert any("30 row(s) hold an empty 'user_id'" in w for w in report["warnings"])


def _decimal(outcome: Outcome) -> None:
    stats = _stats(outcome)
    assert stats["prediction_kind"] == "score" and stats["agreement_rate"] > 0.9


def _duplicates_kept(outcome: Outcome) -> None:
    report = outcome.json()
    assert report["stats"]["excluded_rows"] == 0 and report["stats"]["rows"] == 260
    assert any("20 row(s) share a 'request_id'" in w for w in report["warnings"])


def _iso_garbage(outcome: Outcome) -> None:
    report = outcome.json()
    assert report["stats"]["excluded_reasons"] == {"null ts": 3}
    assert any("3 value(s) are not ISO-8601 times" in w for w in report["warnings"])


def _hive_segment(outcome: Outcome) -> None:
    stats = _stats(outcome)
    assert set(stats["segments"]) == {"date"}
    assert {s["value"] for s in stats["segments"]["date"]} == {"2025-04-28", "2025-04-29"}


def _hive_not_default(outcome: Outcome) -> None:
    assert set(_stats(outcome)["segments"]) == {"country"}


def _files(d: Path, *names: str) -> None:
    for name in names:
        write(d / name, shadow_frame())


CASES: list[Case] = []


def case(*args: Any, **kwargs: Any) -> None:
    CASES.append(Case(*args, **kwargs))


# ---------------------------------------------------------------- files
case(
    "fifo_in_glob",
    "files",
    "a FIFO named *.parquet matched by a glob",
    lambda d: (
        _files(d, "logs/a.parquet"),
        fifo(d / "logs/b.parquet"),
        ["shadow-report", "logs/*.parquet"],
    )[-1],
    (2,),
    ("b.parquet", "not a regular file", "FIFO"),
)
case(
    "fifo_in_folder",
    "files",
    "a FIFO named *.parquet inside a log folder",
    lambda d: (_files(d, "logs/a.parquet"), fifo(d / "logs/z.parquet"), ["shadow-report", "logs"])[
        -1
    ],
    (2,),
    ("z.parquet", "FIFO"),
)
case(
    "same_file_twice",
    "files",
    "one file named twice (a.parquet ./a.parquet)",
    lambda d: ["shadow-report", _shadow(d), "./log.parquet", "-f", "json"],
    REPORTS,
    check=_rows(240, "named 2 times"),
)
case(
    "file_and_folder",
    "files",
    "a file and the folder holding it",
    lambda d: (
        _files(d, "logs/a.parquet"),
        ["shadow-report", "logs/a.parquet", "logs", "-f", "json"],
    )[-1],
    REPORTS,
    check=_rows(240, "read once"),
)
case(
    "hard_link",
    "files",
    "a file and a hard link to it",
    lambda d: (
        _shadow(d),
        os.link(d / "log.parquet", d / "link.parquet"),
        ["shadow-report", "log.parquet", "link.parquet", "-f", "json"],
    )[-1],
    REPORTS,
    check=_rows(240),
)
case(
    "symlink_loop",
    "files",
    "a log folder holding a symlink to itself",
    lambda d: (
        _files(d, "logs/a.parquet"),
        os.symlink(d / "logs", d / "logs/loop"),
        ["shadow-report", "logs", "-f", "json"],
    )[-1],
    REPORTS,
    check=_rows(240),
)
case(
    "zero_bytes",
    "files",
    "an empty file named .parquet",
    lambda d: ((d / "log.parquet").write_bytes(b""), ["shadow-report", "log.parquet"])[-1],
    (2,),
    ("log.parquet", "empty"),
)
case(
    "truncated",
    "files",
    "a Parquet file cut in half",
    lambda d: (
        _shadow(d),
        (d / "log.parquet").write_bytes((d / "log.parquet").read_bytes()[:2000]),
        ["shadow-report", "log.parquet"],
    )[-1],
    (2,),
    ("log.parquet", "not a Parquet file"),
)
case(
    "corrupt_footer",
    "files",
    "magic bytes intact, metadata garbage",
    lambda d: (
        (d / "log.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 4 + b"PAR1"),
        ["shadow-report", "log.parquet"],
    )[-1],
    (2,),
    ("log.parquet", "unreadable Parquet"),
)
case(
    "corrupt_part_in_hive",
    "files",
    "one corrupt part file in a hive folder",
    lambda d: (
        write(d / "logs/date=2025-04-28/part-0.parquet", shadow_frame()),
        write(d / "logs/date=2025-04-29/part-0.parquet", shadow_frame(seed=9)),
        corrupt_pages(
            d / "logs/date=2025-04-29/part-0.parquet", d / "logs/date=2025-04-29/part-0.parquet"
        ),
        ["shadow-report", "logs"],
    )[-1],
    (2,),
    ("date=2025-04-29/part-0.parquet", "cannot read"),
)
case(
    "csv_named_parquet",
    "files",
    "a CSV file named .parquet",
    lambda d: (shadow_frame().write_csv(d / "log.parquet"), ["shadow-report", "log.parquet"])[-1],
    (2,),
    ("log.parquet", "not a Parquet file"),
)
case(
    "spark_folder",
    "files",
    "Spark's output: a folder named x.parquet with part files",
    lambda d: (
        write(d / "out.parquet/part-00000.parquet", shadow_frame()),
        (d / "out.parquet/_SUCCESS").write_text(""),
        (d / "out.parquet/.part-00000.parquet.crc").write_bytes(b"x"),
        ["shadow-report", "out.parquet", "-f", "json"],
    )[-1],
    REPORTS,
    check=_rows(240),
)
case(
    "glob_chars_in_name",
    "files",
    "a file whose name holds glob characters",
    lambda d: ["shadow-report", _shadow(d, name="log[1]*.parquet"), "-f", "json"],
    REPORTS,
    check=_rows(240),
)
case(
    "undecodable_name",
    "files",
    "a file name with a byte that is not UTF-8",
    lambda d: (
        _shadow(d),
        os.rename(bytes(d / "log.parquet"), bytes(d) + b"/log-\xff.parquet"),
        ["shadow-report", os.fsdecode(b"log-\xff.parquet"), "-f", "json"],
    )[-1],
    (2,),
    ("log-\ufffd.parquet", "not valid UTF-8"),
)
case(
    "broken_symlink",
    "files",
    "a symlink to a file that does not exist",
    lambda d: (os.symlink(d / "gone.parquet", d / "log.parquet"), ["shadow-report", "log.parquet"])[
        -1
    ],
    (2,),
    ("log.parquet", "cannot read"),
)
case(
    "device",
    "files",
    "a character device given as the log",
    lambda d: ["shadow-report", "/dev/null"],
    (2,),
    ("/dev/null", "character device"),
)

# ---------------------------------------------------------------- schemas
case(
    "all_columns_missing",
    "schema",
    "none of the required columns",
    lambda d: ["shadow-report", _shadow(d, pl.DataFrame({"x": [1.0, 2.0]}))],
    (2,),
    (
        "'ts' (--time-col)",
        "'primary_prediction' (--primary-col)",
        "'shadow_prediction' (--shadow-col)",
    ),
)
case(
    "list_segment",
    "schema",
    "a list column given as --segment",
    lambda d: [
        "shadow-report",
        _shadow(d, shadow_frame().with_columns(pl.concat_list("country", "country").alias("tags"))),
        "--segment",
        "tags",
    ],
    (2,),
    ("'tags'", "List", "expected"),
)
case(
    "struct_unit",
    "schema",
    "a struct column given as the canary --unit",
    lambda d: [
        "canary-decide",
        _canary(d, canary_frame().with_columns(pl.struct("user_id", "country").alias("user_id"))),
        "-m",
        "clicked",
    ],
    (2,),
    ("'user_id'", "Struct"),
)
case(
    "mixed_types",
    "schema",
    "a prediction that is float in one file and text in another",
    lambda d: (
        _files(d, "logs/a.parquet"),
        write(
            d / "logs/b.parquet",
            shadow_frame().with_columns(pl.col("shadow_prediction").cast(pl.String)),
        ),
        ["shadow-report", "logs"],
    )[-1],
    (2,),
    ("b.parquet", "'shadow_prediction'", "a.parquet", "mixed schemas"),
)
case(
    "column_in_one_file",
    "schema",
    "a needed column missing from one file of two",
    lambda d: (
        _files(d, "logs/a.parquet"),
        write(d / "logs/b.parquet", shadow_frame().drop("shadow_latency_ms")),
        ["shadow-report", "logs"],
    )[-1],
    (2,),
    ("b.parquet", "'shadow_latency_ms'", "a.parquet"),
)
case(
    "text_time",
    "schema",
    "a text time column that is not ISO-8601",
    lambda d: [
        "shadow-report",
        _shadow(d, shadow_frame().with_columns(pl.lit("yesterday").alias("ts"))),
    ],
    (2,),
    ("'ts'", "ISO-8601", "yesterday"),
)
case(
    "ambiguous_epoch",
    "schema",
    "epoch numbers whose magnitude spans two units",
    lambda d: [
        "shadow-report",
        _shadow(
            d,
            shadow_frame().with_columns(
                pl.when(pl.int_range(pl.len()) == 0)
                .then(0)
                .otherwise(pl.col("ts").dt.epoch("ms"))
                .alias("ts")
            ),
        ),
    ],
    (2,),
    ("'ts'", "--time-unit"),
)
case(
    "bool_time",
    "schema",
    "a boolean time column",
    lambda d: ["shadow-report", _shadow(d, shadow_frame().with_columns(pl.lit(True).alias("ts")))],
    (2,),
    ("'ts'", "timestamp"),
)
case(
    "empty_log",
    "schema",
    "a log with the right columns and no rows",
    lambda d: ["shadow-report", _shadow(d, shadow_frame().head(0))],
    (2,),
    ("log.parquet", "no rows"),
)
case(
    "one_variant",
    "schema",
    "a canary log with a single variant",
    lambda d: [
        "canary-decide",
        _canary(d, canary_frame().with_columns(pl.lit("v1").alias("model_variant"))),
        "-m",
        "clicked",
    ],
    (2,),
    ("'model_variant'", "1 variant"),
)
case(
    "newline_column_name",
    "schema",
    "a --segment naming a column with a newline in it",
    lambda d: ["shadow-report", _shadow(d), "--segment", "bad\ncolumn\x1b[31m"],
    (2,),
    ("'bad column[31m'", "--segment"),
)

# ---------------------------------------------------------------- values
case(
    "inf_predictions",
    "values",
    "5 +inf and 3 -inf shadow predictions",
    lambda d: [
        "shadow-report",
        _shadow(
            d,
            replace_rows(
                replace_rows(shadow_frame(), "shadow_prediction", 5, float("inf")),
                "primary_prediction",
                3,
                float("-inf"),
            ),
        ),
        "-f",
        "json",
    ],
    REPORTS,
    check=lambda o: (
        _excluded("infinite shadow_prediction", 2)(o),
        _excluded("infinite primary_prediction", 3)(o),
    ),
)
case(
    "inf_latency",
    "values",
    "4 infinite shadow latencies",
    lambda d: [
        "shadow-report",
        _shadow(d, replace_rows(shadow_frame(), "shadow_latency_ms", 4, float("inf"))),
        "-f",
        "json",
    ],
    REPORTS,
    check=_values("infinite shadow_latency_ms", 4),
)
case(
    "negative_latency",
    "values",
    "6 negative primary latencies",
    lambda d: [
        "shadow-report",
        _shadow(d, replace_rows(shadow_frame(), "primary_latency_ms", 6, -3.0)),
        "-f",
        "json",
    ],
    REPORTS,
    check=_values("negative primary_latency_ms", 6),
)
case(
    "nan_latency",
    "values",
    "9 NaN shadow latencies",
    lambda d: [
        "shadow-report",
        _shadow(d, replace_rows(shadow_frame(), "shadow_latency_ms", 9, float("nan"))),
        "-f",
        "json",
    ],
    REPORTS,
    check=_values("null or NaN shadow_latency_ms", 9),
)
case(
    "all_latency_inf",
    "values",
    "every shadow latency infinite",
    lambda d: [
        "shadow-report",
        _shadow(d, shadow_frame().with_columns(pl.lit(float("inf")).alias("shadow_latency_ms"))),
        "-f",
        "json",
    ],
    REPORTS,
    check=_latency_skipped,
)
case(
    "decimal_predictions",
    "values",
    "Decimal(10, 6) predictions",
    lambda d: [
        "shadow-report",
        _shadow(
            d,
            shadow_frame().with_columns(
                pl.col("primary_prediction", "shadow_prediction").cast(pl.Decimal(10, 6))
            ),
        ),
        "-f",
        "json",
    ],
    REPORTS,
    check=_decimal,
)
case(
    "every_request_twice",
    "values",
    "every row delivered twice (identical copies)",
    lambda d: [
        "shadow-report",
        _shadow(d, pl.concat([shadow_frame(), shadow_frame()])),
        "-f",
        "json",
    ],
    REPORTS,
    check=_excluded("duplicate request_id (identical row)", 240),
)
case(
    "retried_requests",
    "values",
    "20 request ids logged again with another latency",
    lambda d: [
        "shadow-report",
        _shadow(
            d,
            pl.concat(
                [
                    shadow_frame(),
                    shadow_frame().head(20).with_columns(pl.col("shadow_latency_ms") + 1),
                ]
            ),
        ),
        "-f",
        "json",
    ],
    REPORTS,
    check=_duplicates_kept,
)
case(
    "iso_time_garbage",
    "values",
    "ISO-8601 text times, 3 of them garbage",
    lambda d: [
        "shadow-report",
        _shadow(
            d,
            replace_rows(
                shadow_frame().with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ")),
                "ts",
                3,
                "n/a",
            ),
        ),
        "-f",
        "json",
    ],
    REPORTS,
    check=_iso_garbage,
)
case(
    "empty_user_ids",
    "values",
    "30 canary rows with an empty-string user id",
    lambda d: [
        "canary-decide",
        _canary(
            d,
            replace_rows(
                canary_frame().with_columns(pl.col("user_id").cast(pl.String)), "user_id", 30, "  "
            ),
        ),
        "-m",
        "clicked",
        "-f",
        "json",
    ],
    REPORTS,
    check=_empty_units,
)
case(
    "canary_dirty_health",
    "values",
    "5 infinite predictions, 7 negative latencies",
    lambda d: [
        "canary-decide",
        _canary(
            d,
            replace_rows(
                replace_rows(canary_frame(), "prediction", 5, float("inf")), "latency_ms", 7, -1.0
            ),
        ),
        "-m",
        "clicked",
        "-f",
        "json",
    ],
    REPORTS,
    check=_canary_values,
)
case(
    "canary_inf_metric",
    "values",
    "4 infinite values of a continuous metric",
    lambda d: [
        "canary-decide",
        _canary(
            d,
            replace_rows(
                canary_frame().with_columns(pl.Series("revenue", np.linspace(0, 5, 600))),
                "revenue",
                4,
                float("inf"),
            ),
        ),
        "-m",
        "revenue",
        "-f",
        "json",
    ],
    REPORTS,
    check=_canary_metric_inf,
)
case(
    "canary_no_latency",
    "values",
    "every treatment latency negative",
    lambda d: [
        "canary-decide",
        _canary(
            d,
            canary_frame().with_columns(
                pl.when(pl.col("model_variant") == "v2")
                .then(-1.0)
                .otherwise(pl.col("latency_ms"))
                .alias("latency_ms")
            ),
        ),
        "-m",
        "clicked",
        "-f",
        "json",
    ],
    REPORTS,
    check=_canary_latency_skipped,
)
case(
    "empty_sessions",
    "values",
    "interleaving sessions with an empty id",
    lambda d: (
        write(d / "il.parquet", replace_rows(interleave_frame(), "session_id", 4, "")),
        ["interleave-report", "il.parquet"],
    )[-1],
    (2,),
    ("'session_id'", "null or empty"),
)

# ---------------------------------------------------------------- options
for value, fragment in (
    ("1.5", "outside (0, 1]"),
    ("nan", "finite"),
    ("inf", "finite"),
    ("0", "outside (0, 1]"),
):
    case(
        f"threshold_{value}",
        "options",
        f"--threshold {value} on probabilities",
        lambda d, v=value: ["shadow-report", _shadow(d), "--threshold", v],
        (2,),
        ("--threshold", fragment),
    )
case(
    "time_unit_hours",
    "options",
    "--time-unit hours",
    lambda d: ["shadow-report", _shadow(d), "--time-unit", "hours"],
    (2,),
    ("--time-unit", "auto, s, ms, us, ns"),
)
case(
    "wrong_time_unit",
    "options",
    "--time-unit s on millisecond epochs",
    lambda d: [
        "shadow-report",
        _shadow(d, shadow_frame().with_columns(pl.col("ts").dt.epoch("ms"))),
        "--time-unit",
        "s",
    ],
    (2,),
    ("'ts'", "seconds", "--time-unit"),
)
case(
    "hive_key_segment",
    "options",
    "a hive key named as --segment",
    lambda d: (
        write(d / "logs/date=2025-04-28/a.parquet", shadow_frame()),
        write(d / "logs/date=2025-04-29/b.parquet", shadow_frame(seed=4)),
        ["shadow-report", "logs", "--segment", "date", "--min-segment-rows", "1", "-f", "json"],
    )[-1],
    REPORTS,
    check=_hive_segment,
)
case(
    "hive_key_not_default",
    "options",
    "hive keys are never default segments",
    lambda d: (
        write(d / "logs/date=2025-04-28/a.parquet", shadow_frame()),
        ["shadow-report", "logs", "-f", "json"],
    )[-1],
    REPORTS,
    check=_hive_not_default,
)

# ---------------------------------------------------------------- outputs
case(
    "output_is_log",
    "outputs",
    "--output names the log itself",
    lambda d: ["shadow-report", _shadow(d), "--output", "log.parquet"],
    (2,),
    ("log.parquet", "input of this run"),
)
case(
    "output_other_spelling",
    "outputs",
    "--output names the log by another path",
    lambda d: ["shadow-report", _shadow(d), "--output", f"{d}/./log.parquet"],
    (2,),
    ("log.parquet", "input of this run"),
)
case(
    "output_symlink",
    "outputs",
    "--output is a symlink to the log",
    lambda d: (
        _shadow(d),
        os.symlink(d / "log.parquet", d / "out.json"),
        ["shadow-report", "log.parquet", "-o", "out.json"],
    )[-1],
    (2,),
    ("out.json", "input of this run"),
)
case(
    "output_part_in_folder",
    "outputs",
    "--output names one part file of a log folder",
    lambda d: (
        _files(d, "logs/a.parquet", "logs/b.parquet"),
        ["shadow-report", "logs", "-o", "logs/b.parquet"],
    )[-1],
    (2,),
    ("b.parquet", "input of this run"),
)
case(
    "output_is_config",
    "outputs",
    "--output names the --config file",
    lambda d: (
        (d / "abtool.toml").write_text("[shadow]\nduration = 1\n"),
        ["shadow-report", _shadow(d), "--config", "abtool.toml", "-o", "abtool.toml"],
    )[-1],
    (2,),
    ("abtool.toml", "input of this run"),
)
case(
    "output_is_folder",
    "outputs",
    "--output names a directory",
    lambda d: ((d / "out").mkdir(), ["shadow-report", _shadow(d), "-o", "out"])[-1],
    (2,),
    ("out", "directory"),
)
case(
    "output_missing_folder",
    "outputs",
    "--output inside a folder that does not exist",
    lambda d: ["shadow-report", _shadow(d), "-o", "no/such/dir/report.md"],
    (2,),
    ("report.md", "cannot write"),
)
case(
    "junit_is_policy",
    "outputs",
    "gate --junit names the policy file",
    lambda d: (_shadow(d), ["gate", _policy(d, ""), "--junit", "policy.toml"])[-1],
    (2,),
    ("policy.toml", "input of this run"),
)
case(
    "markdown_is_gate_log",
    "outputs",
    "gate --markdown names a gate's log file",
    lambda d: (_shadow(d), ["gate", _policy(d, ""), "--markdown", "log.parquet"])[-1],
    (2,),
    ("log.parquet", "input of this run"),
)
case(
    "two_outputs_one_file",
    "outputs",
    "gate --junit and --markdown to the same file",
    lambda d: (_shadow(d), ["gate", _policy(d, ""), "--junit", "r.txt", "--markdown", "r.txt"])[-1],
    (2,),
    ("r.txt", "already wrote"),
    writes=("r.txt",),
)

# ---------------------------------------------------------------- config and policies
for body, fragment in (
    ("agreement_rate = nan", "finite"),
    ("threshold = nan", "unknown"),
    ("duration = inf", "finite"),
    ("agreement_rate = 1.5", "in [0, 1]"),
):
    case(
        f"config_{body.split()[0]}_{body.split()[-1]}",
        "policy",
        f"--config with {body}",
        lambda d, b=body: (
            (d / "abtool.toml").write_text(f"[shadow]\n{b}\n"),
            ["shadow-report", _shadow(d), "--config", "abtool.toml"],
        )[-1],
        (2,),
        ("abtool.toml", fragment),
    )
case(
    "policy_threshold_nan",
    "policy",
    "a gate option threshold = nan",
    lambda d: (_shadow(d), ["gate", _policy(d, "threshold = nan\n")])[-1],
    (2,),
    ("policy.toml:5", "threshold", "finite"),
)
case(
    "policy_threshold_out_of_range",
    "policy",
    "a gate option threshold = 1.5",
    lambda d: (_shadow(d), ["gate", _policy(d, "threshold = 1.5\n")])[-1],
    (2,),
    ("gate 'shadow'", "--threshold 1.5"),
)
case(
    "policy_negative_rate",
    "policy",
    "a gate threshold agreement_rate = -1",
    lambda d: (_shadow(d), ["gate", _policy(d, "[gate.thresholds]\nagreement_rate = -1\n")])[-1],
    (2,),
    ("policy.toml:6", "agreement_rate"),
)
case(
    "policy_fifo_log",
    "policy",
    "a gate whose log is a FIFO",
    lambda d: (fifo(d / "log.parquet"), ["gate", _policy(d, "")])[-1],
    (2,),
    ("gate 'shadow'", "FIFO"),
)

# ---------------------------------------------------------------- escaping
case(
    "hostile_markdown",
    "escape",
    "segment values with |, HTML, ANSI, newlines, links",
    lambda d: [
        "shadow-report",
        _shadow(d, _hostile_frame()),
        "-f",
        "markdown",
        "--min-segment-rows",
        "1",
    ],
    REPORTS,
    check=_markdown_safe,
)
case(
    "hostile_rich",
    "escape",
    "the same values on the terminal renderer",
    lambda d: ["shadow-report", _shadow(d, _hostile_frame()), "--min-segment-rows", "1"],
    REPORTS,
    check=_rich_safe,
)
case(
    "hostile_junit",
    "escape",
    "control characters reaching gate --junit",
    lambda d: (
        _shadow(d, _hostile_frame()),
        (d / "p.toml").write_text(
            '[[gate]]\nname = "x\\u001b[31m<&>\\u0001"\n'
            'kind = "shadow"\npaths = ["log.parquet"]\n'
            'segment = ["country"]\nmin_segment_rows = 1\n'
        ),
        ["gate", "p.toml", "--junit", "junit.xml", "-f", "json"],
    )[-1],
    REPORTS,
    check=_junit_safe,
    writes=("junit.xml",),
)
