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
