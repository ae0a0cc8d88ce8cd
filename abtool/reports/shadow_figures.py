"""shadow-report's figures beyond the whole-log ones: segment tests, time buckets, ECDF, PSI.

Each function turns aggregates into statistics records (and the test results the checks
read); none reads a log or decides a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from abtool.aggregates.shadow import ScoreFigures, ShadowData, ShadowTimeline
from abtool.commands.shadow import ShadowThresholds
from abtool.reports.shadow_scores import ECDF_LEVELS
from abtool.results.shadow import Ecdf, SegmentDisagreement, StabilityBins, Timeline
from abtool.stats.segments import SegmentAgreement, SegmentAgreementRule
from abtool.stats.spikes import (
    QuantileSpike,
    QuantileSpikeRule,
    RateSpike,
    RateSpikeRule,
    worst_quantile,
    worst_rate,
)
from abtool.stats.stability import StabilityIndex


@dataclass(frozen=True)
class SegmentFinding:
    """One tested segment value and its test."""

    column: str
    value: str | None
    test: SegmentAgreement

    @property
    def label(self) -> str:
        return f"{self.column}={'(null)' if self.value is None else self.value}"


@dataclass(frozen=True)
class SpikeFindings:
    """The spike tests of every bucket: rates by kind ("errors", "timeouts") and p99."""

    rates: dict[str, list[RateSpike]] = field(default_factory=dict)
    latency: list[QuantileSpike] = field(default_factory=list)

    def failing_rates(self) -> list[tuple[str, RateSpike]]:
        return [(kind, s) for kind, found in self.rates.items() for s in found if s.failed]

    def worst_rate(self) -> tuple[str, RateSpike] | None:
        """The failing bucket with the highest rate over all kinds (else the highest)."""
        candidates = [(kind, worst_rate(found)) for kind, found in self.rates.items()]
        ranked = [(k, s) for k, s in candidates if s is not None]
        if not ranked:
            return None
        return max(ranked, key=lambda item: (item[1].failed, item[1].rate))


def segment_figures(
    data: ShadowData, limits: ShadowThresholds, top: int
) -> tuple[dict[str, list[SegmentDisagreement]], list[SegmentFinding]]:
    """Each segment column's listed values (the ``top`` most disagreeing, and every failing
    one), and the test of every value with enough rows (one Holm family)."""
    rule = SegmentAgreementRule(
        limits.segment_agreement, limits.segment_agreement_gap, limits.segment_agreement_alpha
    )
    columns = [(c, t) for c, t in data.segments.items()]
    rows = np.concatenate([t.rows for _, t in columns]) if columns else np.empty(0, np.int64)
    agreements = (
        np.concatenate([t.agreements for _, t in columns]) if columns else np.empty(0, np.int64)
    )
    tests = rule.evaluate(rows.tolist(), agreements.tolist(), data.valid_rows, data.agreements)
    findings: list[SegmentFinding] = []
    listed: dict[str, list[SegmentDisagreement]] = {}
    offset = 0
    for column, table in columns:
        entries = []
        for j, value in enumerate(table.values):
            test = tests[offset + j]
            findings.append(SegmentFinding(column, value, test))
            entries.append(
                SegmentDisagreement(
                    value=value,
                    rows=int(table.rows[j]),
                    mean_abs_disagreement=float(table.disagreement_sums[j] / table.rows[j]),
                    agreement_rate=test.agreement_rate,
                    rest_agreement_rate=test.rest_agreement_rate,
                    agreement_pvalue=test.adjusted_pvalue,
                    ks_statistic=float(table.distances[j]),
                    failed=test.failed,
                    ks_rows=_sampled(table.distance_rows, j, int(table.rows[j])),
                )
            )
        offset += len(table.values)
        # Most disagreeing first; ties broken by rows then value, so every run lists alike.
        entries.sort(
            key=lambda e: (-e.mean_abs_disagreement, -e.rows, e.value is None, e.value or "")
        )
        shown = entries[:top] + [e for e in entries[top:] if e.failed]
        listed[column] = shown
    return listed, findings


def _sampled(rows: NDArray[np.int64] | None, j: int, total: int) -> int | None:
    """The rows a value's KS D used, where a sample of them (None: all of them)."""
    if rows is None or rows[j] == 0 or rows[j] >= total:
        return None
    return int(rows[j])


