"""`abtool shadow-report`: columns, options, thresholds and checks, declared once."""

from __future__ import annotations

from dataclasses import dataclass

from abtool.commands.common import (
    engine_option,
    ks_option,
    since_option,
    spark_master_option,
    time_unit_option,
    until_option,
)
from abtool.reports.result import SHADOW_VERDICTS, Consequence
from abtool.spec import (
    AT_LEAST_ONE,
    FRACTION,
    NON_NEGATIVE,
    OPEN_FRACTION,
    POSITIVE,
    CheckSpec,
    CommandSpec,
    column,
    column_list,
    option,
    threshold,
)
from abtool.times import check_bucket


@dataclass(frozen=True)
class ShadowColumns:
    """Column names of a shadow log (defaults: the documented schema)."""

    time: str = column("ts", "--time-col", "Timestamp column.")
    primary: str = column(
        "primary_prediction", "--primary-col", "Primary (serving) model's prediction."
    )
    shadow: str = column(
        "shadow_prediction", "--shadow-col", "Shadow (candidate) model's prediction."
    )
    primary_latency: str = column(
        "primary_latency_ms", "--primary-latency-col", "Primary latency (ms)."
    )
    shadow_latency: str = column(
        "shadow_latency_ms", "--shadow-latency-col", "Shadow latency (ms)."
    )
    shadow_error: str = column(
        "shadow_error", "--error-col", "Shadow error flag (bool, code or message)."
    )
    request: str = column(
        "request_id",
        "--request-col",
        "Request id column (if present): identical duplicate rows are dropped, counted.",
    )
    id_columns: tuple[str, ...] = column_list(
        ("request_id",), "--id-col", "Id columns never used as segments (repeatable)."
    )


@dataclass(frozen=True)
class ShadowOptions:
    """Analysis options of the shadow report."""

    threshold: float = option(
        0.5, "--threshold", "Decision threshold on scores for the agreement rate."
    )
    segments: tuple[str, ...] | None = option(
        None,
        "--segment",
        "Segment column (repeatable). Default: every string/categorical non-id column.",
        short="-s",
    )
    top: int = option(
        10, "--top", "Segment values shown per column (failing ones always).", range=AT_LEAST_ONE
    )
    min_segment_rows: int = option(
        30,
        "--min-segment-rows",
        "Segment values with fewer rows are not ranked or tested.",
        range=AT_LEAST_ONE,
    )
    since: str | None = since_option()
    until: str | None = until_option()
    bucket: str = option(
        "1h",
        "--bucket",
        "Time buckets of the timeline and the spike checks: 15m, 1h (hour), 6h, 1d (day) ... "
        "in UTC, or none (no timeline, no spike checks: faster on the largest logs).",
        parse=check_bucket,
    )
    timeout_ms: float | None = option(
        None,
        "--timeout-ms",
        "A shadow call slower than this many ms counts as a timeout.",
        range=POSITIVE,
    )
    timeout_errors: tuple[str, ...] = option(
        (),
        "--timeout-error",
        "An error code or message meaning a timeout (exact, any case; repeatable).",
    )
    expected_range: tuple[float, float] | None = option(
        None,
        "--expected-range",
        "Range the shadow's scores must fall in (the prediction_range check).",
        metavar="LOW HIGH",
    )
    shift_measure: str = option(
        "ks",
        "--shift-measure",
        "What distribution_shift gates on: ks (KS D) or psi (population stability index).",
        choices=("ks", "psi"),
    )
    time_unit: str = time_unit_option()
    ks: str = ks_option()
    engine: str = engine_option()
    spark_master: str | None = spark_master_option()
    histogram_bins: int = 10
    psi_bins: int = 10


