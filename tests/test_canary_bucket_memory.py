"""canary-decide's low-memory timeline steps give what the plain numpy/Polars steps give, bit
for bit: the chunked grouping of the latency column and the (unit, bucket) moments, packed
into one integer key or grouped by two columns."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import abtool.engines.polars.canary_buckets as cb
from abtool.engines.polars.canary_bucket_columns import (
    bucket_sum_columns,
    column_bucket_moments,
    columns_fit,
)
from abtool.engines.polars.canary_roles import TREATED
from abtool.stats.ratio_series import bucket_moments, cumulative_moments


@pytest.mark.parametrize(("rows", "groups"), [(0, 3), (1, 3), (12_345, 7), (5_000, 1)])
def test_grouped_is_the_stable_argsort_gather(monkeypatch, rows, groups):
    monkeypatch.setattr(cb, "_GROUP_CHUNK", 1000)  # many chunks, groups split across them
    rng = np.random.default_rng(rows)
    values = rng.random(rows)
    key = rng.integers(0, groups + 1, rows).astype(np.int16)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=groups + 1))])
    expected = values[np.argsort(key, kind="stable")][: bounds[groups]]
    assert cb._grouped(values, key, bounds).tobytes() == expected.tobytes()


def _frame(units: int, rows: int, count: int, seed: int) -> pl.LazyFrame:
    rng = np.random.default_rng(seed)
    unit = rng.integers(-50, units - 50, rows)
    value = rng.exponential(2.0, rows)
    value[rng.random(rows) < 0.05] = np.nan  # unusable values are left out of the sums
    return pl.DataFrame(
        {
            "unit": unit,
            cb.BUCKET: rng.integers(0, count, rows).astype(np.int32),
            TREATED: (unit % 3 == 0) | (rng.random(rows) < 0.01),  # a few mixed units
            "m": value,
        }
    ).lazy()


def _report_moments(entries, count):
    """The moments as the report computes them from ``Timeline.primary``."""
    result = {}
    for treated in (False, True):
        mine = entries.treated == treated
        b, x, y = entries.bucket[mine], entries.x[mine], entries.y[mine]
        result[(treated, True)] = cumulative_moments(
            b, x, y, entries.cum_x[mine], entries.cum_y[mine], entries.first[mine], count
        )
        result[(treated, False)] = bucket_moments(b, x, y, count)
    return result


@pytest.mark.parametrize("packed", [False, True])
def test_unit_bucket_moments_equal_the_report_moments(packed):
    count = 9
    frame = _frame(units=400, rows=20_000, count=count, seed=3)
    rows = frame.collect()
    mixed = rows.group_by("unit").agg(pl.col(TREATED).n_unique() > 1).filter(pl.col(TREATED))
    inconsistent = mixed.select("unit")
    assert inconsistent.height > 0
    dtype = pl.Float64()
    plain = frame.pipe(cb.unit_bucket_table, "unit", "m", dtype).collect()
    entries = cb.unit_buckets(plain.join(inconsistent, on="unit", how="anti"), "unit")
    expected = _report_moments(entries, count)
    key = cb.UnitBucketKey.fitting(pl.Int64(), rows["unit"].min(), rows["unit"].max(), count)
    assert key is not None
    # The same sums (a second group-by could add a group's floats in another order), in
    # another row order, grouped by the packed key or by the two columns.
    table = plain.sample(fraction=1.0, shuffle=True, seed=5)
    if packed:
        table = table.select(key.expr("unit"), "x", "y", TREATED)
    got = cb.unit_bucket_moments([table], inconsistent, "unit", count, key if packed else None)
    assert got.keys() == expected.keys()
    for k, moments in expected.items():
        for field in ("units", "sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy"):
            assert getattr(got[k], field).tobytes() == getattr(moments, field).tobytes(), k


def test_packed_key_groups_as_the_two_columns():
    frame = _frame(units=300, rows=5_000, count=5, seed=8)
    key = cb.UnitBucketKey(-50, 5)
    dtype = pl.Float64()
    plain = cb.unit_bucket_table(frame, "unit", "m", dtype).collect()
    packed = cb.unit_bucket_table(frame, "unit", "m", dtype, key).collect()
    expected = plain.select(key.expr("unit"), "y", TREATED).sort(pl.all())
    assert packed.select(expected.columns).sort(pl.all()).equals(expected)


def test_unit_bucket_key_refuses_what_could_overflow_or_is_not_an_integer():
    assert cb.UnitBucketKey.fitting(pl.String(), "a", "b", 3) is None
    assert cb.UnitBucketKey.fitting(pl.UInt64(), 2**63, 2**63 + 5, 3) is None
    assert cb.UnitBucketKey.fitting(pl.Int64(), 0, 2**61, 4) is None
    assert cb.UnitBucketKey.fitting(pl.Int64(), -5, 5, 4) == cb.UnitBucketKey(-5, 4)


@pytest.mark.parametrize("integer_metric", [False, True], ids=["float", "integer"])
def test_bucket_sums_as_unit_table_columns_give_the_same_moments(integer_metric):
    """A log held in memory with few buckets sums the primary metric per bucket in the unit
    table's own group-by (canary_bucket_columns): the same entries in the same (unit,
    bucket) order, so the same moments (an integer metric's bit for bit; a float metric's
    sums may add a unit's rows in another order: to 1e-12)."""
    count = 4
    frame = _frame(units=400, rows=20_000, count=count, seed=11)
    if integer_metric:
        frame = frame.with_columns(pl.col("m").fill_nan(None).round(0).cast(pl.Int64))
    dtype = frame.collect_schema()["m"]
    rows = frame.collect()
    mixed = rows.group_by("unit").agg(pl.col(TREATED).n_unique() > 1).filter(pl.col(TREATED))
    inconsistent = mixed.select("unit")
    plain = frame.pipe(cb.unit_bucket_table, "unit", "m", dtype).collect()
    entries = cb.unit_buckets(plain.join(inconsistent, on="unit", how="anti"), "unit")
    expected = _report_moments(entries, count)
    consistent = (
        frame.group_by("unit")
        .agg(pl.col(TREATED).max(), *bucket_sum_columns("m", dtype, count))
        .join(inconsistent.lazy(), on="unit", how="anti")
        .sort("unit")
        .collect()
    )
    got = column_bucket_moments(consistent, count)
    assert got.keys() == expected.keys()
    for k, moments in expected.items():
        assert got[k].units.tobytes() == moments.units.tobytes(), k
        for field in ("sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy"):
            found, want = getattr(got[k], field), getattr(moments, field)
            if integer_metric:
                assert found.tobytes() == want.tobytes(), (k, field)
            else:
                np.testing.assert_allclose(found, want, rtol=1e-12, err_msg=f"{k} {field}")


def test_bucket_sums_are_columns_only_for_few_buckets_within_the_budget():
    """At most 8 buckets, and their columns within 640 MiB even if every row were a unit."""
    assert columns_fit(2, 10_000_000)  # the benchmark's 10M-row, two-day log
    assert columns_fit(5, 10_000_000) and not columns_fit(6, 10_000_000)
    assert columns_fit(8, 1_000_000) and not columns_fit(9, 1_000_000)
