"""Settings: options, --config files and rollout policies with bad or hostile values."""

from __future__ import annotations

import polars as pl

from tests.corpus.base import (
    REPORTS,
    case,
    hive_not_default,
    hive_segment,
    policy,
    shadow_log,
)
from tests.corpus.inputs import fifo, shadow_frame, write

for value, fragment in (
    ("1.5", "outside (0, 1]"),
    ("nan", "finite"),
    ("inf", "finite"),
    ("0", "outside (0, 1]"),
):
    case(
        f"threshold_{value}",
        "options",
        f"--threshold {value} on probabilities",
        lambda d, v=value: ["shadow-report", shadow_log(d), "--threshold", v],
        (2,),
        ("--threshold", fragment),
    )
case(
    "time_unit_hours",
    "options",
    "--time-unit hours",
    lambda d: ["shadow-report", shadow_log(d), "--time-unit", "hours"],
    (2,),
    ("--time-unit", "auto, s, ms, us, ns"),
)
case(
    "wrong_time_unit",
    "options",
    "--time-unit s on millisecond epochs",
    lambda d: [
        "shadow-report",
        shadow_log(d, shadow_frame().with_columns(pl.col("ts").dt.epoch("ms"))),
        "--time-unit",
        "s",
    ],
    (2,),
    ("'ts'", "seconds", "--time-unit"),
)
case(
    "hive_key_segment",
    "options",
    "a hive key named as --segment",
    lambda d: (
        write(d / "logs/date=2025-04-28/a.parquet", shadow_frame()),
        write(d / "logs/date=2025-04-29/b.parquet", shadow_frame(seed=4)),
        ["shadow-report", "logs", "--segment", "date", "--min-segment-rows", "1", "-f", "json"],
    )[-1],
    REPORTS,
    check=hive_segment,
)
case(
    "hive_key_not_default",
    "options",
    "hive keys are never default segments",
    lambda d: (
        write(d / "logs/date=2025-04-28/a.parquet", shadow_frame()),
        ["shadow-report", "logs", "-f", "json"],
    )[-1],
    REPORTS,
    check=hive_not_default,
)
for body, fragment in (
    ("agreement_rate = nan", "finite"),
    ("threshold = nan", "unknown"),
    ("duration = inf", "finite"),
    ("agreement_rate = 1.5", "in [0, 1]"),
):
    case(
        f"config_{body.split()[0]}_{body.split()[-1]}",
        "policy",
        f"--config with {body}",
        lambda d, b=body: (
            (d / "abtool.toml").write_text(f"[shadow]\n{b}\n"),
            ["shadow-report", shadow_log(d), "--config", "abtool.toml"],
        )[-1],
        (2,),
        ("abtool.toml", fragment),
    )
case(
    "policy_threshold_nan",
    "policy",
    "a gate option threshold = nan",
    lambda d: (shadow_log(d), ["gate", policy(d, "threshold = nan\n")])[-1],
    (2,),
    ("policy.toml:5", "threshold", "finite"),
)
case(
    "policy_threshold_out_of_range",
    "policy",
    "a gate option threshold = 1.5",
    lambda d: (shadow_log(d), ["gate", policy(d, "threshold = 1.5\n")])[-1],
    (2,),
    ("gate 'shadow'", "--threshold 1.5"),
)
case(
    "policy_negative_rate",
    "policy",
    "a gate threshold agreement_rate = -1",
    lambda d: (shadow_log(d), ["gate", policy(d, "[gate.thresholds]\nagreement_rate = -1\n")])[-1],
    (2,),
    ("policy.toml:6", "agreement_rate"),
)
case(
    "policy_fifo_log",
    "policy",
    "a gate whose log is a FIFO",
    lambda d: (fifo(d / "log.parquet"), ["gate", policy(d, "")])[-1],
    (2,),
    ("gate 'shadow'", "FIFO"),
)
