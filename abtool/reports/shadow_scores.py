"""shadow-report's figures of the two models' scores, from sorted arrays or from an engine.

An engine hands the valid scores sorted (:attr:`ShadowData.primary_sorted`), or, when it keeps
them (more than its array cap), the figures themselves (:class:`ScoreFigures`, from bucket
counts: exact KS D and quantiles without a global sort, :mod:`abtool.stats.bucketed`). Both
give the same numbers: this module computes the figures from the arrays with the same
functions the report always used, and the KS test from D alone (the two samples are the
same compared rows, so ``n1 == n2`` and the p-value depends on D and n only).

``--ks approximate`` stops at the bounds of D from one counting pass when they decide the
distribution_shift check (``D <= limit`` is true, or false, anywhere between them), on every
engine; when the limit lies between them, D is computed exactly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from abtool.aggregates.shadow import ScoreFigures, ScoreSummary
from abtool.stats.bucket_source import ArrayBucketSource
from abtool.stats.bucketed import ks_bounds
from abtool.stats.descriptive import quantile_sorted, shared_histogram, summarize_sorted
from abtool.stats.ks import KSResult, ks_2samp_sorted, ks_equal_sizes
from abtool.stats.stability import quantile_bin_counts

ECDF_LEVELS = 101

BOUNDS_METHOD = "bounds from bucket counts (--ks approximate)"


def score_figures(
    primary: NDArray[np.float64],
    shadow: NDArray[np.float64],
    bins: int,
    ks: str = "exact",
    limit: float | None = None,
    psi_bins: int = 10,
) -> tuple[ScoreFigures, KSResult | None]:
    """The figures of two ascending samples of valid scores, and their KS test (None when
    approximate bounds decide the check)."""
    edges, (hist_p, hist_s) = shared_histogram([primary, shadow], bins)
    test = None
    if ks == "approximate" and limit is not None:
        bounds = ks_bounds(ArrayBucketSource(primary, shadow))
        low, high = bounds.lower, bounds.upper
        if not bounds.decides(limit):
            test = ks_2samp_sorted(primary, shadow)
            low = high = test.statistic
    else:
        test = ks_2samp_sorted(primary, shadow)
        low = high = test.statistic
    psi_edges, psi_primary, psi_shadow = quantile_bin_counts(primary, shadow, psi_bins)
    levels = np.linspace(0.0, 1.0, ECDF_LEVELS)
    x = test.location if test is not None else None
    figures = ScoreFigures(
        n=len(primary),
        ks_low=low,
        ks_high=high,
        primary=_summary(primary),
        shadow=_summary(shadow),
        histogram_edges=edges,
        histogram_primary=hist_p,
        histogram_shadow=hist_s,
        low=min(float(primary[0]), float(shadow[0])),
        high=max(float(primary[-1]), float(shadow[-1])),
        psi_edges=psi_edges,
        psi_primary=[int(c) for c in psi_primary],
        psi_shadow=[int(c) for c in psi_shadow],
        ecdf_primary=[quantile_sorted(primary, float(q)) for q in levels],
        ecdf_shadow=[quantile_sorted(shadow, float(q)) for q in levels],
        ks_exact=test is not None,
        ks_location=x,
        ks_cdf_primary=_cdf(primary, x),
        ks_cdf_shadow=_cdf(shadow, x),
    )
    return figures, test


def ks_test(figures: ScoreFigures) -> KSResult | None:
    """The KS test of an engine's figures (None when only bounds were computed)."""
    if not figures.ks_exact:
        return None
    return ks_equal_sizes(figures.ks_low, figures.n)


def _summary(values: NDArray[np.float64]) -> ScoreSummary:
    summary = summarize_sorted(values)
    return ScoreSummary(summary.n, summary.mean, summary.p5, summary.p50, summary.p95)


def _cdf(values: NDArray[np.float64], x: float | None) -> float | None:
    """The ECDF of ascending ``values`` at ``x``."""
    if x is None:
        return None
    return float(np.searchsorted(values, x, side="right") / len(values))
