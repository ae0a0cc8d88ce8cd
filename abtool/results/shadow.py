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
    """Disagreement within one value of a segment column, and its segment_agreement test.

    Attributes:
        agreement_rate: share of the value's requests with the same decision from both.
        rest_agreement_rate: the same share over every other request of the log.
        agreement_pvalue: one-sided p-value of "agreement lower than the rest", Holm-adjusted
            over every tested value of every segment column.
        ks_statistic: KS D between the two models' scores within the value (for class
            labels, their total variation distance).
        failed: the value fails the segment_agreement check.
        ks_rows: rows the KS D was computed on, where fewer than the value's (an evenly
            spaced sample of a value of more than 1,000,000 rows).
    """

    value: str | None
    rows: int
    mean_abs_disagreement: float
    agreement_rate: float = float("nan")
    rest_agreement_rate: float = float("nan")
    agreement_pvalue: float = float("nan")
    ks_statistic: float = float("nan")
    failed: bool = False
    ks_rows: int | None = optional_key()


@dataclass(frozen=True)
class LatencyQuantiles(Record):
    """Latency quantiles of one model, in milliseconds."""

    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Ecdf(Record):
    """Both models' empirical CDFs as quantiles at shared probability levels, and the KS gap.

    ``primary[i]`` and ``shadow[i]`` are each model's quantile (linear interpolation) at
    ``probabilities[i]``; at ``ks_x`` the two ECDFs are ``ks_cdf_primary`` and
    ``ks_cdf_shadow``, whose difference is the KS statistic D.
    """

    probabilities: list[float]
    primary: list[float]
    shadow: list[float]
    ks_x: float | None
    ks_cdf_primary: float | None
    ks_cdf_shadow: float | None


@dataclass(frozen=True)
class Timeline(Record):
    """The log per time bucket (lists share one index; null: no value in that bucket).

    Attributes:
        bucket: the bucket width (``1h``).
        start: each bucket's start.
        requests: rows with a time in each bucket.
        shadow_error_rate: errored shadow calls / requests (nulls without an error column).
        timeout_rate: timed-out shadow calls / requests (with a timeout rule).
        latency_p99_ms: p99 latency per bucket by model.
        flagged_bucket: the worst failing bucket of error_spike, else of latency_spike.
        error_spike_buckets: indices of the buckets failing error_spike.
        latency_spike_buckets: indices of the buckets failing latency_spike.
    """

    bucket: str
    start: list[datetime]
    requests: list[int]
    shadow_error_rate: list[float | None]
    latency_p99_ms: dict[str, list[float]]
    flagged_bucket: int | None
    error_spike_buckets: list[int]
    latency_spike_buckets: list[int]
    timeout_rate: list[float | None] | None = optional_key()


@dataclass(frozen=True)
class StabilityBins(Record):
    """The bins the population stability index was computed on, with each model's shares.

    Score bins are cut at ``edges`` (bin i holds (edges[i-1], edges[i]]; the first and last
    are open-ended); label bins are the ``labels``.
    """

    method: str
    primary: list[float]
    shadow: list[float]
    edges: list[float] | None = optional_key()
    labels: list[str] | None = optional_key()


@dataclass(frozen=True)
class PredictionRange(Record):
    """Shadow scores outside the expected range."""

    low: float
    high: float
    outside: int
    scored: int
    share: float


@dataclass(frozen=True)
class ShadowStats(Record):
    """Everything shadow-report measured (the JSON ``stats`` object).

    ``decision_threshold``, ``predictions``, ``histogram``, ``ecdf`` and ``prediction_range``
    exist for scores, ``labels`` for class labels; ``timeline`` when rows have a time (and
    ``--bucket`` is not ``none``); ``timeouts`` and ``timeout_rate`` with a timeout rule
    (``--timeout-ms``, ``--timeout-error``). ``psi`` is the population stability index of the
    shadow's predictions against the primary's (``psi_reading`` its usual reading),
    ``shift_measure`` the distance the distribution_shift check gates on.
    With ``--ks approximate``, ``ks_bounds`` ([low, high]) may stand for the KS D (then
    ``ks_statistic`` and ``ks_pvalue`` are null) when they decide the check.
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
    psi: float
    psi_reading: str
    psi_bins: StabilityBins
    shift_measure: str
    duration_tolerance_hours: float
    segments_tested: int
    segments_failed: int
    timeline: Timeline | None = optional_key()
    timeouts: int | None = optional_key()
    timeout_rate: float | None = optional_key()
    prediction_range: PredictionRange | None = optional_key()
    ecdf: Ecdf | None = optional_key()
    excluded_values: dict[str, int] | None = optional_key()
    decision_threshold: float | None = optional_key()
    predictions: dict[str, PredictionSummary] | None = optional_key()
    histogram: Histogram | None = optional_key()
    labels: LabelCounts | None = optional_key()
    ks_bounds: list[float] | None = optional_key()
