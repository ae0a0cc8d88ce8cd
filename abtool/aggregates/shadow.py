"""The aggregates of a shadow log that shadow-report needs (engine-neutral)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from abtool.aggregates.hygiene import ReadNotes


@dataclass(frozen=True)
class ShadowRequest:
    """What to aggregate: the decision threshold, segments, time window and buckets.

    Attributes:
        bucket: width of the timeline's buckets: a whole number of s, m, h or d (``1h``).
            Buckets are whole multiples of it since the Unix epoch, in UTC (an hourly bucket
            starts on the hour, ``6h`` at 0, 6, 12 and 18 h, ``1d`` at 00:00 UTC); ``none``: no
            timeline.
        timeout_ms: a shadow latency above this counts as a timeout.
        timeout_errors: error codes or messages (compared trimmed, in any case) that count
            as a timeout.
        expected_range: (low, high): count shadow scores outside it.
        segment_ks_rows: a segment value with more compared rows has its KS D computed on an
            evenly spaced sample of this many (bounded time and memory on large logs).
        time_unit: how an epoch-number time column is read (``auto``: by magnitude; see
            :mod:`abtool.engines.polars.timecol`).
        ks: ``exact`` or ``approximate`` (KS D left at its bucket-count bounds when they
            decide ``D <= ks_limit``, the distribution_shift threshold).
        histogram_bins: bins of the score histogram.
        psi_bins: quantile bins of the PSI (an engine that keeps the scores counts them).
    """

    threshold: float
    segments: tuple[str, ...] | None
    top: int
    min_segment_rows: int
    since: datetime | None = None
    until: datetime | None = None
    bucket: str = "1h"
    timeout_ms: float | None = None
    timeout_errors: tuple[str, ...] = ()
    expected_range: tuple[float, float] | None = None
    segment_ks_rows: int = 1_000_000
    time_unit: str = "auto"
    ks: str = "exact"
    ks_limit: float | None = None
    histogram_bins: int = 10
    psi_bins: int = 10

    @property
    def bucket_seconds(self) -> int:
        """The bucket width (ValueError for ``none``)."""
        from abtool.times import bucket_seconds

        return bucket_seconds(self.bucket)


@dataclass(frozen=True)
class ScoreSummary:
    """Mean and quantiles of one model's valid scores."""

    n: int
    mean: float
    p5: float
    p50: float
    p95: float


@dataclass(frozen=True)
class ScoreFigures:
    """Everything shadow-report takes from the sorted scores, computed without handing them.

    An engine fills it when it keeps the scores (more than its array cap); from sorted
    arrays, :func:`abtool.reports.shadow_scores.score_figures` computes the same.

    Attributes:
        n: valid rows (scores per model).
        ks_low, ks_high: the KS D (equal) or, with ``--ks approximate``, bounds that decide
            the check.
        ks_exact: False when ``ks_low``/``ks_high`` are bounds, even equal ones.
        ks_location: a score where D is reached, and each model's ECDF there (None: not
            located, as with bounds).
        primary, shadow: each model's summary.
        histogram_edges, histogram_primary, histogram_shadow: the shared histogram.
        low, high: the smallest and largest valid score of either model.
        psi_edges: inner edges of the PSI's bins (the primary's quantiles, ties merged).
        psi_primary, psi_shadow: scores per PSI bin (``len(psi_edges) + 1`` bins).
        ecdf_primary, ecdf_shadow: each model's quantiles at ``ECDF_LEVELS`` even levels.
    """

    n: int
    ks_low: float
    ks_high: float
    primary: ScoreSummary
    shadow: ScoreSummary
    histogram_edges: list[float]
    histogram_primary: list[int]
    histogram_shadow: list[int]
    low: float
    high: float
    psi_edges: list[float]
    psi_primary: list[int]
    psi_shadow: list[int]
    ecdf_primary: list[float]
    ecdf_shadow: list[float]
    ks_exact: bool = True
    ks_location: float | None = None
    ks_cdf_primary: float | None = None
    ks_cdf_shadow: float | None = None


