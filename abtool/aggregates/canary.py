"""The aggregates of a canary / A/B log that canary-decide needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from abtool.aggregates.hygiene import ReadNotes
from abtool.stats.ratio_series import Moments


@dataclass(frozen=True)
class CanaryRequest:
    """What to aggregate.

    Attributes:
        metrics: outcome columns (the first is primary).
        segments: columns whose ``top_segment_values`` largest values get the primary metric.
        control: control value of the variant column (None: resolved from the log).
        treatment: treatment value of the variant column.
        recent_window: latest predictions per variant kept for the KS test.
        salt: assignment salt whose md5 buckets the units are checked against.
        treatment_share: the share the salt's buckets give the treatment (0..1).
        stage: the treatment's planned share in percent (None: not given); with no variant
            named, it says which value is the control (see ``CanaryData.variant_note``).
        pre_log: a log opened by the same engine whose rows are the pre-period (CUPED).
        pre_until: or: rows of the log before this time are the pre-period, the rest the
            experiment (rows from ``since`` on).
        covariate: the CUPED covariate column (None: each metric's own column); without a
            pre-period it is aggregated over the experiment's rows.
        bucket: ``day``, ``hour`` or ``auto`` (days when the log spans 36 hours or more).
        timeline: whether to aggregate per time bucket at all.
        time_unit: how an epoch-number time column is read (``auto``: by magnitude).
        ks: ``exact`` or ``approximate``: how an engine that computes the all-rows KS D from
            bucket counts finishes it (approximate: its bounds only).
    """

    metrics: tuple[str, ...]
    segments: tuple[str, ...]
    control: str | None
    treatment: str | None
    recent_window: int
    top_segment_values: int = 3
    since: datetime | None = None
    until: datetime | None = None
    salt: str | None = None
    treatment_share: float = 0.5
    stage: float | None = None
    pre_log: Any = None
    pre_until: datetime | None = None
    covariate: str | None = None
    bucket: str = "auto"
    timeline: bool = True
    time_unit: str = "auto"
    ks: str = "exact"

    @property
    def adjusts(self) -> bool:
        """Whether the metrics get a CUPED covariate."""
        return self.pre_log is not None or self.pre_until is not None or self.covariate is not None


@dataclass(frozen=True)
class UnitMoments:
    """Sums over one variant's units of their per-unit sums ``x`` (the metric) and ``y`` (its
    rows): all the delta method, the unit-level proportion test and Welch's test need.

    An engine hands these instead of the per-unit arrays when a variant has more units than
    it brings back (see docs/engines.md); :meth:`of` computes them from arrays.
    """

    units: int
    sum_x: float
    sum_y: float
    sum_xx: float
    sum_yy: float
    sum_xy: float
    positive: int
    """Units with ``x > 0`` (the unit-level proportion test)."""
    sum_mean: float
    """Sum of the per-unit means ``x / y`` (Welch's test on per-unit means)."""
    sum_mean2: float
    """Sum of their squares."""
    max_y: float

    @classmethod
    def of(cls, x: NDArray[np.float64], y: NDArray[np.float64]) -> UnitMoments:
        mean = x / y
        return cls(
            units=len(x),
            sum_x=float(x.sum()),
            sum_y=float(y.sum()),
            sum_xx=float((x * x).sum()),
            sum_yy=float((y * y).sum()),
            sum_xy=float((x * y).sum()),
            positive=int((x > 0).sum()),
            sum_mean=float(mean.sum()),
            sum_mean2=float((mean * mean).sum()),
            max_y=float(y.max()) if len(y) else 0.0,
        )


@dataclass(frozen=True)
class UnitSums:
    """One metric in one variant, per unit: ``x`` the metric summed, ``y`` the rows counted.

    Units without a single non-missing value of the metric are not included. With a CUPED
    covariate, ``pre_x`` and ``pre_y`` are the covariate's sum and rows with a value per unit,
    in the same order (0 for a unit without any). An engine that does not bring the per-unit
    arrays back (more units than its cap) leaves ``x`` and ``y`` empty and hands ``moments``.
    """

    x: NDArray[np.float64] = field(repr=False)
    y: NDArray[np.float64] = field(repr=False)
    pre_x: NDArray[np.float64] | None = field(default=None, repr=False)
    pre_y: NDArray[np.float64] | None = field(default=None, repr=False)
    moments: UnitMoments | None = None

    @property
    def units(self) -> int:
        return self.moments.units if self.moments is not None else len(self.x)

    @property
    def has_arrays(self) -> bool:
        """Whether the per-unit arrays are here (else only ``moments``)."""
        return self.moments is None

    def summary(self) -> UnitMoments:
        """The moments, handed by the engine or computed from the arrays."""
        return self.moments if self.moments is not None else UnitMoments.of(self.x, self.y)


@dataclass(frozen=True)
class VariantData:
    """Health figures of one variant, over all its requests."""

    name: str
    requests: int
    units: int
    errors: int | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    prediction_mean: float | None
    missing: dict[str, int]
    """Rows of this variant left out of a figure, by column: null, NaN or infinite (and
    negative for the latency); ``CanaryData.read_notes`` breaks the unusable ones down."""
    predictions_sorted: NDArray[np.float64] = field(repr=False)
    """Valid predictions, ascending (empty when the engine computed the KS D itself, see
    ``CanaryData.prediction_ks``)."""
    recent_sorted: NDArray[np.float64] = field(repr=False)


@dataclass(frozen=True)
class MetricData:
    """A metric column reduced to per-unit sums in each variant."""

    name: str
    binary: bool
    missing_rows: int
    control: UnitSums
    treatment: UnitSums


@dataclass(frozen=True)
class SegmentData:
    """The primary metric within one value of a segment column."""

    value: str
    rows: int
    control: UnitSums
    treatment: UnitSums


@dataclass(frozen=True)
class PrePeriod:
    """Where the CUPED covariate came from.

    Attributes:
        source: ``"covariate log <paths>"``, ``"rows before <time>"`` or ``"experiment rows"``.
        rows: rows of the pre-period read (the experiment's rows for a per-row covariate).
        covariate: the covariate column (None: each metric's own column).
        metrics: the metrics that have a covariate (a metric absent from a covariate log has
            none).
    """

    source: str
    rows: int
    covariate: str | None
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class VariantBuckets:
    """One variant per time bucket (lists in bucket order)."""

    requests: list[int]
    errors: list[int] | None
    new_units: list[int]
    """Units first seen in the bucket (consistent units only)."""
    latency_p99_ms: list[float | None] | None


@dataclass(frozen=True)
class UnitBuckets:
    """The primary metric per unit and time bucket, one entry per (unit, bucket) with a value.

    Entries are sorted by unit, then bucket; units seen under both variants are left out.
    ``cum_x`` / ``cum_y`` are the unit's sums through the entry's bucket, ``first`` marks
    each unit's first entry.
    """

    bucket: NDArray[np.int64] = field(repr=False)
    treated: NDArray[np.bool_] = field(repr=False)
    x: NDArray[np.float64] = field(repr=False)
    y: NDArray[np.float64] = field(repr=False)
    cum_x: NDArray[np.float64] = field(repr=False)
    cum_y: NDArray[np.float64] = field(repr=False)
    first: NDArray[np.bool_] = field(repr=False)


@dataclass(frozen=True)
class Timeline:
    """The log cut into time buckets (UTC days or hours, by their start)."""

    width: str
    starts: list[datetime]
    control: VariantBuckets
    treatment: VariantBuckets
    primary: UnitBuckets | None
    primary_moments: dict[tuple[bool, bool], Moments] | None = None
    """Instead of ``primary``'s per-(unit, bucket) arrays: the primary metric's moments per
    bucket by (treated, cumulative), when the engine computed them itself."""


@dataclass(frozen=True)
class PredictionKS:
    """KS D between the variants' valid predictions, when the engine computed it from bucket
    counts rather than handing the sorted predictions (``predictions_sorted`` then empty).

    ``low == high == statistic`` when exact; with ``--ks approximate`` only the bounds.
    """

    statistic: float | None
    low: float
    high: float


@dataclass(frozen=True)
class CanaryData:
    """Everything canary-decide needs, reduced from the log.

    ``salt_mismatched_units`` counts units logged under a variant their salt bucket does not
    give (None without a salt). ``variant_note`` says how control and treatment were chosen
    when neither was named. ``read_notes`` holds values left out of figures (infinite
    predictions, negative latencies ...) and what reading assumed.
    """

    rows: int
    excluded: dict[str, int]
    time_min: datetime | None
    time_max: datetime | None
    control: VariantData
    treatment: VariantData
    inconsistent_units: int
    inconsistent_rows: int
    metrics: list[MetricData]
    segments: dict[str, list[SegmentData]]
    salt_mismatched_units: int | None = None
    variant_note: str | None = None
    pre_period: PrePeriod | None = None
    timeline: Timeline | None = None
    prediction_ks: PredictionKS | None = None
    read_notes: ReadNotes = field(default_factory=ReadNotes)

    @property
    def analysed_units(self) -> int:
        return self.control.units + self.treatment.units

    @property
    def total_units(self) -> int:
        return self.analysed_units + self.inconsistent_units
