"""One schema for files that pipelines wrote with slightly different types.

Pipelines that evolve write the same column with different physical types across files: a
flag that is ``bool`` in old partitions and ``0/1`` integers in new ones, ``int32`` beside
``int64``, timestamps in microseconds beside nanoseconds, or naive beside UTC. These are
read as one type (lossless for what the reports compute):

- booleans and integers (any width, not ``UInt64``) -> ``Int64`` (``true`` is 1);
- datetimes of any unit or time zone -> ``Datetime("us")``, naive if every file is naive,
  else in UTC (a naive time is taken as UTC, as ``--since`` does);
- a ``Null`` column (all values missing, as pandas writes it) -> the other files' type.

Any other disagreement (``Float32`` beside ``Float64``, a string beside a number) is refused,
naming both files: it usually means two different producers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from abtool.errors import InputError

_INTEGERS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32)


def unified_schema(
    files: Sequence[Path | str], file_schemas: Sequence[dict[str, pl.DataType]]
) -> dict[str, pl.DataType]:
    """The type each column is read as across ``files``.

    Raises:
        InputError: two files hold a column in types that cannot be unified.
    """
    seen: dict[str, list[tuple[Path | str, pl.DataType]]] = {}
    for path, file_schema in zip(files, file_schemas, strict=True):
        for column, dtype in file_schema.items():
            seen.setdefault(column, []).append((path, dtype))
    return {column: _unify(column, found) for column, found in seen.items()}


def _unify(column: str, found: list[tuple[Path | str, pl.DataType]]) -> pl.DataType:
    kinds = {dtype for _, dtype in found if dtype != pl.Null}
    if not kinds:
        return pl.Null()
    if len(kinds) == 1:
        return next(iter(kinds))
    if all(dtype == pl.Boolean or dtype in _INTEGERS for dtype in kinds):
        return pl.Int64()
    if all(isinstance(dtype, pl.Datetime) for dtype in kinds):
        aware = any(getattr(dtype, "time_zone", None) for dtype in kinds)
        return pl.Datetime("us", "UTC" if aware else None)
    first_path, first = next((p, d) for p, d in found if d != pl.Null)
    path, dtype = next((p, d) for p, d in found if d != pl.Null and d != first)
    raise InputError(
        f"{path}: column '{column}' is {dtype} but {first} in {first_path} (mixed schemas)"
    )


def cast_to(expr: pl.Expr, source: pl.DataType, target: pl.DataType) -> pl.Expr:
    """``expr`` (of type ``source`` in one file) as the unified ``target`` type."""
    if source == target:
        return expr
    if isinstance(target, pl.Datetime) and isinstance(source, pl.Datetime):
        zone = getattr(target, "time_zone", None)
        if zone is not None:
            if getattr(source, "time_zone", None) is None:
                expr = expr.dt.replace_time_zone("UTC")
            expr = expr.dt.convert_time_zone(zone)
        return expr.cast(target)
    return expr.cast(target)
