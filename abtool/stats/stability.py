"""Population stability index (PSI) of one distribution against a reference, on shared bins.

``PSI = sum_i (a_i - e_i) * ln(a_i / e_i)`` over bins ``i``, where ``e_i`` and ``a_i`` are the
shares of the reference ("expected") and the compared ("actual") sample in bin ``i``. It is
Jeffreys' J-divergence of the binned distributions, ``KL(a || e) + KL(e || a)``, so it is
symmetric and zero only when every bin holds the same share of both samples.

Bins. Scores are cut at the reference's deciles (``bins`` quantile bins: each holds about
``1/bins`` of the reference), the convention of credit-scoring practice (Siddiqi 2006) and of
Yurdakul (2018); both samples are counted on the same edges. Class labels use one bin per
label. A bin that one sample leaves empty would make the index infinite; its share is raised
to ``EMPTY_SHARE`` (1e-4), as monitoring tools commonly do, so a disjoint bin adds a large but
finite term.

Reading (Siddiqi 2006, Yurdakul 2018): below 0.1 no significant shift, 0.1 to 0.25 a moderate
shift worth a look, 0.25 and above a major shift.

References:
    Jeffreys, H. (1946). An invariant form for the prior probability in estimation problems.
    Proceedings of the Royal Society A 186, 453-461.
    Siddiqi, N. (2006). Credit Risk Scorecards, chapter 8. Wiley.
    Yurdakul, B. (2018). Statistical properties of population stability index. Dissertation,
    Western Michigan University.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from abtool.stats.descriptive import quantile_sorted

EMPTY_SHARE = 1e-4
MODERATE = 0.1
MAJOR = 0.25


@dataclass(frozen=True)
class StabilityIndex:
    """PSI of an actual sample against a reference, with the bins it was computed on.

    Attributes:
        psi: the population stability index (>= 0).
        reading: "no significant shift" (< 0.1), "moderate shift" (< 0.25) or "major shift".
        edges: interior cut points of the score bins (empty for class labels): bin ``i``
            holds values in ``(edges[i-1], edges[i]]``, the first and last are open-ended.
        labels: the class label of each bin (empty for scores).
        expected: reference share of each bin.
        actual: compared sample's share of each bin.
        method: how the bins were made, in words.
    """

    psi: float
    reading: str
    edges: list[float]
    labels: list[str]
    expected: list[float]
    actual: list[float]
    method: str


def psi_from_shares(
    expected: Sequence[float] | NDArray[np.float64], actual: Sequence[float] | NDArray[np.float64]
) -> float:
    """PSI of two share vectors over the same bins (empty shares raised to EMPTY_SHARE)."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), EMPTY_SHARE)
    a = np.maximum(np.asarray(actual, dtype=np.float64), EMPTY_SHARE)
    return float(np.sum((a - e) * np.log(a / e)))


def reading(psi: float) -> str:
    """The usual reading of a PSI value."""
    if psi < MODERATE:
        return "no significant shift"
    if psi < MAJOR:
        return "moderate shift"
    return "major shift"


def psi_sorted(
    reference: NDArray[np.float64], actual: NDArray[np.float64], bins: int = 10
) -> StabilityIndex:
    """PSI of ``actual`` against ``reference`` on the reference's quantile bins.

    Args:
        reference: the reference sample (the serving model's scores), ascending, no NaN.
        actual: the compared sample (the candidate's scores), ascending, no NaN.
        bins: number of quantile bins (10: deciles). Tied quantiles (discrete scores) merge
            their bins, so there may be fewer.

    Raises:
        ValueError: a sample is empty or ``bins`` < 2.
    """
    if len(reference) == 0 or len(actual) == 0:
        raise ValueError("both samples must be non-empty")
    if bins < 2:
        raise ValueError("bins must be at least 2")
    edges, counts_reference, counts_actual = quantile_bin_counts(reference, actual, bins)
    return psi_binned(edges, counts_reference, counts_actual, bins)


def quantile_bin_counts(
    reference: NDArray[np.float64], actual: NDArray[np.float64], bins: int
) -> tuple[list[float], NDArray[np.int64], NDArray[np.int64]]:
    """The PSI's bins: interior cuts at the reference's ``bins``-quantiles (ties merged), and
    each ascending sample's count per bin."""
    cuts = [quantile_sorted(reference, k / bins) for k in range(1, bins)]
    edges = np.unique(np.asarray(cuts, dtype=np.float64))
    counts = []
    for sample in (reference, actual):
        # Sorted input: counts per bin are differences of insertion points at the edges.
        ends = np.append(np.searchsorted(sample, edges, side="right"), len(sample))
        counts.append(np.diff(ends, prepend=0).astype(np.int64))
    return [float(e) for e in edges], counts[0], counts[1]


def psi_binned(
    edges: Sequence[float],
    reference: Sequence[int] | NDArray[np.int64],
    actual: Sequence[int] | NDArray[np.int64],
    bins: int,
) -> StabilityIndex:
    """PSI from counts per bin on the reference's quantile cuts ``edges`` (ties merged), as
    :func:`psi_sorted` computes them; an engine that keeps the scores counts them itself.

    Args:
        edges: interior cut points (``len(edges) + 1`` bins; bin ``i`` holds
            ``(edges[i-1], edges[i]]``).
        reference, actual: values per bin of each sample.
        bins: the quantile bins asked for (``bins``-quantiles), named in ``method``.
    """
    shares = [np.asarray(c, dtype=np.float64) / float(np.sum(c)) for c in (reference, actual)]
    psi = psi_from_shares(shares[0], shares[1])
    return StabilityIndex(
        psi=psi,
        reading=reading(psi),
        edges=[float(e) for e in edges],
        labels=[],
        expected=[float(v) for v in shares[0]],
        actual=[float(v) for v in shares[1]],
        method=f"{len(edges) + 1} bins at the reference's {bins}-quantiles",
    )


def psi_counts(
    labels: Sequence[str], reference: Sequence[int], actual: Sequence[int]
) -> StabilityIndex:
    """PSI of class-label counts (one bin per label) of ``actual`` against ``reference``.

    Raises:
        ValueError: a sample has no count, or the lengths differ.
    """
    e = np.asarray(reference, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.shape != a.shape or len(labels) != len(e):
        raise ValueError("labels and both count vectors must have the same length")
    if e.sum() <= 0 or a.sum() <= 0:
        raise ValueError("both samples must be non-empty")
    psi = psi_from_shares(e / e.sum(), a / a.sum())
    return StabilityIndex(
        psi=psi,
        reading=reading(psi),
        edges=[],
        labels=list(labels),
        expected=[float(v) for v in e / e.sum()],
        actual=[float(v) for v in a / a.sum()],
        method="one bin per label",
    )
