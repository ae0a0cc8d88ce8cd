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
    rows = 0
    try:
        if partition_by_date is None:
            out.parent.mkdir(parents=True, exist_ok=True)
            writer: pq.ParquetWriter | None = None
            for table in chunks:
                if writer is None:
                    writer = pq.ParquetWriter(out, table.schema, compression="zstd")
                writer.write_table(table, row_group_size=1_000_000)
                rows += table.num_rows
            if writer is not None:
                writer.close()
            return rows
        for index, table in enumerate(chunks):
            days = table.column(partition_by_date).to_numpy().astype("datetime64[D]")
            for day in np.unique(days):
                part = table.filter(pa.array(days == day))
                folder = out / f"date={day}"
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(part, folder / f"part-{index:05d}.parquet", compression="zstd")
            rows += table.num_rows
        return rows
    except OSError as exc:
        raise UsageError(f"{out}: cannot write ({exc.strerror or exc})") from None
