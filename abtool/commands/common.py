"""Settings that several commands declare alike."""

from __future__ import annotations

from typing import Any

from abtool.spec import AT_LEAST_ONE, option
from abtool.times import check_time


def since_option() -> Any:
    """``--since``: keep rows at or after this time."""
    return option(
        None,
        "--since",
        "Keep rows at or after this ISO time (UTC if naive).",
        parse=check_time,
    )


def until_option() -> Any:
    """``--until``: keep rows before this time."""
    return option(
        None,
        "--until",
        "Keep rows before this ISO time (UTC if naive).",
        parse=check_time,
    )


INFERENCE_METHODS = ("sequential", "fixed")


def inference_option() -> Any:
    """``--inference``: always-valid (sequential) or fixed-horizon tests."""
    return option(
        "sequential",
        "--inference",
        "sequential: confidence sequences, valid at every look (re-run on each snapshot); "
        "fixed: one pre-planned look.",
        choices=INFERENCE_METHODS,
    )


def tuning_units_option() -> Any:
    """``--tuning-units``: where the confidence sequence is tightest."""
    return option(
        5000,
        "--tuning-units",
        "N*: total units (sessions) where the confidence sequence is tightest; the planned "
        "total fits best (sample-size prints it).",
        range=AT_LEAST_ONE,
    )


TIME_UNITS = ("auto", "s", "ms", "us", "ns")


def time_unit_option() -> Any:
    """``--time-unit``: how an epoch-number time column is read."""
    return option(
        "auto",
        "--time-unit",
        "Unit of a time column holding epoch numbers; auto decides by magnitude and says so "
        "in the warnings.",
        choices=TIME_UNITS,
    )


ENGINE_NAMES = ("polars", "spark")


def engine_option() -> Any:
    """``--engine``: where the log is read and reduced (see docs/engines.md)."""
    return option(
        "polars",
        "--engine",
        "Where the log is reduced: polars (this machine, streaming) or spark (a Spark session: "
        "--spark-master, or Spark Connect at SPARK_REMOTE; pip install 'abtool[spark]').",
        choices=ENGINE_NAMES,
    )


def spark_master_option() -> Any:
    """``--spark-master``: the master URL of the session ``--engine spark`` starts."""
    return option(
        None,
        "--spark-master",
        "Spark master URL for --engine spark (local[N], spark://host:7077, yarn ...; default "
        "local[*], or Spark Connect when SPARK_REMOTE is set).",
    )


KS_MODES = ("exact", "approximate")


def ks_option() -> Any:
    """``--ks``: whether KS D is refined to its exact value or left at its bounds."""
    return option(
        "exact",
        "--ks",
        "KS D: exact, or approximate (bounds from one counting pass over value buckets; the "
        "check is decided unless its threshold lies between them).",
        choices=KS_MODES,
    )
