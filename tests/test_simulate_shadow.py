"""`abtool simulate shadow` writes the log it promises, deterministically."""

from __future__ import annotations

from pathlib import Path

import polars as pl

import abtool


def test_simulate_is_seeded_and_shaped(run_cli, tmp_path: Path) -> None:
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    for out in (a, b):
        result = run_cli("simulate", "shadow", "--rows", "5000", "--seed", "3", "--out", out)
        assert result.exit_code == 0
        assert "5,000 shadow rows" in result.stderr
    frame = pl.read_parquet(a)
    assert frame.equals(pl.read_parquet(b))
    assert frame.height == 5000
    assert frame.schema["ts"] == pl.Datetime("us")
    assert frame["ts"].is_sorted()
    assert set(frame["country"].unique()) <= {"US", "DE", "BR", "IN", "JP", "GB", "FR", "MX"}
    # Errored shadow calls have no shadow prediction, nothing else is missing.
    assert frame["shadow_prediction"].null_count() == frame["shadow_error"].sum()


def test_partition_by_date(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "logs"
    args = ("simulate", "shadow", "--rows", "3000", "--hours", "50", "--partition-by-date")
    result = run_cli(*args, "--out", out)
    assert result.exit_code == 0
    days = sorted(p.name for p in out.iterdir())
    assert days == ["date=2025-04-28", "date=2025-04-29", "date=2025-04-30"]
    total = pl.scan_parquet(str(out / "*" / "*.parquet")).select(pl.len()).collect().item()
    assert total == 3000


def test_library_entry_point(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    from abtool.simulate.shadow import ShadowSpec, shadow_chunks
    from abtool.simulate.writer import write_chunks

    write_chunks(shadow_chunks(ShadowSpec(rows=2000, hours=30)), out)
    report = abtool.shadow_report(
        [out], options=abtool.ShadowOptions(threshold=0.6, segments=["device"])
    )
    assert report.verdict is abtool.Verdict.GO
    assert report.exit_code == 0
    assert set(report.stats.segments) == {"device"}
    assert report.stats.decision_threshold == 0.6
    assert report.check("duration").value == report.stats.duration_hours
