"""Sample-ratio mismatch: do the units per variant match the configured split?

A chi-square goodness-of-fit test of the observed unit counts against the expected shares,
as ``scipy.stats.chisquare``. A tiny p-value means assignment or logging is broken, and every
comparison between the variants is suspect.

References:
    Fabijan, A., Gupchup, J., Gupta, S., et al. (2019). Diagnosing Sample Ratio Mismatch in
    Online Controlled Experiments. KDD 2019, 2156-2164.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SRMResult:
    """Observed vs expected allocation, chi-square statistic and p-value."""

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    chi2: float
    pvalue: float


def sample_ratio_mismatch(observed: Sequence[int], expected_shares: Sequence[float]) -> SRMResult:
    """Chi-square goodness of fit of counts to shares.

    Args:
        observed: units per variant.
        expected_shares: the intended share of each variant (normalised to sum to 1).

    Raises:
        ValueError: on mismatched lengths, no units, or a non-positive share.
    """
    # The statistic and ``chdtrc`` are what scipy.stats.chisquare computes (same digits),
    # without the second of import time scipy.stats costs.
    from scipy import special

    counts = np.asarray(observed, dtype=np.float64)
    shares = np.asarray(expected_shares, dtype=np.float64)
    if counts.shape != shares.shape or counts.ndim != 1 or len(counts) < 2:
        raise ValueError("observed and expected_shares must list the same >= 2 variants")
    if counts.sum() <= 0:
        raise ValueError("no units observed")
    if np.any(shares <= 0):
        raise ValueError("every expected share must be positive")
    expected = counts.sum() * shares / shares.sum()
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    return SRMResult(
        tuple(int(c) for c in observed),
        tuple(float(e) for e in expected),
        chi2,
        float(special.chdtrc(len(counts) - 1, chi2)),
    )
