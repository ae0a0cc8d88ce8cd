"""The aggregates of a canary / A/B log that canary-decide needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from abtool.aggregates.hygiene import ReadNotes


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
        time_unit: how an epoch-number time column is read (``auto``: by magnitude).
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
    time_unit: str = "auto"


@dataclass(frozen=True)
class UnitSums:
    """One metric in one variant, per unit: ``x`` the metric summed, ``y`` the rows counted.

    Units without a single non-missing value of the metric are not included.
    """

    x: NDArray[np.float64] = field(repr=False)
    y: NDArray[np.float64] = field(repr=False)

    @property
    def units(self) -> int:
        return len(self.x)


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
class CanaryData:
    """Everything canary-decide needs, reduced from the log.

    ``salt_mismatched_units`` counts units logged under a variant their salt bucket does not
    give (None without a salt). ``read_notes`` holds values left out of figures (infinite
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
    read_notes: ReadNotes = field(default_factory=ReadNotes)

    @property
    def analysed_units(self) -> int:
        return self.control.units + self.treatment.units

    @property
    def total_units(self) -> int:
        return self.analysed_units + self.inconsistent_units
