"""The numeric columns canary-decide's variant figures read, as numpy arrays: each role's time
and predictions, and both roles' latency with its group key (:class:`RoleColumns`).

Each step reads its columns when it runs (the latency, then one role at a time), so one step's
arrays are freed before the next is read. A scanned log (too large to hold) has each role's
rows filtered in the Parquet reader and its columns filled batch by batch into preallocated
arrays, so the peak is that of the largest step; a log held in memory has each step's columns
collected whole and copied out column by column, about twice as fast. Either way a role's rows
are in the same order (the frame's) and the figures the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.commands.canary import CanaryColumns
from abtool.engines.polars.source import owned_columns

NO_TIME = np.iinfo(np.int64).min
"""Stands for a null timestamp in the physical (integer) time values."""

TREATED = "__treated"
"""The boolean role column: True for treatment (groups and filters faster than a label)."""

ROLES = ("control", "treatment")

Arrays = list[NDArray[Any]]


def physical_time(column: str) -> pl.Expr:
    """The time column's physical integer values, ``NO_TIME`` for a null."""
    return pl.col(column).to_physical().cast(pl.Int64).fill_null(NO_TIME)


def group_key(treated: str, bucket: str | None, count: int) -> pl.Expr:
    """The group of each row for the latency quantiles, a 16-bit integer: role, then bucket
    (``count`` for a row without one); ``bucket`` None: one group per role."""
    groups = count + 1 if bucket is not None else 1
    key = pl.col(treated).cast(pl.Int16) * groups
    if bucket is not None:
        index = pl.col(bucket)
        inside = index.is_not_null() & (index >= 0)
        key = key + pl.when(inside).then(index).otherwise(count).cast(pl.Int16)
    return key.cast(pl.Int16)


class RoleColumns:
    """Where :func:`~abtool.engines.polars.canary_variants.variant_figures` gets its arrays.

    ``rows_of`` holds each role's rows, ``frame`` both roles' with the role flag (and the
    bucket). ``requests``, each role's row count, preallocates a scanned log's arrays; None
    for a log held in memory, whose columns are collected whole.
    """

    def __init__(
        self,
        rows_of: dict[str, pl.LazyFrame],
        frame: pl.LazyFrame,
        columns: CanaryColumns,
        name: str,
        has_prediction: bool,
        buckets: tuple[str, int] | None,
        requests: dict[str, int] | None,
    ) -> None:
        self._rows_of, self._frame, self._columns, self._name = rows_of, frame, columns, name
        self._has_prediction, self._buckets, self._requests = has_prediction, buckets, requests

    def latency(self) -> Arrays:
        """Both roles' latency (Float64, NaN for null) and :func:`group_key` of each row."""
        bucket, count = self._buckets if self._buckets is not None else (None, 0)
        latency = pl.col(self._columns.latency).cast(pl.Float64)
        rows = sum(self._requests.values()) if self._requests is not None else None
        key = group_key(TREATED, bucket, count)
        return owned_columns(self._frame, [latency, key], self._name, rows)

    def role(self, role: str) -> Arrays:
        """One role's physical times (``NO_TIME`` for null), and its predictions (Float64,
        NaN for null) when the log has them."""
        exprs = [physical_time(self._columns.time)]
        if self._has_prediction:
            exprs.append(pl.col(self._columns.prediction).cast(pl.Float64))
        rows = self._requests[role] if self._requests is not None else None
        return owned_columns(self._rows_of[role], exprs, self._name, rows)