def spike_findings(data: ShadowData, limits: ShadowThresholds) -> SpikeFindings:
    """The error/timeout and p99 spike tests of every bucket (none with fewer than 2)."""
    timeline = data.timeline
    if timeline is None or len(timeline.starts) < 2:
        return SpikeFindings()
    rule = RateSpikeRule(limits.error_spike, limits.error_spike_floor, limits.error_spike_alpha)
    kinds = {
        kind: (counts, total)
        for kind, counts, total in (
            ("errors", timeline.errors, data.shadow_errors),
            ("timeouts", timeline.timeouts, data.timeouts),
        )
        if counts is not None and total is not None
    }
    tested = int(np.count_nonzero(timeline.requests > 0)) * len(kinds)
    served = data.rows - data.dropped_copies  # identical copies of a request were dropped
    rates = {
        kind: rule.evaluate(counts.tolist(), timeline.requests.tolist(), total / served, tested)
        for kind, (counts, total) in kinds.items()
    }
    latency: list[QuantileSpike] = []
    if "shadow" in timeline.latency_p99:
        quantile_rule = QuantileSpikeRule(limits.latency_spike, limits.latency_spike_min_requests)
        latency = quantile_rule.evaluate(
            timeline.latency_p99["shadow"].tolist(), timeline.requests.tolist()
        )
    return SpikeFindings(rates, latency)


def timeline_record(timeline: ShadowTimeline, spikes: SpikeFindings) -> Timeline:
    """The JSON timeline: rates per bucket and the buckets that failed."""
    requests = timeline.requests

    def rate(counts: NDArray[np.int64] | None) -> list[float | None]:
        if counts is None:
            return [None] * len(requests)
        return [float(c / n) if n else None for c, n in zip(counts, requests, strict=True)]

    error_buckets = sorted({s.index for _, s in spikes.failing_rates()})
    latency_buckets = [s.index for s in spikes.latency if s.failed]
    flagged: int | None = None
    worst = spikes.worst_rate()
    if worst is not None and worst[1].failed:
        flagged = worst[1].index
    elif latency_buckets:
        slowest = worst_quantile(spikes.latency)
        flagged = slowest.index if slowest is not None else None
    timeouts = rate(timeline.timeouts) if timeline.timeouts is not None else None
    return Timeline(
        bucket=timeline.bucket,
        start=list(timeline.starts),
        requests=[int(n) for n in requests],
        shadow_error_rate=rate(timeline.errors),
        latency_p99_ms={
            role: [float(v) for v in p99] for role, p99 in timeline.latency_p99.items()
        },
        flagged_bucket=flagged,
        error_spike_buckets=error_buckets,
        latency_spike_buckets=latency_buckets,
        timeout_rate=timeouts,
    )


def ecdf_from_figures(figures: ScoreFigures) -> Ecdf:
    """Both models' quantiles at the ECDF levels, and the ECDFs where D is reached."""
    return Ecdf(
        probabilities=[float(q) for q in np.linspace(0.0, 1.0, ECDF_LEVELS)],
        primary=figures.ecdf_primary,
        shadow=figures.ecdf_shadow,
        ks_x=figures.ks_location,
        ks_cdf_primary=figures.ks_cdf_primary,
        ks_cdf_shadow=figures.ks_cdf_shadow,
    )


def stability_bins(index: StabilityIndex) -> StabilityBins:
    """The JSON record of the PSI's bins."""
    return StabilityBins(
        method=index.method,
        primary=index.expected,
        shadow=index.actual,
        edges=index.edges if not index.labels else None,
        labels=index.labels or None,
    )
