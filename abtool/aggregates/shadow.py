"""The aggregates of a shadow log that shadow-report needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from abtool.aggregates.hygiene import ReadNotes
from abtool.results.shadow import SegmentDisagreement


@dataclass(frozen=True)
class ShadowRequest:
    """What to aggregate: the decision threshold, segments and time window.

    ``time_unit`` reads an epoch-number time column (``auto``: by magnitude; see
    :mod:`abtool.engines.polars.timecol`). ``ks`` is ``exact`` or ``approximate`` (KS D left
    at its bucket-count bounds when they decide ``D <= ks_limit``, the distribution_shift
    threshold); ``histogram_bins`` the bins of the score histogram.
    """

    threshold: float
    segments: tuple[str, ...] | None
    top: int
    min_segment_rows: int
    since: datetime | None = None
    until: datetime | None = None
    time_unit: str = "auto"
    ks: str = "exact"
    ks_limit: float | None = None
    histogram_bins: int = 10


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
    """Everything shadow-report takes from the sorted scores, computed without handing them:
    the KS D (``ks_low == ks_high``) or, with ``--ks approximate``, bounds that decide the
    check; each model's summary; the shared histogram; the scores' range.

    An engine fills it when it keeps the scores (more than its array cap); from sorted
    arrays, :func:`abtool.reports.shadow_scores.score_figures` computes the same.
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
    ks_exact: bool = True
    """False when ``ks_low``/``ks_high`` are bounds (``--ks approximate``), even equal ones."""


@dataclass(frozen=True)
class ShadowData:
    """Everything the shadow report needs, reduced from the log.

    Attributes:
        mode: "score" (float predictions) or "label" (class labels).
        rows: rows in the window.
        valid_rows: rows with both predictions and a time.
        excluded: rows left out of the comparison, by reason.
        latency: latency quantiles by model ("primary"/"shadow") and key (``p50_ms`` ...).
        segments: the most disagreeing values of each segment column.
        segments_left_out: values per segment column under ``min_segment_rows``.
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
    agreement_rate: float
    mean_abs_disagreement: float
    shadow_errors: int | None
    latency: dict[str, dict[str, float]]
    segments: dict[str, list[SegmentDisagreement]]
    segments_left_out: dict[str, int]
    primary_sorted: NDArray[np.float64] = field(repr=False)
    shadow_sorted: NDArray[np.float64] = field(repr=False)
    score_figures: ScoreFigures | None = None
    label_counts: dict[str, tuple[list[str], list[int], list[int]]] = field(default_factory=dict)
    read_notes: ReadNotes = field(default_factory=ReadNotes)
    dropped_copies: int = 0
