"""Settings that several commands declare alike."""

from __future__ import annotations

from typing import Any

from abtool.spec import option
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
