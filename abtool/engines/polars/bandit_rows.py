"""bandit-report on Polars: per-arm health, propensity sums, and the rows replay walks through.

The latency quantiles come from the latency column read once into numpy with each row's arm
index (8 + 4 bytes a row), as canary-decide does: a quantile inside a streaming group-by holds
the whole column and more. The rows for ``--replay`` are read the same way, in time order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from abtool.aggregates.bandit import ArmHealth, BanditRequest, ReplayEvents
from abtool.commands.bandit import BanditColumns
from abtool.engines.polars.schema import error_flag
from abtool.engines.polars.source import collect_each, owned_columns
from abtool.errors import InputError
from abtool.stats.bandit_estimates import PropensitySums
from abtool.stats.descriptive import quantiles_ignoring_nan

REWARD = "__reward"  # the reward as Float64, added by the caller to the rows it passes


def arm_index(column: str, arms: tuple[str, ...]) -> pl.Expr:
    """Each row's position of its arm in ``arms`` (rows are already limited to them)."""
    return (
        pl.col(column)
        .cast(pl.String)
        .replace_strict(list(arms), list(range(len(arms))), default=-1, return_dtype=pl.Int32)
    )


def arm_health(
    frame: pl.LazyFrame,
    name: str,
    columns: BanditColumns,
    dtypes: dict[str, pl.DataType | None],
    arms: tuple[str, ...],
) -> tuple[tuple[ArmHealth, ...], datetime | None, datetime | None]:
    """Requests, errors and latency quantiles of each arm, and the log's time range.

    Args:
        frame: the rows of the analysed arms.
        dtypes: the dtypes of the ``time``, ``latency`` and ``error`` columns (None: absent).
    """
    arm = pl.col(columns.arm).cast(pl.String).alias("arm")
    aggregations = [pl.len().alias("requests")]
    if dtypes["error"] is not None:
        aggregations.append(error_flag(columns.error, dtypes["error"]).sum().alias("errors"))
    if dtypes["time"] is not None:
        aggregations += [
            pl.col(columns.time).min().alias("time_min"),
            pl.col(columns.time).max().alias("time_max"),
        ]
    (table,) = collect_each([frame.group_by(arm).agg(aggregations)], name)
    by_arm = {row["arm"]: row for row in table.iter_rows(named=True)}
    quantiles = _latency(frame, name, columns, arms, int(table["requests"].sum()))
    health = tuple(
        ArmHealth(
            name=a,
            requests=int(by_arm.get(a, {}).get("requests", 0)),
            errors=int(by_arm.get(a, {}).get("errors") or 0)
            if dtypes["error"] is not None
            else None,
            latency_p50_ms=quantiles.get(a, {}).get("p50"),
            latency_p99_ms=quantiles.get(a, {}).get("p99"),
            others_latency_p99_ms=quantiles.get(a, {}).get("others_p99"),
        )
        for a in arms
    )
    times_min = [r["time_min"] for r in by_arm.values() if r.get("time_min") is not None]
    times_max = [r["time_max"] for r in by_arm.values() if r.get("time_max") is not None]
    return health, min(times_min, default=None), max(times_max, default=None)


def _latency(
    frame: pl.LazyFrame, name: str, columns: BanditColumns, arms: tuple[str, ...], rows: int
) -> dict[str, dict[str, float | None]]:
    """p50 and p99 of each arm's latency and p99 of the other arms' rows pooled."""
    if columns.latency not in frame.collect_schema():
        return {}
    latency, index = owned_columns(
        frame,
        [pl.col(columns.latency).cast(pl.Float64), arm_index(columns.arm, arms)],
        name,
        rows,
    )
    out: dict[str, dict[str, float | None]] = {}
    for k, a in enumerate(arms):
        mine = index == k
        own = quantiles_ignoring_nan(latency[mine], {"p50": 0.5, "p99": 0.99})
        others = quantiles_ignoring_nan(latency[~mine], {"p99": 0.99})
        out[a] = {**_finite(own), "others_p99": _finite(others)["p99"]}
    return out


def _finite(values: dict[str, float]) -> dict[str, float | None]:
    return {k: (float(v) if v == v else None) for k, v in values.items()}


