"""Helpers for writing small logs in tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl


def write_parquet(path: Path, data: dict[str, Any] | pl.DataFrame) -> Path:
    """Write a DataFrame (or dict of columns) to ``path`` and return it."""
    frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def assert_one_line_error(result: Any, *fragments: str) -> None:
    """Exit 2, nothing on stdout, one ``abtool: error:`` line holding every fragment."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("abtool: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
