"""Hive partition keys: ``key=value`` folder names on a file's path, offered as columns.

A pipeline that writes ``logs/date=2025-04-29/country=BR/part-0.parquet`` keeps ``date`` and
``country`` in the folder names, not in the file. abtool offers them as String columns,
named in ``--segment`` (or any other column option) like a file's own column. The rule, the
same on every engine:

- every ``key=value`` folder name on the file's path (as given) is a key, the innermost
  winning when a key repeats; values are percent-decoded (Hive escapes ``/``, ``=``, ``%``),
  ``__HIVE_DEFAULT_PARTITION__`` is null;
- values stay strings (no type inference: ``date=2025-04-29`` is text, ``hour=07`` keeps its
  zero), so a report reads the same whatever engine reads the folders;
- a column the files hold wins over a key of the same name;
- a file without a key another file has gets null for it;
- keys are never default segments: they are read only when a column option names them.
"""

from __future__ import annotations

from pathlib import PurePath
from urllib.parse import unquote

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def hive_values(path: PurePath) -> dict[str, str | None]:
    """The hive keys and values of the folders on ``path`` (outermost first): a local path,
    or an object's key as a ``PurePosixPath``."""
    values: dict[str, str | None] = {}
    for part in path.parent.parts:
        key, sep, value = part.partition("=")
        if not sep or not key or key.startswith((".", "_")):
            continue
        key = unquote(key)
        values.pop(key, None)  # the innermost occurrence wins, and orders last
        values[key] = None if value == HIVE_NULL else unquote(value)
    return values


def partition_keys(partitions: list[dict[str, str | None]], file_columns: set[str]) -> list[str]:
    """Keys offered as columns: every key some file has that no file holds as a column."""
    keys: dict[str, None] = {}
    for values in partitions:
        keys.update(dict.fromkeys(values))
    return [k for k in keys if k not in file_columns]
