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
    POSITIVE,
    CheckSpec,
    CommandSpec,
    column,
    column_list,
    option,
    threshold,
)


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
    top: int = option(10, "--top", "Segment values shown per column.", range=AT_LEAST_ONE)
    min_segment_rows: int = option(
        30,
        "--min-segment-rows",
        "Segment values with fewer rows are not ranked.",
        range=AT_LEAST_ONE,
    )
    since: str | None = since_option()
    until: str | None = until_option()
    time_unit: str = time_unit_option()
    ks: str = ks_option()
    engine: str = engine_option()
    spark_master: str | None = spark_master_option()
    histogram_bins: int = 10


@dataclass(frozen=True)
class ShadowThresholds:
    """Shadow -> 1% canary checklist; each field is named after its check id."""

    duration: float = threshold(24.0, "Minimum hours the shadow must have run.", NON_NEGATIVE)
    agreement_rate: float = threshold(
        0.85, "Decision agreement must exceed this fraction.", FRACTION
    )
    distribution_shift: float = threshold(
        0.10, "Maximum KS statistic D between primary and shadow predictions.", FRACTION
    )
    shadow_error_rate: float = threshold(
        0.01, "Maximum fraction of shadow requests that errored.", FRACTION
    )
    latency_p99: float = threshold(
        1.5, "Maximum ratio of shadow p99 latency to primary p99 latency.", POSITIVE
    )


SPEC = CommandSpec(
    name="shadow-report",
    summary="Can the shadow candidate go to a 1% canary? KS test, agreement, segments, latency.",
    options=ShadowOptions,
    columns=ShadowColumns,
    thresholds=ShadowThresholds,
    checks=(
        CheckSpec("duration", Consequence.NO_GO, "shadow ran at least this many hours"),
        CheckSpec("agreement_rate", Consequence.NO_GO, "decision agreement is above"),
        CheckSpec("distribution_shift", Consequence.NO_GO, "KS D (or label distance) is at most"),
        CheckSpec("shadow_error_rate", Consequence.NO_GO, "shadow error rate is at most"),
        CheckSpec("latency_p99", Consequence.NO_GO, "shadow p99 / primary p99 is at most"),
    ),
    verdicts=SHADOW_VERDICTS,
    kind="shadow",
    section="shadow",
    run="abtool.reports.shadow:shadow_report",
    render="abtool.render.shadow",
    # The KS p-value needs scipy.stats (most of a second to import): import it beside the scan.
    prefetch=("scipy.stats",),
)
