"""Read an interleaving log (long or nested), validate it, and reduce it to credit counts.

Long format: one row per shown item (``session_id``, ``position``, ``item_id``, ``team``,
``clicked``). Nested format: one row per session (``session_id``, ``attribution``: a list
of struct{item, team} in shown order, ``clicked_items``: a list of item ids). The format is
detected from the schema: a log with an ``attribution`` column is nested. Nested logs are
exploded lazily into the long shape (position = 1-based index in ``attribution``), so both
formats go through one reduction and give identical results on the same sessions.

The log is reduced by four small lazy queries on the streaming engine, one at a time
(:func:`~abtool.engines.polars.source.collect_each`, whose errors name the log); only the
win/tie counts, per-team and per-position click counts and the validation counts leave Polars.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import polars as pl

from abtool.aggregates.hygiene import ReadNotes
from abtool.aggregates.interleave import STEPS, InterleaveData, PositionRow, PreferenceStep
from abtool.commands.interleave import InterleaveColumns
from abtool.engines.polars.hygiene import prepared, read_notes
from abtool.engines.polars.schema import Kind, is_text, require, require_columns
from abtool.engines.polars.source import LogSource, collect_each
from abtool.errors import InputError

LONG = "long"
NESTED = "nested"


def detect_format(schema: dict[str, pl.DataType], columns: InterleaveColumns) -> str:
    """``nested`` when the log has the attribution column, else ``long``."""
    return NESTED if columns.attribution in schema else LONG


def aggregate_interleave(
    source: LogSource,
    columns: InterleaveColumns,
    *,
    progress: Callable[[str], None] | None = None,
) -> InterleaveData:
    """Validate the log, then reduce it to per-session credit outcomes and click rates.

    Raises:
        InputError: a column is missing or mistyped, a team value is not one of the two
            teams, a (session, position) appears twice, a clicked item was not shown, a key
            column holds nulls, or the log is empty. The message names file and column.
    """
    source = prepared(source, ids=[columns.session])
    log_format = detect_format(source.schema, columns)
    if log_format == NESTED:
        shown, checks = _nested(source, columns)
    else:
        shown, checks = _long(source, columns)
    a, b = columns.team_a, columns.team_b
    is_a = pl.col("team") == a
    is_b = pl.col("team") == b
    clicked = pl.col("clicked")
    per_session = shown.group_by("session").agg(
        (clicked & is_a).sum().alias("credit_a"),
        (clicked & is_b).sum().alias("credit_b"),
        (is_a.sum().cast(pl.Int64) - is_b.sum().cast(pl.Int64)).abs().alias("imbalance"),
    )
    ca, cb = pl.col("credit_a"), pl.col("credit_b")
    totals = per_session.select(
        pl.len().alias("sessions"),
        (ca > cb).sum().alias("wins_a"),
        (cb > ca).sum().alias("wins_b"),
        (ca == cb).sum().alias("ties"),
        ((ca + cb) == 0).sum().alias("no_click_sessions"),
        (pl.col("imbalance") > 1).sum().alias("unbalanced_sessions"),
    )
    duplicates = (
        shown.group_by("session", "position")
        .agg(pl.len().alias("n"))
        .filter(pl.col("n") > 1)
        .select(
            pl.len().alias("duplicates"),
            pl.col("session").cast(pl.String).first().alias("session"),
            pl.col("position").first().alias("position"),
        )
    )
    by_position = (
        shown.group_by("position")
        .agg(
            is_a.sum().alias("shown_a"),
            is_b.sum().alias("shown_b"),
            (clicked & is_a).sum().alias("clicks_a"),
            (clicked & is_b).sum().alias("clicks_b"),
        )
        .sort("position")
    )
    # Cumulative wins in session-id order (the log has no time column), kept at STEPS evenly
    # spaced counts: step k is the first count n with floor(n STEPS / N) reaching k.
    n, total = pl.col("n"), pl.len()
    steps = (
        per_session.sort("session")
        .select(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("n"),
            (ca > cb).cast(pl.Int64).cum_sum().alias("wins_a"),
            (cb > ca).cast(pl.Int64).cum_sum().alias("wins_b"),
        )
        .filter((n * STEPS) // total > ((n - 1) * STEPS) // total)
    )
    if progress:
        progress(f"Scanning {len(source.files)} file(s)")
    check_frame, dup_frame, total_frame, positions, step_frame = collect_each(
        [checks, duplicates, totals, by_position, steps], source.name
    )
    check_row = check_frame.row(0, named=True)
    dup_row = dup_frame.row(0, named=True)
    total_row = total_frame.row(0, named=True)
    excluded, assumed = _validate(source.name, columns, log_format, check_row, dup_row)
    sessions = int(total_row["sessions"])
    if sessions == 0:
        raise InputError(f"{source.name}: log has no sessions with a shown item")
    preference_steps = [
        PreferenceStep(int(r["n"]), int(r["wins_a"]), int(r["wins_b"]))
        for r in step_frame.iter_rows(named=True)
    ]
    return interleave_record(
        log_format,
        check_row,
        total_row,
        positions.iter_rows(named=True),
        (excluded, assumed),
        preference_steps,
        read_notes(source),
    )


def interleave_record(
    log_format: str,
    check_row: Mapping[str, Any],
    totals: Mapping[str, Any],
    positions: Iterable[Mapping[str, Any]],
    validated: tuple[dict[str, int], dict[str, int]],
    steps: list[PreferenceStep],
    notes: ReadNotes,
) -> InterleaveData:
    """The record from an engine's aggregates (on every engine): the checks row (``rows``),
    the session totals, the per-position counts in position order, the exclusions and
    assumptions of ``_validate``, and the cumulative steps."""
    rows = [
        PositionRow(
            int(r["position"]),
            int(r["shown_a"]),
            int(r["shown_b"]),
            int(r["clicks_a"]),
            int(r["clicks_b"]),
        )
        for r in positions
    ]
    excluded, assumed = validated
    return InterleaveData(
        log_format=log_format,
        rows=int(check_row["rows"]),
        sessions=int(totals["sessions"]),
        wins_a=int(totals["wins_a"]),
        wins_b=int(totals["wins_b"]),
        ties=int(totals["ties"]),
        no_click_sessions=int(totals["no_click_sessions"]),
        unbalanced_sessions=int(totals["unbalanced_sessions"]),
        shown_a=sum(r.shown_a for r in rows),
        shown_b=sum(r.shown_b for r in rows),
        clicks_a=sum(r.clicks_a for r in rows),
        clicks_b=sum(r.clicks_b for r in rows),
        positions=rows,
        excluded=excluded,
        assumed=assumed,
        steps=steps,
        read_notes=notes,
    )


def _team_checks(team: pl.Expr, columns: InterleaveColumns) -> list[pl.Expr]:
    text = team.cast(pl.String)
    bad = text.is_null() | ~text.is_in([columns.team_a, columns.team_b])
    return [
        bad.sum().alias("bad_team"),
        text.filter(bad).first().alias("bad_team_value"),
    ]


def check_long_schema(
    schema: dict[str, pl.DataType], name: str, columns: InterleaveColumns
) -> None:
    """A long log's columns: one row per shown item with its session, integer position, item,
    team and click flag (on every engine: the schema is in Polars types).

    Raises:
        InputError: a column is missing or of the wrong type.
    """
    hint = f"; nested logs instead need '{columns.attribution}' and '{columns.clicked_items}'"
    require_columns(
        schema,
        name,
        {
            columns.session: "--session-col" + hint,
            columns.position: "--position-col",
            columns.item: "--item-col",
            columns.team: "--team-col",
            columns.clicked: "--clicked-col",
        },
    )
    require(schema, name, columns.session, Kind.LABEL, "--session-col" + hint)
    position_dtype = require(schema, name, columns.position, Kind.NUMBER, "--position-col")
    if not position_dtype.is_integer():
        raise InputError(
            f"{name}: column '{columns.position}' is {position_dtype}, expected an integer"
        )
    require(schema, name, columns.item, Kind.LABEL, "--item-col")
    require(schema, name, columns.team, Kind.LABEL, "--team-col")
    require(schema, name, columns.clicked, Kind.NUMBER, "--clicked-col")


def _long(source: LogSource, columns: InterleaveColumns) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    check_long_schema(source.schema, source.name, columns)
    frame = source.scan(
        [columns.session, columns.position, columns.item, columns.team, columns.clicked]
    )
    checks = frame.select(
        pl.len().alias("rows"),
        pl.col(columns.session).null_count().alias("null_session"),
        pl.col(columns.position).null_count().alias("null_position"),
        pl.col(columns.item).null_count().alias("null_item"),
        pl.col(columns.clicked).null_count().alias("null_clicked"),
        *_team_checks(pl.col(columns.team), columns),
    )
    shown = frame.select(
        pl.col(columns.session).alias("session"),
        pl.col(columns.position).cast(pl.Int64).alias("position"),
        pl.col(columns.team).cast(pl.String).alias("team"),
        # A null click flag is counted (see _validate) and taken as "not clicked".
        pl.col(columns.clicked).cast(pl.Boolean).fill_null(False).alias("clicked"),
    )
    return shown, checks


def check_nested_schema(
    schema: dict[str, pl.DataType], name: str, columns: InterleaveColumns
) -> None:
    """A nested log's columns: a session id, a list of {item, team} structs and a list of
    clicked items of the items' type (on every engine: the schema is in Polars types).

    Raises:
        InputError: a column is missing or of the wrong shape.
    """
    require_columns(
        schema,
        name,
        {
            columns.session: "--session-col",
            columns.attribution: "--attribution-col",
            columns.clicked_items: "--clicked-items-col",
        },
    )
    require(schema, name, columns.session, Kind.LABEL, "--session-col")
    attribution = require(schema, name, columns.attribution, Kind.LIST, "--attribution-col")
    inner = getattr(attribution, "inner", None)
    fields = {f.name: f.dtype for f in inner.fields} if isinstance(inner, pl.Struct) else {}
    if columns.item_field not in fields or columns.team_field not in fields:
        raise InputError(
            f"{name}: column '{columns.attribution}' is {attribution}, expected a list of "
            f"struct{{{columns.item_field}, {columns.team_field}}}"
        )
    clicked = require(schema, name, columns.clicked_items, Kind.LIST, "--clicked-items-col")
    item_dtype = fields[columns.item_field]
    clicked_inner = getattr(clicked, "inner", None)
    both_text = (
        isinstance(clicked_inner, pl.DataType)
        and isinstance(item_dtype, pl.DataType)
        and is_text(clicked_inner)
        and is_text(item_dtype)
    )
    if clicked_inner != item_dtype and not both_text:
        raise InputError(
            f"{name}: column '{columns.clicked_items}' holds {clicked_inner} but "
            f"'{columns.attribution}' items are {item_dtype}; they must be the same type"
        )


def _nested(source: LogSource, columns: InterleaveColumns) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    check_nested_schema(source.schema, source.name, columns)
    frame = source.scan([columns.session, columns.attribution, columns.clicked_items])
    attr = pl.col(columns.attribution)
    items = attr.list.eval(pl.element().struct.field(columns.item_field).cast(pl.String))
    clicks = pl.col(columns.clicked_items).list.eval(pl.element().cast(pl.String))
    not_shown = clicks.list.set_difference(items).list.len().fill_null(0) > 0
    teams = attr.list.eval(pl.element().struct.field(columns.team_field))
    checks = frame.select(
        pl.len().alias("rows"),
        pl.col(columns.session).null_count().alias("null_session"),
        attr.is_null().sum().alias("null_attribution"),
        (attr.list.len() == 0).sum().alias("empty_attribution"),
        pl.col(columns.clicked_items).is_null().sum().alias("null_clicked"),
        items.list.eval(pl.element().is_null()).list.any().sum().alias("null_item"),
        not_shown.sum().alias("not_shown"),
        pl.col(columns.session).cast(pl.String).filter(not_shown).first().alias("not_shown_at"),
        *_team_checks(teams.explode(), columns),
    )
    shown = (
        frame.filter(attr.list.len() > 0)
        .select(
            pl.col(columns.session).alias("session"),
            attr.alias("entry"),
            pl.int_ranges(1, attr.list.len() + 1).alias("position"),
            clicks.fill_null([]).alias("clicks"),
        )
        .explode("entry", "position")
        .select(
            "session",
            "position",
            pl.col("entry").struct.field(columns.team_field).cast(pl.String).alias("team"),
            pl.col("clicks")
            .list.contains(
                pl.col("entry").struct.field(columns.item_field).cast(pl.String), nulls_equal=False
            )
            .fill_null(False)
            .alias("clicked"),
        )
    )
    return shown, checks


def _validate(
    name: str,
    columns: InterleaveColumns,
    log_format: str,
    check: dict[str, Any],
    duplicate: dict[str, Any],
) -> tuple[dict[str, int], dict[str, int]]:
    """Raise on a malformed log; return excluded and assumed-value counts for warnings."""
    if int(check["rows"]) == 0:
        raise InputError(f"{name}: log has no rows")
    team_col = columns.team if log_format == LONG else f"{columns.attribution}.{columns.team_field}"
    item_col = columns.item if log_format == LONG else f"{columns.attribution}.{columns.item_field}"
    nulls = [(columns.session, "null_session"), (item_col, "null_item")]
    if log_format == LONG:
        nulls.append((columns.position, "null_position"))
    else:
        nulls.append((columns.attribution, "null_attribution"))
    for column, key in nulls:
        if int(check[key] or 0):
            what = "null or empty" if column == columns.session else "null"
            raise InputError(f"{name}: column '{column}' has {int(check[key]):,} {what} value(s)")
    if int(check["bad_team"]):
        value = check["bad_team_value"]
        shown = "null" if value is None else f"'{value}'"
        raise InputError(
            f"{name}: column '{team_col}' holds {shown} in {int(check['bad_team']):,} "
            f"item(s); expected only '{columns.team_a}' or '{columns.team_b}' "
            "(set them with --team-a/--team-b)"
        )
    if int(duplicate["duplicates"] or 0):
        n = int(duplicate["duplicates"])
        if log_format == LONG:
            raise InputError(
                f"{name}: {n:,} duplicate ({columns.session}, {columns.position}) pair(s), "
                f"e.g. {columns.session} '{duplicate['session']}' "
                f"{columns.position} {duplicate['position']}"
            )
        raise InputError(
            f"{name}: column '{columns.session}': {n:,} (session, position) pair(s) appear in "
            f"more than one row, e.g. session '{duplicate['session']}' is logged twice"
        )
    if log_format == NESTED and int(check["not_shown"]):
        raise InputError(
            f"{name}: column '{columns.clicked_items}' holds items not in "
            f"'{columns.attribution}' in {int(check['not_shown']):,} session(s), e.g. "
            f"{columns.session} '{check['not_shown_at']}' (a clicked item must have been shown)"
        )
    excluded: dict[str, int] = {}
    assumed: dict[str, int] = {}
    if log_format == NESTED and int(check["empty_attribution"]):
        excluded[f"empty '{columns.attribution}' (nothing shown)"] = int(check["empty_attribution"])
    if int(check["null_clicked"]):
        what = columns.clicked if log_format == LONG else columns.clicked_items
        assumed[f"null '{what}' taken as no click"] = int(check["null_clicked"])
    return excluded, assumed
