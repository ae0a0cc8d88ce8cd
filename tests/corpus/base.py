"""The corpus's building blocks: the case record, input writers and outcome checks.

Each case builds its inputs in an empty folder and returns the command line to run there.
Expected: an exit code (2 with one ``abtool: error:`` line naming the culprit for unusable
input; 0, 1 or 3 for dirty-but-usable input, whose exclusions are checked in the JSON),
plus the harness's checks for every case (tests/test_corpus.py): no traceback, no hang, no
warning on stderr, and no input file changed.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from tests.corpus.inputs import (
    canary_frame,
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


def shadow_log(d: Path, frame: pl.DataFrame | None = None, name: str = "log.parquet") -> str:
    write(d / name, shadow_frame() if frame is None else frame)
    return name


def canary_log(d: Path, frame: pl.DataFrame | None = None) -> str:
    write(d / "canary.parquet", canary_frame() if frame is None else frame)
    return "canary.parquet"


def stats_of(outcome: Outcome) -> dict[str, Any]:
    return outcome.json()["stats"]


def no_nan(outcome: Outcome) -> None:
    report = outcome.json()
    text = json.dumps({k: report[k] for k in ("verdict", "reasons", "checks")}).lower()
    assert not re.search(r"\bnan\b|\binf\b|infinity", text), text


def excluded_rows(reason: str, count: int) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        no_nan(outcome)
        stats = stats_of(outcome)
        reasons = stats.get("excluded_reasons") or stats.get("health", {}).get("excluded_reasons")
        assert reasons.get(reason) == count, reasons
        assert any(reason in w for w in outcome.json()["warnings"]), outcome.json()["warnings"]

    return check


def excluded_values(reason: str, count: int) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        no_nan(outcome)
        values = stats_of(outcome).get("excluded_values")
        assert values is not None and values.get(reason) == count, values
        assert any(reason in w for w in outcome.json()["warnings"])

    return check


def rows_read(count: int, note: str | None = None) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        report = outcome.json()
        assert report["stats"]["rows"] == count
        assert report["stats"]["excluded_rows"] == 0
        if note is not None:
            assert any(note in w for w in report["warnings"]), report["warnings"]

    return check


def policy(d: Path, body: str, paths: str = '["log.parquet"]') -> str:
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


def hostile_frame() -> pl.DataFrame:
    frame = shadow_frame(n=len(HOSTILE) * 40)
    values = [HOSTILE[i % len(HOSTILE)] for i in range(frame.height)]
    return frame.with_columns(pl.Series("country", values))


def markdown_safe(outcome: Outcome) -> None:
    text = outcome.stdout
    assert "<script>" not in text and "\x1b" not in text and "\u202e" not in text
    assert not re.search(r"(?<!\\)\]\(", text), "a value made a link"
    assert not re.search(r"(?<!\\)`tick", text), "a value opened a code span"
    lines = text.splitlines()
    start = lines.index("### Segment disagreement by country")
    table = lines[start + 2 : start + 4 + len(HOSTILE)]
    cells = {len(re.split(r"(?<!\\)\|", row)) for row in table}
    header = len(re.split(r"(?<!\\)\|", table[0]))
    assert cells == {header}, table  # every value stayed in its cell, every row on one line


def rich_safe(outcome: Outcome) -> None:
    assert "\x1b" not in outcome.stdout and "\u202e" not in outcome.stdout
    assert "RED" in outcome.stdout


def junit_safe(outcome: Outcome) -> None:
    ET.parse(outcome.folder / "junit.xml")  # raises on invalid XML


def latency_skipped(outcome: Outcome) -> None:
    no_nan(outcome)
    checks = {c["id"]: c for c in outcome.json()["checks"]}
    assert checks["latency_p99"]["passed"] is None
    assert stats_of(outcome)["excluded_values"] == {"infinite shadow_latency_ms": 240}


def canary_values(outcome: Outcome) -> None:
    no_nan(outcome)
    values = stats_of(outcome)["excluded_values"]
    assert values == {"infinite prediction": 5, "negative latency_ms": 7}, values
    assert outcome.json()["verdict"] != "ROLLBACK"


def canary_metric_inf(outcome: Outcome) -> None:
    no_nan(outcome)
    stats = stats_of(outcome)
    assert stats["metric"]["missing_rows"] == 4
    assert stats["excluded_values"] == {"infinite revenue": 4}


def canary_latency_skipped(outcome: Outcome) -> None:
    no_nan(outcome)
    checks = {c["id"]: c for c in outcome.json()["checks"]}
    assert checks["latency_p99"]["passed"] is None
    assert outcome.json()["verdict"] != "ROLLBACK"


def empty_units(outcome: Outcome) -> None:
    report = outcome.json()
    assert report["stats"]["excluded_reasons"] == {"null user_id": 30}
    assert any("30 row(s) hold an empty 'user_id'" in w for w in report["warnings"])


def decimal_scores(outcome: Outcome) -> None:
    stats = stats_of(outcome)
    assert stats["prediction_kind"] == "score" and stats["agreement_rate"] > 0.9


def duplicates_kept(outcome: Outcome) -> None:
    report = outcome.json()
    assert report["stats"]["excluded_rows"] == 0 and report["stats"]["rows"] == 260
    assert any("20 row(s) share a 'request_id'" in w for w in report["warnings"])


def iso_garbage(outcome: Outcome) -> None:
    report = outcome.json()
    assert report["stats"]["excluded_reasons"] == {"null ts": 3}
    assert any("3 value(s) are not ISO-8601 times" in w for w in report["warnings"])


def hive_segment(outcome: Outcome) -> None:
    stats = stats_of(outcome)
    assert set(stats["segments"]) == {"date"}
    assert {s["value"] for s in stats["segments"]["date"]} == {"2025-04-28", "2025-04-29"}


def hive_not_default(outcome: Outcome) -> None:
    assert set(stats_of(outcome)["segments"]) == {"country"}


def shadow_logs(d: Path, *names: str) -> None:
    for name in names:
        write(d / name, shadow_frame())


CASES: list[Case] = []


def case(*args: Any, **kwargs: Any) -> None:
    CASES.append(Case(*args, **kwargs))
