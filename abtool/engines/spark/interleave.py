"""interleave-report on Spark: the Polars engine's reduction
(:mod:`abtool.engines.polars.interleave`) as Spark queries, filling the same
:class:`InterleaveData`.

Long logs are read as they are; nested logs (``attribution``: a list of struct{item, team},
``clicked_items``: a list of ids) are exploded with their 1-based positions, as the Polars
engine does, so both formats go through one reduction. Four queries leave Spark, each a
handful of rows: the validation counts, the duplicated (session, position) pairs, the
per-session credit outcomes and the per-position click counts. Where a message gives an
example value, Spark names the smallest (the Polars engine: the first in the log).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from abtool.aggregates.interleave import STEPS, InterleaveData, PreferenceStep
from abtool.commands.interleave import InterleaveColumns
from abtool.engines.polars.interleave import (
    LONG,
    NESTED,
    _validate,
    check_long_schema,
    check_nested_schema,
    detect_format,
    interleave_record,
)
from abtool.engines.spark.prepare import prepared, read_notes
from abtool.engines.spark.source import SparkSource, cached, col, collect_row, collect_rows
from abtool.engines.spark.values import count_if
from abtool.errors import InputError


def aggregate_interleave(
    source: SparkSource,
    columns: InterleaveColumns,
    *,
    progress: Callable[[str], None] | None = None,
) -> InterleaveData:
    """Validate the log, then reduce it to per-session credit outcomes and click rates.

    Raises:
        InputError: as the Polars engine (a column missing or mistyped, a team value not one
            of the two teams, a duplicated (session, position), a clicked item not shown, a
            key column with nulls, an empty log).
    """
    source = prepared(source, ids=[columns.session])
    log_format = detect_format(source.schema, columns)
    with ExitStack() as stack:

        def keep(frame: DataFrame) -> DataFrame:
            return stack.enter_context(cached(frame))

        if log_format == NESTED:
            shown, checks = _nested(source, columns, keep)
        else:
            shown, checks = _long(source, columns, keep)
        a, b = columns.team_a, columns.team_b
        is_a, is_b = F.col("team") == F.lit(a), F.col("team") == F.lit(b)
        clicked = F.col("clicked")
        if progress:
            progress(f"Scanning {len(source.files)} file(s)")
        check_row = collect_row(checks, source.name)
        duplicates = (
            shown.groupBy("session", "position")
            .agg(F.count(F.lit(1)).alias("n"))
            .where(F.col("n") > 1)
            .agg(
                F.count(F.lit(1)).alias("duplicates"),
                F.min(F.struct(F.col("session").cast("string"), F.col("position"))).alias("first"),
            )
        )
        dup = collect_row(duplicates, source.name)
        dup_row = {
            "duplicates": dup["duplicates"],
            "session": dup["first"][0] if dup["first"] is not None else None,
            "position": dup["first"][1] if dup["first"] is not None else None,
        }
        excluded, assumed = _validate(source.name, columns, log_format, check_row.asDict(), dup_row)
        per_session = shown.groupBy("session").agg(
            count_if(clicked & is_a).alias("credit_a"),
            count_if(clicked & is_b).alias("credit_b"),
            F.abs(count_if(is_a) - count_if(is_b)).alias("imbalance"),
        )
        ca, cb = F.col("credit_a"), F.col("credit_b")
        totals = collect_row(
            per_session.agg(
                F.count(F.lit(1)).alias("sessions"),
                count_if(ca > cb).alias("wins_a"),
                count_if(cb > ca).alias("wins_b"),
                count_if(ca == cb).alias("ties"),
                count_if((ca + cb) == 0).alias("no_click_sessions"),
                count_if(F.col("imbalance") > 1).alias("unbalanced_sessions"),
            ),
            source.name,
        )
        sessions = int(totals["sessions"])
        if sessions == 0:
            raise InputError(f"{source.name}: log has no sessions with a shown item")
        steps = _steps(per_session, sessions, source.name)
        by_position = shown.groupBy("position").agg(
            count_if(is_a).alias("shown_a"),
            count_if(is_b).alias("shown_b"),
            count_if(clicked & is_a).alias("clicks_a"),
            count_if(clicked & is_b).alias("clicks_b"),
        )
        positions = sorted(collect_rows(by_position, source.name), key=_position_order)
        return interleave_record(
            log_format,
            check_row.asDict(),
            totals.asDict(),
            [r.asDict() for r in positions],
            (excluded, assumed),
            steps,
            read_notes(source),
        )


def _steps(per_session: DataFrame, sessions: int, name: str) -> list[PreferenceStep]:
    """Cumulative wins in session-id order at the counts ``n`` where ``floor(n STEPS / N)``
    steps up (as the Polars engine keeps them): a running sum over the sessions sorted by id
    (one ordered window: the sessions, not the rows, pass through one task)."""
    ranks = _step_ranks(sessions)
    order = Window.orderBy("session")
    running = order.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    ca, cb = F.col("credit_a"), F.col("credit_b")
    found = per_session.select(
        F.row_number().over(order).alias("n"),
        F.sum(F.when(ca > cb, 1).otherwise(0)).over(running).alias("wins_a"),
        F.sum(F.when(cb > ca, 1).otherwise(0)).over(running).alias("wins_b"),
    ).where(F.col("n").isin(*ranks))
    rows = sorted(collect_rows(found, name), key=lambda r: int(r["n"]))
    return [PreferenceStep(int(r["n"]), int(r["wins_a"]), int(r["wins_b"])) for r in rows]


def _step_ranks(sessions: int) -> list[int]:
    """The counts ``n`` in ``1..sessions`` where ``floor(n STEPS / sessions)`` increases: for
    each ``k``, the smallest ``n`` with ``n STEPS >= k sessions``."""
    return sorted({-(-k * sessions // STEPS) for k in range(1, STEPS + 1)})


def _position_order(row: object) -> tuple[bool, int]:
    position = row["position"]  # type: ignore[index]
    return (position is not None, position or 0)  # nulls first, as Polars sorts them


def _team_checks(team: Column, columns: InterleaveColumns) -> list[Column]:
    text = team.cast("string")
    bad = text.isNull() | ~text.isin(columns.team_a, columns.team_b)
    return [
        count_if(bad).alias("bad_team"),
        F.min(F.when(bad, text)).alias("bad_team_value"),
    ]


def _long(
    source: SparkSource, columns: InterleaveColumns, keep: Callable[[DataFrame], DataFrame]
) -> tuple[DataFrame, DataFrame]:
    check_long_schema(source.schema, source.name, columns)
    frame = keep(
        source.scan(
            [columns.session, columns.position, columns.item, columns.team, columns.clicked]
        )
    )
    checks = frame.agg(
        F.count(F.lit(1)).alias("rows"),
        count_if(col(columns.session).isNull()).alias("null_session"),
        count_if(col(columns.position).isNull()).alias("null_position"),
        count_if(col(columns.item).isNull()).alias("null_item"),
        count_if(col(columns.clicked).isNull()).alias("null_clicked"),
        *_team_checks(col(columns.team), columns),
    )
    shown = frame.select(
        col(columns.session).alias("session"),
        col(columns.position).cast("bigint").alias("position"),
        col(columns.team).cast("string").alias("team"),
        # A null click flag is counted (see _validate) and taken as "not clicked".
        F.coalesce(col(columns.clicked).cast("boolean"), F.lit(False)).alias("clicked"),
    )
    return shown, checks


def _nested(
    source: SparkSource, columns: InterleaveColumns, keep: Callable[[DataFrame], DataFrame]
) -> tuple[DataFrame, DataFrame]:
    check_nested_schema(source.schema, source.name, columns)
    frame = keep(source.scan([columns.session, columns.attribution, columns.clicked_items]))
    attr = col(columns.attribution)
    item_field, team_field = columns.item_field, columns.team_field
    items = F.transform(attr, lambda e: e.getField(item_field).cast("string"))
    clicks = F.transform(col(columns.clicked_items), lambda e: e.cast("string"))
    not_shown = F.coalesce(F.size(F.array_except(clicks, items)) > 0, F.lit(False))
    teams = frame.select(
        F.explode_outer(F.transform(attr, lambda e: e.getField(team_field))).alias("team")
    )
    team_row = teams.agg(*_team_checks(F.col("team"), columns))
    checks = frame.agg(
        F.count(F.lit(1)).alias("rows"),
        count_if(col(columns.session).isNull()).alias("null_session"),
        count_if(attr.isNull()).alias("null_attribution"),
        count_if(F.size(attr) == 0).alias("empty_attribution"),
        count_if(col(columns.clicked_items).isNull()).alias("null_clicked"),
        count_if(F.exists(items, lambda x: x.isNull())).alias("null_item"),
        count_if(not_shown).alias("not_shown"),
        F.min(F.when(not_shown, col(columns.session).cast("string"))).alias("not_shown_at"),
    ).crossJoin(team_row)
    entries = frame.where(F.size(attr) > 0).select(
        col(columns.session).alias("session"),
        F.posexplode(attr).alias("index", "entry"),
        F.coalesce(clicks, F.array().cast("array<string>")).alias("clicks"),
    )
    item = F.col("entry").getField(item_field).cast("string")
    shown = entries.select(
        "session",
        (F.col("index") + 1).cast("bigint").alias("position"),
        F.col("entry").getField(team_field).cast("string").alias("team"),
        F.coalesce(F.array_contains(F.col("clicks"), item), F.lit(False)).alias("clicked"),
    )
    return shown, checks


__all__ = ["LONG", "NESTED", "aggregate_interleave"]
