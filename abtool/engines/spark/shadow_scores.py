"""shadow-report's figures of the valid scores on Spark, above the array cap, without
bringing them back: KS D (or its bounds) and quantiles from one shared counting pass over
bucket counts (:mod:`abtool.stats.bucketed`), means, histogram and PSI bin counts by
aggregation, so no global sort and no column leaves Spark.
"""

from __future__ import annotations

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from abtool.aggregates.shadow import ScoreFigures, ScoreSummary, ShadowRequest
from abtool.engines.spark.source import collect_row
from abtool.engines.spark.values import count_if
from abtool.engines.spark_buckets import SparkBucketSource
from abtool.reports.shadow_scores import ECDF_LEVELS
from abtool.stats.bucketed import exact_ks, exact_quantiles, ks_bounds

SUMMARY_QUANTILES = {"p5": 0.05, "p50": 0.50, "p95": 0.95}


def score_figures(scores: DataFrame, n: int, request: ShadowRequest, name: str) -> ScoreFigures:
    """The report's figures of the valid scores without bringing them back: KS D and the
    quantiles from bucket counts (one shared counting pass), means and histogram counts by
    aggregation over the edges numpy's histogram would use."""
    source = SparkBucketSource.from_columns(scores, "primary", "shadow", paired=False)
    extent = source.extent()
    exact = True
    if request.ks == "approximate" and request.ks_limit is not None:
        bounds = ks_bounds(source, extent=extent)
        low, high, exact = bounds.lower, bounds.upper, False
        if not bounds.decides(request.ks_limit):
            low = high = exact_ks(source, extent=extent).statistic
            exact = True
    else:
        low = high = exact_ks(source, extent=extent).statistic
    psi_levels = {f"psi_{k}": k / request.psi_bins for k in range(1, request.psi_bins)}
    ecdf_levels = {f"ecdf_{i}": float(q) for i, q in enumerate(np.linspace(0, 1, ECDF_LEVELS))}
    quantiles = exact_quantiles(
        source, {**SUMMARY_QUANTILES, **psi_levels, **ecdf_levels}, extent=extent
    )
    # The PSI's bins: the primary's quantile cuts (ties merged), (e[i-1], e[i]] each.
    psi_edges = [float(e) for e in np.unique([quantiles.a[k] for k in psi_levels])]
    value_low, value_high = _value_range(scores, name)
    top = value_high if value_high > value_low else value_low + 1.0
    edges = np.linspace(value_low, top, request.histogram_bins + 1)
    below = [
        count_if(F.col(role) < F.lit(float(edge))).alias(f"{role}_{i}")
        for role in ("primary", "shadow")
        for i, edge in enumerate(edges[:-1])
    ]
    below += [
        count_if(F.col(role) <= F.lit(edge)).alias(f"{role}_psi_{i}")
        for role in ("primary", "shadow")
        for i, edge in enumerate(psi_edges)
    ]
    row = collect_row(
        scores.agg(
            F.avg("primary").alias("mean_primary"), F.avg("shadow").alias("mean_shadow"), *below
        ),
        name,
    )
    histograms = {}
    for role in ("primary", "shadow"):
        positions = [int(row[f"{role}_{i}"]) for i in range(len(edges) - 1)] + [n]
        histograms[role] = [int(c) for c in np.diff(positions)]
        ends = [int(row[f"{role}_psi_{i}"]) for i in range(len(psi_edges))] + [n]
        histograms[f"psi_{role}"] = [int(c) for c in np.diff(ends, prepend=0)]
    return ScoreFigures(
        n=n,
        ks_low=low,
        ks_high=high,
        primary=ScoreSummary(n, float(row["mean_primary"]), *_three(quantiles.a)),
        shadow=ScoreSummary(n, float(row["mean_shadow"]), *_three(quantiles.b)),
        histogram_edges=[float(e) for e in edges],
        histogram_primary=histograms["primary"],
        histogram_shadow=histograms["shadow"],
        low=value_low,
        high=value_high,
        psi_edges=psi_edges,
        psi_primary=histograms["psi_primary"],
        psi_shadow=histograms["psi_shadow"],
        ecdf_primary=[float(quantiles.a[k]) for k in ecdf_levels],
        ecdf_shadow=[float(quantiles.b[k]) for k in ecdf_levels],
        ks_exact=exact,
    )


def _three(found: dict[str, float]) -> tuple[float, float, float]:
    return found["p5"], found["p50"], found["p95"]


def _value_range(scores: DataFrame, name: str) -> tuple[float, float]:
    """The smallest and largest valid score of either model (infinities are not valid)."""
    row = collect_row(
        scores.agg(
            F.least(F.min("primary"), F.min("shadow")).alias("low"),
            F.greatest(F.max("primary"), F.max("shadow")).alias("high"),
        ),
        name,
    )
    return float(row["low"]), float(row["high"])
