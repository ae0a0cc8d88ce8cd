"""shadow-report's segment, spike, range, PSI, duration and summary checks on real logs: each
figure against a direct computation on the same rows, each verdict on a log with a known
defect (and its clean twin)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from abtool.reports.shadow import shadow_report
from abtool.simulate.shadow import ShadowSpec, shadow_chunks
from abtool.simulate.writer import write_chunks
from tests.helpers import write_parquet
from tests.test_shadow_stats import direct_psi


def simulate(path: Path, **spec: object) -> Path:
    write_chunks(shadow_chunks(ShadowSpec(**spec)), path)  # type: ignore[arg-type]
    return path


def failed(report: dict) -> list[str]:
    return [c["id"] for c in report["checks"] if c["passed"] is False]


@pytest.fixture(scope="module")
def spiked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """37 hours at 0.1% shadow errors, hour 18 at 30%."""
    path = tmp_path_factory.mktemp("spike") / "spiked.parquet"
    return simulate(
        path, rows=20_000, hours=37, seed=4, error_rate=0.001, error_spikes=((18, 0.30),)
    )


@pytest.fixture(scope="module")
def spiked_json(spiked: Path) -> dict:
    return shadow_report(spiked).to_dict()


def test_an_hour_of_errors_is_named_while_the_log_stays_under_one_percent(
    spiked_json: dict,
) -> None:
    st = spiked_json["stats"]
    assert st["shadow_error_rate"] < 0.01  # the whole log passes its own error check
    assert spiked_json["verdict"] == "NO_GO"
    assert failed(spiked_json) == ["error_spike"]
    timeline = st["timeline"]
    hour_18 = timeline["start"].index("2025-04-28T18:00:00+00:00")
    assert timeline["flagged_bucket"] == hour_18
    assert timeline["error_spike_buckets"] == [hour_18]
    assert timeline["latency_spike_buckets"] == []
    assert "the 1h bucket at 2025-04-28 18:00 UTC" in spiked_json["reasons"][0]


def test_a_slow_hour_is_named(tmp_path: Path) -> None:
    log = simulate(
        tmp_path / "slow.parquet", rows=20_000, hours=37, seed=4, latency_spikes=((30, 3.0),)
    )
    report = shadow_report(log).to_dict()
    timeline = report["stats"]["timeline"]
    hour_30 = timeline["start"].index("2025-04-29T06:00:00+00:00")
    assert timeline["latency_spike_buckets"] == [hour_30] == [timeline["flagged_bucket"]]
    spike = report["checks"][8]
    assert spike["id"] == "latency_spike" and spike["passed"] is False
    assert "the 1h bucket at 2025-04-29 06:00 UTC" in spike["message"]
    # Measured against the median hour, not the whole log's p99 that the slow hour pulls up.
    p99 = timeline["latency_p99_ms"]["shadow"]
    assert spike["value"] == pytest.approx(p99[hour_30] / np.median(p99))
    assert p99[hour_30] / report["stats"]["latency"]["shadow"]["p99_ms"] < spike["value"]


def test_timeline_equals_a_direct_computation(spiked: Path, spiked_json: dict) -> None:
    frame = pl.read_parquet(spiked).with_columns(pl.col("ts").dt.truncate("1h").alias("hour"))
    hours = frame.partition_by("hour", as_dict=True)
    timeline = spiked_json["stats"]["timeline"]
    assert timeline["bucket"] == "1h"
    assert len(timeline["start"]) == len(hours) == 37
    for i, start in enumerate(timeline["start"]):
        rows = hours[(datetime.fromisoformat(start).replace(tzinfo=None),)]
        assert timeline["requests"][i] == rows.height
        assert timeline["shadow_error_rate"][i] == pytest.approx(rows["shadow_error"].mean())
        for role in ("primary", "shadow"):
            expected = np.percentile(rows[f"{role}_latency_ms"].to_numpy(), 99)
            assert timeline["latency_p99_ms"][role][i] == pytest.approx(expected, rel=1e-12)
    # The bucket's binomial test as scipy computes it, Bonferroni over the 37 hours.
    errors = spiked_json["checks"][[c["id"] for c in spiked_json["checks"]].index("error_spike")]
    hour = hours[(datetime(2025, 4, 28, 18),)]
    overall = frame["shadow_error"].mean()
    p = stats.binomtest(int(hour["shadow_error"].sum()), hour.height, overall, "greater").pvalue
    assert f"binomial p = {p:.2g}" in errors["message"]
    assert "Bonferroni over 37 tests" in errors["message"]


def test_the_clean_twin_passes_every_spike_check(tmp_path: Path) -> None:
    clean = simulate(tmp_path / "clean.parquet", rows=20_000, hours=37, seed=4, error_rate=0.001)
    report = shadow_report(clean).to_dict()
    assert report["verdict"] == "GO"
    assert report["stats"]["timeline"]["flagged_bucket"] is None


def test_bucket_width_and_timeouts(spiked: Path) -> None:
    frame = pl.read_parquet(spiked)
    report = shadow_report(spiked, bucket="6h", timeout_ms=60.0).to_dict()
    timeline = report["stats"]["timeline"]
    assert timeline["bucket"] == "6h"
    assert [s[11:13] for s in timeline["start"]] == ["00", "06", "12", "18", "00", "06", "12"]
    slow = frame["shadow_latency_ms"] > 60.0
    assert report["stats"]["timeouts"] == slow.sum()
    assert report["stats"]["timeout_rate"] == pytest.approx(slow.mean())
    six = frame.with_columns(pl.col("ts").dt.truncate("6h").alias("b"), slow.alias("slow"))
    expected = six.group_by("b").agg(pl.col("slow").mean()).sort("b")["slow"].to_list()
    assert timeline["timeout_rate"] == pytest.approx(expected)
    # The erroring hour 18 still stands out in its 6 h bucket.
    late = six.filter(pl.col("b") == datetime(2025, 4, 28, 18))
    rate = float(late["shadow_error"].cast(pl.Float64).mean())  # type: ignore[arg-type]
    where = "6h bucket at 2025-04-28 18:00 UTC"
    assert (
        f"errors {rate:.2%} of {late.height:,} requests in the {where}"
        in (report["checks"][6]["message"])
    )


def _error_log(path: Path, errors: list[object]) -> Path:
    n = len(errors)
    start = datetime(2025, 1, 1)
    return write_parquet(
        path,
        {
            "ts": [start + timedelta(seconds=60 * i) for i in range(n)],
            "primary_prediction": [0.2 + 0.6 * (i % 2) for i in range(n)],
            "shadow_prediction": [0.21 + 0.6 * (i % 2) for i in range(n)],
            "shadow_error": errors,
        },
    )


def test_timeouts_named_by_error_message_or_code(tmp_path: Path) -> None:
    messages = ["timeout", " TIMEOUT ", "oops", None, ""] * 400
    log = _error_log(tmp_path / "messages.parquet", messages)
    report = shadow_report(log, timeout_error=["Timeout"]).to_dict()
    assert report["stats"]["timeouts"] == 800  # trimmed, any case; "oops" is another error
    assert report["stats"]["shadow_errors"] == 1200
    codes = _error_log(tmp_path / "codes.parquet", [504, 500, 0, None, 504] * 400)
    assert shadow_report(codes, timeout_error=["504"]).to_dict()["stats"]["timeouts"] == 800


def test_timeout_errors_need_codes_or_messages(run_cli, tmp_path: Path) -> None:
    flags = _error_log(tmp_path / "flags.parquet", [True, False] * 100)
    result = run_cli("shadow-report", flags, "--timeout-error", "timeout")
    assert result.exit_code == 2
    assert "'shadow_error' is Boolean" in result.stderr
    codes = _error_log(tmp_path / "codes.parquet", [504, 0] * 100)
    result = run_cli("shadow-report", codes, "--timeout-error", "gateway")
    assert result.exit_code == 2 and "integer codes" in result.stderr
    result = run_cli("shadow-report", codes, "--bucket", "5x")
    assert result.exit_code == 2 and "--bucket '5x' is not a time bucket" in result.stderr


def test_expected_range(run_cli, tmp_path: Path) -> None:
    log = simulate(tmp_path / "log.parquet", rows=8_000, hours=30, seed=2)
    shadow = pl.read_parquet(log)["shadow_prediction"].drop_nulls().to_numpy()
    result = run_cli("shadow-report", log, "--expected-range", "0.05", "0.95", "--format", "json")
    report = result.json()
    found = report["stats"]["prediction_range"]
    outside = int(np.sum((shadow < 0.05) | (shadow > 0.95)))
    assert (found["outside"], found["scored"]) == (outside, len(shadow))
    assert found["share"] == pytest.approx(outside / len(shadow))
    assert failed(report) == ["prediction_range"] and result.exit_code == 1
    assert "outside [0.05, 0.95]" in report["reasons"][0]
    passing = shadow_report(log, expected_range=(0, 1)).to_dict()
    assert passing["verdict"] == "GO" and passing["reasons"] == ["every check passed"]
    lenient = shadow_report(log, expected_range=[0.05, 0.95], thresholds={"prediction_range": 0.2})
    assert lenient.verdict.value == "GO"
    bad = run_cli("shadow-report", log, "--expected-range", "1", "0")
    assert bad.exit_code == 2 and "--expected-range must have low < high" in bad.stderr


def test_psi_beside_ks_and_which_one_gates(tmp_path: Path) -> None:
    log = simulate(tmp_path / "log.parquet", rows=8_000, hours=30, seed=6, noise=0.6)
    frame = pl.read_parquet(log).drop_nulls(["shadow_prediction"])
    expected = direct_psi(
        np.sort(frame["primary_prediction"].to_numpy()),
        np.sort(frame["shadow_prediction"].to_numpy()),
    )
    by_ks = shadow_report(log).to_dict()
    st = by_ks["stats"]
    assert st["psi"] == pytest.approx(expected, rel=1e-12)
    assert st["psi_reading"] == "no significant shift" and st["shift_measure"] == "ks"
    assert len(st["psi_bins"]["edges"]) == 9
    by_psi = shadow_report(
        log, shift_measure="psi", thresholds={"distribution_shift_psi": expected / 2}
    ).to_dict()
    shift = by_psi["checks"][3]
    assert (shift["id"], shift["value"], shift["passed"]) == (
        "distribution_shift",
        st["psi"],
        False,
    )
    assert shift["message"].startswith(f"PSI {expected:.4f} (no significant shift)")


def test_ecdf_points_and_the_ks_gap(spiked: Path, spiked_json: dict) -> None:
    frame = pl.read_parquet(spiked).drop_nulls(["shadow_prediction"])
    st = spiked_json["stats"]
    ecdf = st["ecdf"]
    levels = np.linspace(0, 1, 101)
    assert ecdf["probabilities"] == pytest.approx(levels.tolist())
    for role in ("primary", "shadow"):
        values = frame[f"{role}_prediction"].to_numpy()
        assert ecdf[role] == pytest.approx(np.quantile(values, levels).tolist(), rel=1e-12)
    gap = abs(ecdf["ks_cdf_primary"] - ecdf["ks_cdf_shadow"])
    assert gap == pytest.approx(st["ks_statistic"], abs=1e-12)
    scipy_ks = stats.ks_2samp(frame["primary_prediction"], frame["shadow_prediction"])
    assert ecdf["ks_x"] == pytest.approx(scipy_ks.statistic_location)


def test_a_48_hour_log_passes_48_hours(tmp_path: Path) -> None:
    log = simulate(tmp_path / "two-days.parquet", rows=20_000, hours=48, seed=1)
    report = shadow_report(log, thresholds={"duration": 48}).to_dict()
    duration = report["checks"][0]
    assert report["stats"]["duration_hours"] < 48  # the first and last requests are inside
    assert duration["passed"] and "within" in duration["message"]
    # Two mean gaps between requests, far below the 1% cap.
    assert report["stats"]["duration_tolerance_hours"] == pytest.approx(2 * 48 / 20_000, rel=0.01)
    short = simulate(tmp_path / "short.parquet", rows=20_000, hours=47.5, seed=1)
    assert failed(shadow_report(short, thresholds={"duration": 48}).to_dict()) == ["duration"]


def _segment_frame() -> pl.DataFrame:
    """Four regions; in "south" the shadow flips a third of the decisions."""
    rng = np.random.default_rng(8)
    sizes = {"north": 3_000, "east": 3_000, "west": 2_000, "south": 600}
    region = np.repeat(list(sizes), list(sizes.values()))
    primary = rng.uniform(size=len(region))
    shadow = np.clip(primary + rng.normal(0, 0.03, len(region)), 0, 1)
    flip = (region == "south") & (rng.uniform(size=len(region)) < 0.33)
    shadow[flip] = 1 - shadow[flip]
    start = datetime(2025, 1, 1)
    return pl.DataFrame(
        {
            "ts": [start + timedelta(seconds=30 * i) for i in range(len(region))],
            "primary_prediction": primary,
            "shadow_prediction": shadow,
            "region": region,
        }
    )


def test_segment_rule_on_a_constructed_log() -> None:
    frame = _segment_frame()
    report = shadow_report(frame).to_dict()
    table = {e["value"]: e for e in report["stats"]["segments"]["region"]}
    assert failed(report) == ["segment_agreement"]
    assert [v for v, e in table.items() if e["failed"]] == ["south"]
    agree = (frame["primary_prediction"] >= 0.5) == (frame["shadow_prediction"] >= 0.5)
    for value, entry in table.items():
        mine = frame["region"] == value
        a, n = int(agree.filter(mine).sum()), int(mine.sum())
        rest_a, rest_n = int(agree.sum()) - a, frame.height - n
        p = stats.fisher_exact([[a, n - a], [rest_a, rest_n - rest_a]], alternative="less").pvalue
        assert entry["agreement_rate"] == pytest.approx(a / n)
        assert entry["rest_agreement_rate"] == pytest.approx(rest_a / rest_n)
        # Holm over the four values: at least the raw p, at most four times it.
        assert p - 1e-12 <= entry["agreement_pvalue"] <= min(1.0, 4 * p) + 1e-12
        rows = frame.filter(mine)
        ks = stats.ks_2samp(rows["primary_prediction"], rows["shadow_prediction"])
        assert entry["ks_statistic"] == pytest.approx(ks.statistic, abs=1e-12)
    assert "region=south" in report["reasons"][0]
    # With a tiny south the same harm cannot be told from noise: no false alarm, no claim.
    small = frame.filter((pl.col("region") != "south") | (pl.int_range(pl.len()) < 8_010))
    assert "segment_agreement" not in failed(shadow_report(small).to_dict())


def test_failing_values_in_markdown_and_junit(run_cli, tmp_path: Path) -> None:
    log = tmp_path / "regions.parquet"
    _segment_frame().write_parquet(log)
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[[gate]]\nname = "shadow"\nkind = "shadow"\npaths = ["{log}"]\n')
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    result = run_cli("gate", policy, "--junit", junit, "--markdown", summary)
    assert result.exit_code == 1
    text = summary.read_text()
    assert "| shadow | shadow | yes | NO_GO | segment_agreement |" in text
    assert "✗ | segment_agreement" in text and "region=south" in text
    case = ET.parse(junit).getroot().find(".//testcase[@name='segment_agreement']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None and "region=south" in failure.get("message", "")
    alone = run_cli("shadow-report", log, "--format", "markdown")
    assert "region=south" in alone.stdout.split("### Checklist")[0]  # in the verdict reasons
    assert "| south | 600 |" in alone.stdout and "✗ fails" in alone.stdout


def test_label_segments_get_their_label_distance(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    labels = np.array(["cat", "dog", "fish"])
    n = 3_000
    primary = labels[rng.integers(0, 3, n)]
    shadow = np.where(rng.uniform(size=n) < 0.9, primary, labels[rng.integers(0, 3, n)])
    region = np.where(np.arange(n) % 3 == 0, "a", "b")
    start = datetime(2025, 1, 1)
    frame = pl.DataFrame(
        {
            "ts": [start + timedelta(minutes=i) for i in range(n)],
            "primary_prediction": primary,
            "shadow_prediction": shadow,
            "region": region,
        }
    )
    st = shadow_report(frame).to_dict()["stats"]
    for entry in st["segments"]["region"]:
        mine = region == entry["value"]
        p = np.array([np.sum(primary[mine] == v) for v in labels]) / mine.sum()
        s = np.array([np.sum(shadow[mine] == v) for v in labels]) / mine.sum()
        assert entry["ks_statistic"] == pytest.approx(0.5 * np.abs(p - s).sum(), abs=1e-12)
    counts_p = np.array([np.sum(primary == v) for v in labels]) / n
    counts_s = np.array([np.sum(shadow == v) for v in labels]) / n
    assert st["psi"] == pytest.approx(np.sum((counts_s - counts_p) * np.log(counts_s / counts_p)))


@pytest.mark.parametrize(("segment", "rows"), [("US", 40_000), ("JP", 40_000), ("MX", 8_000)])
def test_bad_segment_large_and_small_is_named(run_cli, tmp_path: Path, segment: str, rows: int):
    log = simulate(tmp_path / "bad.parquet", rows=rows, hours=30, seed=3, bad_segment=segment)
    report = run_cli("shadow-report", log, "--format", "json").json()
    assert report["verdict"] == "NO_GO"
    # A bad US (30% of traffic) also pulls the whole log's agreement down to about 85%.
    assert failed(report) in (["segment_agreement"], ["agreement_rate", "segment_agreement"])
    assert any(f"country={segment} " in reason for reason in report["reasons"])
    assert [e["value"] for e in report["stats"]["segments"]["country"] if e["failed"]] == [segment]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_simulation_raises_no_false_alarm(tmp_path: Path, seed: int) -> None:
    log = simulate(tmp_path / "clean.parquet", rows=40_000, hours=48, seed=seed)
    report = shadow_report(log)
    assert report.verdict.value == "GO", report.reasons


def test_policy_takes_expected_range_and_new_thresholds(run_cli, tmp_path: Path) -> None:
    log = simulate(tmp_path / "log.parquet", rows=3_000, hours=30, seed=2)
    policy = tmp_path / "policy.toml"
    policy.write_text(
        f'[[gate]]\nname = "s"\nkind = "shadow"\npaths = ["{log}"]\n'
        'expected_range = [0.2, 0.8]\nbucket = "6h"\nshift_measure = "psi"\n'
        "[gate.thresholds]\nprediction_range = 0.9\nsegment_agreement_gap = 0.1\n"
    )
    result = run_cli("gate", policy, "--format", "json")
    gate = json.loads(result.stdout)["gates"][0]
    limits = {c["id"]: c["threshold"] for c in gate["checks"]}
    assert limits["prediction_range"] == 0.9
    assert gate["stats"]["prediction_range"]["low"] == 0.2
    assert gate["stats"]["timeline"]["bucket"] == "6h"
    assert gate["stats"]["shift_measure"] == "psi"
    policy.write_text(
        f'[[gate]]\nname = "s"\nkind = "shadow"\npaths = ["{log}"]\nexpected_range = [1]\n'
    )
    bad = run_cli("gate", policy)
    assert bad.exit_code == 2
    assert "'expected_range' must be two numbers [low, high]" in bad.stderr


def test_timeline_with_empty_hours_and_rows_without_a_time(spiked: Path, tmp_path: Path) -> None:
    frame = pl.read_parquet(spiked)
    hour = pl.col("ts").dt.hour()
    gappy = frame.filter(~hour.is_between(10, 12)).with_columns(
        pl.when(pl.int_range(pl.len()) % 97 == 0).then(None).otherwise(pl.col("ts")).alias("ts")
    )
    path = gappy.write_parquet(tmp_path / "gaps.parquet") or tmp_path / "gaps.parquet"
    timeline = shadow_report(path).to_dict()["stats"]["timeline"]
    timed = gappy.drop_nulls("ts").with_columns(pl.col("ts").dt.truncate("1h").alias("h"))
    hours = timed.partition_by("h", as_dict=True)
    assert len(timeline["start"]) == len(hours) == 37 - 2 * 3  # hours 10-12 of both days
    for i, start in enumerate(timeline["start"]):
        rows = hours[(datetime.fromisoformat(start).replace(tzinfo=None),)]
        assert timeline["requests"][i] == rows.height
        expected = np.percentile(rows["shadow_latency_ms"].to_numpy(), 99)
        assert timeline["latency_p99_ms"]["shadow"][i] == pytest.approx(expected, rel=1e-12)


def test_buckets_are_utc_multiples_of_the_width_for_a_zoned_column() -> None:
    frame = _segment_frame().with_columns(
        pl.col("ts").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Berlin")
    )
    timeline = shadow_report(frame, bucket="1d").to_dict()["stats"]["timeline"]
    # 8,600 requests 30 s apart from 2025-01-01 00:00 UTC: three UTC days.
    assert timeline["start"] == [f"2025-01-0{d}T00:00:00+00:00" for d in (1, 2, 3)]
    days = frame.group_by(pl.col("ts").dt.convert_time_zone("UTC").dt.date()).len().sort("ts")
    assert timeline["requests"] == days["len"].to_list()


def test_a_large_value_gets_its_ks_d_from_an_evenly_spaced_sample() -> None:
    from abtool.aggregates.shadow import ShadowRequest
    from abtool.commands.shadow import ShadowColumns
    from abtool.engines import open_log

    frame = _segment_frame()
    request = ShadowRequest(threshold=0.5, segments=("region",), top=10, min_segment_rows=30)
    thin = open_log(frame, None).shadow(ShadowColumns(), replace(request, segment_ks_rows=500))
    table = thin.segments["region"]
    for j, value in enumerate(table.values):
        rows = np.flatnonzero((frame["region"] == value).to_numpy())
        step = -(-len(rows) // 500)
        sample = rows[rows % step == 0]  # few values: their rows at a multiple of k
        p = frame["primary_prediction"].to_numpy()[sample]
        s = frame["shadow_prediction"].to_numpy()[sample]
        assert table.distances[j] == pytest.approx(stats.ks_2samp(p, s).statistic, abs=1e-12)
        assert table.distance_rows is not None and table.distance_rows[j] == len(sample)
    entries = shadow_report(frame).to_dict()["stats"]["segments"]["region"]
    assert all("ks_rows" not in e for e in entries)  # 1,000,000 by default: all exact


def test_bucket_names_none_and_the_bucket_limit(run_cli, spiked: Path) -> None:
    by_name = shadow_report(spiked, bucket="hour").to_dict()
    assert by_name["stats"]["timeline"]["bucket"] == "1h"
    assert failed(by_name) == ["error_spike"]
    without = shadow_report(spiked, bucket="none").to_dict()
    assert "timeline" not in without["stats"]
    spikes = {c["id"]: c for c in without["checks"] if c["id"].endswith("_spike")}
    assert all(c["passed"] is None for c in spikes.values())
    # The whole log's error count does not depend on the buckets.
    assert without["stats"]["shadow_errors"] == by_name["stats"]["shadow_errors"]
    assert without["stats"]["shadow_errors"] == pl.read_parquet(spiked)["shadow_error"].sum()
    result = run_cli("shadow-report", spiked, "--bucket", "10s")
    assert result.exit_code == 2
    assert "--bucket 10s cuts the log into" in result.stderr and "at most 10,000" in result.stderr
