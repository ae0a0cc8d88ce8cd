"""Schemas: missing, mistyped and conflicting columns, text and epoch times, empty logs."""

from __future__ import annotations

import polars as pl

from tests.corpus.base import (
    canary_log,
    case,
    shadow_log,
    shadow_logs,
)
from tests.corpus.inputs import canary_frame, shadow_frame, write

case(
    "all_columns_missing",
    "schema",
    "none of the required columns",
    lambda d: ["shadow-report", shadow_log(d, pl.DataFrame({"x": [1.0, 2.0]}))],
    (2,),
    (
        "'ts' (--time-col)",
        "'primary_prediction' (--primary-col)",
        "'shadow_prediction' (--shadow-col)",
    ),
)
case(
    "list_segment",
    "schema",
    "a list column given as --segment",
    lambda d: [
        "shadow-report",
        shadow_log(
            d, shadow_frame().with_columns(pl.concat_list("country", "country").alias("tags"))
        ),
        "--segment",
        "tags",
    ],
    (2,),
    ("'tags'", "List", "expected"),
)
case(
    "struct_unit",
    "schema",
    "a struct column given as the canary --unit",
    lambda d: [
        "canary-decide",
        canary_log(
            d, canary_frame().with_columns(pl.struct("user_id", "country").alias("user_id"))
        ),
        "-m",
        "clicked",
    ],
    (2,),
    ("'user_id'", "Struct"),
)
case(
    "mixed_types",
    "schema",
    "a prediction that is float in one file and text in another",
    lambda d: (
        shadow_logs(d, "logs/a.parquet"),
        write(
            d / "logs/b.parquet",
            shadow_frame().with_columns(pl.col("shadow_prediction").cast(pl.String)),
        ),
        ["shadow-report", "logs"],
    )[-1],
    (2,),
    ("b.parquet", "'shadow_prediction'", "a.parquet", "mixed schemas"),
)
case(
    "column_in_one_file",
    "schema",
    "a needed column missing from one file of two",
    lambda d: (
        shadow_logs(d, "logs/a.parquet"),
        write(d / "logs/b.parquet", shadow_frame().drop("shadow_latency_ms")),
        ["shadow-report", "logs"],
    )[-1],
    (2,),
    ("b.parquet", "'shadow_latency_ms'", "a.parquet"),
)
case(
    "text_time",
    "schema",
    "a text time column that is not ISO-8601",
    lambda d: [
        "shadow-report",
        shadow_log(d, shadow_frame().with_columns(pl.lit("yesterday").alias("ts"))),
    ],
    (2,),
    ("'ts'", "ISO-8601", "yesterday"),
)
case(
    "ambiguous_epoch",
    "schema",
    "epoch numbers whose magnitude spans two units",
    lambda d: [
        "shadow-report",
        shadow_log(
            d,
            shadow_frame().with_columns(
                pl.when(pl.int_range(pl.len()) == 0)
                .then(0)
                .otherwise(pl.col("ts").dt.epoch("ms"))
                .alias("ts")
            ),
        ),
    ],
    (2,),
    ("'ts'", "--time-unit"),
)
case(
    "bool_time",
    "schema",
    "a boolean time column",
    lambda d: [
        "shadow-report",
        shadow_log(d, shadow_frame().with_columns(pl.lit(True).alias("ts"))),
    ],
    (2,),
    ("'ts'", "timestamp"),
)
case(
    "empty_log",
    "schema",
    "a log with the right columns and no rows",
    lambda d: ["shadow-report", shadow_log(d, shadow_frame().head(0))],
    (2,),
    ("log.parquet", "no rows"),
)
case(
    "one_variant",
    "schema",
    "a canary log with a single variant",
    lambda d: [
        "canary-decide",
        canary_log(d, canary_frame().with_columns(pl.lit("v1").alias("model_variant"))),
        "-m",
        "clicked",
    ],
    (2,),
    ("'model_variant'", "1 variant"),
)
case(
    "newline_column_name",
    "schema",
    "a --segment naming a column with a newline in it",
    lambda d: ["shadow-report", shadow_log(d), "--segment", "bad\ncolumn\x1b[31m"],
    (2,),
    ("'bad column[31m'", "--segment"),
)
