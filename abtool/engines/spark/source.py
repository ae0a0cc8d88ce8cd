"""A log as Spark reads it: Parquet files (or a Spark DataFrame) as one frame of the needed
columns, typed as the Polars engine types them, and the ways results leave Spark.

Files are resolved exactly as the Polars engine resolves them (:func:`resolve_files`: files,
globs, hive folders, ``s3://`` prefixes; each file once; magic bytes checked; one unified
schema, refused naming both files when types conflict), so both engines read the same files
and refuse the same logs with the same messages. Spark then reads the files in groups that
share the needed columns' types and hive values: each group is one ``spark.read.parquet``
whose columns are cast to the unified type (booleans beside integers as ``bigint``, naive
beside zoned times as UTC instants, nanosecond times to microseconds) with the group's hive
keys as string literals, and the groups are unioned by name.

Data leaves Spark only as aggregates (:func:`collect_rows`) or, up to a cap, numeric columns
through Arrow (:func:`arrow_columns`); a failed Spark job becomes one line naming the log.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
from numpy.typing import NDArray
from pyspark.sql import Column, DataFrame, Row
from pyspark.sql import functions as F

from abtool.engines.polars.files import LogFile, find_unreadable, first_line, resolve_files
from abtool.engines.polars.partitions import partition_keys
from abtool.engines.spark.types import polars_schema, spark_type
from abtool.errors import InputError

Transform = Callable[[Column], Column]
_NANOS_AS_LONG = "spark.sql.legacy.parquet.nanosAsLong"
_GLOB_CHARACTERS = frozenset("*?[]{}\\")


class UnreadableLog(InputError):
    """Spark could not read the log (a corrupt page, a cast it refuses)."""


@dataclass(frozen=True)
class Derived:
    """A column read through a transform (a time parsed from text, a Decimal as a float)."""

    column: str
    transform: Transform
    dtype: pl.DataType


@dataclass(frozen=True)
class FileFrames:
    """Parquet files read by Spark with the unified types (see the module docstring)."""

    spark: Any
    files: tuple[LogFile, ...]
    file_schemas: tuple[dict[str, pl.DataType], ...]
    partitions: tuple[dict[str, str | None], ...]
    read_types: dict[str, pl.DataType]
    keys: frozenset[str]

    def frame(self, wanted: Sequence[str]) -> DataFrame:
        """The files' rows with only ``wanted`` columns.

        Raises:
            InputError: a file of several lacks one of them (names the file).
        """
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i in range(len(self.file_schemas)):
            key = tuple(
                ("key", self.partitions[i].get(c)) if c in self.keys else self._type_in(i, c)
                for c in wanted
            )
            groups.setdefault(key, []).append(i)
        parts = [self._group(indices, wanted) for indices in groups.values()]
        frame: DataFrame = functools.reduce(DataFrame.unionByName, parts)
        return frame

    def _type_in(self, index: int, column: str) -> pl.DataType:
        schema = self.file_schemas[index]
        if column not in schema:
            other = next(
                f for f, s in zip(self.files, self.file_schemas, strict=True) if column in s
            )
            raise InputError(f"{self.files[index]}: missing column '{column}' (present in {other})")
        return schema[column]

    def _group(self, indices: list[int], wanted: Sequence[str]) -> DataFrame:
        paths = [spark_path(self.files[i]) for i in indices]
        file_schema = self.file_schemas[indices[0]]
        values = self.partitions[indices[0]]
        if any(_is_nanos(file_schema.get(c)) for c in wanted):
            self.spark.conf.set(_NANOS_AS_LONG, "true")  # else Spark refuses TIMESTAMP(NANOS)
        read = self.spark.read.parquet(*paths)
        columns = []
        for column in wanted:
            target = spark_type(self.read_types[column])
            if column in self.keys:
                columns.append(F.lit(values.get(column)).cast("string").alias(column))
                continue
            expr = F.col(column)
            if _is_nanos(file_schema[column]):
                whole = F.floor(expr.cast("decimal(20,0)") / F.lit(1000))  # exact, unlike doubles
                expr = F.timestamp_micros(whole.cast("long"))
                zone = getattr(file_schema[column], "time_zone", None)
                expr = expr if zone is not None else expr.cast("timestamp_ntz")
            if target is not None:
                expr = expr.cast(target)
            columns.append(expr.alias(column))
        frame: DataFrame = read.select(columns)
        return frame

    def culprit(self, columns: Sequence[str]) -> tuple[LogFile, str] | None:
        """After a failed read of several files: the first file that cannot be decoded."""
        if len(self.files) < 2:
            return None
        return find_unreadable(self.files, self.file_schemas, columns)


def _is_nanos(dtype: pl.DataType | None) -> bool:
    return isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns"


def spark_path(file: LogFile) -> str:
    """How Spark is given a file: an absolute path whose glob characters are escaped (Spark
    expands globs in paths), or the object's URL as the user spelled its scheme."""
    if isinstance(file, str):
        return file
    return "".join("\\" + c if c in _GLOB_CHARACTERS else c for c in str(Path(file).absolute()))


