"""The numeric columns canary-decide's variant figures read, as numpy arrays: each role's time
and predictions, and both roles' latency with its group key.

Two ways to get them, with one interface (:class:`RoleColumns`):

* :class:`ScannedRoles` — a scanned log (too large to hold): each step reads its columns
  when it runs (the latency, then one role at a time), into preallocated arrays, so the peak
  is that of the largest step.
* :class:`HeldRoles` — a log held in memory: every column is taken in one select on the
  calling thread, and each role's rows are split off by a boolean mask. The steps then run
  in numpy alone on the second thread (:class:`~abtool.engines.polars.resident.Beside`),
  without waiting for Polars' thread pool, which the unit tables keep busy meanwhile.

Either way a role's rows are in the same order (the frame's) and the figures the same.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.commands.canary import CanaryColumns
from abtool.engines.polars.source import collect_each, owned_columns

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
    """Every column in one select of a frame held in memory; each role split off by a mask.

    Each array is let go once every step that reads it has taken it (the latency after
    :meth:`latency`, the times and predictions after the treatment's :meth:`role`), so the
    peak is the select's columns plus one role's copy.
    """

    def __init__(
        self,
        frame: pl.LazyFrame,
        columns: CanaryColumns,
        name: str,
        has_prediction: bool,
        has_latency: bool,
        buckets: tuple[str, int] | None,
    ) -> None:
        bucket, count = buckets if buckets is not None else (None, 0)
        exprs = {TREATED: pl.col(TREATED), "time": physical_time(columns.time)}
        if has_prediction:
            exprs["prediction"] = pl.col(columns.prediction).cast(pl.Float64)
        if has_latency:
            exprs["latency"] = pl.col(columns.latency).cast(pl.Float64)
            exprs["key"] = group_key(TREATED, bucket, count)
        (table,) = collect_each([frame.select(e.alias(k) for k, e in exprs.items())], name)
        self._arrays: dict[str, NDArray[Any]] = {}
        for column in list(exprs):
            # One column at a time, each dropped from the table once copied: the peak holds
            # the table and one copy, not the table twice.
            series = table.drop_in_place(column)
            # Nulls arrive as NaN (floats); the flag, times and key have none.
            self._arrays[column] = series.to_numpy(writable=True)
            del series

    def latency(self) -> Arrays:
        return [self._arrays.pop("latency"), self._arrays.pop("key")]

    def role(self, role: str) -> Arrays:
        treated = self._arrays[TREATED]
        mine = treated if role == "treatment" else ~treated
        wanted = ["time", "prediction"] if "prediction" in self._arrays else ["time"]
        taken = [self._arrays[column][mine] for column in wanted]
        if role == ROLES[-1]:
            self._arrays.clear()
        return taken
