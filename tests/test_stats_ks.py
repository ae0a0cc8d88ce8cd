"""KS statistic on sorted samples: equal to scipy for ties, chunk boundaries and any input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from abtool.stats import ks
from abtool.stats.descriptive import quantile_sorted, shared_histogram


@given(
    st.lists(st.integers(-20, 20), min_size=1, max_size=60),
    st.lists(st.integers(-20, 20), min_size=1, max_size=60),
)
@settings(max_examples=200, deadline=None)
def test_statistic_equals_scipy_with_ties(a: list[int], b: list[int]) -> None:
    # The statistic, not the p-value, is compared: the asymptotic method computes the same D
    # without warning that its exact p-value could not be computed.
    x = np.sort(np.array(a, dtype=float) / 4)
    y = np.sort(np.array(b, dtype=float) / 4)
    with np.errstate(divide="ignore"):  # scipy's p-value of tiny samples; D is unaffected
        expected = stats.ks_2samp(x, y, method="asymp").statistic
    assert ks.ks_statistic_sorted(x, y) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("chunk", [1, 2, 7, 1000])
def test_chunked_merge_equals_scipy(
    monkeypatch: pytest.MonkeyPatch, chunk: int, workers: int
) -> None:
    rng = np.random.default_rng(chunk)
    x = np.sort(np.round(rng.normal(size=3_000), 1))
    y = np.sort(np.round(rng.normal(0.05, 1.1, size=2_000), 1))
    monkeypatch.setattr(ks, "_CHUNK", chunk)
    expected = stats.ks_2samp(x, y).statistic
    assert ks.ks_statistic_sorted(x, y, workers=workers) == pytest.approx(expected, abs=1e-15)


def test_disjoint_samples_give_one() -> None:
    x = np.arange(5, dtype=float)
    y = np.arange(10, 20, dtype=float)
    assert ks.ks_statistic_sorted(x, y) == 1.0
    assert ks.ks_statistic_sorted(y, x) == 1.0


@pytest.mark.parametrize(("n1", "n2"), [(40, 55), (10_000, 9_000), (12_000, 30_000)])
def test_pvalue_and_method_follow_scipy(n1: int, n2: int) -> None:
    rng = np.random.default_rng(n1)
    x = np.sort(rng.normal(size=n1))
    y = np.sort(rng.normal(0.03, size=n2))
    result = ks.ks_2samp_sorted(x, y)
    expected = stats.ks_2samp(x, y)
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-15)
    assert result.pvalue == pytest.approx(expected.pvalue, rel=1e-10)
    assert result.method == ("exact" if max(n1, n2) <= 10_000 else "asymptotic")


def test_empty_sample_rejected() -> None:
    with pytest.raises(ValueError):
        ks.ks_statistic_sorted(np.array([]), np.array([1.0]))


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.floats(0, 1))
def test_quantile_sorted_equals_numpy(values: list[float], q: float) -> None:
    x = np.sort(np.array(values))
    assert quantile_sorted(x, q) == np.quantile(x, q)  # bit for bit


def test_shared_histogram_equals_numpy() -> None:
    rng = np.random.default_rng(1)
    a = np.sort(rng.normal(size=1_000))
    b = np.sort(rng.normal(0.5, size=800))
    edges, (ca, cb) = shared_histogram([a, b], bins=12)
    assert ca == np.histogram(a, bins=edges)[0].tolist()
    assert cb == np.histogram(b, bins=edges)[0].tolist()
    assert edges[0] == min(a[0], b[0]) and edges[-1] == max(a[-1], b[-1])
