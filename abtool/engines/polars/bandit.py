"""Aggregate a bandit log on Polars: reward sums per period and arm, and each arm's health.

Named steps, each a lazy Polars pass on the streaming engine reading only the columns it needs:

1. :func:`_check_schema` — every needed column exists with a usable type.
2. :func:`_first_pass` — rows per arm value (to resolve the arms), missing values, whether the
   reward is binary and its range.
3. :func:`_cells` — per period and arm: units and reward sums (per unit first when the log
   has a unit column, so the variance can be clustered by unit).
4. :func:`_health` — per arm: requests, errors and the time range; latency quantiles and the
   rows for replay come from :mod:`abtool.engines.polars.bandit_rows`.

Only the small period x arm table leaves Polars, except the latency column (for quantiles)
and, with ``--replay``, the time-ordered rows (capped by ``replay_max_events``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from abtool.aggregates.bandit import BanditData, BanditRequest, PeriodCells
from abtool.commands.bandit import BanditColumns
from abtool.engines.polars.bandit_rows import REWARD, arm_health, propensity_sums, replay_events
from abtool.engines.polars.hygiene import prepared, read_notes
from abtool.engines.polars.schema import Kind, missing_value, optional, require
from abtool.engines.polars.source import LogSource, collect_each, time_filter
from abtool.errors import InputError

Progress = Callable[[str], None] | None
ARM = "__arm"
PERIOD = "__period"


@dataclass(frozen=True)
class _Schema:
    """The dtypes of the columns a bandit report reads (None: an optional column is absent)."""

    reward: pl.DataType
    time: pl.DataType | None
    period: pl.DataType | None
    unit: pl.DataType | None
    propensity: pl.DataType | None
    latency: pl.DataType | None
    error: pl.DataType | None


def aggregate_bandit(
    source: LogSource, columns: BanditColumns, request: BanditRequest, progress: Progress = None
) -> BanditData:
    """Validate the schema, then reduce the log to bandit-report's aggregates.

    Raises:
        InputError: a needed column is missing or mistyped, the log is empty, fewer than two
            arms, propensities outside (0, 1], or more rows than ``--replay`` may read.
    """
    source = prepared(source, time=columns.time, time_unit=request.time_unit, ids=[columns.unit])
    schema = _check_schema(source, columns, request)
    optional_columns = [
        (columns.period, schema.period),
        (columns.time, schema.time),
        (columns.unit, schema.unit),
        (columns.propensity, schema.propensity),
        (columns.latency, schema.latency),
        (columns.error, schema.error),
    ]
    needed = [columns.arm, columns.reward]
    needed += [col for col, dtype in optional_columns if dtype is not None]
    needed += list(columns.contexts) if request.replay else []
    scanned = source.scan(needed)
    window = (
        time_filter(columns.time, schema.time, request.since, request.until)
        if schema.time is not None
        else None
    )
    if window is not None:
        scanned = scanned.filter(window)
    if progress:
        progress("Scanning the log for arms")
    rows, arms, excluded, reward = _first_pass(scanned, source.name, columns, schema, request)
    period_key, period_source = _period_key(columns, schema, request)
    selected = scanned.filter(pl.col(columns.arm).cast(pl.String).is_in(list(arms)))
    usable = ~missing_value(columns.reward, schema.reward) & period_key.is_not_null()
    if schema.unit is not None:
        usable = usable & pl.col(columns.unit).is_not_null()
    rewarded = selected.filter(usable).with_columns(
        pl.col(columns.arm).cast(pl.String).alias(ARM),
        period_key.alias(PERIOD),
        pl.col(columns.reward).cast(pl.Float64).alias(REWARD),
    )
    if progress:
        progress("Summing rewards per period and arm")
    cells, multi = _cells(rewarded, source.name, columns, schema, arms)
    if progress:
        progress("Arm health")
    dtypes = {"time": schema.time, "latency": schema.latency, "error": schema.error}
    health, time_min, time_max = arm_health(selected, source.name, columns, dtypes, arms)
    sums = None
    if request.propensity_sums:
        sums = propensity_sums(rewarded, source.name, columns, ARM, REWARD, arms)
    events = None
    if request.replay:
        if progress:
            progress("Reading rows for replay")
        total = int(cells.sum_y.sum())
        events = replay_events(
            rewarded, source.name, columns, schema.propensity is not None, arms, total, request
        )
    return BanditData(
        rows=rows,
        excluded=excluded,
        time_min=time_min,
        time_max=time_max,
        arms=arms,
        binary=bool(reward["binary"]),
        reward_min=float(reward["min"]),
        reward_max=float(reward["max"]),
        unit=columns.unit if schema.unit is not None else None,
        period_source=period_source,
        cells=cells,
        health=health,
        propensity_sums=sums,
        events=events,
        multi_row_units=multi,
        read_notes=read_notes(source),
    )


def _check_schema(source: LogSource, columns: BanditColumns, request: BanditRequest) -> _Schema:
    schema, name = source.schema, source.name
    require(schema, name, columns.arm, Kind.LABEL, "--arm-col")
    reward = require(schema, name, columns.reward, Kind.NUMBER, "--reward")
    period = optional(schema, name, columns.period, Kind.LABEL)
    needs_time = period is None or request.replay or request.since or request.until
    time: pl.DataType | None
    if needs_time:
        time = require(schema, name, columns.time, Kind.TIME, "--time-col")
    else:
        time = optional(schema, name, columns.time, Kind.TIME)
    propensity: pl.DataType | None
    if request.propensity_sums:
        propensity = require(schema, name, columns.propensity, Kind.NUMBER, "--propensity-col")
    else:
        propensity = optional(schema, name, columns.propensity, Kind.NUMBER)
    if request.replay:
        for context in columns.contexts:
            require(schema, name, context, Kind.NUMBER, "--context")
    return _Schema(
        reward=reward,
        time=time,
        period=period,
        unit=optional(schema, name, columns.unit, Kind.ANY),
        propensity=propensity,
        latency=optional(schema, name, columns.latency, Kind.NUMBER),
        error=optional(schema, name, columns.error, Kind.BOOL_OR_TEXT),
    )


def _period_key(
    columns: BanditColumns, schema: _Schema, request: BanditRequest
) -> tuple[pl.Expr, str]:
    """The expression of each row's period, and where periods come from (in words)."""
    if schema.period is not None:
        return pl.col(columns.period), f"column '{columns.period}'"
    assert schema.time is not None  # the schema check requires one of the two
    time = pl.col(columns.time)
    if isinstance(schema.time, pl.Date):
        time = time.cast(pl.Datetime("us"))
    elif getattr(schema.time, "time_zone", None) is not None:
        time = time.dt.convert_time_zone("UTC")  # buckets aligned to UTC midnight
    micros = max(1, round(request.period_hours * 3_600_000_000))
    return (
        time.dt.truncate(f"{micros}us"),
        f"{request.period_hours:g}h buckets of '{columns.time}'",
    )


