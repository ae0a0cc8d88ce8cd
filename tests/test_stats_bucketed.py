"""Bucketed KS D and quantiles equal the sorted-merge D and numpy.quantile exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from abtool.stats.bucket_cells import Cells, InconsistentSourceError, scaled_gap
from abtool.stats.bucket_source import (
    ArrayBucketSource,
    BucketCounts,
    DyadicGrid,
    Extent,
    ValueRange,
)
from abtool.stats.bucketed import (
    exact_ks,
    exact_quantiles,
    ks_bounds,
    quantile_bounds,
)
from abtool.stats.ks import ks_statistic_sorted

QUANTILES = {"p0": 0.0, "p1": 0.01, "p50": 0.5, "p95": 0.95, "p99": 0.99, "p100": 1.0}

any_float = st.floats(allow_nan=True, allow_infinity=True, width=64)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
# Few distinct values, dyadic so that many sit exactly on grid edges, plus -0.0/0.0 and inf.
tied_value = st.sampled_from([-np.inf, -3.0, -0.5, -0.0, 0.0, 0.25, 1.0, 1.0 + 2**-52, 2.0, np.inf])
samples = st.lists(any_float, min_size=1, max_size=60)
tied = st.lists(tied_value, min_size=1, max_size=200)
buckets = st.integers(min_value=3, max_value=40)
budget = st.sampled_from([0, 5, 1_000_000])


def _reference_d(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return ks_statistic_sorted(np.sort(a[~np.isnan(a)]), np.sort(b[~np.isnan(b)]), workers=1)


def _np_quantile(values: np.ndarray, q: float) -> float:
    with np.errstate(invalid="ignore"):  # inf - inf inside numpy's interpolation
        return float(np.quantile(values, q))


def _same(x: float, y: float) -> bool:
    return (math.isnan(x) and math.isnan(y)) or x == y


def _has_values(a: list[float]) -> bool:
    return any(not math.isnan(x) for x in a)


class TestDyadicGrid:
    @given(st.integers(-1074, 1000), st.integers(-(2**40), 2**40), st.integers(1, 50), finite)
    def test_bucket_of_is_a_binary_search_over_the_edges(self, exponent, first, count, x):
        try:
            grid = DyadicGrid(exponent, first, count)
        except ValueError:
            assume(False)
        edges = grid.edges()
        values = np.array([x, -x, *edges, *np.nextafter(edges, -np.inf), -0.0, np.inf, -np.inf])
        assert (grid.bucket_of(values) == np.searchsorted(edges, values, side="right")).all()

    @given(finite, finite, st.integers(3, 70_000))
    def test_covering_grid_spans_the_range_with_exact_edges(self, x, y, max_buckets):
        low, high = min(x, y), max(x, y)
        grid = DyadicGrid.covering(low, high, max_buckets)
        edges = grid.edges()
        assert grid.count <= max_buckets
        assert np.isfinite(edges).all()
        # Strictly around the range, unless no double lies beyond it on the grid.
        with np.errstate(over="ignore"):
            assert edges[0] <= low or np.isinf(np.ldexp(grid.first - 1.0, grid.exponent))
            assert high < edges[-1] or np.isinf(np.ldexp(grid.first + grid.count, grid.exponent))
        assert (np.diff(edges) > 0).all()
        # Each edge is an integer times 2**exponent, exactly.
        assert (
            np.ldexp(edges, -grid.exponent) == np.arange(grid.first, grid.first + grid.count)
        ).all()

    def test_wide_ranges_and_subnormals(self):
        for low, high in [(-1.7e308, 1.7e308), (5e-324, 1e-322), (-5e-324, 0.0), (1e300, 1e300)]:
            edges = DyadicGrid.covering(low, high, 1000).edges()
            assert edges[0] <= low and high < edges[-1]


class TestExactKS:
    @settings(max_examples=300, deadline=None)
    @given(samples, samples, buckets, budget)
    def test_equals_sorted_merge_on_random_floats(self, a, b, max_buckets, fetch_budget):
        if not (_has_values(a) and _has_values(b)):
            return
        result = exact_ks(
            ArrayBucketSource(np.array(a), np.array(b)),
            max_buckets=max_buckets,
            fetch_budget=fetch_budget,
        )
        assert result.statistic == _reference_d(a, b)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(tied, tied, buckets, budget)
    def test_equals_sorted_merge_on_heavily_tied_data(self, a, b, max_buckets, fetch_budget):
        source = ArrayBucketSource(np.array(a), np.array(b))
        result = exact_ks(source, max_buckets=max_buckets, fetch_budget=fetch_budget)
        assert result.statistic == _reference_d(a, b)

    @settings(max_examples=50, deadline=None)
    @given(st.integers(0, 2**32 - 1), st.integers(2, 3000), st.integers(2, 3000))
    def test_equals_sorted_merge_on_rounded_continuous_data(self, seed, n_a, n_b):
        rng = np.random.default_rng(seed)
        a = np.round(rng.lognormal(3, 1, n_a), 1)  # latencies logged to 0.1 ms: ties
        b = np.round(rng.lognormal(3.05, 1, n_b), 1)
        for max_buckets, fetch_budget in [(64, 0), (4096, 100), (65536, 10**6)]:
            result = exact_ks(
                ArrayBucketSource(a, b), max_buckets=max_buckets, fetch_budget=fetch_budget
            )
            assert result.statistic == _reference_d(a, b)

    def test_agrees_with_scipy(self):
        from scipy import stats

        rng = np.random.default_rng(3)
        a, b = rng.normal(size=5000), rng.standard_t(5, size=7000)
        expected = stats.ks_2samp(a, b).statistic
        assert exact_ks(ArrayBucketSource(a, b)).statistic == pytest.approx(expected, abs=1e-15)

    def test_fetches_few_values_on_smooth_data(self):
        rng = np.random.default_rng(11)
        a, b = rng.normal(size=200_000), rng.normal(0.02, 1.0, size=200_000)
        result = exact_ks(ArrayBucketSource(a, b))
        assert result.statistic == _reference_d(a, b)
        assert result.effort.passes == 1
        assert result.effort.fetched < 0.02 * (len(a) + len(b))

    def test_ties_fetch_nothing(self):
        rng = np.random.default_rng(5)
        a = rng.integers(0, 5, 100_000).astype(float)
        b = rng.integers(0, 6, 100_000).astype(float)
        result = exact_ks(ArrayBucketSource(a, b))
        assert result.statistic == _reference_d(a, b)
        assert result.effort.fetched == 0

    def test_refines_before_fetching_a_crowded_bucket(self):
        # Nearly all mass sits in a sliver of the range: the first grid is too coarse there.
        rng = np.random.default_rng(8)
        a = np.concatenate([rng.normal(0, 1e-6, 50_000), [1e6]])
        b = np.concatenate([rng.normal(1e-8, 1e-6, 50_000), [-1e6]])
        result = exact_ks(ArrayBucketSource(a, b), max_buckets=1024, fetch_budget=2_000)
        assert result.statistic == _reference_d(a, b)
        assert result.effort.passes > 1
        assert result.effort.fetched <= 2_000

    def test_empty_sample_is_an_error(self):
        with pytest.raises(ValueError, match="non-empty"):
            exact_ks(ArrayBucketSource(np.array([1.0]), np.array([np.nan])))


class TestBounds:
    @settings(max_examples=200, deadline=None)
    @given(st.one_of(samples, tied), st.one_of(samples, tied), buckets)
    def test_bounds_enclose_d(self, a, b, max_buckets):
        if not (_has_values(a) and _has_values(b)):
            return
        bounds = ks_bounds(ArrayBucketSource(np.array(a), np.array(b)), max_buckets=max_buckets)
        d = _reference_d(a, b)
        assert bounds.lower <= d <= bounds.upper
        assert bounds.decides(bounds.lower - 1e-9) and bounds.decides(bounds.upper)
        if bounds.lower < bounds.upper:
            assert not bounds.decides(bounds.lower)

    def test_bounds_are_tight_on_a_fine_grid(self):
        rng = np.random.default_rng(2)
        a, b = rng.normal(size=100_000), rng.normal(0.1, 1, size=100_000)
        bounds = ks_bounds(ArrayBucketSource(a, b))
        assert bounds.upper - bounds.lower < 2e-3

    @settings(max_examples=200, deadline=None)
    @given(st.one_of(samples, tied), buckets)
    def test_quantile_bounds_enclose_numpy(self, a, max_buckets):
        values = np.array(a)
        values = values[~np.isnan(values)]
        bounds = quantile_bounds(
            ArrayBucketSource(values, values), QUANTILES, max_buckets=max_buckets
        )
        for key, q in QUANTILES.items():
            if len(values) == 0:
                assert math.isnan(bounds.low_a[key])
                continue
            expected = _np_quantile(values, q)
            if not math.isnan(expected):
                assert bounds.low_a[key] <= expected <= bounds.high_a[key]


class TestExactQuantiles:
    @settings(max_examples=300, deadline=None)
    @given(st.one_of(samples, tied), st.one_of(samples, tied, st.just([])), buckets, budget)
    def test_equal_numpy_quantile_bit_for_bit(self, a, b, max_buckets, fetch_budget):
        source = ArrayBucketSource(np.array(a, float), np.array(b, float))
        result = exact_quantiles(
            source, QUANTILES, max_buckets=max_buckets, fetch_budget=fetch_budget
        )
        for sample, got in ((a, result.a), (b, result.b)):
            values = np.array(sample, float)
            values = values[~np.isnan(values)]
            for key, q in QUANTILES.items():
                expected = _np_quantile(values, q) if len(values) else math.nan
                assert _same(got[key], float(expected)), (key, got[key], expected)

    def test_fetches_a_few_buckets_on_smooth_data(self):
        rng = np.random.default_rng(4)
        a, b = rng.lognormal(3, 0.4, 300_000), rng.lognormal(3.1, 0.4, 300_000)
        result = exact_quantiles(ArrayBucketSource(a, b), {"p50": 0.5, "p95": 0.95, "p99": 0.99})
        for key, q in {"p50": 0.5, "p95": 0.95, "p99": 0.99}.items():
            assert result.a[key] == np.quantile(a, q) and result.b[key] == np.quantile(b, q)
        assert result.effort.fetched < 2_000


class LyingSource(ArrayBucketSource):
    """Counts one value too many in the first non-empty bucket."""

    def counts(self, grid: DyadicGrid) -> BucketCounts:
        counts = super().counts(grid)
        first = int(np.flatnonzero(counts.counts_a)[0])
        counts.counts_a[first] += 1
        return counts


class KnownExtent(ArrayBucketSource):
    """A source whose extent the caller already knows: asking for it again is a bug."""

    def extent(self) -> Extent:
        raise AssertionError("extent asked for although it was given")


def test_a_given_extent_saves_the_pass():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=3000), rng.normal(size=2000)
    extent = ArrayBucketSource(a, b).extent()
    source = KnownExtent(a, b)
    assert exact_ks(source, extent=extent).statistic == _reference_d(a, b)
    assert ks_bounds(source, extent=extent).lower <= _reference_d(a, b)
    assert exact_quantiles(source, {"p50": 0.5}, extent=extent).a["p50"] == np.quantile(a, 0.5)


class TestConsistencyChecks:
    def test_counts_that_do_not_add_up_are_refused(self):
        rng = np.random.default_rng(0)
        with pytest.raises(InconsistentSourceError):
            exact_ks(LyingSource(rng.normal(size=100), rng.normal(size=100)))

    def test_refinement_that_disagrees_is_refused(self):
        source = ArrayBucketSource(np.array([0.1, 0.2, 0.7]), np.array([0.3]))
        grid = DyadicGrid.covering(0.1, 0.7, 4)
        cells = Cells.from_counts(grid, source.counts(grid), 3, 1)
        finer = DyadicGrid.covering(0.1, 0.7, 64)
        other = ArrayBucketSource(np.array([0.1, 0.6, 0.7]), np.array([0.3]))
        with pytest.raises(InconsistentSourceError):
            cells.refine(finer, other.counts(finer))

    def test_extent_and_ranges(self):
        source = ArrayBucketSource(np.array([np.nan, -np.inf, 2.0]), np.array([np.inf]))
        assert source.extent() == Extent(2, 1, 2.0, 2.0)
        a, b = source.values([ValueRange(None, 0.0), ValueRange(2.0, None)])
        assert list(a) == [-np.inf, 2.0] and list(b) == [np.inf]


def test_scaled_gap_is_exact_past_int64():
    n_a, n_b = 3 * 10**9, 4 * 10**9 + 7  # the product exceeds 2**63
    cum_a = np.array([0, 123_456_789_012, n_a], dtype=np.int64)
    cum_b = np.array([0, 1_234_567_890, n_b], dtype=np.int64)
    expected = [int(x) * n_b - int(y) * n_a for x, y in zip(cum_a, cum_b, strict=True)]
    assert list(scaled_gap(cum_a, cum_b, n_a, n_b)) == expected
