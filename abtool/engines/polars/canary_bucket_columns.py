"""canary-decide on Polars: the primary metric's (unit, bucket) sums as columns of the unit
table, for a log held in memory with few buckets.

The timeline's moments need each unit's sums within each bucket
(:func:`~abtool.engines.polars.canary_buckets.unit_bucket_table`: a group-by on unit and
bucket, then a sort of its entries). With at most :data:`MAX_COLUMN_BUCKETS` buckets, the
unit table's own group-by computes them instead, as two columns per bucket: at 10M rows
this adds about 0.1 s to that group-by, where the group-by on (unit, bucket) and its sort
took 0.5-0.6 s. The entries are then read off the consistent units' table, already in unit
order, so they come in (unit, bucket) order without a sort, and units seen under both
variants are already left out.

The entries and their values are those of the (unit, bucket) table: an entry wherever a
unit has a row with a usable value and a bucket, its sums over those rows. With more
buckets (:func:`columns_fit`) the columns could cost more than that group-by, and a unit table
of many units would hold a column per bucket: the (unit, bucket) table is used.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray

from abtool.engines.polars.canary_buckets import BUCKET, entry_moments
from abtool.engines.polars.canary_roles import TREATED
from abtool.engines.polars.hygiene import unusable_number
from abtool.stats.ratio_series import Moments

MAX_COLUMN_BUCKETS = 8
"""Most buckets whose sums are columns of the unit table (a week of days and one more).

Measured at 10M rows (1M units, ten requests each), the columns add about 0.04 s a bucket to
the unit table's group-by, where the (unit, bucket) group-by and its sort take 0.5 s at 2
buckets and 1.3 to 1.7 s at 8. A log whose units are each seen in one or two buckets has
fewer entries, so its (unit, bucket) group-by is cheaper; up to 8 buckets the columns still
cost less than that group-by's pass over the rows alone (0.4 s)."""

COLUMN_BUDGET_BYTES = 640 * 2**20
"""Most the bucket columns may hold (12 bytes per unit and bucket), counting every row as a
unit of its own: the unit count is not known before the unit table is built."""

_PREFIX = "__bucket_sum"


def columns_fit(count: int, rows: int) -> bool:
    """Whether ``count`` buckets' sums are columns of the unit table of a log of ``rows`` rows
    (at most :data:`MAX_COLUMN_BUCKETS`, within :data:`COLUMN_BUDGET_BYTES`)."""
    return count <= MAX_COLUMN_BUCKETS and count * rows * 12 <= COLUMN_BUDGET_BYTES


def bucket_sum_columns(metric: str, dtype: pl.DataType, count: int) -> list[pl.Expr]:
    """The unit table's aggregations for ``count`` buckets: per bucket the metric's sum over
    the unit's rows there with a usable value, and how many such rows (as
    :func:`~abtool.engines.polars.canary_buckets.unit_bucket_table` sums them)."""
    valid = ~unusable_number(metric, dtype)
    value = pl.col(metric).cast(pl.Float64)
    columns = []
    for b in range(count):
        here = valid & (pl.col(BUCKET) == b)
        columns += [
            pl.when(here).then(value).sum().alias(f"{_PREFIX}_x{b}"),
            here.sum().alias(f"{_PREFIX}_y{b}"),
        ]
    return columns


def column_bucket_moments(consistent: pl.DataFrame, count: int) -> dict[tuple[bool, bool], Moments]:
    """The moments of :func:`~abtool.engines.polars.canary_buckets.unit_bucket_moments` from
    the consistent units' table (in unit order) with the :func:`bucket_sum_columns`."""
    xs, ys = _matrix(consistent, "x", count), _matrix(consistent, "y", count)
    present = (ys > 0).ravel()  # row-major: unit by unit, each unit's buckets in order
    unit_of = np.repeat(np.arange(consistent.height), count)[present]
    bucket = np.tile(np.arange(count, dtype=np.int64), consistent.height)[present]
    x, y = xs.ravel()[present], ys.ravel()[present]
    del xs, ys, present
    first = np.ones(len(unit_of), dtype=np.bool_)
    first[1:] = unit_of[1:] != unit_of[:-1]
    treated = consistent[TREATED].to_numpy()[unit_of]
    del unit_of
    return entry_moments(bucket, first, x, y, treated, count)


def _matrix(table: pl.DataFrame, sum_name: str, count: int) -> NDArray[np.float64]:
    """One of the sums as floats, a row per unit and a column per bucket."""
    matrix = np.empty((table.height, count), dtype=np.float64)
    for b in range(count):
        matrix[:, b] = table[f"{_PREFIX}_{sum_name}{b}"].fill_null(0).to_numpy()
    return matrix
