"""The recent-window selection of canary-decide: the latest valid predictions, exactly."""

from __future__ import annotations

import numpy as np
import pytest

from abtool.engines.polars import canary_variants as canary


@pytest.mark.parametrize("chunk", [3, 50, 1_000_000])
def test_recent_takes_the_latest_valid_rows(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(canary, "_RECENT_CHUNK", chunk)
    rng = np.random.default_rng(chunk)
    n, window = 500, 40
    stamps = rng.integers(0, 60, n)  # many ties, including at the cut-off
    predictions = rng.uniform(size=n)
    valid = rng.uniform(size=n) > 0.1
    got = np.sort(canary._recent(predictions, stamps, valid, window))
    # Brute force: order valid rows by time, then prediction (both latest/largest first),
    # take `window`.
    rows = sorted((i for i in range(n) if valid[i]), key=lambda i: (-stamps[i], -predictions[i]))
    expected = np.sort(predictions[rows[:window]])
    assert len(got) == window
    np.testing.assert_array_equal(got, expected)


def test_recent_short_logs_take_every_eligible_row() -> None:
    predictions = np.arange(6, dtype=float)
    stamps = np.array([1, 2, 3, 4, 5, 6])
    eligible = np.array([True, False, True, False, True, True])
    got = canary._recent(predictions, stamps, eligible, window=10)
    np.testing.assert_array_equal(np.sort(got), [0.0, 2.0, 4.0, 5.0])
    got = canary._recent(predictions, stamps, eligible, window=2)
    np.testing.assert_array_equal(np.sort(got), [4.0, 5.0])
