"""bandit-report on Spark: the Polars engine's steps (:mod:`abtool.engines.polars.bandit`) as
Spark queries, filling the same :class:`BanditData`.

1. the per-arm first pass (rows, missing rewards, binary or not, range, rows without a period
   or unit): a few rows per arm, turned into arms and exclusions by the Polars engine's own
   :func:`~abtool.engines.polars.bandit.arms_of`;
2. per (period, arm) sums, per unit first with a unit column: a small table turned into the
   cells by :func:`~abtool.engines.polars.bandit.period_cells`; time periods are buckets of
   microseconds since 1970 UTC (UTC midnight-aligned, as Polars truncates);
3. per-arm health: requests, errors, time range; latency p50/p99 of each arm and p99 of the
   other arms pooled, exact from bucket counts (:mod:`abtool.engines.spark.grouped_buckets`);
4. propensity sums per arm; with ``--replay`` the rows in time order (ties by arm, reward,
   propensity, contexts, as on Polars) through Arrow, capped by ``--replay-max-events``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from abtool.aggregates.bandit import ArmHealth, BanditData, BanditRequest, ReplayEvents
from abtool.commands.bandit import BanditColumns
from abtool.engines.polars.bandit import ARM, PERIOD, _check_schema, _Schema, arms_of, period_cells
from abtool.engines.spark.grouped_buckets import (
    GROUP,
    VALUE,
    GroupedBuckets,
    quantiles_of_views,
)
from abtool.engines.spark.prepare import prepared, read_notes
from abtool.engines.spark.source import (
    SparkSource,
    arrow_columns,
    cached,
    col,
    collect_row,
    collect_rows,
)
from abtool.engines.spark.times import micros, python_time, time_filter
from abtool.engines.spark.values import count_if, error_flag, missing_value
from abtool.errors import InputError
from abtool.stats.bandit_estimates import PropensitySums

Progress = Callable[[str], None] | None
REWARD = "__reward"


def aggregate_bandit(
    source: SparkSource,
    columns: BanditColumns,
    request: BanditRequest,
    progress: Progress = None,
    array_cap: int = 0,
) -> BanditData:
    """Validate the schema, then reduce the log to bandit-report's aggregates.

    Raises:
        InputError: as the Polars engine.
    """
    source = prepared(source, time=columns.time, time_unit=request.time_unit, ids=[columns.unit])
    schema = _check_schema(source, columns, request)  # type: ignore[arg-type]
    optional_columns = [
        (columns.period, schema.period),
        (columns.time, schema.time),
        (columns.unit, schema.unit),
        (columns.propensity, schema.propensity),
        (columns.latency, schema.latency),
        (columns.error, schema.error),
    ]
    needed = [columns.arm, columns.reward]
    needed += [c for c, dtype in optional_columns if dtype is not None]
    needed += list(columns.contexts) if request.replay else []
    scanned = source.scan(needed)
    if schema.time is not None:
        window = time_filter(columns.time, schema.time, request.since, request.until)
        if window is not None:
            scanned = scanned.where(window)
    with cached(scanned) as scanned:
        if progress:
            progress("Scanning the log for arms")
        rows, arms, excluded, reward = _first_pass(scanned, source.name, columns, schema, request)
        period_key, period_dtype, period_source = _period_key(columns, schema, request)
        arm_text = col(columns.arm).cast("string")
        selected = scanned.where(arm_text.isin(*arms))
        usable = ~missing_value(columns.reward, schema.reward) & period_key.isNotNull()
        if schema.unit is not None:
            usable = usable & col(columns.unit).isNotNull()
        rewarded = selected.where(usable).withColumns(
            {
                ARM: arm_text,
                PERIOD: period_key,
                REWARD: col(columns.reward).cast("double"),
            }
        )
        if progress:
            progress("Summing rewards per period and arm")
        cells, multi = _cells(rewarded, source.name, columns, schema, arms, period_dtype)
        if progress:
            progress("Arm health")
        health, time_min, time_max = _health(
            selected, source.name, columns, schema, arms, array_cap
        )
        sums = None
        if request.propensity_sums:
            sums = _propensity_sums(rewarded, source.name, columns, arms)
        events = None
        if request.replay:
            if progress:
                progress("Reading rows for replay")
            events = _replay_events(
                rewarded, source.name, columns, schema, arms, int(cells.sum_y.sum()), request
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


def _without_nan(value: Column) -> Column:
    """``value`` with NaN as null: Spark's min/max rank NaN above every number, Polars'
    leave it out."""
    return F.when(~F.isnan(value), value)


def _first_pass(
    frame: DataFrame, name: str, columns: BanditColumns, schema: _Schema, request: BanditRequest
) -> tuple[int, tuple[str, ...], dict[str, int], dict[str, Any]]:
    missing = missing_value(columns.reward, schema.reward)
    value = col(columns.reward).cast("double")
    no_period = col(columns.period if schema.period is not None else columns.time).isNull()
    aggregations = [
        F.count(F.lit(1)).alias("rows"),
        count_if(missing).alias("missing_reward"),
        count_if(~missing & (value != 0.0) & (value != 1.0)).alias("non_binary"),
        F.min(_without_nan(value)).alias("min"),
        F.max(_without_nan(value)).alias("max"),
        count_if(~missing & no_period).alias("no_period"),
    ]
    if schema.unit is not None:
        nulls = ~missing & ~no_period & col(columns.unit).isNull()
        aggregations.append(count_if(nulls).alias("no_unit"))
    query = frame.groupBy(col(columns.arm).cast("string").alias("arm")).agg(*aggregations)
    found = collect_rows(query, name)
    names = ["arm", "rows", "missing_reward", "non_binary", "min", "max", "no_period"]
    names += ["no_unit"] if schema.unit is not None else []
    by_arm = pl.DataFrame(
        {key: [row[key] for row in found] for key in names},
        schema={
            key: pl.String if key == "arm" else (pl.Float64 if key in ("min", "max") else pl.Int64)
            for key in names
        },
    )
    return arms_of(by_arm, name, columns, schema.period is not None, request)


def _period_key(
    columns: BanditColumns, schema: _Schema, request: BanditRequest
) -> tuple[Column, pl.DataType | None, str]:
    """Each row's period, the time type its values stand for (None: the period column's own
    values), and where periods come from (in words)."""
    if schema.period is not None:
        return col(columns.period), None, f"column '{columns.period}'"
    assert schema.time is not None
    width = max(1, round(request.period_hours * 3_600_000_000))
    stamp = micros(columns.time, schema.time)
    # Floor to a multiple of the width (Polars' truncate), exact in integers.
    bucket = stamp - F.pmod(stamp, F.lit(width))
    zone = getattr(schema.time, "time_zone", None)
    dtype = pl.Datetime("us", "UTC" if zone is not None else None)
    return bucket, dtype, f"{request.period_hours:g}h buckets of '{columns.time}'"


def _cells(
    frame: DataFrame,
    name: str,
    columns: BanditColumns,
    schema: _Schema,
    arms: tuple[str, ...],
    period_dtype: pl.DataType | None,
) -> tuple[Any, int]:
    if schema.unit is not None:
        per_unit = frame.groupBy(PERIOD, ARM, col(columns.unit)).agg(
            F.sum(REWARD).alias("x"), F.count(F.lit(1)).cast("double").alias("y")
        )
    else:
        per_unit = frame.select(PERIOD, ARM, F.col(REWARD).alias("x"), F.lit(1.0).alias("y"))
    x, y = F.col("x"), F.col("y")
    query = per_unit.groupBy(PERIOD, ARM).agg(
        F.count(F.lit(1)).alias("pulls"),
        F.sum(x).alias("sum_x"),
        F.sum(x * x).alias("sum_x2"),
        F.sum(y).alias("sum_y"),
        F.sum(y * y).alias("sum_y2"),
        F.sum(x * y).alias("sum_xy"),
        count_if(y > 1).alias("multi"),
    )
    found = collect_rows(query, name)
    keys = ["pulls", "sum_x", "sum_x2", "sum_y", "sum_y2", "sum_xy", "multi"]
    periods = [row[PERIOD] for row in found]
    if period_dtype is not None:
        periods = [python_time(p, period_dtype) for p in periods]
    table = pl.DataFrame(
        {
            PERIOD: periods,
            ARM: [row[ARM] for row in found],
            **{key: [row[key] for row in found] for key in keys},
        },
        strict=False,
    )
    return period_cells(table, name, columns, schema.unit is not None, arms)


def _health(
    frame: DataFrame,
    name: str,
    columns: BanditColumns,
    schema: _Schema,
    arms: tuple[str, ...],
    array_cap: int,
) -> tuple[tuple[ArmHealth, ...], datetime | None, datetime | None]:
    arm = col(columns.arm).cast("string")
    aggregations = [F.count(F.lit(1)).alias("requests")]
    if schema.error is not None:
        aggregations.append(count_if(error_flag(columns.error, schema.error)).alias("errors"))
    if schema.time is not None:
        stamp = micros(columns.time, schema.time)
        aggregations += [F.min(stamp).alias("time_min"), F.max(stamp).alias("time_max")]
    if schema.latency is not None:
        latency = col(columns.latency).cast("double")
        aggregations.append(count_if(latency.isNotNull() & ~F.isnan(latency)).alias("latencies"))
    found = collect_rows(frame.groupBy(arm.alias("arm")).agg(*aggregations), name)
    by_arm = {row["arm"]: row.asDict() for row in found}
    quantiles = {}
    if schema.latency is not None:
        sizes = [int(by_arm.get(a, {}).get("latencies") or 0) for a in arms]
        quantiles = _latency(frame, name, columns, arms, array_cap, sizes)
    health = tuple(
        ArmHealth(
            name=a,
            requests=int(by_arm.get(a, {}).get("requests", 0)),
            errors=int(by_arm.get(a, {}).get("errors") or 0) if schema.error is not None else None,
            latency_p50_ms=quantiles.get(a, {}).get("p50"),
            latency_p99_ms=quantiles.get(a, {}).get("p99"),
            others_latency_p99_ms=quantiles.get(a, {}).get("others_p99"),
        )
        for a in arms
    )
    if schema.time is None:
        return health, None, None
    lows = [r["time_min"] for r in by_arm.values() if r.get("time_min") is not None]
    highs = [r["time_max"] for r in by_arm.values() if r.get("time_max") is not None]
    return (
        health,
        python_time(min(lows, default=None), schema.time),
        python_time(max(highs, default=None), schema.time),
    )


def _latency(
    frame: DataFrame,
    name: str,
    columns: BanditColumns,
    arms: tuple[str, ...],
    cap: int,
    sizes: list[int],
) -> dict[str, dict[str, float | None]]:
    """p50 and p99 of each arm's latency and p99 of the other arms' rows pooled (exact)."""
    index = F.lit(-1)
    for k, a in reversed(list(enumerate(arms))):
        index = F.when(col(columns.arm).cast("string") == F.lit(a), F.lit(k)).otherwise(index)
    long = frame.select(index.alias(GROUP), col(columns.latency).cast("double").alias(VALUE))
    grouped = GroupedBuckets(long.where(F.col(GROUP) >= 0), len(arms), name, cap, sizes)
    out: dict[str, dict[str, float | None]] = {}
    views = [([k], [g for g in range(len(arms)) if g != k]) for k in range(len(arms))]
    found_all = quantiles_of_views(grouped, views, {"p50": 0.5, "p99": 0.99})
    for a, found in zip(arms, found_all, strict=True):
        own, others = found.a, found.b
        out[a] = {
            "p50": _finite(own["p50"]),
            "p99": _finite(own["p99"]),
            "others_p99": _finite(others["p99"]),
        }
    return out


def _finite(value: float) -> float | None:
    return float(value) if value == value else None


def _check_propensities(frame: DataFrame, name: str, column: str) -> None:
    pi = col(column).cast("double")
    bad = pi.isNull() | F.isnan(pi) | (pi <= 0.0) | (pi > 1.0)
    count = int(collect_row(frame.agg(count_if(bad).alias("bad")), name)["bad"])
    if count:
        raise InputError(
            f"{name}: column '{column}' has {count:,} row(s) without a propensity in (0, 1]"
        )


def _propensity_sums(
    frame: DataFrame, name: str, columns: BanditColumns, arms: tuple[str, ...]
) -> tuple[PropensitySums, ...]:
    _check_propensities(frame, name, columns.propensity)
    pi = col(columns.propensity).cast("double")
    y = F.col(REWARD)
    w = F.lit(1.0) / pi
    c = (F.lit(1.0) - pi) * w * w
    query = frame.groupBy(ARM).agg(
        F.count(F.lit(1)).alias("pulls"),
        F.sum(w).alias("sum_w"),
        F.sum(w * y).alias("sum_wy"),
        F.sum(c).alias("sum_c"),
        F.sum(c * y).alias("sum_cy"),
        F.sum(c * y * y).alias("sum_cy2"),
    )
    rows = {row[ARM]: row for row in collect_rows(query, name)}
    sums = []
    for a in arms:
        row = rows.get(a)
        if row is None:
            sums.append(PropensitySums(0, 0.0, 0.0, 0.0, 0.0, 0.0))
            continue
        sums.append(
            PropensitySums(
                pulls=int(row["pulls"]),
                sum_w=float(row["sum_w"]),
                sum_wy=float(row["sum_wy"]),
                sum_c=float(row["sum_c"]),
                sum_cy=float(row["sum_cy"]),
                sum_cy2=float(row["sum_cy2"]),
            )
        )
    return tuple(sums)


def _replay_events(
    frame: DataFrame,
    name: str,
    columns: BanditColumns,
    schema: _Schema,
    arms: tuple[str, ...],
    rows: int,
    request: BanditRequest,
) -> ReplayEvents:
    if rows > request.replay_max_events:
        raise InputError(
            f"{name}: --replay reads at most {request.replay_max_events:,} rows and the log has "
            f"{rows:,} (raise --replay-max-events or narrow the log with --since/--until)"
        )
    contexts = list(columns.contexts)
    if contexts:
        found = collect_row(
            frame.agg(
                *[
                    count_if(col(c).cast("double").isNull() | F.isnan(col(c).cast("double"))).alias(
                        f"c{i}"
                    )
                    for i, c in enumerate(contexts)
                ]
            ),
            name,
        )
        for i, c in enumerate(contexts):
            if int(found[f"c{i}"]):
                raise InputError(
                    f"{name}: column '{c}' has {int(found[f'c{i}']):,} missing value(s); "
                    "--replay needs a context value in every row"
                )
    has_propensity = schema.propensity is not None
    if has_propensity:
        _check_propensities(frame, name, columns.propensity)
    index = F.lit(-1)
    for k, a in reversed(list(enumerate(arms))):
        index = F.when(F.col(ARM) == F.lit(a), F.lit(k)).otherwise(index)
    values = [index.alias("arm"), F.col(REWARD).alias("reward")]
    if has_propensity:
        values.append(col(columns.propensity).cast("double").alias("propensity"))
    values += [col(c).cast("double").alias(f"context{i}") for i, c in enumerate(contexts)]
    assert schema.time is not None
    keys = [micros(columns.time, schema.time).alias("__time"), *values]
    ordered = frame.select(keys).orderBy(
        "__time",
        "arm",
        "reward",
        *(["propensity"] if has_propensity else []),
        *[f"context{i}" for i in range(len(contexts))],
    )
    table = arrow_columns(ordered, name)
    arm_values = table["arm"].astype(np.intp)
    rewards = table["reward"].astype(np.float64)
    propensities = table["propensity"].astype(np.float64) if has_propensity else None
    context_values = (
        np.column_stack([table[f"context{i}"].astype(np.float64) for i in range(len(contexts))])
        if contexts
        else None
    )
    return ReplayEvents(arm_values, rewards, propensities, context_values)