@dataclass(frozen=True)
class SparkSource:
    """A log on Spark, with the schema the reports see (in Polars types).

    Attributes:
        spark: the session.
        paths: the paths as the user gave them (``<DataFrame>`` for a frame).
        files: the Parquet files they resolve to (none for a frame), each once.
        schema: the columns and types the reports see (after unification, hive keys and
            derived columns).
        frame: the Spark DataFrame, when the log is one.
        reader: the files, when the log is files.
        derived: columns read through a transform, applied after the scan.
        notes: what reading took as given, worded for the report's warnings.
        keys: hive keys offered as columns (never default segments).
    """

    spark: Any
    paths: tuple[str, ...]
    files: tuple[LogFile, ...]
    schema: dict[str, pl.DataType]
    frame: DataFrame | None = None
    reader: FileFrames | None = field(default=None, repr=False)
    derived: tuple[Derived, ...] = ()
    notes: tuple[str, ...] = ()
    keys: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        """How error messages name this log: the single file, or the paths given."""
        if len(self.files) == 1:
            return str(self.files[0])
        return ", ".join(self.paths)

    @property
    def partition_keys(self) -> frozenset[str]:
        return self.keys

    def derive(
        self, column: str, transform: Transform, dtype: pl.DataType, note: str | None = None
    ) -> SparkSource:
        """This log with ``column`` read through ``transform`` (giving ``dtype``)."""
        schema = {**self.schema, column: dtype}
        derived = (
            *[d for d in self.derived if d.column != column],
            Derived(column, transform, dtype),
        )
        notes = (*self.notes, note) if note else self.notes
        return replace(self, schema=schema, derived=derived, notes=notes)

    def scan(self, columns: Sequence[str]) -> DataFrame:
        """A frame of only ``columns`` (Spark prunes the rest from the Parquet reads)."""
        wanted = list(dict.fromkeys(columns))
        if self.frame is not None:
            frame = self.frame.select([F.col(_quoted(c)).alias(c) for c in wanted])
        else:
            assert self.reader is not None
            frame = self.reader.frame(wanted)
        transforms = {d.column: d.transform(F.col(_quoted(d.column))) for d in self.derived}
        changed = {c: transforms[c] for c in wanted if c in transforms}
        return frame.withColumns(changed) if changed else frame

    def culprit(self, columns: Sequence[str]) -> tuple[LogFile, str] | None:
        return self.reader.culprit(columns) if self.reader is not None else None


def _quoted(column: str) -> str:
    """A column name as ``F.col`` reads it literally (dots and backticks are syntax)."""
    return "`" + column.replace("`", "``") + "`"


def col(column: str) -> Column:
    """The column named ``column`` (any characters)."""
    return F.col(_quoted(column))


