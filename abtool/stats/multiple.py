"""Multiple-testing correction of a family of p-values.

References:
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6, 65-70.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (same as statsmodels ``multipletests(method='holm')``).

    The i-th smallest p-value is multiplied by ``m - i`` (i from 0), running maxima keep the
    adjusted values monotone, and they are capped at 1. Reject where adjusted <= alpha.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]
    adjusted_sorted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    adjusted = np.empty(m, dtype=np.float64)
    adjusted[order] = adjusted_sorted
    return [float(v) for v in adjusted]