@dataclass(frozen=True)
class ShadowThresholds:
    """Shadow -> 1% canary checklist; each field is named after its check id."""

    duration: float = threshold(24.0, "Minimum hours the shadow must have run.", NON_NEGATIVE)
    agreement_rate: float = threshold(
        0.85, "Decision agreement must exceed this fraction.", FRACTION
    )
    segment_agreement: float = threshold(
        0.85,
        "A segment value fails when its agreement is significantly below the rest's and "
        "below this floor ...",
        FRACTION,
    )
    segment_agreement_gap: float = threshold(
        0.05, "... or at least this far below the rest's agreement.", FRACTION
    )
    segment_agreement_alpha: float = threshold(
        0.05,
        "Family-wise significance level of the segment tests (Holm over every value).",
        OPEN_FRACTION,
    )
    distribution_shift: float = threshold(
        0.10, "Maximum KS statistic D between primary and shadow predictions.", FRACTION
    )
    distribution_shift_psi: float = threshold(
        0.10,
        "Maximum population stability index when --shift-measure psi (0.1: moderate shift).",
        NON_NEGATIVE,
    )
    prediction_range: float = threshold(
        0.001, "Maximum share of shadow scores outside --expected-range.", FRACTION
    )
    shadow_error_rate: float = threshold(
        0.01, "Maximum fraction of shadow requests that errored.", FRACTION
    )
    error_spike: float = threshold(
        3.0,
        "A time bucket fails when its shadow error (or timeout) rate is at least this "
        "multiple of the whole log's, significantly ...",
        POSITIVE,
    )
    error_spike_floor: float = threshold(
        0.01, "... and above this rate (a bucket under it never fails).", FRACTION
    )
    error_spike_alpha: float = threshold(
        0.01,
        "Significance level of the bucket tests (exact binomial, Bonferroni over buckets).",
        OPEN_FRACTION,
    )
    latency_p99: float = threshold(
        1.5, "Maximum ratio of shadow p99 latency to primary p99 latency.", POSITIVE
    )
    latency_spike: float = threshold(
        2.0,
        "A time bucket fails when its shadow p99 latency is at least this multiple of the "
        "median bucket's ...",
        POSITIVE,
    )
    latency_spike_min_requests: int = threshold(
        200,
        "... and it holds at least this many requests.",
        AT_LEAST_ONE,
        integer=True,
    )


SPEC = CommandSpec(
    name="shadow-report",
    summary="Can the shadow candidate go to a 1% canary? KS test, agreement, segments, latency.",
    options=ShadowOptions,
    columns=ShadowColumns,
    thresholds=ShadowThresholds,
    checks=(
        CheckSpec(
            "duration",
            Consequence.NO_GO,
            "shadow ran at least this many hours, less two mean gaps between requests (the "
            "log's ends; at most 1% of it)",
        ),
        CheckSpec("agreement_rate", Consequence.NO_GO, "decision agreement is above"),
        CheckSpec(
            "segment_agreement",
            Consequence.NO_GO,
            "no segment value's agreement is significantly below the rest's (Fisher exact, "
            "Holm) and under this floor or `segment_agreement_gap` below the rest's",
        ),
        CheckSpec(
            "distribution_shift",
            Consequence.NO_GO,
            "KS D (or label distance) is at most; with `--shift-measure psi`, PSI is at most "
            "`distribution_shift_psi`",
        ),
        CheckSpec(
            "prediction_range",
            Consequence.NO_GO,
            "share of shadow scores outside `--expected-range` is at most",
        ),
        CheckSpec("shadow_error_rate", Consequence.NO_GO, "shadow error rate is at most"),
        CheckSpec(
            "error_spike",
            Consequence.NO_GO,
            "no time bucket's shadow error or timeout rate is significantly (binomial, "
            "Bonferroni) at least this multiple of the log's and above `error_spike_floor`",
        ),
        CheckSpec("latency_p99", Consequence.NO_GO, "shadow p99 / primary p99 is at most"),
        CheckSpec(
            "latency_spike",
            Consequence.NO_GO,
            "no time bucket of at least `latency_spike_min_requests` requests has a shadow "
            "p99 this multiple of the median bucket's",
        ),
    ),
    verdicts=SHADOW_VERDICTS,
    kind="shadow",
    section="shadow",
    run="abtool.reports.shadow:shadow_report",
    render="abtool.render.shadow",
    # The KS p-value needs scipy.stats (most of a second to import): import it beside the scan.
    prefetch=("scipy.stats",),
)
