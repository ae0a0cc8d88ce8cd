"""Write generated chunks to one Parquet file or to hive-style date partitions."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from abtool.errors import UsageError


def write_chunks(
    chunks: Iterable[pa.Table], out: Path, *, partition_by_date: str | None = None
) -> int:
    """Stream tables to ``out`` without holding more than one chunk in memory.

    Args:
        chunks: tables with one schema.
        out: a ``.parquet`` file, or a directory when partitioning.
        partition_by_date: a timestamp column; write ``out/date=YYYY-MM-DD/part-NNNNN.parquet``.

    Returns:
        Rows written.
    """
    written = write_routed(((out, table) for table in chunks), partition_by_date=partition_by_date)
    return written.get(out, 0)


def write_routed(
    chunks: Iterable[tuple[Path, pa.Table]], *, partition_by_date: str | None = None
) -> dict[Path, int]:
    """Stream each table to the output it is paired with (as :func:`write_chunks` does).

    Returns:
        Rows written per output.
    """
    rows: dict[Path, int] = {}
    chunks_seen: dict[Path, int] = {}  # numbers the partition files of each output
    writers: dict[Path, pq.ParquetWriter] = {}
    out = Path()
    try:
        for out, table in chunks:
            index = chunks_seen.get(out, 0)
            chunks_seen[out] = index + 1
            rows[out] = rows.get(out, 0) + table.num_rows
            if partition_by_date is None:
                if out not in writers:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    writers[out] = pq.ParquetWriter(out, table.schema, compression="zstd")
                writers[out].write_table(table, row_group_size=1_000_000)
                continue
            days = table.column(partition_by_date).to_numpy().astype("datetime64[D]")
            for day in np.unique(days):
                part = table.filter(pa.array(days == day))
                folder = out / f"date={day}"
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(part, folder / f"part-{index:05d}.parquet", compression="zstd")
        for writer in writers.values():
            writer.close()
        return rows
    except OSError as exc:
        raise UsageError(f"{out}: cannot write ({exc.strerror or exc})") from None