def _check_propensities(frame: pl.LazyFrame, name: str, column: str) -> None:
    """Every propensity is a number in (0, 1].

    Raises:
        InputError: naming the column and how many rows are not.
    """
    pi = pl.col(column).cast(pl.Float64)
    bad = pi.is_null() | pi.is_nan() | (pi <= 0.0) | (pi > 1.0)
    (table,) = collect_each([frame.select(bad.sum().alias("bad"))], name)
    count = int(table["bad"][0] or 0)
    if count:
        raise InputError(
            f"{name}: column '{column}' has {count:,} row(s) without a propensity in (0, 1]"
        )


def propensity_sums(
    frame: pl.LazyFrame,
    name: str,
    columns: BanditColumns,
    arm: str,
    reward: str,
    arms: tuple[str, ...],
) -> tuple[PropensitySums, ...]:
    """Each arm's inverse-propensity sums over its rows (``w = 1 / pi``,
    ``c = (1 - pi) w**2``), as :func:`abtool.stats.bandit_estimates.propensity_sums`.

    Raises:
        InputError: a propensity is missing or outside (0, 1].
    """
    _check_propensities(frame, name, columns.propensity)
    pi = pl.col(columns.propensity).cast(pl.Float64)
    y = pl.col(reward)
    w = 1.0 / pi
    c = (1.0 - pi) * w * w
    query = frame.group_by(arm).agg(
        pl.len().alias("pulls"),
        w.sum().alias("sum_w"),
        (w * y).sum().alias("sum_wy"),
        c.sum().alias("sum_c"),
        (c * y).sum().alias("sum_cy"),
        (c * y * y).sum().alias("sum_cy2"),
    )
    (table,) = collect_each([query], name)
    rows: dict[str, dict[str, Any]] = {r[arm]: r for r in table.iter_rows(named=True)}
    empty = {"pulls": 0, "sum_w": 0.0, "sum_wy": 0.0, "sum_c": 0.0, "sum_cy": 0.0, "sum_cy2": 0.0}
    return tuple(
        PropensitySums(
            pulls=int(rows.get(a, empty)["pulls"]),
            sum_w=float(rows.get(a, empty)["sum_w"]),
            sum_wy=float(rows.get(a, empty)["sum_wy"]),
            sum_c=float(rows.get(a, empty)["sum_c"]),
            sum_cy=float(rows.get(a, empty)["sum_cy"]),
            sum_cy2=float(rows.get(a, empty)["sum_cy2"]),
        )
        for a in arms
    )


def replay_events(
    frame: pl.LazyFrame,
    name: str,
    columns: BanditColumns,
    has_propensity: bool,
    arms: tuple[str, ...],
    rows: int,
    request: BanditRequest,
) -> ReplayEvents:
    """The rows with a reward in time order (ties by arm index, reward, propensity, then
    contexts): arm index, reward, propensity, contexts.

    Raises:
        InputError: more rows than ``request.replay_max_events``, a context value missing, or
            a propensity outside (0, 1].
    """
    if rows > request.replay_max_events:
        raise InputError(
            f"{name}: --replay reads at most {request.replay_max_events:,} rows and the log has "
            f"{rows:,} (raise --replay-max-events or narrow the log with --since/--until)"
        )
    contexts = list(columns.contexts)
    if contexts:
        nulls = [pl.col(c).cast(pl.Float64).is_null().sum().alias(c) for c in contexts]
        nulls += [pl.col(c).cast(pl.Float64).is_nan().sum().alias(f"{c}__nan") for c in contexts]
        (table,) = collect_each([frame.select(nulls)], name)
        for c in contexts:
            count = int(table[c][0]) + int(table[f"{c}__nan"][0])
            if count:
                raise InputError(
                    f"{name}: column '{c}' has {count:,} missing value(s); --replay needs a "
                    "context value in every row"
                )
    if has_propensity:
        _check_propensities(frame, name, columns.propensity)
    exprs = [arm_index(columns.arm, arms), pl.col(REWARD)]
    if has_propensity:
        exprs.append(pl.col(columns.propensity).cast(pl.Float64))
    exprs += [pl.col(c).cast(pl.Float64) for c in contexts]
    # Rows of the same time in a stated order (every engine's): arm, reward, propensity,
    # contexts; the order files are read in is no order at all on a cluster.
    ordered = frame.sort([pl.col(columns.time), *exprs])
    values = owned_columns(ordered, exprs, name, rows)
    arm_values, rewards = values[0].astype(np.intp), values[1]
    propensities = values[2] if has_propensity else None
    first_context = 3 if has_propensity else 2
    context_values = np.column_stack(values[first_context:]) if contexts else None
    return ReplayEvents(arm_values, rewards, propensities, context_values)
