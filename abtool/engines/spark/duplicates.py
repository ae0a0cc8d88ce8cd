"""Duplicate request ids on Spark: identical copies dropped, differing rows kept, both counted,
by the rule of :mod:`abtool.engines.polars.duplicates` (docs/logs.md, "Duplicate request ids").

Cost: one aggregation over the id column (rows with an id and distinct ids); only when some id
repeats are the rows of the repeated ids compared whole (a semi join with the repeated ids, then
``distinct``), so a log without duplicates pays one shuffle of its ids.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from abtool.engines.polars.duplicates import Duplicates
from abtool.engines.spark.source import col, collect_row


def drop_duplicate_requests(
    frame: DataFrame, column: str | None, name: str
) -> tuple[DataFrame, Duplicates | None]:
    """``frame`` without identical copies of a request, and the counts.

    ``column`` None (or not among the frame's columns): nothing to check.
    """
    if column is None or column not in frame.columns:
        return frame, None
    ident = col(column)
    with_id = frame.where(ident.isNotNull())
    head = collect_row(
        with_id.agg(F.count(F.lit(1)).alias("rows"), F.countDistinct(ident).alias("ids")),
        name,
    )
    if int(head["rows"]) == int(head["ids"]):
        return frame, Duplicates(column)
    repeated = (
        with_id.groupBy(ident.alias(column))
        .agg(F.count(F.lit(1)).alias("n"))
        .where(F.col("n") > 1)
        .select(column)
    )
    suspects = with_id.join(repeated, on=column, how="left_semi")
    distinct = suspects.distinct()
    counts = collect_row(
        suspects.agg(
            F.count(F.lit(1)).alias("total"), F.countDistinct(ident).alias("ids")
        ).crossJoin(distinct.agg(F.count(F.lit(1)).alias("unique_rows"))),
        name,
    )
    total, unique_ids, unique_rows = (
        int(counts["total"]),
        int(counts["ids"]),
        int(counts["unique_rows"]),
    )
    dropped, kept = total - unique_rows, unique_rows - unique_ids
    if not dropped:
        return frame, Duplicates(column, 0, kept)
    rest = frame.join(repeated, on=column, how="left_anti")
    return rest.unionByName(distinct), Duplicates(column, dropped, kept)
