"""shadow-report: statistics pinned against scipy/numpy on the same generated data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from abtool.simulate.shadow import ShadowSpec, shadow_chunks
from abtool.simulate.writer import write_chunks
from tests.helpers import write_parquet

DOCUMENTED_STATS = {
    "rows",
    "excluded_rows",
    "duration_hours",
    "ks_statistic",
    "ks_pvalue",
    "agreement_rate",
    "mean_abs_disagreement",
    "segments",
    "latency",
    "shadow_error_rate",
}
CHECK_IDS = [
    "duration",
    "agreement_rate",
    "segment_agreement",
    "distribution_shift",
    "prediction_range",
    "shadow_error_rate",
    "error_spike",
    "latency_p99",
    "latency_spike",
]
NOT_ASKED = "1 check skipped (prediction_range: no --expected-range given)"


def simulate(path: Path, **spec: object) -> Path:
    write_chunks(shadow_chunks(ShadowSpec(**spec)), path)  # type: ignore[arg-type]
    return path


@pytest.fixture(scope="module")
def healthy_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shadow") / "healthy.parquet"
    return simulate(path, rows=30_000, hours=30, seed=11, error_rate=0.004)


@pytest.fixture(scope="module")
def bad_br_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The healthy log's twin whose shadow disagrees in Brazil."""
    path = tmp_path_factory.mktemp("shadow") / "bad_br.parquet"
    return simulate(path, rows=30_000, hours=30, seed=11, bad_segment="BR", error_rate=0.004)


@pytest.fixture(scope="module")
def healthy_json(healthy_log: Path) -> dict:
    from abtool.reports.shadow import shadow_report

    return shadow_report([healthy_log]).to_dict()


def valid_rows(path: Path) -> pl.DataFrame:
    frame = pl.read_parquet(path)
    return frame.filter(
        pl.col("primary_prediction").is_not_null()
        & pl.col("primary_prediction").is_not_nan()
        & pl.col("shadow_prediction").is_not_null()
        & pl.col("shadow_prediction").is_not_nan()
    )


