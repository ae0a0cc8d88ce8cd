"""Duplicate request ids: identical copies are dropped, differing rows kept, both counted.

A request id that appears on several rows means one of two things:

- the **same row delivered twice** (at-least-once pipelines, a replayed partition, a file
  copied into two folders): every column the report reads is identical. Keeping it would
  count one request twice (a p-value as if there were more data, a latency quantile
  weighted towards it), so the copies are **dropped**, counted under the excluded reason
  ``duplicate <column> (identical row)``;
- **different rows under one id** (a retry served again, with its own latency, error or
  prediction; an id reused by a client): each row is a request that was served, so they are
  **kept** ("kept where harmless": a served request is data, not a copy) and counted in a
  warning.

Only what the report reads decides "identical": two rows that differ in a column the report
does not read are copies for that report. Rows without an id are never duplicates.

Cost: a log whose ids are strictly increasing in file order (sequence numbers) needs one
streaming pass over the id column; otherwise the ids' 64-bit hashes are sorted in numpy
(8 bytes a row), and only when some hash repeats are the rows behind those hashes compared
(exactly, by value) on the streaming engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from abtool.engines.polars.source import collect_each, owned_column

_SEED = 0x5EED


@dataclass(frozen=True)
class Duplicates:
    """Rows sharing a request id with an earlier row: identical copies dropped, others kept."""

    column: str
    dropped: int = 0
    kept: int = 0

    @property
    def excluded_reason(self) -> str:
        return f"duplicate {self.column} (identical row)"

    @property
    def note(self) -> str | None:
        if not self.kept:
            return None
        return (
            f"{self.kept:,} row(s) share a '{self.column}' with another row but differ in "
            "what the report reads: kept, each as a request that was served"
        )


def drop_duplicate_requests(
    frame: pl.LazyFrame, column: str | None, name: str
) -> tuple[pl.LazyFrame, Duplicates | None]:
    """``frame`` without identical copies of a request, and the counts.

    ``column`` None (or not among the frame's columns): nothing to check.
    """
    if column is None or column not in frame.collect_schema():
        return frame, None
    ident = pl.col(column)
    with_id = frame.filter(ident.is_not_null())
    (head,) = collect_each(
        [with_id.select(pl.len().alias("n"), (ident > ident.shift(1)).all().alias("rising"))],
        name,
    )
    rows, rising = head.row(0)
    if not rows or rising:
        return frame, Duplicates(column)
    hashes = owned_column(with_id, ident.hash(_SEED), name, int(rows))
    hashes.sort()
    repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    del hashes
    if not len(repeated):
        return frame, Duplicates(column)
    repeated_hashes = pl.lit(pl.Series(repeated, dtype=pl.UInt64)).implode()
    suspect = ident.is_not_null() & ident.hash(_SEED).is_in(repeated_hashes)
    columns = list(frame.collect_schema())
    suspects = frame.filter(suspect)
    # In file order: a segment's thinned KS takes every k-th row, so the order must repeat.
    distinct = suspects.unique(subset=columns, keep="first", maintain_order=True)
    totals, ids, kept_rows = collect_each(
        [
            suspects.select(pl.len()),
            suspects.select(ident.n_unique()),
            distinct.select(pl.len()),
        ],
        name,
    )
    total, unique_ids, unique_rows = totals.item(), ids.item(), kept_rows.item()
    dropped = int(total - unique_rows)
    kept = int(unique_rows - unique_ids)
    if not dropped:
        return frame, Duplicates(column, 0, kept)
    return pl.concat([frame.filter(~suspect), distinct], how="vertical"), Duplicates(
        column, dropped, kept
    )
