"""Where a command spends its time: wall seconds of its named stages, measured in process.

Runs ``abtool ARGS`` once with the functions below wrapped in timers (nested stages are
included in their callers' figures) and prints the stages in the order they finished, with
the peak resident memory sampled (every 20 ms) while each ran, then the whole run from
interpreter start. ``--budget 0`` scans the log per pass instead of holding
its columns in memory (:mod:`abtool.engines.polars.resident`).

    python -m benchmarks.stages [--budget BYTES] canary-decide LOG --metric clicked --stage 20
    python -m benchmarks.stages shadow-report LOG
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

START = time.perf_counter()

STAGES = {
    "canary-decide": [
        ("abtool.engines.polars.canary", "resident"),
        ("abtool.engines.polars.canary", "drop_duplicate_requests"),
        ("abtool.engines.polars.canary", "_first_pass"),
        ("abtool.engines.polars.canary", "_second_pass"),
        ("abtool.engines.polars.canary", "column_bucket_moments"),
        ("abtool.engines.polars.canary_roles", "owned_columns"),
        ("abtool.engines.polars.canary_variants", "latency_quantiles"),
        ("abtool.engines.polars.canary_buckets", "role_latency_quantiles"),
        ("abtool.engines.polars.canary_variants", "variant_rows"),
        ("abtool.engines.polars.canary", "value_counts"),
        ("abtool.engines.polars.canary", "unit_bucket_moments"),
        ("abtool.engines.polars.canary", "aggregate_canary"),
        ("abtool.reports.canary", "metric_series"),
        ("abtool.stats.ks", "ks_statistic_location_sorted"),
        ("abtool.reports.canary", "prediction_shift"),
    ],
    "shadow-report": [
        ("abtool.engines.polars.shadow", "resident"),
        ("abtool.engines.polars.shadow", "drop_duplicate_requests"),
        ("abtool.engines.polars.shadow", "collect_each"),
        ("abtool.engines.polars.shadow", "latency_quantiles"),
        ("abtool.engines.polars.shadow", "sorted_valid_pair"),
        ("abtool.engines.polars.shadow", "aggregate_shadow"),
        ("abtool.reports.shadow", "_statistics"),
    ],
}

marks: list[tuple[str, float, float]] = []  # name, start, end
samples: list[tuple[float, float]] = []  # time, resident MB


def _sample_rss() -> None:
    page = os.sysconf("SC_PAGE_SIZE") / 2**20
    while True:
        with open("/proc/self/statm") as statm:
            samples.append((time.perf_counter(), int(statm.read().split()[1]) * page))
        time.sleep(0.02)


def _peak(start: float, end: float) -> float:
    return max((mb for t, mb in samples if start <= t <= end), default=float("nan"))


def _timed(module: Any, name: str) -> None:
    function: Callable[..., Any] = getattr(module, name)

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            marks.append((name, start, time.perf_counter()))

    setattr(module, name, timed)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--budget"]:
        import abtool.engines.polars.resident as resident

        resident.RESIDENT_BUDGET_BYTES = int(argv[1])
        argv = argv[2:]
    for module_name, name in STAGES.get(argv[0], []):
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            _timed(module, name)
    from abtool.cli import main as abtool_main

    threading.Thread(target=_sample_rss, daemon=True).start()

    sys.argv = ["abtool", *argv]
    with contextlib.suppress(SystemExit):
        abtool_main()
    for name, start, end in marks:
        print(f"{name:32s} {end - start:6.2f} s {_peak(start, end):7.0f} MB", file=sys.stderr)
    end = time.perf_counter()
    print(f"{'whole run':32s} {end - START:6.2f} s {_peak(0, end):7.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