def test_ks_matches_scipy(healthy_log: Path, healthy_json: dict) -> None:
    rows = valid_rows(healthy_log)
    expected = stats.ks_2samp(rows["primary_prediction"], rows["shadow_prediction"])
    got = healthy_json["stats"]
    assert got["ks_statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert got["ks_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert got["ks_method"] == "asymptotic"


def test_exact_ks_on_small_log(tmp_path: Path) -> None:
    from abtool.reports.shadow import shadow_report

    path = simulate(tmp_path / "small.parquet", rows=3_000, hours=30, seed=3, noise=0.6)
    rows = valid_rows(path)
    expected = stats.ks_2samp(rows["primary_prediction"], rows["shadow_prediction"])
    got = shadow_report([path]).to_dict()["stats"]
    assert got["ks_method"] == "exact"
    assert got["ks_statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert got["ks_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9)


def test_agreement_disagreement_and_counts(healthy_log: Path, healthy_json: dict) -> None:
    frame = pl.read_parquet(healthy_log)
    rows = valid_rows(healthy_log)
    p = rows["primary_prediction"].to_numpy()
    s = rows["shadow_prediction"].to_numpy()
    got = healthy_json["stats"]
    assert got["rows"] == frame.height
    assert got["excluded_rows"] == frame.height - rows.height
    assert got["excluded_rows"] == frame["shadow_prediction"].null_count() > 0
    assert got["agreement_rate"] == pytest.approx(np.mean((p >= 0.5) == (s >= 0.5)), abs=1e-12)
    assert got["mean_abs_disagreement"] == pytest.approx(np.mean(np.abs(p - s)), rel=1e-12)
    span = frame["ts"].max() - frame["ts"].min()  # type: ignore[operator]
    assert got["duration_hours"] == pytest.approx(span.total_seconds() / 3600, abs=1e-6)
    assert got["shadow_error_rate"] == pytest.approx(frame["shadow_error"].mean(), abs=1e-12)


def test_segments_ranked_with_rows(bad_br_log: Path) -> None:
    from abtool.reports.shadow import shadow_report

    rows = valid_rows(bad_br_log).to_pandas()
    rows["abs"] = (rows["primary_prediction"] - rows["shadow_prediction"]).abs()
    rows["agree"] = (rows["primary_prediction"] >= 0.5) == (rows["shadow_prediction"] >= 0.5)
    expected = rows.groupby("country").agg(
        mean=("abs", "mean"), size=("abs", "size"), agree=("agree", "mean")
    )
    report = shadow_report([bad_br_log]).to_dict()
    segments = report["stats"]["segments"]
    assert set(segments) == {"country", "device"}
    country = segments["country"]
    assert country[0]["value"] == "BR"  # the simulated bad segment disagrees most
    means = [entry["mean_abs_disagreement"] for entry in country]
    assert means == sorted(means, reverse=True)
    for entry in country:
        assert entry["rows"] == expected.loc[entry["value"], "size"]
        assert entry["mean_abs_disagreement"] == pytest.approx(
            expected.loc[entry["value"], "mean"], rel=1e-12
        )
        assert entry["agreement_rate"] == pytest.approx(expected.loc[entry["value"], "agree"])
        mine = rows[rows["country"] == entry["value"]]
        ks = stats.ks_2samp(mine["primary_prediction"], mine["shadow_prediction"])
        assert entry["ks_statistic"] == pytest.approx(ks.statistic, abs=1e-12)
        assert entry["failed"] is (entry["value"] == "BR")
    # The whole log's agreement passes; the segment check names Brazil.
    assert report["verdict"] == "NO_GO"
    assert [c["id"] for c in report["checks"] if c["passed"] is False] == ["segment_agreement"]
    assert "country=BR" in report["reasons"][0]
    assert report["stats"]["segments_failed"] == 1
    assert report["stats"]["segments_tested"] == 11


def test_latency_quantiles_match_numpy(healthy_log: Path, healthy_json: dict) -> None:
    frame = pl.read_parquet(healthy_log)
    for role in ("primary", "shadow"):
        values = frame[f"{role}_latency_ms"].to_numpy()
        for key, q in (("p50_ms", 50), ("p95_ms", 95), ("p99_ms", 99)):
            expected = np.percentile(values, q)
            assert healthy_json["stats"]["latency"][role][key] == pytest.approx(expected, rel=1e-12)


def test_prediction_summaries_and_histogram(healthy_log: Path, healthy_json: dict) -> None:
    rows = valid_rows(healthy_log)
    for role in ("primary", "shadow"):
        values = rows[f"{role}_prediction"].to_numpy()
        summary = healthy_json["stats"]["predictions"][role]
        assert summary["mean"] == pytest.approx(values.mean(), rel=1e-12)
        for key, q in (("p5", 0.05), ("p50", 0.5), ("p95", 0.95)):
            assert summary[key] == pytest.approx(np.quantile(values, q), rel=1e-12)
    histogram = healthy_json["stats"]["histogram"]
    counts, _ = np.histogram(rows["primary_prediction"].to_numpy(), bins=histogram["edges"])
    assert histogram["primary"] == counts.tolist()
    assert sum(histogram["shadow"]) == rows.height


def test_healthy_log_is_go_with_every_documented_key(run_cli, healthy_log: Path) -> None:
    result = run_cli("shadow-report", healthy_log, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["schema_version"] == 1
    assert report["command"] == "shadow-report"
    assert report["verdict"] == "GO"
    assert DOCUMENTED_STATS <= set(report["stats"])
    assert [c["id"] for c in report["checks"]] == CHECK_IDS
    assert all(c["passed"] for c in report["checks"] if c["id"] != "prediction_range")
    assert report["reasons"] == ["all 8 evaluated checks passed", NOT_ASKED]
    for check in report["checks"]:
        assert {"id", "passed", "value", "threshold", "message"} <= set(check)
    assert set(report["stats"]["latency"]) == {"primary", "shadow"}
    assert set(report["stats"]["latency"]["shadow"]) == {"p50_ms", "p95_ms", "p99_ms"}
    assert report["inputs"] == {"paths": [str(healthy_log)], "files": 1, "rows": 30_000}
    assert any("excluded" in w for w in report["warnings"])


def _failed(report: dict) -> list[str]:
    return [c["id"] for c in report["checks"] if c["passed"] is False]


@pytest.mark.parametrize(
    ("spec", "failing"),
    [
        ({"hours": 10}, "duration"),
        ({"error_rate": 0.05}, "shadow_error_rate"),
        ({"shadow_latency_factor": 2.0}, "latency_p99"),
        ({"noise": 1.5}, "agreement_rate"),
    ],
)
def test_each_failing_check_gives_no_go(run_cli, tmp_path: Path, spec: dict, failing: str) -> None:
    base = {"rows": 8_000, "hours": 30, "seed": 5}
    path = simulate(tmp_path / "log.parquet", **{**base, **spec})
    result = run_cli("shadow-report", path, "--format", "json")
    assert result.exit_code == 1
    report = result.json()
    assert report["verdict"] == "NO_GO"
    assert _failed(report) == [failing]
    assert report["reasons"] == [report["checks"][CHECK_IDS.index(failing)]["message"], NOT_ASKED]


def test_distribution_shift_fails_alone(run_cli, tmp_path: Path) -> None:
    # Shadow scores are higher everywhere but on the same side of 0.5: decisions agree.
    rng = np.random.default_rng(2)
    primary = rng.uniform(0.0, 0.4, 5_000)
    ts = pl.datetime_range(pl.datetime(2025, 1, 1), pl.datetime(2025, 1, 3), "30s", eager=True)[
        :5_000
    ]
    path = write_parquet(
        tmp_path / "shift.parquet",
        {"ts": ts, "primary_prediction": primary, "shadow_prediction": primary + 0.08},
    )
    result = run_cli("shadow-report", path, "--format", "json")
    report = result.json()
    assert result.exit_code == 1
    assert _failed(report) == ["distribution_shift"]
    assert report["stats"]["agreement_rate"] == 1.0
    expected = stats.ks_2samp(primary, primary + 0.08)
    assert report["stats"]["ks_statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    # Without error, latency or segment columns those checks are skipped, not passed.
    skipped = [c["id"] for c in report["checks"] if c["passed"] is None]
    assert skipped == [
        "segment_agreement",
        "prediction_range",
        "shadow_error_rate",
        "error_spike",
        "latency_p99",
        "latency_spike",
    ]
    assert report["reasons"][1].startswith("6 checks skipped (segment_agreement: no segment ")
    assert not any("every check passed" in r for r in report["reasons"])


def test_config_overrides_thresholds(run_cli, healthy_log: Path, tmp_path: Path) -> None:
    config = tmp_path / "abtool.toml"
    config.write_text("[shadow]\nagreement_rate = 0.999\nduration = 12\n")
    result = run_cli("shadow-report", healthy_log, "--config", config, "--format", "json")
    report = result.json()
    assert result.exit_code == 1
    assert _failed(report) == ["agreement_rate"]
    assert report["checks"][CHECK_IDS.index("agreement_rate")]["threshold"] == 0.999
    assert report["checks"][CHECK_IDS.index("duration")]["threshold"] == 12


def test_markdown_and_rich_show_the_json_numbers(run_cli, healthy_log: Path) -> None:
    report = run_cli("shadow-report", healthy_log, "--format", "json").json()
    markdown = run_cli("shadow-report", healthy_log, "--format", "markdown")
    rich = run_cli("shadow-report", healthy_log)
    assert markdown.exit_code == rich.exit_code == 0
    st = report["stats"]
    agreement = f"{100 * st['agreement_rate']:.2f}%"
    d = f"D = {st['ks_statistic']:.4g}"
    p99 = f"{st['latency']['shadow']['p99_ms']:.2f}"
    for text in (markdown.stdout, rich.stdout):
        assert "GO" in text
        assert agreement in text
        assert d in text
        assert p99 in text
        assert f"{st['segments']['country'][0]['rows']:,}" in text
    assert markdown.stdout.startswith("## abtool shadow-report: ✅ GO")
    assert "| ✓ | agreement_rate |" in markdown.stdout
    assert "█ primary" in rich.stdout


def test_output_file(run_cli, healthy_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = run_cli("shadow-report", healthy_log, "-f", "markdown", "-o", out)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert out.read_text().startswith("## abtool shadow-report")
    assert str(out) in result.stderr


def test_time_window(run_cli, healthy_log: Path) -> None:
    result = run_cli(
        "shadow-report", healthy_log, "--since", "2025-04-28T06:00", "--until", "2025-04-28T18:00",
        "--format", "json",
    )  # fmt: skip
    report = result.json()
    frame = pl.read_parquet(healthy_log).filter(
        (pl.col("ts") >= pl.datetime(2025, 4, 28, 6))
        & (pl.col("ts") < pl.datetime(2025, 4, 28, 18))
    )
    assert report["stats"]["rows"] == frame.height
    assert report["stats"]["duration_hours"] == pytest.approx(12, abs=0.01)
    assert _failed(report) == ["duration"]


def test_label_predictions(run_cli, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    labels = np.array(["cat", "dog", "fish"])
    primary = labels[rng.integers(0, 3, 4_000)]
    shadow = np.where(rng.uniform(size=4_000) < 0.9, primary, labels[rng.integers(0, 3, 4_000)])
    ts = pl.datetime_range(pl.datetime(2025, 1, 1), pl.datetime(2025, 1, 3), "40s", eager=True)
    path = write_parquet(
        tmp_path / "labels.parquet",
        {"ts": ts[:4_000], "primary_prediction": primary, "shadow_prediction": shadow},
    )
    report = run_cli("shadow-report", path, "--format", "json").json()
    st = report["stats"]
    assert st["prediction_kind"] == "label"
    assert st["agreement_rate"] == pytest.approx(np.mean(primary == shadow), abs=1e-12)
    counts = np.array(
        [[np.sum(primary == v) for v in labels], [np.sum(shadow == v) for v in labels]]
    )
    shares = counts / counts.sum(axis=1, keepdims=True)
    assert st["ks_statistic"] == pytest.approx(0.5 * np.abs(shares[0] - shares[1]).sum())
    expected_p = stats.chi2_contingency(counts, correction=False).pvalue
    assert st["ks_pvalue"] == pytest.approx(expected_p, rel=1e-9)


def test_hive_partitions_equal_single_file(healthy_log: Path, tmp_path: Path) -> None:
    from abtool.reports.shadow import shadow_report

    folder = tmp_path / "hive"
    write_chunks(
        shadow_chunks(ShadowSpec(rows=30_000, hours=30, seed=11, error_rate=0.004)),
        folder,
        partition_by_date="ts",
    )
    parts = sorted(folder.rglob("*.parquet"))
    assert len(parts) >= 2 and all(p.parent.name.startswith("date=") for p in parts)
    single = shadow_report([healthy_log]).to_dict()
    split = shadow_report([folder]).to_dict()
    # Sums over differently split files may differ in the last bit, nothing more.
    assert split["stats"] == approx_nested(single["stats"])
    assert split["verdict"] == single["verdict"]
    glob = shadow_report([str(folder / "date=*" / "*.parquet")]).to_dict()
    assert glob["stats"] == approx_nested(single["stats"])


def approx_nested(value: object) -> object:
    """pytest.approx for floats at any depth of dicts and lists; other values compare exactly."""
    if isinstance(value, dict):
        return {k: approx_nested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [approx_nested(v) for v in value]
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-12, abs=1e-15)
    return value


def test_nulls_everywhere_are_excluded_pairwise(tmp_path: Path) -> None:
    from abtool.reports.shadow import shadow_report

    rng = np.random.default_rng(9)
    n = 12_000
    frame = pl.DataFrame(
        {
            "ts": pl.datetime_range(
                pl.datetime(2025, 1, 1), pl.datetime(2025, 1, 3), "10s", eager=True
            )[:n],
            "primary_prediction": rng.uniform(size=n),
            "shadow_prediction": rng.uniform(size=n) ** 1.1,
            "primary_latency_ms": rng.lognormal(3, 0.3, n),
            "shadow_latency_ms": rng.lognormal(3.1, 0.3, n),
        }
    )
    holes = {
        "ts": rng.uniform(size=n) < 0.01,
        "primary_prediction": rng.uniform(size=n) < 0.02,
        "shadow_prediction": rng.uniform(size=n) < 0.03,
        "shadow_latency_ms": rng.uniform(size=n) < 0.05,
    }
    frame = frame.with_columns(
        pl.when(pl.Series(mask)).then(None).otherwise(pl.col(col)).alias(col)
        for col, mask in holes.items()
    ).with_columns(  # a NaN is missing too
        pl.when(pl.int_range(pl.len()) % 97 == 0)
        .then(float("nan"))
        .otherwise(pl.col("primary_prediction"))
        .alias("primary_prediction")
    )
    path = write_parquet(tmp_path / "holes.parquet", frame)
    got = shadow_report([path]).to_dict()["stats"]
    valid = frame.filter(
        pl.col("ts").is_not_null()
        & pl.col("primary_prediction").is_not_null()
        & pl.col("primary_prediction").is_not_nan()
        & pl.col("shadow_prediction").is_not_null()
    )
    expected = stats.ks_2samp(valid["primary_prediction"], valid["shadow_prediction"])
    assert got["compared_rows"] == valid.height
    assert got["excluded_rows"] == n - valid.height
    assert sum(got["excluded_reasons"].values()) == n - valid.height
    assert got["ks_statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert got["ks_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9)
    p, s = valid["primary_prediction"].to_numpy(), valid["shadow_prediction"].to_numpy()
    assert got["agreement_rate"] == pytest.approx(np.mean((p >= 0.5) == (s >= 0.5)), abs=1e-12)
    latency = frame["shadow_latency_ms"].drop_nulls().to_numpy()
    assert got["latency"]["shadow"]["p99_ms"] == pytest.approx(np.percentile(latency, 99))
    assert got["predictions"]["primary"]["p50"] == pytest.approx(np.median(p))
