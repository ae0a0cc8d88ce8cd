"""Resolve the paths a user gives to Parquet files, and check them before any work.

Files, globs and (hive-partitioned) directories, on local disk or in object storage
(``s3://bucket/prefix/``, listed by :mod:`abtool.storage`); files and folders starting with
``_`` or ``.`` (Spark's ``_SUCCESS``, ``.crc`` companions) are skipped. Only regular files are read
(a FIFO or device named ``*.parquet`` is refused before it is opened, so it cannot block),
each file once however often it is named (``a.parquet ./a.parquet``, a file and its folder,
a hard link), and every file must carry Parquet's magic bytes. The files' schemas are
unified by :mod:`abtool.engines.polars.unify`; hive keys (``date=...`` folders) are read by
:mod:`abtool.engines.polars.partitions`.

An object in storage is named by its URL (a string; local files are ``Path``): it has no
inode, so it is read once per URL, and its magic bytes are checked with ranged reads. Local
paths and URLs cannot be mixed in one log (Polars reads a log with one set of credentials).
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import polars as pl

from abtool.engines.polars.partitions import hive_values
from abtool.engines.polars.unify import unified_schema
from abtool.errors import InputError, UsageError
from abtool.outputs import record_input
from abtool.storage import is_remote

PARQUET_MAGIC = b"PAR1"
_SCHEMA_THREADS = 8

LogFile = Path | str
"""A local file (``Path``) or an object's URL (``str``, e.g. ``s3://bucket/logs/x.parquet``)."""


@dataclass(frozen=True)
class ResolvedFiles:
    """The Parquet files behind the paths given, with what is known of them before a scan.

    Attributes:
        files: each file once, in the order first named.
        schema: the unified schema of the files (see :func:`unified_schema`).
        file_schemas: each file's own schema.
        partitions: each file's hive keys and values (``{"date": "2025-04-29"}``).
        notes: what resolving took as given (a file named twice), for the report's warnings.
        storage_options: credentials, region and endpoint for Polars' object-store reader
            (None for local files).
    """

    files: list[LogFile]
    schema: dict[str, pl.DataType]
    file_schemas: list[dict[str, pl.DataType]]
    partitions: list[dict[str, str | None]]
    notes: list[str]
    storage_options: dict[str, str] | None = field(default=None, repr=False)


def resolve_files(paths: Sequence[str | Path]) -> ResolvedFiles:
    """The Parquet files behind ``paths``, their schemas and hive keys.

    Raises:
        UsageError: no path given, or local paths mixed with URLs.
        InputError: a path matches nothing, is not a regular file, is not Parquet, or files
            disagree on a column's type (one line naming the file); an object store refuses
            (no bucket, no key, access denied, no credentials: one line naming the URL).
    """
    if not paths:
        raise UsageError("no log path given")
    remote = [str(p) for p in paths if is_remote(p)]
    if remote:
        if len(remote) < len(paths):
            raise UsageError(
                f"{remote[0]}: local paths and object-store URLs cannot be read as one log"
            )
        return _resolve_remote(remote)
    found: list[Path] = []
    for raw in paths:
        found.extend(_expand(str(raw)))
    files, notes = _read_once(found)
    for path in files:
        record_input(path)  # never overwritten by a report of this run
        _check_parquet(path)
    file_schemas = [_file_schema(path) for path in files]
    schema = unified_schema(files, file_schemas)
    partitions = [hive_values(p) for p in files]
    return ResolvedFiles(list(files), schema, file_schemas, partitions, notes)


def _resolve_remote(urls: Sequence[str]) -> ResolvedFiles:
    """Objects behind URLs: keys, prefixes (hive folders) and globs, each object once."""
    from abtool import storage

    found = [found for url in urls for found in storage.expand(url)]
    named: dict[str, int] = {}
    for url in found:
        named[url] = named.get(url, 0) + 1
    files = list(named)
    notes = [
        f"{url} was named {count} times (directly, by a prefix or a pattern): read once"
        for url, count in named.items()
        if count > 1
    ]
    storage.check_parquet(files)
    options = storage.storage_options(files[0])
    with ThreadPoolExecutor(max_workers=min(_SCHEMA_THREADS, len(files))) as pool:
        file_schemas = list(pool.map(lambda url: _file_schema(url, options), files))
    schema = unified_schema(files, file_schemas)
    partitions = [hive_values(object_key(url)) for url in files]
    return ResolvedFiles(list(files), schema, file_schemas, partitions, notes, options)


