"""Outputs: report files that would overwrite an input, folders, unwritable paths."""

from __future__ import annotations

import os

from tests.corpus.base import (
    case,
    policy,
    shadow_log,
    shadow_logs,
)

case(
    "output_is_log",
    "outputs",
    "--output names the log itself",
    lambda d: ["shadow-report", shadow_log(d), "--output", "log.parquet"],
    (2,),
    ("log.parquet", "input of this run"),
)
case(
    "output_other_spelling",
    "outputs",
    "--output names the log by another path",
    lambda d: ["shadow-report", shadow_log(d), "--output", f"{d}/./log.parquet"],
    (2,),
    ("log.parquet", "input of this run"),
)
case(
    "output_symlink",
    "outputs",
    "--output is a symlink to the log",
    lambda d: (
        shadow_log(d),
        os.symlink(d / "log.parquet", d / "out.json"),
        ["shadow-report", "log.parquet", "-o", "out.json"],
    )[-1],
    (2,),
    ("out.json", "input of this run"),
)
case(
    "output_part_in_folder",
    "outputs",
    "--output names one part file of a log folder",
    lambda d: (
        shadow_logs(d, "logs/a.parquet", "logs/b.parquet"),
        ["shadow-report", "logs", "-o", "logs/b.parquet"],
    )[-1],
    (2,),
    ("b.parquet", "input of this run"),
)
case(
    "output_is_config",
    "outputs",
    "--output names the --config file",
    lambda d: (
        (d / "abtool.toml").write_text("[shadow]\nduration = 1\n"),
        ["shadow-report", shadow_log(d), "--config", "abtool.toml", "-o", "abtool.toml"],
    )[-1],
    (2,),
    ("abtool.toml", "input of this run"),
)
case(
    "output_is_folder",
    "outputs",
    "--output names a directory",
    lambda d: ((d / "out").mkdir(), ["shadow-report", shadow_log(d), "-o", "out"])[-1],
    (2,),
    ("out", "directory"),
)
case(
    "output_missing_folder",
    "outputs",
    "--output inside a folder that does not exist",
    lambda d: ["shadow-report", shadow_log(d), "-o", "no/such/dir/report.md"],
    (2,),
    ("report.md", "cannot write"),
)
case(
    "junit_is_policy",
    "outputs",
    "gate --junit names the policy file",
    lambda d: (shadow_log(d), ["gate", policy(d, ""), "--junit", "policy.toml"])[-1],
    (2,),
    ("policy.toml", "input of this run"),
)
case(
    "markdown_is_gate_log",
    "outputs",
    "gate --markdown names a gate's log file",
    lambda d: (shadow_log(d), ["gate", policy(d, ""), "--markdown", "log.parquet"])[-1],
    (2,),
    ("log.parquet", "input of this run"),
)
case(
    "two_outputs_one_file",
    "outputs",
    "gate --junit and --markdown to the same file",
    lambda d: (shadow_log(d), ["gate", policy(d, ""), "--junit", "r.txt", "--markdown", "r.txt"])[
        -1
    ],
    (2,),
    ("r.txt", "already wrote"),
    writes=("r.txt",),
)
