"""Resolve the paths a user gives to Parquet files, and check them before any work.

Files, globs and (hive-partitioned) directories; files and folders starting with ``_`` or
``.`` (Spark's ``_SUCCESS``, ``.crc`` companions) are skipped; every file must carry Parquet's
magic bytes and all files must agree on each column's type.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from abtool.errors import InputError, UsageError

PARQUET_MAGIC = b"PAR1"


def resolve_files(paths: Sequence[str | Path]) -> tuple[list[Path], dict[str, pl.DataType]]:
    """The Parquet files behind ``paths``, and the schema they share.

    Raises:
        InputError: a path matches nothing, a file is not Parquet, or files disagree on a
            column's type.
    """
    if not paths:
        raise UsageError("no log path given")
    files: list[Path] = []
    for raw in paths:
        files.extend(_expand(str(raw)))
    files = list(dict.fromkeys(files))
    for path in files:
        _check_parquet(path)
    return files, _shared_schema(files)


def _expand(raw: str) -> list[Path]:
    path = Path(raw)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*.parquet") if p.is_file() and not _hidden(p, path))
        if not found:
            raise InputError(f"{raw}: directory holds no .parquet files")
        return found
    if path.is_file():
        return [path]
    if glob.has_magic(raw):
        matches = sorted(Path(m) for m in glob.glob(raw, recursive=True))
        found = []
        for match in matches:
            found.extend(_expand(str(match)) if match.is_dir() else [match])
        if not found:
            raise InputError(f"{raw}: pattern matches no files")
        return found
    raise InputError(f"{raw}: no such file or directory")


def _hidden(path: Path, root: Path) -> bool:
    # Spark and Hive leave _SUCCESS / .crc companions beside partitions; never read them.
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def _check_parquet(path: Path) -> None:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(4)
            if size >= 8:
                handle.seek(-4, 2)
            tail = handle.read(4)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size == 0:
        raise InputError(f"{path}: file is empty (0 bytes), not a Parquet file")
    if head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise InputError(f"{path}: not a Parquet file (no PAR1 magic bytes)")


def _shared_schema(files: Sequence[Path]) -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {}
    origin: dict[str, Path] = {}
    for path in files:
        try:
            file_schema = pl.read_parquet_schema(path)
        except Exception as exc:  # polars raises several types for corrupt footers
            raise InputError(f"{path}: unreadable Parquet ({first_line(exc)})") from None
        for column, dtype in file_schema.items():
            if column in schema and schema[column] != dtype:
                raise InputError(
                    f"{path}: column '{column}' is {dtype} but {schema[column]} in "
                    f"{origin[column]} (mixed schemas)"
                )
            if column not in schema:
                schema[column] = dtype
                origin[column] = path
    return schema


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