@dataclass(frozen=True)
class SegmentCounts:
    """The values of one segment column with at least ``min_segment_rows`` compared rows.

    Arrays share the index of ``values`` (in no particular order).

    Attributes:
        values: the column's values as text (None: null).
        rows: compared rows (both predictions and a time present) of each value.
        agreements: rows where both models made the same decision.
        disagreement_sums: sum of ``|primary - shadow|`` (scores) or of mismatches (labels).
        distances: the two models' distribution distance within the value: the KS D for
            scores, the total variation distance for labels (NaN: not computed).
        distance_rows: compared rows the distance was computed on: all of the value's, or an
            evenly spaced sample of a larger value (``ShadowRequest.segment_ks_rows``).
        left_out: values with fewer compared rows (not listed).
    """

    values: list[str | None]
    rows: NDArray[np.int64]
    agreements: NDArray[np.int64]
    disagreement_sums: NDArray[np.float64]
    distances: NDArray[np.float64]
    left_out: int
    distance_rows: NDArray[np.int64] | None = None


@dataclass(frozen=True)
class ShadowTimeline:
    """Requests, failures and p99 latencies per time bucket, in time order.

    Attributes:
        bucket: the width of each bucket (``1h``).
        starts: start of each bucket holding at least one row, in UTC (empty buckets are
            absent).
        requests: rows per bucket (every row with a time, compared or not).
        errors: errored shadow calls per bucket (None: no error column).
        timeouts: shadow calls that timed out per bucket (None: no timeout rule given).
        latency_p99: p99 latency (ms) per bucket by model, NaN where a bucket has none.
    """

    bucket: str
    starts: list[datetime]
    requests: NDArray[np.int64]
    errors: NDArray[np.int64] | None
    timeouts: NDArray[np.int64] | None
    latency_p99: dict[str, NDArray[np.float64]]


@dataclass(frozen=True)
class ShadowData:
    """Everything the shadow report needs, reduced from the log.

    Attributes:
        mode: "score" (float predictions) or "label" (class labels).
        rows: rows in the window.
        valid_rows: rows with both predictions and a time.
        excluded: rows left out of the comparison, by reason.
        agreements: compared rows where both models made the same decision.
        shadow_errors: errored shadow calls (None: no error column).
        timeouts: timed-out shadow calls (None: no timeout rule given).
        latency: latency quantiles by model ("primary"/"shadow") and key (``p50_ms`` ...).
        segments: per segment column, its values with enough rows.
        shadow_scored: rows with a shadow score (for the share outside the expected range).
        outside_range: shadow scores outside the requested range (None: none requested or
            class labels).
        timeline: the log per time bucket (None: no row has a time).
        primary_sorted: valid primary scores, ascending (score mode; empty when the engine
            hands ``score_figures`` instead).
        shadow_sorted: valid shadow scores, ascending (score mode).
        score_figures: what the report takes from the sorted scores, when the engine
            computed it itself.
        label_counts: label mode: (labels, primary counts, shadow counts) under "labels".
        read_notes: values left out of figures (latencies) and what reading assumed.
        dropped_copies: rows dropped as identical copies of a request (in ``rows`` and
            ``excluded``, not in ``shadow_errors``).
    """

    mode: str
    rows: int
    valid_rows: int
    excluded: dict[str, int]
    time_min: datetime | None
    time_max: datetime | None
    agreements: int
    mean_abs_disagreement: float
    shadow_errors: int | None
    latency: dict[str, dict[str, float]]
    segments: dict[str, SegmentCounts]
    primary_sorted: NDArray[np.float64] = field(repr=False)
    shadow_sorted: NDArray[np.float64] = field(repr=False)
    score_figures: ScoreFigures | None = None
    label_counts: dict[str, tuple[list[str], list[int], list[int]]] = field(default_factory=dict)
    timeouts: int | None = None
    shadow_scored: int = 0
    outside_range: int | None = None
    timeline: ShadowTimeline | None = None
    read_notes: ReadNotes = field(default_factory=ReadNotes)
    dropped_copies: int = 0

    @property
    def agreement_rate(self) -> float:
        return self.agreements / self.valid_rows if self.valid_rows else float("nan")
