"""Small logs and files the corpus cases start from (each case then breaks one thing)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROWS = 240


def _times(n: int, hours: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` increasing times over ``hours`` from 2025-04-28, with microsecond jitter."""
    step = hours * 3600e6 / n
    offsets = (np.arange(n) * step + rng.uniform(0, step / 2, n)).astype("timedelta64[us]")
    return np.datetime64("2025-04-28T00:00:00", "us") + offsets


def shadow_frame(n: int = ROWS, seed: int = 1) -> pl.DataFrame:
    """A healthy shadow log: 40 hours, close predictions, latencies, an error flag."""
    rng = np.random.default_rng(seed)
    primary = rng.uniform(0.02, 0.98, n)
    return pl.DataFrame(
        {
            "request_id": np.arange(n, dtype=np.int64) + seed * 100_000,  # unique per seed
            "ts": _times(n, hours=40, rng=rng),
            "primary_prediction": primary,
            "shadow_prediction": np.clip(primary + rng.normal(0, 0.01, n), 0, 1),
            "primary_latency_ms": rng.gamma(4.0, 5.0, n),
            "shadow_latency_ms": rng.gamma(4.0, 5.2, n),
            "shadow_error": rng.uniform(size=n) < 0.002,
            "country": rng.choice(["US", "BR", "IN"], n),
        }
    )


def canary_frame(n: int = 600, seed: int = 2) -> pl.DataFrame:
    """A healthy canary log: 120 users split in two variants, clicks and latencies."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 120, n)
    variant = np.where(users % 2 == 0, "v1", "v2")
    return pl.DataFrame(
        {
            "request_id": np.arange(n, dtype=np.int64),
            "ts": _times(n, hours=10, rng=rng),
            "user_id": users.astype(np.int64),
            "model_variant": variant,
            "prediction": rng.uniform(0, 1, n),
            "latency_ms": rng.gamma(4.0, 5.0, n),
            "error": rng.uniform(size=n) < 0.001,
            "clicked": rng.uniform(size=n) < 0.1,
            "country": rng.choice(["US", "BR"], n),
        }
    )


def interleave_frame(sessions: int = 60, seed: int = 3) -> pl.DataFrame:
    """A long-format interleaving log: 4 shown items per session, alternating teams."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[Any]] = {k: [] for k in ("session_id", "position", "item_id", "team")}
    clicked: list[bool] = []
    for s in range(sessions):
        for p in range(1, 5):
            rows["session_id"].append(f"s{s}")
            rows["position"].append(p)
            rows["item_id"].append(s * 10 + p)
            rows["team"].append("A" if (p + s) % 2 else "B")
            clicked.append(bool(rng.uniform() < 0.3))
    return pl.DataFrame({**rows, "clicked": clicked})


def write(path: Path, frame: pl.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def replace_rows(frame: pl.DataFrame, column: str, rows: int, value: Any) -> pl.DataFrame:
    """``frame`` with the first ``rows`` values of ``column`` set to ``value``."""
    index = pl.int_range(pl.len())
    dtype = frame.schema[column]
    return frame.with_columns(
        pl.when(index < rows)
        .then(pl.lit(value, dtype=dtype))
        .otherwise(pl.col(column))
        .alias(column)
    )


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def corrupt_pages(source: Path, target: Path) -> Path:
    """A copy of ``source`` whose compressed data pages are garbage but whose footer (and
    magic bytes) are intact: the schema reads, the data does not."""
    data = bytearray(source.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")
    end = len(data) - 8 - footer  # the data pages lie between the magic bytes and here
    for i in range(4 + (end - 4) // 4, end - 16, 2):
        data[i] ^= 0x5A
    target.write_bytes(bytes(data))
    return target
