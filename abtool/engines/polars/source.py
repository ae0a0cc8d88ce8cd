"""A log as Polars reads it: a lazy scan of only the needed columns, and the ways data leaves it.

Data leaves Polars only as aggregates (:func:`collect_each`) or as whole numeric columns filled
into numpy arrays batch by batch (:func:`owned_columns`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.engines.polars.files import LogFile, find_unreadable, first_line, resolve_files
from abtool.engines.polars.partitions import partition_keys
from abtool.engines.polars.unify import cast_to
from abtool.errors import InputError

_BATCH_ROWS = 1_000_000

Transform = Callable[[pl.Expr], pl.Expr]

# Polars raises its own errors, and a PanicException (not an Exception) on some corrupt data.
READ_ERRORS = (pl.exceptions.PolarsError, pl.exceptions.PanicException)


class UnreadableLog(InputError):
    """Polars could not read the log (a corrupt page, an impossible cast): see
    :meth:`LogSource.culprit` for the file at fault."""


@dataclass(frozen=True)
class Derived:
    """A column read through a transform (a time parsed from text, a Decimal as a float)."""

    column: str
    transform: Transform
    dtype: pl.DataType


@dataclass(frozen=True)
class LogSource:
    """Parquet files (or an in-memory frame) read as one log, with their schema.

    Attributes:
        paths: the paths as the user gave them (``<DataFrame>`` for a frame).
        files: the Parquet files they resolve to (none for a frame), each once.
        schema: the columns and the types the reports see (after unification, hive keys
            and derived columns).
        frame: the in-memory data, when the log is a DataFrame or LazyFrame.
        file_schemas: each file's own schema.
        partitions: each file's hive keys and values.
        read_types: the unified type each column is read as from the files, before any
            derived transform (what each file's column is cast to).
        derived: columns read through a transform, applied after the scan.
        notes: what reading took as given, worded for the report's warnings.
        storage_options: credentials and endpoint of files in object storage (None: local).
    """

    paths: tuple[str, ...]
    files: tuple[LogFile, ...]
    schema: dict[str, pl.DataType]
    frame: pl.LazyFrame | None = None
    file_schemas: tuple[dict[str, pl.DataType], ...] = ()
    partitions: tuple[dict[str, str | None], ...] = ()
    read_types: dict[str, pl.DataType] = field(default_factory=dict)
    derived: tuple[Derived, ...] = ()
    notes: tuple[str, ...] = ()
    storage_options: dict[str, str] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """How error messages name this log: the single file, or the paths given."""
        if len(self.files) == 1:
            return str(self.files[0])
        return ", ".join(self.paths)

    @property
    def partition_keys(self) -> frozenset[str]:
        """Hive keys offered as columns (never default segments)."""
        columns = {c for schema in self.file_schemas for c in schema}
        return frozenset(partition_keys(list(self.partitions), columns))

    def derive(
        self, column: str, transform: Transform, dtype: pl.DataType, note: str | None = None
    ) -> LogSource:
        """This log with ``column`` read through ``transform`` (giving ``dtype``)."""
        schema = {**self.schema, column: dtype}
        derived = (
            *[d for d in self.derived if d.column != column],
            Derived(column, transform, dtype),
        )
        notes = (*self.notes, note) if note else self.notes
        return replace(self, schema=schema, derived=derived, notes=notes)

    def scan(self, columns: Sequence[str]) -> pl.LazyFrame:
        """Lazy scan of only ``columns`` (projection pushdown keeps the rest on disk).

        Raises:
            InputError: a file of several lacks one of ``columns`` (names the file).
        """
        wanted = list(dict.fromkeys(columns))
        if self.frame is not None:
            frame = self.frame.select([pl.col(c) for c in wanted])
        else:
            frame = self._scan_files(wanted)
        transforms = [d for d in self.derived if d.column in wanted]
        if transforms:
            frame = frame.with_columns(
                [d.transform(pl.col(d.column)).alias(d.column) for d in transforms]
            )
        return frame

    def _scan_files(self, wanted: list[str]) -> pl.LazyFrame:
        files = [str(f) for f in self.files]
        keys = self.partition_keys
        types = self.read_types
        uniform = not (keys & set(wanted)) and all(
            c in schema and schema[c] == types.get(c)
            for schema in self.file_schemas
            for c in wanted
        )
        if uniform or not self.file_schemas:
            frame = pl.scan_parquet(
                files,
                hive_partitioning=False,
                missing_columns="raise",
                glob=False,
                storage_options=self.storage_options,
            )
            return frame.select([pl.col(c) for c in wanted])
        # Files differ (a unified type, a hive key): each is read with its own casts.
        parts = []
        for path, schema, values in zip(
            self.files, self.file_schemas, self.partitions, strict=True
        ):
            exprs = []
            for column in wanted:
                target = types[column]
                if column in schema:
                    exprs.append(cast_to(pl.col(column), schema[column], target).alias(column))
                elif column in keys:
                    exprs.append(pl.lit(values.get(column), pl.String).alias(column))
                else:
                    other = next(
                        f for f, s in zip(self.files, self.file_schemas, strict=True) if column in s
                    )
                    raise InputError(f"{path}: missing column '{column}' (present in {other})")
            scan = pl.scan_parquet(
                str(path),
                hive_partitioning=False,
                glob=False,
                storage_options=self.storage_options,
            )
            parts.append(scan.select(exprs))
        return pl.concat(parts, how="vertical")

    def culprit(self, columns: Sequence[str]) -> tuple[LogFile, str] | None:
        """After a failed read of several files: the first file that cannot be decoded."""
        if len(self.files) < 2:
            return None
        return find_unreadable(self.files, self.file_schemas, columns, self.storage_options)


def open_files(paths: Sequence[str | Path]) -> LogSource:
    """A log of Parquet files, globs or (hive-partitioned) directories.

    Raises:
        UsageError: no path given.
        InputError: a path matches nothing, a file is not Parquet, or files disagree on a
            column's type.
    """
    from abtool.engines.polars.normalize import normalized

    found = resolve_files(paths)
    schema = dict(found.schema)
    keys = partition_keys(found.partitions, set(schema))
    schema.update(dict.fromkeys(keys, pl.String()))
    source = LogSource(
        tuple(str(p) for p in paths),
        tuple(found.files),
        schema,
        file_schemas=tuple(found.file_schemas),
        partitions=tuple(found.partitions),
        read_types=dict(schema),
        notes=tuple(found.notes),
        storage_options=found.storage_options,
    )
    return normalized(source)


def open_frame(frame: pl.DataFrame | pl.LazyFrame) -> LogSource:
    """A log held in memory (a notebook's DataFrame or LazyFrame)."""
    from abtool.engines.polars.normalize import normalized

    lazy = frame.lazy()
    return normalized(LogSource(("<DataFrame>",), (), dict(lazy.collect_schema()), lazy))


def time_filter(
    column: str, dtype: pl.DataType, since: datetime | None, until: datetime | None
) -> pl.Expr | None:
    """Expression keeping rows with since <= column < until (None when neither is given)."""
    if since is None and until is None:
        return None
    col = pl.col(column)
    tz = getattr(dtype, "time_zone", None)
    if isinstance(dtype, pl.Datetime) and tz is None:
        # Naive timestamps are taken as UTC, so compare against naive UTC bounds.
        since = since.astimezone(UTC).replace(tzinfo=None) if since else None
        until = until.astimezone(UTC).replace(tzinfo=None) if until else None
    elif isinstance(dtype, pl.Date):
        since_date = since.date() if since else None
        until_date = until.date() if until else None
        expr = pl.lit(True)
        if since_date is not None:
            expr = expr & (col >= since_date)
        if until_date is not None:
            expr = expr & (col < until_date)
        return expr
    expr = pl.lit(True)
    if since is not None:
        expr = expr & (col >= pl.lit(since).cast(dtype))
    if until is not None:
        expr = expr & (col < pl.lit(until).cast(dtype))
    return expr


def collect_each(queries: Sequence[pl.LazyFrame], name: str) -> list[pl.DataFrame]:
    """Collect queries one at a time on the streaming engine.

    One at a time: ``collect_all`` on the streaming engine ran them side by side and held
    several times the memory of any one of them (2.6 GB against 615 MB at 50M rows), and on
    two cores it was no faster.

    Raises:
        InputError: Polars cannot read the log (names the log).
    """
    try:
        return [query.collect(engine="streaming") for query in queries]
    except READ_ERRORS as exc:
        raise UnreadableLog(f"{name}: cannot read log ({first_line(exc)})") from None


def owned_column(
    frame: pl.LazyFrame, expr: pl.Expr, name: str, rows: int | None = None
) -> NDArray[Any]:
    """One column as a numpy array that numpy owns (and may sort in place); nulls become NaN.

    See :func:`owned_columns`.
    """
    (values,) = owned_columns(frame, [expr], name, rows)
    return values


def owned_columns(
    frame: pl.LazyFrame, exprs: Sequence[pl.Expr], name: str, rows: int | None = None
) -> list[NDArray[Any]]:
    """Columns as numpy arrays that numpy owns (and may sort in place); nulls become NaN.

    With ``rows`` (the expected length), the streaming engine's batches are copied into
    preallocated arrays, so the peak is the columns plus a batch: for a scanned log. Without,
    the columns are collected whole and each copied out (and dropped) in turn, so the peak
    is the collected columns and one copy: for a log held in memory, where the columns are
    there already and this is about twice as fast as the batches.

    Raises:
        InputError: Polars cannot read the log (names the log).
    """
    query = frame.select([e.alias(f"c{i}") for i, e in enumerate(exprs)])
    if rows is not None and hasattr(query, "collect_batches"):
        try:
            filled = _fill_from_batches(query, rows)
        except READ_ERRORS as exc:
            raise UnreadableLog(f"{name}: cannot read log ({first_line(exc)})") from None
        if filled is not None:
            return filled
    (table,) = collect_each([query], name)
    arrays = []
    for column in table.columns:
        series = table.drop_in_place(column)
        arrays.append(series.to_numpy(writable=True))
        del series
    return arrays


def _fill_from_batches(query: pl.LazyFrame, rows: int) -> list[NDArray[Any]] | None:
    """The columns filled batch by batch; None when the query gave no batch at all."""
    arrays: list[NDArray[Any]] = []
    filled = 0
    for batch in query.collect_batches(chunk_size=_BATCH_ROWS):
        chunks = [batch.get_column(c).to_numpy() for c in batch.columns]
        size = batch.height
        if not arrays:
            arrays = [np.empty(max(rows, size), dtype=chunk.dtype) for chunk in chunks]
        if filled + size > len(arrays[0]):  # more rows than expected: grow, stay correct
            arrays = [
                np.concatenate([a[:filled], np.empty(filled + size, a.dtype)]) for a in arrays
            ]
        for array, chunk in zip(arrays, chunks, strict=True):
            array[filled : filled + size] = chunk
        filled += size
    if not arrays:
        return None
    return [array[:filled] for array in arrays]