def open_files(spark: Any, paths: Sequence[str | Path]) -> SparkSource:
    """A log of Parquet files, globs, (hive-partitioned) directories or ``s3://`` prefixes.

    Raises:
        UsageError: no path given.
        InputError: as the Polars engine (a path matches nothing, a file is not Parquet,
            files disagree on a column's type ...).
    """
    from abtool.engines.spark.prepare import normalized

    found = resolve_files(paths)
    schema = dict(found.schema)
    keys = partition_keys(found.partitions, set(schema))
    schema.update(dict.fromkeys(keys, pl.String()))
    reader = FileFrames(
        spark,
        tuple(found.files),
        tuple(found.file_schemas),
        tuple(found.partitions),
        dict(schema),
        frozenset(keys),
    )
    source = SparkSource(
        spark,
        tuple(str(p) for p in paths),
        tuple(found.files),
        schema,
        reader=reader,
        notes=tuple(found.notes),
        keys=frozenset(keys),
    )
    return normalized(source)


def open_frame(frame: DataFrame) -> SparkSource:
    """A log held by Spark (a table, a query, a frame read by the caller)."""
    from abtool.engines.spark.prepare import normalized

    return normalized(
        SparkSource(frame.sparkSession, ("<DataFrame>",), (), polars_schema(frame.schema), frame)
    )


SPARK_ERRORS: tuple[type[BaseException], ...]


def _spark_errors() -> tuple[type[BaseException], ...]:
    from pyspark.errors import PySparkException

    errors: list[type[BaseException]] = [PySparkException]
    try:
        from py4j.protocol import Py4JError

        errors.append(Py4JError)
    except ImportError:  # Spark Connect needs no py4j
        pass
    return tuple(errors)


SPARK_ERRORS = _spark_errors()


@contextmanager
def cached(frame: DataFrame) -> Iterator[DataFrame]:
    """``frame`` kept by Spark (memory, spilling to disk) while a report reads it many times;
    released afterwards. A report's dozen passes then decode the Parquet files (and drop
    duplicate requests) once."""
    from pyspark import StorageLevel

    kept = frame.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        yield kept
    finally:
        kept.unpersist()


def collect_rows(frame: DataFrame, name: str) -> list[Row]:
    """A small aggregate's rows.

    Raises:
        UnreadableLog: Spark could not run the query (names the log).
    """
    try:
        return frame.collect()
    except SPARK_ERRORS as exc:
        raise UnreadableLog(f"{name}: cannot read log ({spark_reason(exc)})") from None


def collect_row(frame: DataFrame, name: str) -> Row:
    """The one row of a global aggregate."""
    (row,) = collect_rows(frame, name)
    return row


def arrow_columns(frame: DataFrame, name: str) -> dict[str, NDArray[Any]]:
    """Every column of ``frame`` as a numpy array (through Arrow; nulls of floats as NaN).

    Only for frames whose size the caller bounded (a cap, or per-group aggregates).
    """
    try:
        table = frame.toArrow()
    except SPARK_ERRORS as exc:
        raise UnreadableLog(f"{name}: cannot read log ({spark_reason(exc)})") from None
    return {c: table.column(c).to_numpy() for c in table.column_names}


def polars_frame(frame: DataFrame, name: str) -> pl.DataFrame:
    """A bounded result (per-unit or per-group rows) as a Polars DataFrame, through Arrow."""
    try:
        table = frame.toArrow()
    except SPARK_ERRORS as exc:
        raise UnreadableLog(f"{name}: cannot read log ({spark_reason(exc)})") from None
    found = pl.from_arrow(table)
    assert isinstance(found, pl.DataFrame)
    return found


def spark_reason(exc: BaseException) -> str:
    """The first meaningful line of a Spark error (without the JVM stack)."""
    text = getattr(exc, "getMessage", None)
    message = text() if callable(text) else str(exc)
    lines = [line.strip() for line in str(message).strip().splitlines() if line.strip()]
    return lines[0] if lines else first_line(exc)
