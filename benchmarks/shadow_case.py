"""The shadow-report benchmark case: a large shadow log, the commands to time, the agreement check.

``benchmarks.run`` times ``abtool_argv(path)`` against ``baseline_argv(path)`` (the pandas +
scipy script in :mod:`benchmarks.baseline_shadow`) and a pyarrow read of ``SHADOW_COLUMNS``,
then calls :func:`compare_shadow` on the two JSON outputs.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from benchmarks.generate import shadow_log

# The columns shadow-report reads on the benchmark log (the floor reads the same): request_id
# too, which it reads to drop identical copies of a request.
SHADOW_COLUMNS = (
    "ts,primary_prediction,shadow_prediction,primary_latency_ms,shadow_latency_ms,"
    "shadow_error,country,device,request_id"
)
__all__ = ["SHADOW_COLUMNS", "abtool_argv", "baseline_argv", "compare_shadow", "shadow_log"]


def abtool_argv(path: Path) -> list[str]:
    """``abtool shadow-report`` on the log, JSON out."""
    return [sys.executable, "-m", "abtool", "shadow-report", str(path), "--format", "json"]


def baseline_argv(path: Path) -> list[str]:
    """The pandas + scipy script on the same log."""
    return [sys.executable, "-m", "benchmarks.baseline_shadow", str(path)]


def close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def compare_shadow(abtool: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Differences between abtool's JSON stats and the baseline's figures (empty: agree)."""
    st = abtool["stats"]
    problems = []
    for key in ("rows", "excluded_rows"):
        if st[key] != baseline[key]:
            problems.append(f"{key}: {st[key]} != {baseline[key]}")
    for key in (
        "ks_statistic",
        "ks_pvalue",
        "agreement_rate",
        "mean_abs_disagreement",
        "duration_hours",
        "shadow_error_rate",
    ):
        if not close(st[key], baseline[key], rel=1e-7):
            problems.append(f"{key}: {st[key]} != {baseline[key]}")
    for column, values in st["segments"].items():
        for entry in values:
            ref = baseline["segments"][column][entry["value"]]
            if (
                entry["rows"] != ref["rows"]
                or not close(entry["mean_abs_disagreement"], ref["mean_abs_disagreement"], rel=1e-9)
                or not close(entry["agreement_rate"], ref["agreement_rate"], rel=1e-12)
                or not _same_segment_ks(entry, ref["ks_statistic"])
            ):
                problems.append(f"segment {column}={entry['value']}: {entry} != {ref}")
    if not close(st["psi"], baseline["psi"], rel=1e-9):
        problems.append(f"psi: {st['psi']} != {baseline['psi']}")
    timeline = st["timeline"]
    for key, ours, theirs in [
        (
            "shadow_error_rate",
            timeline["shadow_error_rate"],
            baseline["timeline"]["shadow_error_rate"],
        ),
        *(
            (
                f"p99 {role}",
                timeline["latency_p99_ms"][role],
                baseline["timeline"]["latency_p99_ms"][role],
            )
            for role in ("primary", "shadow")
        ),
    ]:
        if len(ours) != len(theirs) or not all(
            close(a, b) for a, b in zip(ours, theirs, strict=True)
        ):
            problems.append(f"timeline {key} differs")
    for role, quantiles in st["latency"].items():
        for key, value in quantiles.items():
            if not close(value, baseline["latency"][role][key]):
                problems.append(
                    f"latency {role} {key}: {value} != {baseline['latency'][role][key]}"
                )
    return problems


def _same_segment_ks(entry: dict[str, Any], full_d: float) -> bool:
    """abtool's KS D within a segment value equals the baseline's on all its rows, or, where
    abtool computed it on an evenly spaced sample of ``ks_rows`` (a large value), lies within
    the sample's error: 1.95 * sqrt(2 / n), the two-sample KS critical value at 0.001."""
    n = entry.get("ks_rows")
    if n is None:
        return close(entry["ks_statistic"], full_d, rel=1e-9)
    return abs(entry["ks_statistic"] - full_d) <= 1.95 * math.sqrt(2 / n)
