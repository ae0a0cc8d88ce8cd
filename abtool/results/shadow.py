"""shadow-report's statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from abtool.records import Record, optional_key


@dataclass(frozen=True)
class PredictionSummary(Record):
    """Mean and quantiles of one model's predictions."""

    n: int
    mean: float
    p5: float
    p50: float
    p95: float


@dataclass(frozen=True)
class Histogram(Record):
    """Counts of both models' predictions over shared equal-width bins."""

    edges: list[float]
    primary: list[int]
    shadow: list[int]


@dataclass(frozen=True)
class LabelCounts(Record):
    """How often each class label was predicted by each model."""

    values: list[str]
    primary: list[int]
    shadow: list[int]


@dataclass(frozen=True)
class SegmentDisagreement(Record):
    """Disagreement within one value of a segment column."""

    value: str | None
    rows: int
    mean_abs_disagreement: float


@dataclass(frozen=True)
class LatencyQuantiles(Record):
    """Latency quantiles of one model, in milliseconds."""

    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class ShadowStats(Record):
    """Everything shadow-report measured (the JSON ``stats`` object).

    ``decision_threshold``, ``predictions`` and ``histogram`` exist for scores, ``labels`` for
    class labels. With ``--ks approximate``, ``ks_bounds`` ([low, high]) may stand for the KS
    D (then ``ks_statistic`` and ``ks_pvalue`` are null) when they decide the check.
    ``excluded_values`` (present when any) counts latency values left out of the quantiles by
    reason (null or NaN, infinite, negative); whole rows left out of the comparison are in
    ``excluded_reasons``.
    """

    rows: int
    excluded_rows: int
    excluded_reasons: dict[str, int]
    compared_rows: int
    time_start: datetime | None
    time_end: datetime | None
    duration_hours: float
    prediction_kind: str
    ks_statistic: float | None
    ks_pvalue: float | None
    ks_method: str
    agreement_rate: float
    mean_abs_disagreement: float
    segments: dict[str, list[SegmentDisagreement]]
    latency: dict[str, LatencyQuantiles]
    shadow_error_rate: float | None
    shadow_errors: int | None
    excluded_values: dict[str, int] | None = optional_key()
    decision_threshold: float | None = optional_key()
    predictions: dict[str, PredictionSummary] | None = optional_key()
    histogram: Histogram | None = optional_key()
    labels: LabelCounts | None = optional_key()
    ks_bounds: list[float] | None = optional_key()
