"""Whether a text column may hold a blank value, from the Parquet footers' statistics alone.

A blank id (empty, or whitespace only, as Polars' ``strip_chars`` strips it) starts with a byte
at or below 0x20 (the empty string and ASCII whitespace sort first) or with the lead byte of a
multi-byte Unicode whitespace character: 0xC2 (U+0085, U+00A0), 0xE1 (U+1680), 0xE2 (U+2000 to
U+205F) or 0xE3 (U+3000). So when every row group's minimum starts above 0x20 and its maximum
below 0xC2, no value of the column is blank, and the scan that counts blank values is not
needed. Writers may truncate string statistics; a truncated minimum is a prefix of the true one
and a truncated maximum is rounded up, so both stay bounds. Statistics are compared as bytes, as
the Parquet format orders UTF-8 columns; pyarrow reports none where a file's order is unknown.
Files in object storage, row groups without statistics and columns missing from a file (hive
keys) give no answer (``True``): the caller scans.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

_ABOVE_ASCII_SPACE = 0x20
_FIRST_WHITESPACE_LEAD = 0xC2


def may_hold_blank(files: Sequence[Path | str], column: str) -> bool:
    """False only when the footers of ``files`` show that ``column`` holds no blank value."""
    if not files or not all(isinstance(f, Path) for f in files):
        return True
    import pyarrow.parquet as pq

    try:
        for path in files:
            metadata = pq.ParquetFile(path).metadata
            for group in range(metadata.num_row_groups):
                if metadata.row_group(group).num_rows and _may_hold_blank(
                    metadata.row_group(group), column
                ):
                    return True
    except (OSError, ValueError):  # unreadable here: the scan reports it
        return True
    return False


def _may_hold_blank(row_group: Any, column: str) -> bool:
    chunks = [
        row_group.column(i)
        for i in range(row_group.num_columns)
        if row_group.column(i).path_in_schema == column
    ]
    if len(chunks) != 1:
        return True
    (chunk,) = chunks
    stats = chunk.statistics
    if chunk.physical_type != "BYTE_ARRAY" or stats is None or not stats.has_min_max:
        return True
    low, high = bytes(stats.min_raw), bytes(stats.max_raw)
    return not (low and high and low[0] > _ABOVE_ASCII_SPACE and high[0] < _FIRST_WHITESPACE_LEAD)
