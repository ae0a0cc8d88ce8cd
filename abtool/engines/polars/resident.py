"""Read a report's columns once: held in memory when they fit a budget, else scanned per pass.

A report makes several passes over the same columns (counts, per-unit sums, time buckets,
whole numeric columns for quantiles and KS). Scanning the Parquet files for each pass decodes
the same pages again; holding the needed columns in memory decodes them once, and every pass
reads the resident frame instead. That costs memory proportional to the log, so it is done only
while the columns stay within :data:`RESIDENT_BUDGET_BYTES`; a larger log is scanned per pass
as before, with memory flat in its size. Either way the passes are the same queries and the
figures the same (float sums to rounding).

A log of fewer than :data:`RESIDENT_MIN_ROWS` rows is scanned per pass too: its passes take
milliseconds, and its scan sums each group's floats in file order, so its reports repeat to
the last digit. The streaming engine splits an in-memory frame across threads whatever its
size, which moves the last digits of float sums from run to run, as scans of larger logs
(several row groups) already do.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

import polars as pl

from abtool.engines.polars.files import first_line
from abtool.engines.polars.source import READ_ERRORS, LogSource, UnreadableLog

RESIDENT_BUDGET_BYTES = 640 * 2**20
"""Largest size of the needed columns held in memory (640 MiB: about 10M rows of a canary
or shadow log's columns). A 50M-row log is over it: scanned per pass, its peak unchanged."""

RESIDENT_MIN_ROWS = 1_000_000
"""Logs with fewer rows are scanned per pass (see above)."""

_BATCH_ROWS = 1_000_000
T = TypeVar("T")


def log_rows(source: LogSource) -> int | None:
    """Rows of a file log, from the Parquet footers (None for an in-memory frame)."""
    if source.frame is not None or not source.files:
        return None
    first = next(iter(source.schema))
    return int(source.scan([first]).select(pl.len()).collect().item())


def resident(
    frame: pl.LazyFrame, source: LogSource, budget: int | None = None, min_rows: int | None = None
) -> pl.LazyFrame:
    """``frame`` (a scan of ``source`` with row filters) read once into memory when its
    columns fit ``budget`` bytes (default :data:`RESIDENT_BUDGET_BYTES`) and the log has at
    least ``min_rows`` rows (default :data:`RESIDENT_MIN_ROWS`); else ``frame``.

    The columns are read batch by batch; the size of the batches held so far, per row read,
    projects the whole log's (batches 1, 2, 4, 8, ... are measured), and the read stops
    (``frame`` is returned, to be scanned per pass) as soon as that projection exceeds the
    budget, so a large log costs a batch or two.
    A frame log is already in memory and is returned as it is.

    Raises:
        InputError: Polars cannot read the log (names the log).
    """
    limit = RESIDENT_BUDGET_BYTES if budget is None else budget
    fewest = RESIDENT_MIN_ROWS if min_rows is None else min_rows
    try:
        rows = log_rows(source)
        if rows is None or rows < fewest or limit <= 0:
            return frame
        batches: list[pl.DataFrame] = []
        held, held_rows, next_check = 0, 0, 1
        for batch in frame.collect_batches(chunk_size=_BATCH_ROWS):
            batches.append(batch)
            if len(batches) < next_check:
                continue
            # Batches 1, 2, 4, 8, ... are measured (measuring text columns takes time).
            next_check *= 2
            held += int(batch.estimated_size())
            held_rows += batch.height
            if held_rows and held / held_rows * rows > limit:
                return frame
    except READ_ERRORS as exc:
        raise UnreadableLog(f"{source.name}: cannot read log ({first_line(exc)})") from None
    if not batches:
        return frame
    return pl.concat(batches, how="vertical", rechunk=False).lazy()


class Beside(Generic[T]):
    """``call`` run on a thread of its own from now (``concurrent``: the log is held in memory,
    so two steps' memory may overlap), or when its result is asked for (a scanned log: steps
    one after the other, the peak that of the largest). :meth:`result` returns its value or
    raises its exception either way. Worth it where the call is mostly numpy (which sorts on
    one core) and the caller runs Polars queries meanwhile."""

    def __init__(self, concurrent: bool, call: Callable[[], T]) -> None:
        self._call = call
        self._future: Future[T] | None = None
        if concurrent:
            worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="abtool-beside")
            self._future = worker.submit(call)
            worker.shutdown(wait=False)  # the call runs to its end; the thread then exits

    def result(self) -> T:
        return self._future.result() if self._future is not None else self._call()
