"""The numeric columns canary-decide's variant figures read, as numpy arrays: each role's time
and predictions, and both roles' latency with its group key.

Two ways to get them, with one interface (:class:`RoleColumns`); either way each step reads
its columns when it runs (the latency, then one role at a time), so the arrays of one step
are freed before the next is read:

* :class:`ScannedRoles` — a scanned log (too large to hold): each role's rows are filtered
  in the Parquet reader, and the columns filled batch by batch into preallocated arrays, so
  the peak is that of the largest step.
* :class:`HeldRoles` — a log held in memory: each step's columns are collected whole from the
  frame (a filter and select of a frame in memory take milliseconds) and copied out column by
  column, about twice as fast as batch by batch.

Either way a role's rows are in the same order (the frame's) and the figures the same.
"""

from __future__ import annotations

from typing import Any, Protocol

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


class RoleColumns(Protocol):
    """Where :func:`~abtool.engines.polars.canary_variants.variant_figures` gets its arrays."""

    def latency(self) -> Arrays:
        """Both roles' latency (Float64, NaN for null) and :func:`group_key` of each row."""
        ...

    def role(self, role: str) -> Arrays:
        """One role's physical times (``NO_TIME`` for null), and its predictions (Float64,
        NaN for null) when the log has them."""
        ...


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


class ScannedRoles:
    """Each step's columns read when it runs: the peak is the largest step's.

    ``rows_of`` holds each role's rows, ``frame`` both roles' with the role flag (and the
    bucket); ``requests`` each role's row count, to preallocate the arrays.
    """

    def __init__(
        self,
        rows_of: dict[str, pl.LazyFrame],
        frame: pl.LazyFrame,
        columns: CanaryColumns,
        name: str,
        has_prediction: bool,
        buckets: tuple[str, int] | None,
        requests: dict[str, int],
    ) -> None:
        self._rows_of, self._frame, self._columns, self._name = rows_of, frame, columns, name
        self._has_prediction, self._buckets, self._requests = has_prediction, buckets, requests

    def latency(self) -> Arrays:
        bucket, count = self._buckets if self._buckets is not None else (None, 0)
        latency = pl.col(self._columns.latency).cast(pl.Float64)
        rows = sum(self._requests.values())
        key = group_key(TREATED, bucket, count)
        return owned_columns(self._frame, [latency, key], self._name, rows)

    def role(self, role: str) -> Arrays:
        exprs = [physical_time(self._columns.time)]
        if self._has_prediction:
            exprs.append(pl.col(self._columns.prediction).cast(pl.Float64))
        return owned_columns(self._rows_of[role], exprs, self._name, self._requests[role])


class HeldRoles:
    """Each step's columns collected whole from a frame held in memory (with the role flag
    and the bucket), when the step runs."""

    def __init__(
        self,
        frame: pl.LazyFrame,
        columns: CanaryColumns,
        name: str,
        has_prediction: bool,
        buckets: tuple[str, int] | None,
    ) -> None:
        bucket, count = buckets if buckets is not None else (None, 0)
        self._frame, self._name = frame, name
        self._by_role = [physical_time(columns.time)]
        if has_prediction:
            self._by_role.append(pl.col(columns.prediction).cast(pl.Float64))
        latency = pl.col(columns.latency).cast(pl.Float64)
        self._latency = [latency, group_key(TREATED, bucket, count)]

    def latency(self) -> Arrays:
        return owned_columns(self._frame, self._latency, self._name)

    def role(self, role: str) -> Arrays:
        rows = self._frame.filter(pl.col(TREATED) == (role == ROLES[1]))
        return owned_columns(rows, self._by_role, self._name)
