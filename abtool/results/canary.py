"""canary-decide's statistics: variant health, validity, prediction shift, metrics, segments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from abtool.records import Record, flattened, optional_key
from abtool.stats.bootstrap import BootstrapCI
from abtool.stats.inference.detectable import DetectionGap
from abtool.stats.inference.margins import MetricTests
from abtool.stats.means import MannWhitneyResult, WelchResult
from abtool.stats.proportions import ProportionTest


@dataclass(frozen=True)
class VariantStats(Record):
    """Health figures of one variant, over all its requests."""

    name: str
    requests: int
    units: int
    errors: int | None
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    prediction_mean: float | None


@dataclass(frozen=True)
class Variants(Record):
    """Control and treatment side by side."""

    control: VariantStats
    treatment: VariantStats


@dataclass(frozen=True)
class Health(Record):
    """What was read, and each variant's health."""

    rows: int
    excluded_rows: int
    excluded_reasons: dict[str, int]
    time_start: datetime | None
    time_end: datetime | None
    duration_hours: float | None
    variants: Variants
    excluded_values: dict[str, int] | None = optional_key()
    """Values left out of the figures that use them (not whole rows), by reason: infinite
    predictions or metric values, infinite or negative latencies."""


@dataclass(frozen=True)
class Validity(Record):
    """Whether the split is what it should be: sample ratio and consistent assignment."""

    expected_treatment_share: float
    observed_treatment_share: float | None
    srm_chi2: float | None
    srm_pvalue: float | None
    units: int
    inconsistent_units: int
    inconsistent_share: float | None
    inconsistent_rows: int
    salt_mismatched_units: int | None


@dataclass(frozen=True)
class PredictionShift(Record):
    """KS D of the predictions on all rows, and the KS test on the latest of each variant."""

    ks_statistic: float | None
    ks_pvalue: float | None
    ks_recent_statistic: float | None
    ks_recent_n: list[int]
    ks_bounds: list[float] | None = optional_key()
    """``[low, high]`` of the all-rows KS D when only its bounds were computed
    (``--ks approximate`` on an engine that counts buckets); ``ks_statistic`` is then null."""


@dataclass(frozen=True)
class LiftStats(Record):
    """Treatment against control at the randomization unit (delta method); None untested."""

    control_mean: float | None = None
    treatment_mean: float | None = None
    lift_abs: float | None = None
    lift_rel: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    rel_ci_low: float | None = None
    rel_ci_high: float | None = None
    z: float | None = None
    se: float | None = None
    pvalue: float | None = None


@dataclass(frozen=True)
class UnitCounts(Record):
    """A count per variant."""

    control: int
    treatment: int


@dataclass(frozen=True)
class ProportionUnitTest(Record):
    """Share of units with the metric > 0, compared by a pooled two-proportion z-test."""

    value: str
    method: str
    test: ProportionTest = flattened()


@dataclass(frozen=True)
class MeanTest(Record):
    """Per-unit means compared by Welch's t and Mann-Whitney U."""

    value: str
    welch: WelchResult
    mann_whitney: MannWhitneyResult | None
    """None when the engine handed only the units' moments (ranks need the values)."""


@dataclass(frozen=True)
class Holm(Record):
    """Holm-adjusted p-value within a family of tests (None: untested)."""

    pvalue_holm: float | None
    significant: bool | None


@dataclass(frozen=True)
class CupedStats(Record):
    """A metric adjusted by its units' pre-period covariate (CUPED), beside the plain lift.

    ``adjusted`` is what the decision reads; relative intervals are taken on the log scale
    (as :mod:`abtool.stats.cuped`), both by the active inference method.
    """

    covariate: str
    source: str
    variance_reduction_pct: float
    theta: float
    theta_missing: float
    units_without_pre: int
    unadjusted: LiftStats
    adjusted: LiftStats


@dataclass(frozen=True)
class LiftSeries(Record):
    """A lift per time bucket (lists share one index; None where a bucket is untested).

    ``interval`` names the band: the active method at the metric's level. In the cumulative
    series each point is the lift on the log up to the bucket's end, as a re-run cut there
    would report it; in the per-bucket series, each bucket's own traffic.
    """

    start: list[datetime]
    units: list[int]
    lift: list[float | None]
    ci_low: list[float | None]
    ci_high: list[float | None]
    lift_rel: list[float | None]
    interval: str


@dataclass(frozen=True)
class Novelty(Record):
    """Do the first days' lift and the later days' lift differ (novelty or primacy)?

    Each group is the inverse-variance weighted mean of its days' lifts
    (:mod:`abtool.stats.inference.novelty`); ``differs`` is the two-sided test of their
    difference at ``alpha`` by the active method.
    """

    early_days: int
    late_days: int
    early_lift: float
    late_lift: float
    difference: float
    ci_low: float
    ci_high: float
    pvalue: float
    alpha: float
    differs: bool


@dataclass(frozen=True)
class MetricStats(Record):
    """One metric: lift with intervals and p at the unit (by the active inference method),
    the unit-level tests, and for the primary metric and guardrails the decision's tests."""

    name: str
    type: str
    method: str
    alpha: float
    units: UnitCounts
    rows: UnitCounts
    missing_rows: int
    lift: LiftStats = flattened()
    interval: str | None = optional_key()
    unit_test: ProportionUnitTest | MeanTest | None = optional_key()
    bootstrap: BootstrapCI | None = optional_key()
    holm: Holm | None = flattened(optional=True)
    cuped: CupedStats | None = optional_key()
    tests: MetricTests | None = optional_key()
    margin: float | None = optional_key()
    gap: DetectionGap | None = optional_key()
    timeline: LiftSeries | None = optional_key()
    daily: LiftSeries | None = optional_key()
    novelty: Novelty | None = optional_key()

    @property
    def tested(self) -> bool:
        return self.lift.pvalue is not None


@dataclass(frozen=True)
class SegmentLift(Record):
    """The primary metric within one value of a segment column."""

    value: str
    rows: int
    units_control: int
    units_treatment: int
    lift: LiftStats = flattened()
    holm: Holm = flattened()
    regression: bool = False


@dataclass(frozen=True)
class Inference(Record):
    """The active inference method and how alpha is split over the decision's tests."""

    method: str
    label: str
    tuning_units: int | None
    primary_alpha: float
    guardrail_alpha: float
    harm_alpha: float
    harm_metrics: int
    harm_alpha_each: float


@dataclass(frozen=True)
class HealthTimeline(Record):
    """Each variant per time bucket; dicts are keyed by variant name.

    ``treatment_share`` is the cumulative share of units in treatment (first seen up to the
    bucket); ``flagged_bucket`` is the bucket where a failing rollback trigger is worst.
    """

    bucket: str
    start: list[datetime]
    requests: dict[str, list[int]]
    new_units: dict[str, list[int]]
    treatment_share: list[float | None]
    error_rate: dict[str, list[float | None]] | None = optional_key()
    latency_p99_ms: dict[str, list[float | None]] | None = optional_key()
    flagged_bucket: int | None = None


@dataclass(frozen=True, kw_only=True)
class CanaryStats(Record):
    """Everything canary-decide measured (the JSON ``stats`` object)."""

    health: Health = flattened()
    validity: Validity = flattened()
    shift: PredictionShift = flattened()
    metric: MetricStats | None
    secondary_metrics: list[MetricStats]
    segments: dict[str, list[SegmentLift]]
    stage: float | None
    next_stage: float | None
    guardrails: list[MetricStats]
    inference: Inference
    timeline: HealthTimeline | None = optional_key()
