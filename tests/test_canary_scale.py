"""canary-decide at scale, untimed: partitioned logs, lean imports, exact p-values."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats

from abtool.reports.canary import CanaryOptions, canary_report
from abtool.simulate.canary import CanarySpec, canary_chunks
from abtool.simulate.writer import write_chunks
from abtool.stats.ks import exact_pvalue_equal_sizes, ks_2samp_sorted
from abtool.stats.srm import sample_ratio_mismatch

ROOT = Path(__file__).resolve().parent.parent
SPEC = CanarySpec(
    users=4000,
    requests_per_user=4.0,
    hours=72.0,
    stage=20.0,
    seed=11,
    click_lift=0.2,
    inconsistent=0.01,
)
OPTIONS = CanaryOptions(
    metrics=("clicked", "revenue"),
    segments=("country", "device"),
    stage=20.0,
    salt="canary",
)


def assert_same(left: Any, right: Any, where: str = "report") -> None:
    """Equal structures; floats equal up to summation order (relative 1e-12)."""
    if isinstance(left, dict):
        assert isinstance(right, dict) and left.keys() == right.keys(), where
        for key in left:
            assert_same(left[key], right[key], f"{where}.{key}")
    elif isinstance(left, list):
        assert isinstance(right, list) and len(left) == len(right), where
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(left, float) and not isinstance(right, bool):
        assert isinstance(right, float | int), where
        both_nan = math.isnan(left) and math.isnan(right)
        assert both_nan or math.isclose(left, right, rel_tol=1e-12, abs_tol=1e-300), where
    else:
        assert left == right, where


def test_partitioned_log_gives_the_report_of_one_file(tmp_path):
    single = tmp_path / "one.parquet"
    parts = tmp_path / "parts"
    write_chunks(canary_chunks(SPEC), single)
    # The same rows in many files: slices of 1500 rows, each split into date= partitions.
    log = pl.read_parquet(single)
    write_chunks((t.to_arrow() for t in log.iter_slices(1500)), parts, partition_by_date="ts")
    files = sorted(parts.rglob("*.parquet"))
    assert len(files) > 20
    days = {"date=2025-04-28", "date=2025-04-29", "date=2025-04-30"}
    assert {f.parent.name for f in files} == days

    whole = canary_report([single], options=OPTIONS).to_dict()
    split = canary_report([parts], options=OPTIONS).to_dict()
    assert split["inputs"]["files"] == len(files)
    assert whole["inputs"]["rows"] == split["inputs"]["rows"] > 10_000
    assert whole["stats"]["inconsistent_units"] > 0
    assert whole["stats"]["segments"]["country"]
    for report in (whole, split):
        del report["inputs"]
    assert_same(whole, split)


def test_proportion_metric_run_imports_neither_scipy_stats_nor_pandas(tmp_path):
    """The default path needs only scipy.special: scipy.stats alone costs ~1 s to import."""
    log = tmp_path / "log.parquet"
    write_chunks(canary_chunks(CanarySpec(users=2000, stage=50.0, seed=2)), log)
    probe = (
        "import sys\n"
        "from abtool.cli import main\n"
        f"sys.argv = ['abtool', 'canary-decide', {str(log)!r}, '--metric', 'clicked',"
        " '--stage', '50', '--format', 'json']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('scipy.stats', 'pandas', 'statsmodels') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert '"verdict"' in done.stdout
    assert "HEAVY []" in done.stderr


@pytest.mark.parametrize("seed", range(6))
def test_exact_ks_equal_sizes_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    n = [1, 7, 50, 400, 1000, 2500][seed]
    a = np.sort(rng.normal(size=n))
    b = np.sort(rng.normal(loc=0.3, size=n))
    if seed % 2:  # ties within and across the samples
        a, b = np.round(a, 1), np.round(b, 1)
    ours = ks_2samp_sorted(a, b)
    ref = stats.ks_2samp(a, b, method="exact")
    assert ours.method == "exact"
    assert ours.statistic == ref.statistic
    assert ours.pvalue == ref.pvalue
    assert exact_pvalue_equal_sizes(n, 0.0) == 1.0


@pytest.mark.parametrize(
    ("observed", "shares"),
    [([7990, 2010], [0.8, 0.2]), ([500, 620], [1, 1]), ([100, 130, 90], [0.3, 0.4, 0.3])],
)
def test_srm_matches_scipy_chisquare(observed, shares):
    result = sample_ratio_mismatch(observed, shares)
    expected = np.sum(observed) * np.asarray(shares) / np.sum(shares)
    ref = stats.chisquare(np.asarray(observed, dtype=float), expected)
    assert result.chi2 == pytest.approx(float(ref.statistic), rel=1e-14)
    assert result.pvalue == pytest.approx(float(ref.pvalue), rel=1e-14)


def test_recent_window_takes_the_latest_timestamped_predictions(tmp_path):
    from datetime import datetime, timedelta

    from abtool.aggregates.canary import CanaryRequest
    from abtool.commands.canary import CanaryColumns
    from abtool.engines import open_log
    from tests.helpers import write_parquet

    t0 = datetime(2025, 4, 28)
    # (user, variant, minute or None, prediction); null-ts rows count everywhere but "recent".
    rows = [
        (1, "v1", 3, 0.4),
        (1, "v1", 0, 0.1),
        (2, "v1", None, 0.95),
        (2, "v1", 2, 0.3),
        (3, "v1", 1, 0.2),
        (4, "v2", 5, 0.6),
        (4, "v2", None, 0.05),
        (5, "v2", 4, 0.5),
        (5, "v2", 6, 0.7),
    ]
    path = write_parquet(
        tmp_path / "log.parquet",
        {
            "ts": [None if r[2] is None else t0 + timedelta(minutes=r[2]) for r in rows],
            "user_id": [r[0] for r in rows],
            "model_variant": [r[1] for r in rows],
            "prediction": [r[3] for r in rows],
        },
    )
    data = open_log([path]).canary(
        CanaryColumns(),
        CanaryRequest(metrics=(), segments=(), control=None, treatment=None, recent_window=2),
    )
    assert data.control.predictions_sorted.tolist() == [0.1, 0.2, 0.3, 0.4, 0.95]
    assert data.control.recent_sorted.tolist() == [0.3, 0.4]
    assert data.treatment.predictions_sorted.tolist() == [0.05, 0.5, 0.6, 0.7]
    assert data.treatment.recent_sorted.tolist() == [0.6, 0.7]


def test_same_log_gives_the_same_digits(tmp_path):
    """Units come out of a parallel group-by in varying order; the report must not."""
    log = tmp_path / "log.parquet"
    write_chunks(canary_chunks(CanarySpec(users=6000, stage=50.0, seed=4, click_lift=0.1)), log)
    options = CanaryOptions(metrics=("clicked", "revenue"), segments=("country",), stage=50.0)
    first = canary_report([log], options=options).to_dict()
    for _ in range(3):
        assert canary_report([log], options=options).to_dict() == first
