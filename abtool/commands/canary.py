"""`abtool canary-decide`: columns, options, thresholds and checks, declared once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from abtool.commands.common import (
    engine_option,
    inference_option,
    ks_option,
    since_option,
    spark_master_option,
    time_unit_option,
    tuning_units_option,
    until_option,
)
from abtool.commands.guardrails import normalise_guardrail, parse_guardrail
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
from abtool.times import check_time, iso_time

METRIC_TYPES = ("auto", "proportion", "continuous")
BUCKETS = ("auto", "day", "hour", "none")
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
        "Segment column (repeatable): primary-metric lift in its --top largest values.",
        short="-s",
    )
    top: int = option(
        3, "--top", "Largest values (by rows) of each --segment column tested.", range=AT_LEAST_ONE
    )
    guardrails: tuple[str, ...] = option(
        (),
        "--guardrail",
        "Guardrail metric (repeatable) as COL[:increase|decrease[:MARGIN]]: must be shown "
        "non-inferior (within MARGIN of the control mean) to promote; significantly worse "
        "rolls back.",
        metavar="COL[:DIR[:MARGIN]]",
        parse=normalise_guardrail,
    )
    allow_neutral: bool = option(
        False,
        "--allow-neutral",
        "Promote when the primary metric is shown non-inferior within --nim (not necessarily "
        "better).",
    )
    nim: float = option(
        0.0,
        "--nim",
        "Primary metric's margin, relative to the control mean: the loss --allow-neutral "
        "accepts, and beyond which a significant loss rolls back.",
        range=NON_NEGATIVE,
    )
    mde_rel: float | None = option(
        None,
        "--mde-rel",
        "Relative lift of the primary metric a HOLD waits for (units and days still needed); "
        "default: the observed lift.",
        range=POSITIVE,
    )
    inference: str = inference_option()
    tuning_units: int = tuning_units_option()
    covariate_log: str | None = option(
        None,
        "--covariate-log",
        "CUPED: a log of the same schema from before the canary (each unit's pre-period "
        "metric adjusts its lift).",
        metavar="PATH",
    )
    pre_until: str | None = option(
        None,
        "--pre-until",
        "CUPED: rows before this ISO time are the pre-period, the rest the canary.",
        parse=check_time,
    )
    covariate: str | None = option(
        None,
        "--covariate",
        "CUPED covariate column, aggregated per unit like the metric (default: the metric "
        "itself in the pre-period).",
    )
    bucket: str = option(
        "auto",
        "--bucket",
        "Time buckets of the timeline and per-bucket lifts: day, hour, auto (days when the "
        "log spans 36 hours or more), or none (no time series: faster on the largest logs).",
        choices=BUCKETS,
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
    harm: float = threshold(
        0.05,
        "Rollback when the primary metric or a guardrail is significantly worse than control "
        "(one-sided, beyond its margin); this level is split over those metrics.",
        Range(0, 0.5, low_open=True, high_open=True),
    )
    primary_metric: float = threshold(
        0.05,
        "Level alpha of the primary metric's one-sided test (better, or non-inferior with "
        "--allow-neutral); intervals are two-sided 1 - alpha.",
        Range(0, 0.5, low_open=True, high_open=True),
    )
    guardrails: float = threshold(
        0.05,
        "Level of each guardrail's one-sided non-inferiority test (every one must pass).",
        Range(0, 0.5, low_open=True, high_open=True),
    )
    novelty: float = threshold(
        0.05,
        "Warn when the first days' lift differs from the later days' at this level.",
        OPEN_FRACTION,
    )


def check_settings(columns: Any, options: CanaryOptions, thresholds: Any) -> None:
    """What no single setting can check: combinations.

    Raises:
        UsageError: ``--salt`` without ``--stage``, a metric or guardrail listed twice,
            ``--allow-neutral`` with a metric but no ``--nim``, or two pre-periods.
    """
    if options.salt is not None and options.stage is None:
        raise UsageError("--salt needs --stage (the treatment share the buckets give)")
    if len(set(options.metrics)) != len(options.metrics):
        raise UsageError("--metric lists a column twice")
    columns_of = [parse_guardrail(g).column for g in options.guardrails]
    if len(set(columns_of)) != len(columns_of):
        raise UsageError("--guardrail lists a column twice")
    if options.allow_neutral and options.metrics and options.nim == 0:
        raise UsageError(
            "--allow-neutral needs --nim > 0: the loss of the primary metric you accept, "
            "relative to the control mean (e.g. --nim 0.02)"
        )
    if options.covariate_log is not None and options.pre_until is not None:
        raise UsageError("give --covariate-log or --pre-until (the pre-period), not both")
    since, pre_until = options.since, options.pre_until
    if pre_until is not None and since is not None and iso_time(since) >= iso_time(pre_until):
        raise UsageError("--since must be before --pre-until (it starts the pre-period)")


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
            "harm",
            Consequence.ROLLBACK,
            "neither the primary metric nor a guardrail is significantly worse than control "
            "beyond its margin (one-sided, this level split over them)",
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
            "the primary metric is significantly better at this one-sided alpha (with "
            "`--allow-neutral`: shown non-inferior within `--nim`)",
        ),
        CheckSpec(
            "guardrails",
            Consequence.HOLD,
            "every `--guardrail` is shown non-inferior within its margin at this one-sided alpha",
        ),
        CheckSpec(
            "novelty",
            Consequence.ADVISORY,
            "the first two days' lift does not differ from the later days' at this level",
        ),
        CheckSpec(
            "segment_regression",
            Consequence.ADVISORY,
            "no `--segment` value has the primary metric significantly worse (Holm-adjusted)",
        ),
    ),
    verdicts=CANARY_VERDICTS,
    kind="canary",
    section="canary",
    run="abtool.reports.canary:canary_report",
    render="abtool.render.canary",
    check=check_settings,
    # The units a lift needs (the "gap") solve with scipy.optimize, whose import (with
    # scipy.special) takes about 0.3 s: import it beside the scan.
    prefetch=("scipy.optimize",),
)
