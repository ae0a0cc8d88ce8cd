"""Quantiles from a partition, and per group from in-place sorts: numpy's quantile bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from abtool.stats.descriptive import (
    order_statistic_of_sorted_runs,
    quantile_of_sorted_runs,
    quantiles_by_partition,
)
from abtool.stats.grouped import grouped_quantile, grouped_quantile_in_place

LEVELS = {"p0": 0.0, "p50": 0.5, "p95": 0.95, "p99": 0.99, "p100": 1.0}


def _values(rng: np.random.Generator, n: int) -> np.ndarray:
    values = np.round(rng.lognormal(3.0, 0.6, n), 1)  # latency-like, with ties
    values[rng.uniform(size=n) < 0.04] = np.nan
    values[:3] = 0.0
    return values


@pytest.mark.parametrize("n", [1, 2, 7, 1_000, 50_001])
def test_partition_gives_numpys_quantiles_of_the_present_values(n: int) -> None:
    rng = np.random.default_rng(n)
    values = _values(rng, n)
    present = values[~np.isnan(values)]
    found = quantiles_by_partition(values.copy(), LEVELS)
    for key, q in LEVELS.items():
        if len(present):
            assert found[key] == float(np.quantile(present, q))  # bit for bit
        else:
            assert np.isnan(found[key])


def test_partition_of_only_missing_values_is_nan() -> None:
    found = quantiles_by_partition(np.full(5, np.nan), {"p50": 0.5})
    assert np.isnan(found["p50"])


@pytest.mark.parametrize("in_order", [True, False], ids=["slices", "shuffled"])
def test_in_place_per_group_quantile_equals_the_copying_one(in_order: bool) -> None:
    rng = np.random.default_rng(3)
    n, groups = 30_000, 12
    codes = rng.integers(0, groups + 1, n).astype(np.uint16)  # code `groups`: no group
    codes[codes == 5] = groups  # a group without rows
    if in_order:
        codes.sort()
    values = _values(rng, n)
    expected = grouped_quantile(values.copy(), codes, groups, 0.99)
    for g in range(groups):
        mine = values[(codes == g) & ~np.isnan(values)]
        assert (np.isnan(expected[g]) and not len(mine)) or expected[g] == np.quantile(mine, 0.99)
    found = grouped_quantile_in_place(values, codes, groups, 0.99)
    np.testing.assert_array_equal(found, expected)
    # Then the whole column's quantiles from the bucket-sorted array, as from the original.
    whole = quantiles_by_partition(values, LEVELS)
    present = values[~np.isnan(values)]
    assert whole == {key: float(np.quantile(present, q)) for key, q in LEVELS.items()}


@pytest.mark.parametrize("seed", range(40))
def test_quantile_of_sorted_runs_is_numpys_quantile_of_their_union(seed: int) -> None:
    """Runs of any lengths (empty ones too), values with many ties and zeros shared across
    runs: every rank and the report's levels, against a sort of the union."""
    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(int(rng.integers(1, 6))):
        n = int(rng.choice([0, 1, 2, 5, 100, 3_001]))
        values = _values(rng, n)
        runs.append(np.sort(values[~np.isnan(values)]))
    union = np.sort(np.concatenate(runs))
    if not len(union):
        assert np.isnan(quantile_of_sorted_runs(runs, 0.5))
        return
    for rank in {0, len(union) - 1, *rng.integers(0, len(union), 20).tolist()}:
        assert order_statistic_of_sorted_runs(runs, rank) == union[rank]
    for q in LEVELS.values():
        assert quantile_of_sorted_runs(runs, q) == float(np.quantile(union, q))  # bit for bit


def test_order_statistic_outside_the_values_is_an_error() -> None:
    runs = [np.array([1.0, 2.0]), np.array([], dtype=np.float64)]
    with pytest.raises(IndexError):
        order_statistic_of_sorted_runs(runs, 2)
