"""Rows whose value lies in any of many ranges, found by one binary search per row.

The exact KS D and quantiles (:mod:`abtool.stats.bucketed`) fetch the values of the buckets
that can still hold an answer: hundreds of ranges for a hundred quantiles. Written as one
``OR`` of range conditions, such a filter outgrows Spark's generated code and is interpreted
(40 s for 100 ranges on 2M rows); here every range boundary becomes a split of Spark's
``Bucketizer`` (a binary search per row), each range a set of its buckets, and the rows are
kept by an equality join with those few bucket numbers.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from abtool.stats.bucket_source import ValueRange

RANGE = "__range"
RANGE_BUCKET = "__range_bucket"


def range_splits(ranges: Sequence[ValueRange]) -> list[float]:
    """Every finite boundary of ``ranges``, ascending, between -inf and +inf (at least three
    splits, as the Bucketizer needs)."""
    # + 0.0 turns -0.0 into 0.0: ranges compare as IEEE does (-0.0 == 0.0), the Bucketizer
    # as Java orders doubles (-0.0 < 0.0), so zeros are made positive on both sides.
    inner = sorted(
        {b + 0.0 for r in ranges for b in (r.low, r.high) if b is not None and math.isfinite(b)}
    )
    if not inner:
        inner = [0.0]
    return [-math.inf, *inner, math.inf]


def range_buckets(value_range: ValueRange, splits: list[float]) -> range:
    """The Bucketizer buckets (``[splits[i], splits[i + 1])``, the last closed) that make up
    ``value_range`` (``low <= x < high``; an open side takes the infinity)."""
    first = 0 if value_range.low is None else bisect.bisect_left(splits, value_range.low + 0.0)
    if value_range.high is None:
        return range(first, len(splits) - 1)
    return range(first, bisect.bisect_left(splits, value_range.high + 0.0))


def with_range_bucket(frame: DataFrame, value: str, splits: list[float]) -> DataFrame:
    """``frame`` with each row's bucket of ``splits`` in column ``RANGE`` (NaN: its own)."""
    from pyspark.ml.feature import Bucketizer

    zero_positive = F.when(F.col(value) == F.lit(0.0), F.lit(0.0)).otherwise(F.col(value))
    bucketizer = Bucketizer(
        splits=splits, inputCol=RANGE, outputCol=RANGE_BUCKET, handleInvalid="keep"
    )
    found: DataFrame = bucketizer.transform(frame.withColumn(RANGE, zero_positive))
    return found.withColumn(RANGE, F.col(RANGE_BUCKET).cast("int")).drop(RANGE_BUCKET)


def in_ranges(frame: DataFrame, value: str, ranges: Sequence[ValueRange]) -> DataFrame:
    """The rows of ``frame`` whose ``value`` lies in any of ``ranges``."""
    splits = range_splits(ranges)
    wanted = sorted({b for r in ranges for b in range_buckets(r, splits)})
    bucketed = with_range_bucket(frame, value, splits)
    return bucketed.where(F.col(RANGE).isin(wanted)).drop(RANGE)


def in_group_ranges(
    frame: DataFrame,
    group: str,
    value: str,
    asks: Sequence[tuple[Sequence[int], Sequence[ValueRange]]],
) -> DataFrame:
    """The rows of ``frame`` whose (``group``, ``value``) any ask wants: a group of its
    groups and a value in its ranges (one join with the wanted (group, bucket) pairs)."""
    splits = range_splits([r for _, ranges in asks for r in ranges])
    pairs = sorted(
        {
            (int(g), int(b))
            for groups, ranges in asks
            for g in groups
            for r in ranges
            for b in range_buckets(r, splits)
        }
    )
    spark = frame.sparkSession
    if not pairs:
        return frame.where(F.lit(False))
    wanted = spark.createDataFrame(pairs, schema=f"{group} int, {RANGE} int")
    bucketed = with_range_bucket(frame, value, splits)
    joined: DataFrame = bucketed.join(F.broadcast(wanted), on=[group, RANGE], how="inner")
    return joined.drop(RANGE)