def _first_pass(
    frame: pl.LazyFrame,
    name: str,
    columns: BanditColumns,
    schema: _Schema,
    request: BanditRequest,
) -> tuple[int, tuple[str, ...], dict[str, int], dict[str, Any]]:
    """Rows, the analysed arms, rows excluded by reason, and the reward's kind and range."""
    missing = missing_value(columns.reward, schema.reward)
    value = pl.col(columns.reward).cast(pl.Float64)
    aggregations = [
        pl.len().alias("rows"),
        missing.sum().alias("missing_reward"),
        (~missing & (value != 0.0) & (value != 1.0)).sum().alias("non_binary"),
        value.min().alias("min"),
        value.max().alias("max"),
    ]
    no_period = pl.col(columns.period) if schema.period is not None else pl.col(columns.time)
    aggregations.append((~missing & no_period.is_null()).sum().alias("no_period"))
    if schema.unit is not None:
        nulls = ~missing & no_period.is_not_null() & pl.col(columns.unit).is_null()
        aggregations.append(nulls.sum().alias("no_unit"))
    (by_arm,) = collect_each(
        [frame.group_by(pl.col(columns.arm).cast(pl.String).alias("arm")).agg(aggregations)],
        name,
    )
    return arms_of(by_arm, name, columns, schema.period is not None, request)


