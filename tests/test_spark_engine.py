"""The Spark groundwork: a quiet local[2] session reads abtool's simulated logs, and its
bucket counts give the same KS D and quantiles as numpy on the sorted columns."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from abtool.engines.spark_buckets import SparkBucketSource
from abtool.engines.spark_session import local_cores, local_settings, spark_session
from abtool.errors import UsageError
from abtool.simulate.shadow import ShadowSpec, shadow_chunks
from abtool.simulate.writer import write_chunks
from abtool.stats.bucket_source import ArrayBucketSource, DyadicGrid, ValueRange
from abtool.stats.bucketed import exact_ks, exact_quantiles, ks_bounds
from abtool.stats.ks import ks_statistic_sorted

pytestmark = pytest.mark.spark

QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


@pytest.fixture(scope="module")
def shadow_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spark") / "shadow.parquet"
    write_chunks(shadow_chunks(ShadowSpec(rows=100_000, hours=48, seed=21, bad_segment="BR")), path)
    return path


def test_local_masters_and_their_settings():
    assert [local_cores(m) for m in ("local", "local[2]", "local[3, 2]", "yarn")] == [1, 2, 3, 0]
    settings = local_settings("local[2]")
    assert settings["spark.sql.shuffle.partitions"] == "4"
    assert settings["spark.driver.bindAddress"] == "127.0.0.1"
    assert Path(settings["spark.driver.extraJavaOptions"].split("file:")[1]).is_file()
    total_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    heap = int(settings["spark.driver.memory"].removesuffix("g"))
    assert 1 <= heap <= 16 and heap <= max(1, total_gib / 2)


def test_master_and_spark_remote_together_are_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SPARK_REMOTE", "sc://127.0.0.1:15002")
    with pytest.raises(UsageError, match="both choose a Spark"):
        spark_session(master="local[2]")


def test_session_is_local_quiet_and_utc(spark):
    assert spark_session(spark) is spark
    conf = spark.sparkContext.getConf()
    assert spark.sparkContext.master == "local[2]"
    assert conf.get("spark.ui.enabled") == "false"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "4"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


def test_reads_a_simulated_log(spark, shadow_log: Path):
    frame = spark.read.parquet(str(shadow_log))
    assert frame.count() == 100_000
    local = pl.read_parquet(shadow_log)
    nulls = frame.where(frame.shadow_prediction.isNull()).count()
    assert nulls == local["shadow_prediction"].null_count() > 0


def _edge_case_values() -> tuple[list[float | None], list[float | None]]:
    # Ties on dyadic edges, signed zeros, infinities, NaN, nulls, subnormals, huge values.
    a = [0.0, -0.0, 0.25, 0.25, 0.5, 1.0, 1.0, 3.0, math.inf, -math.inf, math.nan, None, 5e-324]
    b = [-0.0, 0.25, 0.75, 1.0, 2.0, 2.0, -1e300, 1e300, math.nan, None, -5e-324, 2.0**-1070]
    return a, b


def _reference_d(a: list[float | None], b: list[float | None]) -> float:
    x, y = (np.array([v for v in s if v is not None and not math.isnan(v)]) for s in (a, b))
    return ks_statistic_sorted(np.sort(x), np.sort(y))


def _long_frame(spark, a: list[float | None], b: list[float | None]):
    rows = [(0, x) for x in a] + [(1, x) for x in b]
    return spark.createDataFrame(rows, "sample int, value double")


def test_counts_and_values_equal_numpy_on_edge_cases(spark):
    a, b = _edge_case_values()
    source = SparkBucketSource(_long_frame(spark, a, b))
    reference = ArrayBucketSource(
        np.array([np.nan if x is None else x for x in a]),
        np.array([np.nan if x is None else x for x in b]),
    )
    assert source.extent() == reference.extent()
    grids = [
        DyadicGrid(-1074, -3, 7),  # subnormal width: the +-1 correction at work
        DyadicGrid(-2, 0, 5),  # edges 0, .25, .5, .75, 1: values sit on them
    ]
    for grid in grids:
        got, expected = source.counts(grid), reference.counts(grid)
        assert (got.counts_a == expected.counts_a).all(), grid
        assert (got.counts_b == expected.counts_b).all(), grid
        np.testing.assert_array_equal(got.low, expected.low)
        np.testing.assert_array_equal(got.high, expected.high)
    ranges = [ValueRange(None, -0.0), ValueRange(0.25, 1.0), ValueRange(2.0, None)]
    for got, expected in zip(source.values(ranges), reference.values(ranges), strict=True):
        np.testing.assert_array_equal(np.sort(got), np.sort(expected))
    assert (
        exact_ks(source, max_buckets=5, fetch_budget=0).statistic
        == exact_ks(reference, max_buckets=5, fetch_budget=0).statistic
    )


def test_many_ranges_fetched_at_once_equal_numpy(spark):
    """Values of several ranges in one query (one binary search per row): zeros of either
    sign, infinities and ranges that touch or overlap give numpy's comparisons."""
    a, b = _edge_case_values()
    source = SparkBucketSource(_long_frame(spark, a, b))
    reference = ArrayBucketSource(
        np.array([np.nan if x is None else x for x in a]),
        np.array([np.nan if x is None else x for x in b]),
    )
    for ranges in (
        [ValueRange(None, -0.0), ValueRange(0.0, 0.25), ValueRange(0.75, 2.0)],
        [ValueRange(-0.0, 0.0), ValueRange(-5e-324, 5e-324), ValueRange(1.0, None)],
        [ValueRange(0.25, 1.0), ValueRange(0.5, 3.0), ValueRange(None, None)],
    ):
        for got, expected in zip(source.values(ranges), reference.values(ranges), strict=True):
            np.testing.assert_array_equal(np.sort(got), np.sort(expected))


