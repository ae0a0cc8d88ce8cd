"""Log aggregation of canary-decide on small hand-made logs, checked value by value."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from abtool.aggregates.canary import CanaryRequest
from abtool.assignment import in_treatment
from abtool.commands.canary import CanaryColumns
from abtool.engines import open_log
from abtool.engines.polars.canary_resolve import resolve_variants
from abtool.errors import InputError
from tests.helpers import write_parquet

T0 = datetime(2025, 4, 28)


def make_log(tmp_path: Path) -> Path:
    # user 1: control x3; user 2: treatment x2; user 3: both variants (inconsistent);
    # user 4: control, clicked NaN on one row; one row with a null user; one with variant v3.
    rows = [
        (1, "v1", 1.0, 10.0, False, 0.2),
        (1, "v1", 0.0, 12.0, False, 0.3),
        (1, "v1", 1.0, 14.0, True, 0.4),
        (2, "v2", 0.0, 20.0, False, 0.6),
        (2, "v2", 1.0, 30.0, False, 0.7),
        (3, "v1", 1.0, 11.0, False, 0.5),
        (3, "v2", 1.0, 21.0, True, 0.8),
        (4, "v1", float("nan"), 13.0, False, 0.1),
        (4, "v1", 0.0, 15.0, False, 0.9),
        (None, "v2", 1.0, 22.0, False, 0.5),
        (5, "v3", 1.0, 99.0, False, 0.5),
    ]
    return write_parquet(
        tmp_path / "log.parquet",
        {
            "ts": [T0 + timedelta(minutes=i) for i in range(len(rows))],
            "user_id": [r[0] for r in rows],
            "model_variant": [r[1] for r in rows],
            "clicked": [r[2] for r in rows],
            "latency_ms": [r[3] for r in rows],
            "error": [r[4] for r in rows],
            "prediction": [r[5] for r in rows],
            "country": ["US", "US", "US", "DE", "DE", "US", "US", "DE", "DE", "US", "US"],
        },
    )


def aggregate(path: Path, **kwargs):
    defaults = dict(
        metrics=("clicked",),
        segments=("country",),
        control="v1",
        treatment="v2",
        recent_window=2,
    )
    defaults.update(kwargs)
    return open_log([path]).canary(CanaryColumns(), CanaryRequest(**defaults))


def test_aggregates_value_by_value(tmp_path):
    data = aggregate(make_log(tmp_path))
    assert data.rows == 11
    assert data.excluded == {"null user_id": 1, "model_variant = v3": 1}
    c, t = data.control, data.treatment
    # Health figures count every request of the variant, inconsistent users included.
    assert (c.requests, t.requests) == (6, 3)
    assert (c.errors, t.errors) == (1, 1)
    assert c.latency_p99_ms == pytest.approx(np.quantile([10, 12, 14, 11, 13, 15], 0.99))
    assert t.prediction_mean == pytest.approx(np.mean([0.6, 0.7, 0.8]))
    # Units: user 3 is inconsistent and counted in neither variant.
    assert (c.units, t.units) == (2, 1)
    assert data.inconsistent_units == 1 and data.inconsistent_rows == 2
    metric = data.metrics[0]
    assert metric.binary and metric.missing_rows == 1
    order = np.argsort(metric.control.y)
    assert metric.control.x[order].tolist() == [0.0, 2.0]  # user 4 (NaN dropped), user 1
    assert metric.control.y[order].tolist() == [1.0, 3.0]
    assert metric.treatment.x.tolist() == [1.0] and metric.treatment.y.tolist() == [2.0]
    # KS inputs: all predictions sorted, and the latest `recent_window` by timestamp.
    assert c.predictions_sorted.tolist() == sorted([0.2, 0.3, 0.4, 0.5, 0.1, 0.9])
    assert c.recent_sorted.tolist() == [0.1, 0.9]
    assert t.recent_sorted.tolist() == [0.7, 0.8]
    # Segments: the largest values of the log, then ordered by the rows analysed, with
    # inconsistent user 3 left out (US: 7 rows in the log, 3 analysed; DE: 4 and 4).
    values = [s.value for s in data.segments["country"]]
    assert values == ["DE", "US"]
    us = data.segments["country"][1]
    assert us.rows == 3 and us.control.x.tolist() == [2.0] and us.treatment.units == 0
    # Without a salt nothing is checked; with one, the consistent units (control 1 and 4,
    # treatment 2) are counted against their md5 buckets.
    assert data.salt_mismatched_units is None
    salted = aggregate(make_log(tmp_path), salt="s", treatment_share=0.5)
    expected = sum(in_treatment("s", u, 0.5) for u in (1, 4)) + (not in_treatment("s", 2, 0.5))
    assert salted.salt_mismatched_units == expected


def test_time_window_applies_before_everything(tmp_path):
    data = aggregate(make_log(tmp_path), until=T0 + timedelta(minutes=5))
    assert data.rows == 5
    assert (data.control.requests, data.treatment.requests) == (3, 2)


def test_resolve_variants():
    assert resolve_variants(["v2", "v1"], None, None, "f", "c")[:2] == ("v1", "v2")
    assert resolve_variants(["a", "b"], "b", None, "f", "c") == ("b", "a", None)
    assert resolve_variants(["a", "b", "c"], "a", "c", "f", "c") == ("a", "c", None)
    with pytest.raises(InputError, match="3 variants"):
        resolve_variants(["a", "b", "c"], "a", None, "f", "c")
    with pytest.raises(InputError, match="both 'a'"):
        resolve_variants(["a", "b"], "a", "a", "f", "c")


def test_missing_health_values_are_counted_not_used(tmp_path):
    import polars as pl

    log = pl.read_parquet(make_log(tmp_path))
    log = log.with_columns(
        latency_ms=pl.when(pl.col("user_id") == 1).then(float("nan")).otherwise("latency_ms"),
        prediction=pl.when(pl.col("user_id") == 2).then(None).otherwise("prediction"),
    )
    path = write_parquet(tmp_path / "holes.parquet", log)
    data = aggregate(path)
    assert data.control.missing == {"latency_ms": 3}
    assert data.treatment.missing == {"prediction": 2}
    # NaN latencies never enter the quantile; null predictions never enter the mean.
    assert data.control.latency_p99_ms == pytest.approx(np.quantile([11, 13, 15], 0.99))
    assert data.treatment.prediction_mean == pytest.approx(0.8)


def test_missing_values_warn_in_the_report(tmp_path):
    import polars as pl

    from abtool.reports.canary import CanaryOptions, canary_report

    log = pl.read_parquet(make_log(tmp_path)).with_columns(
        prediction=pl.when(pl.col("user_id") == 2).then(None).otherwise("prediction")
    )
    path = write_parquet(tmp_path / "holes.parquet", log)
    report = canary_report(
        [path], options=CanaryOptions(metrics=("clicked",), stage=50, control="v1", treatment="v2")
    )
    expected = "2 v2 rows with a null or unusable prediction left out of the figures that use"
    assert f"{expected} 'prediction'" in report.warnings
    assert any("1 with null user_id" in w for w in report.warnings)
    # Control p99 ~15 ms vs treatment ~30 ms in this tiny log: the latency trigger fires.
    assert report.verdict.value == "ROLLBACK"
    assert report.check("latency_p99").passed is False