def arms_of(
    by_arm: pl.DataFrame,
    name: str,
    columns: BanditColumns,
    has_period: bool,
    request: BanditRequest,
) -> tuple[int, tuple[str, ...], dict[str, int], dict[str, Any]]:
    """Rows, arms, exclusions and the reward's kind and range from the per-arm counts of the
    first pass (``arm``, ``rows``, ``missing_reward``, ``non_binary``, ``min``, ``max``,
    ``no_period`` and, with a unit column, ``no_unit``); every engine's first pass gives
    this table.

    Raises:
        InputError: no rows, a named arm absent, fewer than two arms, no reward value.
    """
    rows = int(by_arm["rows"].sum()) if by_arm.height else 0
    if rows == 0:
        windowed = request.since is not None or request.until is not None
        where = " in the --since/--until window" if windowed else ""
        raise InputError(f"{name}: log has no rows{where}")
    present = sorted(v for v in by_arm["arm"].to_list() if v is not None)
    arms = _resolve_arms(present, request.arms, name, columns.arm)
    chosen = by_arm.filter(pl.col("arm").is_in(list(arms)))
    excluded: dict[str, int] = {}
    # In the order of the values (nulls first), not the order a group-by returns them.
    for row in by_arm.sort("arm", nulls_last=False).iter_rows(named=True):
        if row["arm"] is None:
            excluded[f"null {columns.arm}"] = int(row["rows"])
        elif row["arm"] not in arms:
            excluded[f"{columns.arm} = {row['arm']}"] = int(row["rows"])
    period_name = columns.period if has_period else columns.time
    for key, label in (
        ("missing_reward", f"null {columns.reward}"),
        ("no_period", f"null {period_name}"),
        ("no_unit", f"null {columns.unit}"),
    ):
        if key in chosen.columns and int(chosen[key].sum()):
            excluded[label] = int(chosen[key].sum())
    if int(chosen["missing_reward"].sum()) == int(chosen["rows"].sum()):
        raise InputError(f"{name}: column '{columns.reward}' has no value in the analysed arms")
    reward = {
        "binary": int(chosen["non_binary"].sum()) == 0,
        "min": chosen["min"].min(),
        "max": chosen["max"].max(),
    }
    return rows, arms, excluded, reward


def _resolve_arms(
    present: list[str], wanted: tuple[str, ...], name: str, column: str
) -> tuple[str, ...]:
    """The arms to analyse: those named with ``--arm``, else every value present, sorted.

    Raises:
        InputError: a named arm is absent, or fewer than two arms.
    """
    shown = ", ".join(present) or "none"
    for arm in wanted:
        if arm not in present:
            raise InputError(f"{name}: --arm '{arm}' not found in '{column}' (arms: {shown})")
    arms = tuple(wanted) if wanted else tuple(present)
    if len(arms) < 2:
        raise InputError(
            f"{name}: column '{column}' holds {len(arms)} arm(s) ({shown}); a bandit report "
            "needs at least two"
        )
    return arms


def _cells(
    frame: pl.LazyFrame,
    name: str,
    columns: BanditColumns,
    schema: _Schema,
    arms: tuple[str, ...],
) -> tuple[PeriodCells, int]:
    """Reward sums per period and arm (per unit first with a unit column), and unit-cells
    with more than one row."""
    x, y = pl.col("x"), pl.col("y")
    if schema.unit is not None:
        per_unit = frame.group_by(PERIOD, ARM, columns.unit).agg(
            pl.col(REWARD).sum().alias("x"), pl.len().cast(pl.Float64).alias("y")
        )
    else:
        per_unit = frame.select(PERIOD, ARM, pl.col(REWARD).alias("x"), pl.lit(1.0).alias("y"))
    query = per_unit.group_by(PERIOD, ARM).agg(
        pl.len().alias("pulls"),
        x.sum().alias("sum_x"),
        (x * x).sum().alias("sum_x2"),
        y.sum().alias("sum_y"),
        (y * y).sum().alias("sum_y2"),
        (x * y).sum().alias("sum_xy"),
        (y > 1).sum().alias("multi"),
    )
    (table,) = collect_each([query], name)
    return period_cells(table, name, columns, schema.unit is not None, arms)


def period_cells(
    table: pl.DataFrame, name: str, columns: BanditColumns, has_unit: bool, arms: tuple[str, ...]
) -> tuple[PeriodCells, int]:
    """The cells from the per (period, arm) sums (columns ``PERIOD``, ``ARM``, ``pulls``,
    ``sum_x`` ... ``sum_xy``, ``multi``); every engine's cell query gives this table, its
    periods as the Python values they are labelled by.

    Raises:
        InputError: no cell at all.
    """
    if table.height == 0:
        raise InputError(
            f"{name}: no row of the analysed arms has a '{columns.reward}' value and a period"
        )
    periods = table.select(PERIOD).unique().sort(PERIOD)[PERIOD]
    row_of = {value: i for i, value in enumerate(periods.to_list())}
    col_of = {arm: k for k, arm in enumerate(arms)}
    shape = (len(row_of), len(arms))
    arrays = {key: np.zeros(shape) for key in ("pulls", "sum_x", "sum_x2", "sum_y", "sum_y2")}
    arrays["sum_xy"] = np.zeros(shape)
    for row in table.iter_rows(named=True):
        i, k = row_of[row[PERIOD]], col_of[row[ARM]]
        for key in arrays:
            arrays[key][i, k] = float(row[key])
    labels = tuple(_label(v) for v in periods.to_list())
    cells = PeriodCells(
        periods=labels,
        pulls=arrays.pop("pulls").astype(np.int64),
        **arrays,
    )
    return cells, int(table["multi"].sum()) if has_unit else 0


def _label(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
