"""Time a local Spark session's start and the bucketed KS D / quantiles on a shadow log.

Generates a seeded shadow log (kept in ``--dir`` for reuse), starts ``--master`` and times
each step, then checks D and the quantiles against numpy on the sorted columns:

    python -m benchmarks.spark_buckets --rows 1000000 [--master local[2]] [--cache]

Timings are wall seconds of the first (cold) and a second (warm) run of each step.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

from abtool.engines.spark_buckets import SparkBucketSource
from abtool.engines.spark_session import spark_session
from abtool.simulate.shadow import ShadowSpec, shadow_chunks
from abtool.simulate.writer import write_chunks
from abtool.stats.bucketed import exact_ks, exact_quantiles, ks_bounds
from abtool.stats.ks import ks_statistic_sorted

QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/abtool-bench"))
    parser.add_argument("--cache", action="store_true", help="cache the log in Spark first")
    args = parser.parse_args()

    path = args.dir / f"shadow-{args.rows}.parquet"
    if not path.exists():
        spec = ShadowSpec(rows=args.rows, hours=48, seed=5, bad_segment="BR")
        write_chunks(shadow_chunks(spec), path)

    start = time.perf_counter()
    spark = spark_session(master=args.master)
    print(f"session start: {time.perf_counter() - start:.1f} s ({spark.version}, {args.master})")
    frame = spark.read.parquet(str(path))
    if args.cache:
        frame = frame.cache()
        frame.count()
    predictions = SparkBucketSource.from_columns(frame, "primary_prediction", "shadow_prediction")
    latency = SparkBucketSource.from_columns(
        frame, "primary_latency_ms", "shadow_latency_ms", paired=False
    )
    steps = {
        "exact KS D": lambda: exact_ks(predictions),
        "KS bounds": lambda: ks_bounds(predictions),
        "exact p50/p95/p99 (both)": lambda: exact_quantiles(latency, QUANTILES),
    }
    results = {}
    for name, step in steps.items():
        times = []
        for _ in range(2):
            start = time.perf_counter()
            results[name] = step()
            times.append(time.perf_counter() - start)
        effort = results[name].effort
        print(
            f"{name}: cold {times[0]:.1f} s, warm {times[1]:.1f} s "
            f"({effort.passes} counting pass(es), {effort.fetched} values fetched)"
        )
    spark.stop()

    local = pl.read_parquet(path)
    primary = local["primary_prediction"].to_numpy()
    shadow = local["shadow_prediction"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    valid = ~(np.isnan(primary) | np.isnan(shadow))
    start = time.perf_counter()
    d = ks_statistic_sorted(np.sort(primary[valid]), np.sort(shadow[valid]))
    print(f"numpy sort + merge D: {time.perf_counter() - start:.2f} s")
    assert results["exact KS D"].statistic == d, (results["exact KS D"], d)
    for key, q in QUANTILES.items():
        assert results["exact p50/p95/p99 (both)"].a[key] == np.quantile(
            local["primary_latency_ms"].to_numpy(), q
        )
    print(f"D = {d} equals numpy; quantiles equal numpy")


if __name__ == "__main__":
    main()
