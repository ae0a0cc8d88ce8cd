"""`abtool canary-decide`: columns, options, thresholds and checks, declared once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from abtool.commands.common import (
    engine_option,
    ks_option,
    since_option,
    spark_master_option,
    time_unit_option,
    until_option,
)
from abtool.errors import UsageError
from abtool.reports.result import CANARY_VERDICTS, Consequence
from abtool.spec import (
    AT_LEAST_ONE,
    FRACTION,
    NON_NEGATIVE,
    OPEN_FRACTION,
    POSITIVE,
    CheckSpec,
    CommandSpec,
    Range,
    column,
    option,
    threshold,
)

METRIC_TYPES = ("auto", "proportion", "continuous")
STAGE_RANGE = Range(0, 100, low_open=True, high_open=True)


@dataclass(frozen=True)
class CanaryColumns:
    """Column names of a canary / A/B log (defaults: the documented schema)."""

    unit: str = column("user_id", "--unit", "Randomization unit column.")
    variant: str = column("model_variant", "--variant-col", "Variant column.")
    time: str = column("ts", "--time-col", "Timestamp column.")
    prediction: str = column("prediction", "--prediction-col", "Model prediction (score).")
    latency: str = column("latency_ms", "--latency-col", "Latency (ms).")
    error: str = column("error", "--error-col", "Error flag (bool, code or message).")
    request: str = column(
        "request_id",
        "--request-col",
        "Request id column (if present): identical duplicate rows are dropped, counted.",
    )


@dataclass(frozen=True)
class CanaryOptions:
    """Analysis options of canary-decide."""

    metrics: tuple[str, ...] = option(
        (),
        "--metric",
        "Outcome column (repeatable): the first is primary, the others secondary.",
        short="-m",
    )
    metric_type: str = option(
        "auto",
        "--metric-type",
        "auto (0/1 or boolean = proportion), proportion or continuous.",
        choices=METRIC_TYPES,
    )
    stage: float | None = option(
        None,
        "--stage",
        "Current treatment share in percent (SRM expectation, next stage).",
        range=STAGE_RANGE,
    )
    control: str | None = option(None, "--control", "Control value of the variant column.")
    treatment: str | None = option(None, "--treatment", "Treatment value of the variant column.")
    segments: tuple[str, ...] = option(
        (),
        "--segment",
        "Segment column (repeatable): primary-metric lift in its 3 largest values.",
        short="-s",
    )
    allow_neutral: bool = option(
        False,
        "--allow-neutral",
        "Promote when the primary metric is not significantly negative.",
    )
    bootstrap: int = option(
        0,
        "--bootstrap",
        "Add a percentile bootstrap CI with N unit resamples.",
        range=NON_NEGATIVE,
    )
    seed: int = option(0, "--seed", "Seed of the bootstrap.", range=NON_NEGATIVE)
    salt: str | None = option(
        None, "--salt", "Assignment salt: count units logged against their md5 bucket."
    )
    since: str | None = since_option()
    until: str | None = until_option()
    time_unit: str = time_unit_option()
    ks: str = ks_option()
    engine: str = engine_option()
    spark_master: str | None = spark_master_option()


@dataclass(frozen=True)
class CanaryThresholds:
    """Canary / A/B stage gate; each field is named after its check id (``_floor`` and
    ``_window`` fields qualify the check they start with)."""

    error_rate: float = threshold(
        2.0,
        "Rollback when the treatment error rate exceeds this multiple of control's ...",
        POSITIVE,
    )
    error_rate_floor: float = threshold(
        0.01, "... and also exceeds this absolute rate (fraction of requests).", FRACTION
    )
    latency_p99: float = threshold(
        1.5, "Rollback when treatment p99 latency exceeds this multiple of control's.", POSITIVE
    )
    prediction_mean: float = threshold(
        0.20,
        "Rollback when the treatment prediction mean deviates from control's by more than "
        "this fraction of control's.",
        NON_NEGATIVE,
    )
    distribution_shift: float = threshold(
        0.001,
        "Alert (advisory) when the KS p-value on the latest predictions is below this.",
        FRACTION,
    )
    distribution_shift_window: int = threshold(
        1000,
        "Number of latest predictions per variant (by timestamp) the KS p-value uses.",
        AT_LEAST_ONE,
        integer=True,
    )
    srm: float = threshold(
        0.001, "Hold when the sample-ratio-mismatch chi-square p-value is below this.", FRACTION
    )
    assignment_consistency: float = threshold(
        0.01,
        "Hold when more than this fraction of units has an inconsistent assignment.",
        FRACTION,
    )
    min_samples: int = threshold(
        1000, "Hold until each variant has at least this many units.", NON_NEGATIVE, integer=True
    )
    primary_metric: float = threshold(
        0.05,
        "Significance level alpha of the primary metric (two-sided; CIs are 1 - alpha).",
        OPEN_FRACTION,
    )


def check_settings(columns: Any, options: CanaryOptions, thresholds: Any) -> None:
    """What no single setting can check: combinations.

    Raises:
        UsageError: ``--salt`` without ``--stage``, or a metric listed twice.
    """
    if options.salt is not None and options.stage is None:
        raise UsageError("--salt needs --stage (the treatment share the buckets give)")
    if len(set(options.metrics)) != len(options.metrics):
        raise UsageError("--metric lists a column twice")


SPEC = CommandSpec(
    name="canary-decide",
    summary="Promote, hold or roll back a canary / A/B split: guardrails, SRM, lift and "
    "significance.",
    options=CanaryOptions,
    columns=CanaryColumns,
    thresholds=CanaryThresholds,
    checks=(
        CheckSpec(
            "error_rate",
            Consequence.ROLLBACK,
            "treatment error rate is not above this multiple of control's, or not above "
            "`error_rate_floor`",
        ),
        CheckSpec("latency_p99", Consequence.ROLLBACK, "treatment p99 / control p99 is at most"),
        CheckSpec(
            "prediction_mean",
            Consequence.ROLLBACK,
            "treatment prediction mean deviates from control's by at most this fraction",
        ),
        CheckSpec(
            "distribution_shift",
            Consequence.ADVISORY,
            "KS p-value on the latest `distribution_shift_window` predictions is at least",
        ),
        CheckSpec("srm", Consequence.HOLD, "sample-ratio-mismatch p-value is at least"),
        CheckSpec(
            "assignment_consistency",
            Consequence.HOLD,
            "share of units seen under both variants (or against their salt bucket) is at most",
        ),
        CheckSpec("min_samples", Consequence.HOLD, "each variant has at least this many units"),
        CheckSpec(
            "primary_metric",
            Consequence.HOLD,
            "the primary metric is significantly positive at this alpha (with "
            "`--allow-neutral`: not significantly negative)",
        ),
    ),
    verdicts=CANARY_VERDICTS,
    kind="canary",
    section="canary",
    run="abtool.reports.canary:canary_report",
    render="abtool.render.canary",
    check=check_settings,
)
