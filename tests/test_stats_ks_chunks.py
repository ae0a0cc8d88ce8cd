"""KS statistic and gap location on sorted samples, cut into chunks: scipy's D, and the
smallest value where the ECDFs differ by D, for ties within and across the samples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from abtool.stats import ks


def _smallest_gap_location(a: np.ndarray, b: np.ndarray) -> tuple[int, float]:
    """By definition: the gap |n2 * #a<=x - n1 * #b<=x| at every value of either sample."""
    values = np.unique(np.concatenate([a, b]))
    gaps = np.abs(
        np.searchsorted(a, values, "right") * len(b) - np.searchsorted(b, values, "right") * len(a)
    )
    at = int(np.argmax(gaps))
    return int(gaps[at]), float(values[at])


@given(
    st.lists(st.integers(-12, 12), min_size=1, max_size=80),
    st.lists(st.integers(-12, 12), min_size=1, max_size=80),
    st.sampled_from([1, 2, 3, 5, 16, 10_000]),
    st.sampled_from([1, 2, 3]),
)
@settings(max_examples=300, deadline=None)
def test_statistic_and_location_with_shared_values(
    a: list[int], b: list[int], chunk: int, workers: int
) -> None:
    x = np.sort(np.array(a, dtype=float) / 3)
    y = np.sort(np.array(b, dtype=float) / 3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ks, "_CHUNK", chunk)
        d, location = ks.ks_statistic_location_sorted(x, y, workers=workers)
    gap, smallest = _smallest_gap_location(x, y)
    assert d == gap / (len(x) * len(y))
    with np.errstate(divide="ignore"):  # scipy's p-value of tiny samples; D is unaffected
        expected = stats.ks_2samp(x, y, method="asymp").statistic
    assert d == pytest.approx(expected, abs=1e-15)
    assert location == smallest


@pytest.mark.parametrize("workers", [1, 2])
def test_large_samples_without_ties_match_scipy(workers: int) -> None:
    rng = np.random.default_rng(7)
    x = np.sort(rng.normal(size=200_000))
    y = np.sort(rng.normal(0.01, 1.02, size=150_000))
    expected = stats.ks_2samp(x, y)
    d, location = ks.ks_statistic_location_sorted(x, y, workers=workers)
    assert d == pytest.approx(expected.statistic, abs=1e-15)
    assert location == expected.statistic_location