def test_ks_and_quantiles_equal_numpy_on_a_shadow_log(spark, shadow_log: Path):
    frame = spark.read.parquet(str(shadow_log))
    local = pl.read_parquet(shadow_log)
    primary = local["primary_prediction"].to_numpy()
    shadow = local["shadow_prediction"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    valid = ~(np.isnan(primary) | np.isnan(shadow))
    expected_d = ks_statistic_sorted(np.sort(primary[valid]), np.sort(shadow[valid]))

    predictions = SparkBucketSource.from_columns(frame, "primary_prediction", "shadow_prediction")
    result = exact_ks(predictions)
    assert result.statistic == expected_d
    assert result.effort.fetched < 0.02 * valid.sum() * 2
    bounds = ks_bounds(predictions)
    assert bounds.lower <= expected_d <= bounds.upper

    latency = SparkBucketSource.from_columns(
        frame, "primary_latency_ms", "shadow_latency_ms", paired=False
    )
    quantiles = exact_quantiles(latency, QUANTILES)
    for key, q in QUANTILES.items():
        assert quantiles.a[key] == np.quantile(local["primary_latency_ms"].to_numpy(), q)
        assert quantiles.b[key] == np.quantile(local["shadow_latency_ms"].to_numpy(), q)


def test_two_frames_as_samples(spark, shadow_log: Path):
    frame = spark.read.parquet(str(shadow_log))
    mobile = frame.where(frame.device == "mobile")
    desktop = frame.where(frame.device == "desktop")
    source = SparkBucketSource.from_frames(
        mobile, "primary_latency_ms", desktop, "primary_latency_ms"
    )
    local = pl.read_parquet(shadow_log)
    a = local.filter(pl.col("device") == "mobile")["primary_latency_ms"].to_numpy()
    b = local.filter(pl.col("device") == "desktop")["primary_latency_ms"].to_numpy()
    assert exact_ks(source).statistic == ks_statistic_sorted(np.sort(a), np.sort(b))


def test_importing_the_session_module_does_not_start_or_load_spark():
    import subprocess
    import sys

    code = "import sys, abtool.engines.spark_session; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