def object_key(url: str) -> PurePosixPath:
    """An object's key as a path (``s3://b/logs/date=x/p.parquet`` -> ``logs/date=x/p.parquet``)."""
    return PurePosixPath(url.split("://", 1)[1].partition("/")[2])


def _expand(raw: str) -> list[Path]:
    path = Path(raw)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*.parquet") if not _hidden(p, path))
        found = [p for p in found if not p.is_dir()]  # Spark writes folders named *.parquet
        if not found:
            raise InputError(f"{raw}: directory holds no .parquet files")
        return found
    if os.path.lexists(path):  # taken literally, even if its name holds glob characters
        return [path]
    if glob.has_magic(raw):
        found = []
        for match in sorted(Path(m) for m in glob.glob(raw, recursive=True)):
            found.extend(_expand(str(match)) if match.is_dir() else [match])
        if not found:
            raise InputError(f"{raw}: pattern matches no files")
        return found
    raise InputError(f"{raw}: no such file or directory")


def _hidden(path: Path, root: Path) -> bool:
    # Spark and Hive leave _SUCCESS / .crc companions beside partitions; never read them.
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def _read_once(found: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """Each file once (by device and inode, so every spelling and hard link is one file),
    refusing anything that is not a regular file before it is opened."""
    files: list[Path] = []
    seen: dict[tuple[int, int], Path] = {}
    named: dict[Path, int] = {}
    for path in found:
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:  # Python's spelling of bytes that are not UTF-8
            raise InputError(
                f"{path}: the file name is not valid UTF-8 and cannot be opened by the "
                "Parquet reader; rename the file"
            ) from None
        try:
            info = os.stat(path)  # follows symlinks: a link to a regular file is fine
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: not a regular file ({_file_kind(info.st_mode)})")
        key = (info.st_dev, info.st_ino)
        if key in seen:
            named[seen[key]] += 1
            continue
        seen[key] = path
        named[path] = 1
        files.append(path)
    notes = [
        f"{path} was named {count} times (directly, by a folder or another spelling): read once"
        for path, count in named.items()
        if count > 1
    ]
    return files, notes


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((name for test, name in kinds if test(mode)), "not a plain file")


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


def _file_schema(
    path: LogFile, storage_options: dict[str, str] | None = None
) -> dict[str, pl.DataType]:
    try:
        # glob=False: a file name may hold glob characters (read_parquet_schema expands them)
        scan = pl.scan_parquet(path, glob=False, storage_options=storage_options)
        return dict(scan.collect_schema())
    except BaseException as exc:  # polars raises several types (and panics) on bad footers
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        if isinstance(path, str):
            from abtool.storage import read_error

            raise read_error(path, exc) from None
        raise InputError(f"{path}: unreadable Parquet ({first_line(exc)})") from None


def find_unreadable(
    files: Sequence[LogFile],
    file_schemas: Sequence[dict[str, pl.DataType]],
    columns: Sequence[str],
    storage_options: dict[str, str] | None = None,
) -> tuple[LogFile, str] | None:
    """The first file whose ``columns`` cannot be decoded, with Polars' reason.

    Run only after a scan of several files failed, to name the culprit: each file is read on
    its own (the columns it has), one at a time.
    """
    for path, schema in zip(files, file_schemas, strict=True):
        present = [c for c in dict.fromkeys(columns) if c in schema] or list(schema)[:1]
        try:
            scan = pl.scan_parquet(path, glob=False, storage_options=storage_options)
            scan.select(present).collect(engine="streaming")
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            return path, first_line(exc)
    return None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
