"""Values: infinite, negative, NaN, Decimal, duplicate, empty-id and garbage-time data."""

from __future__ import annotations

import numpy as np
import polars as pl

from tests.corpus.base import (
    REPORTS,
    canary_latency_skipped,
    canary_log,
    canary_metric_inf,
    canary_values,
    case,
    decimal_scores,
    duplicates_kept,
    empty_units,
    excluded_rows,
    excluded_values,
    iso_garbage,
    latency_skipped,
    shadow_log,
)
from tests.corpus.inputs import canary_frame, interleave_frame, replace_rows, shadow_frame, write

case(
    "inf_predictions",
    "values",
    "5 +inf and 3 -inf shadow predictions",
    lambda d: [
        "shadow-report",
        shadow_log(
            d,
            replace_rows(
                replace_rows(shadow_frame(), "shadow_prediction", 5, float("inf")),
                "primary_prediction",
                3,
                float("-inf"),
            ),
        ),
        "-f",
        "json",
    ],
    REPORTS,
    check=lambda o: (
        excluded_rows("infinite shadow_prediction", 2)(o),
        excluded_rows("infinite primary_prediction", 3)(o),
    ),
)
case(
    "inf_latency",
    "values",
    "4 infinite shadow latencies",
    lambda d: [
        "shadow-report",
        shadow_log(d, replace_rows(shadow_frame(), "shadow_latency_ms", 4, float("inf"))),
        "-f",
        "json",
    ],
    REPORTS,
    check=excluded_values("infinite shadow_latency_ms", 4),
)
case(
    "negative_latency",
    "values",
    "6 negative primary latencies",
    lambda d: [
        "shadow-report",
        shadow_log(d, replace_rows(shadow_frame(), "primary_latency_ms", 6, -3.0)),
        "-f",
        "json",
    ],
    REPORTS,
    check=excluded_values("negative primary_latency_ms", 6),
)
case(
    "nan_latency",
    "values",
    "9 NaN shadow latencies",
    lambda d: [
        "shadow-report",
        shadow_log(d, replace_rows(shadow_frame(), "shadow_latency_ms", 9, float("nan"))),
        "-f",
        "json",
    ],
    REPORTS,
    check=excluded_values("null or NaN shadow_latency_ms", 9),
)
case(
    "all_latency_inf",
    "values",
    "every shadow latency infinite",
    lambda d: [
        "shadow-report",
        shadow_log(d, shadow_frame().with_columns(pl.lit(float("inf")).alias("shadow_latency_ms"))),
        "-f",
        "json",
    ],
    REPORTS,
    check=latency_skipped,
)
case(
    "decimal_predictions",
    "values",
    "Decimal(10, 6) predictions",
    lambda d: [
        "shadow-report",
        shadow_log(
            d,
            shadow_frame().with_columns(
                pl.col("primary_prediction", "shadow_prediction").cast(pl.Decimal(10, 6))
            ),
        ),
        "-f",
        "json",
    ],
    REPORTS,
    check=decimal_scores,
)
case(
    "every_request_twice",
    "values",
    "every row delivered twice (identical copies)",
    lambda d: [
        "shadow-report",
        shadow_log(d, pl.concat([shadow_frame(), shadow_frame()])),
        "-f",
        "json",
    ],
    REPORTS,
    check=excluded_rows("duplicate request_id (identical row)", 240),
)
case(
    "retried_requests",
    "values",
    "20 request ids logged again with another latency",
    lambda d: [
        "shadow-report",
        shadow_log(
            d,
            pl.concat(
                [
                    shadow_frame(),
                    shadow_frame().head(20).with_columns(pl.col("shadow_latency_ms") + 1),
                ]
            ),
        ),
        "-f",
        "json",
    ],
    REPORTS,
    check=duplicates_kept,
)
case(
    "iso_time_garbage",
    "values",
    "ISO-8601 text times, 3 of them garbage",
    lambda d: [
        "shadow-report",
        shadow_log(
            d,
            replace_rows(
                shadow_frame().with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ")),
                "ts",
                3,
                "n/a",
            ),
        ),
        "-f",
        "json",
    ],
    REPORTS,
    check=iso_garbage,
)
case(
    "empty_user_ids",
    "values",
    "30 canary rows with an empty-string user id",
    lambda d: [
        "canary-decide",
        canary_log(
            d,
            replace_rows(
                canary_frame().with_columns(pl.col("user_id").cast(pl.String)), "user_id", 30, "  "
            ),
        ),
        "-m",
        "clicked",
        "-f",
        "json",
    ],
    REPORTS,
    check=empty_units,
)
case(
    "canary_dirty_health",
    "values",
    "5 infinite predictions, 7 negative latencies",
    lambda d: [
        "canary-decide",
        canary_log(
            d,
            replace_rows(
                replace_rows(canary_frame(), "prediction", 5, float("inf")), "latency_ms", 7, -1.0
            ),
        ),
        "-m",
        "clicked",
        "-f",
        "json",
    ],
    REPORTS,
    check=canary_values,
)
case(
    "canary_inf_metric",
    "values",
    "4 infinite values of a continuous metric",
    lambda d: [
        "canary-decide",
        canary_log(
            d,
            replace_rows(
                canary_frame().with_columns(pl.Series("revenue", np.linspace(0, 5, 600))),
                "revenue",
                4,
                float("inf"),
            ),
        ),
        "-m",
        "revenue",
        "-f",
        "json",
    ],
    REPORTS,
    check=canary_metric_inf,
)
case(
    "canary_no_latency",
    "values",
    "every treatment latency negative",
    lambda d: [
        "canary-decide",
        canary_log(
            d,
            canary_frame().with_columns(
                pl.when(pl.col("model_variant") == "v2")
                .then(-1.0)
                .otherwise(pl.col("latency_ms"))
                .alias("latency_ms")
            ),
        ),
        "-m",
        "clicked",
        "-f",
        "json",
    ],
    REPORTS,
    check=canary_latency_skipped,
)
case(
    "empty_sessions",
    "values",
    "interleaving sessions with an empty id",
    lambda d: (
        write(d / "il.parquet", replace_rows(interleave_frame(), "session_id", 4, "")),
        ["interleave-report", "il.parquet"],
    )[-1],
    (2,),
    ("'session_id'", "null or empty"),
)
