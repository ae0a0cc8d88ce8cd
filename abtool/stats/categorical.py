"""Comparing two distributions of class labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelShift:
    """Total variation distance between two label distributions, with a chi-square test."""

    distance: float
    pvalue: float
    method: str


def total_variation(counts_a: Sequence[int], counts_b: Sequence[int]) -> float:
    """Total variation distance of two label distributions given as counts (same order):
    half the L1 distance of their shares, the largest difference in probability the two give
    to any set of labels (the categorical analogue of the KS statistic)."""
    a = np.asarray(counts_a, dtype=np.float64)
    b = np.asarray(counts_b, dtype=np.float64)
    return float(0.5 * np.abs(a / a.sum() - b / b.sum()).sum())


def label_shift(counts_a: Sequence[int], counts_b: Sequence[int]) -> LabelShift:
    """Total variation distance (half the L1 distance of the label shares) and the
    chi-square test of homogeneity of the 2 x k contingency table.

    The distance is the categorical analogue of the KS statistic: the largest difference in
    probability the two distributions give to any set of labels.

    Args:
        counts_a: count of each label in the first sample.
        counts_b: count of each label in the second sample, same label order.
    """
    from scipy import stats

    a = np.asarray(counts_a, dtype=np.float64)
    b = np.asarray(counts_b, dtype=np.float64)
    distance = total_variation(counts_a, counts_b)
    table = np.vstack([a, b])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return LabelShift(distance, 1.0, "chi-square homogeneity (one label only)")
    result = stats.chi2_contingency(table, correction=False)
    return LabelShift(distance, float(result.pvalue), "chi-square homogeneity")
