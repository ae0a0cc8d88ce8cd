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
    :mod:`abtool.engines.polars.timecol`).
    """

    threshold: float
    segments: tuple[str, ...] | None
    top: int
    min_segment_rows: int
    since: datetime | None = None
    until: datetime | None = None
    time_unit: str = "auto"


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
        primary_sorted: valid primary scores, ascending (score mode).
        shadow_sorted: valid shadow scores, ascending (score mode).
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
    label_counts: dict[str, tuple[list[str], list[int], list[int]]] = field(default_factory=dict)
    read_notes: ReadNotes = field(default_factory=ReadNotes)
    dropped_copies: int = 0
