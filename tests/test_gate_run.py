"""`abtool gate` end to end on generated log snapshots: exit codes, JSON, JUnit and markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from abtool.commands.shadow import ShadowThresholds
from abtool.reports.shadow import shadow_report
from abtool.simulate.shadow import ShadowSpec, shadow_chunks
from abtool.simulate.writer import write_chunks
from tests.helpers import junit_counts, write_policy

REPO = Path(__file__).resolve().parents[1]
# A candidate close to the primary (GO) and a noisy one whose agreement falls near 70% (NO_GO).
GOOD = ShadowSpec(rows=3000, hours=36, seed=1)
BAD = ShadowSpec(rows=3000, hours=36, seed=2, noise=2.0)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Snapshots: good.parquet, bad.parquet, good-hive/date=*/, no-latency.parquet."""
    root = tmp_path_factory.mktemp("gate-logs")
    write_chunks(shadow_chunks(GOOD), root / "good.parquet")
    write_chunks(shadow_chunks(BAD), root / "bad.parquet")
    write_chunks(shadow_chunks(GOOD), root / "good-hive", partition_by_date="ts")
    table = pq.read_table(root / "good.parquet")
    pq.write_table(
        table.drop_columns(["primary_latency_ms", "shadow_latency_ms"]),
        root / "no-latency.parquet",
    )
    return root


def gate_toml(name: str, path: str, extra: str = "") -> str:
    return f'[[gate]]\nname = "{name}"\nkind = "shadow"\npaths = ["{path}"]\n{extra}\n'


def test_passing_policy_exits_0_with_junit_and_markdown(run_cli, logs: Path, tmp_path: Path):
    policy = write_policy(
        logs,
        gate_toml("shadow", "good.parquet")
        + gate_toml("shadow-hive", "good-hive/date=*/")
        + gate_toml("shadow-no-latency", "no-latency.parquet")
        + gate_toml("noisy-candidate", "bad.parquet", "required = false"),
    )
    junit, markdown = tmp_path / "junit.xml", tmp_path / "summary.md"
    result = run_cli("gate", policy, "--format", "json", "--junit", junit, "--markdown", markdown)
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["command"] == "gate"
    assert report["verdict"] == "GO"
    assert report["exit_code"] == 0
    gates = {g["name"]: g for g in report["gates"]}
    assert [g["verdict"] for g in report["gates"]] == ["GO", "GO", "GO", "NO_GO"]
    # The hive snapshot is the same log as good.parquet split by date: identical statistics.
    assert gates["shadow-hive"]["stats"]["rows"] == GOOD.rows
    assert gates["shadow-hive"]["stats"]["agreement_rate"] == pytest.approx(
        gates["shadow"]["stats"]["agreement_rate"], abs=1e-12
    )
    assert gates["noisy-candidate"]["required"] is False

    counts = junit_counts(junit)
    checks = sum(len(g["checks"]) for g in report["gates"])
    assert counts["tests"] == checks + len(report["gates"])  # + one verdict case per gate
    # The failing gate is not required: the exit code is 0 and so no test case fails.
    assert counts["failures"] == 0
    assert counts["errors"] == 0
    assert counts["skipped"] == 1  # latency_p99 without latency columns
    skipped = counts["suites"]["shadow-no-latency"].find("testcase[@name='latency_p99']/skipped")
    assert "skipped: needs 'primary_latency_ms'" in skipped.get("message")
    noisy = counts["suites"]["noisy-candidate"].find("testcase[@name='agreement_rate']")
    assert noisy.find("failure") is None
    assert noisy.findtext("system-out").startswith("not required: agreement_rate: value ")

    text = markdown.read_text()
    assert text.startswith("## abtool gate: ✅ GO\n")
    assert "| shadow-hive | shadow | yes | GO | - |" in text
    assert "| noisy-candidate | shadow | no | NO_GO | agreement_rate, distribution_shift |" in text
    assert "noisy-candidate (shadow): NO_GO - decision agreement" in text
    assert "[not required]" in text


def test_failing_policy_exits_1_and_junit_carries_value_and_threshold(
    run_cli, logs: Path, tmp_path: Path
):
    policy = write_policy(
        logs,
        gate_toml("shadow", "good.parquet")
        + gate_toml("candidate", "bad.parquet", "[gate.thresholds]\nagreement_rate = 0.80"),
    )
    junit, markdown = tmp_path / "junit.xml", tmp_path / "summary.md"
    result = run_cli("gate", policy, "--junit", junit, "--markdown", markdown)
    assert result.exit_code == 1
    assert "NO_GO" in result.stdout and "candidate" in result.stdout  # the rich table

    # The same report, computed directly with the policy's thresholds.
    direct = shadow_report([logs / "bad.parquet"], thresholds=ShadowThresholds(agreement_rate=0.80))
    failed = [c for c in direct.checks if c.passed is False and not c.advisory]
    assert {c.id for c in failed} == {"agreement_rate", "distribution_shift"}

    counts = junit_counts(junit)
    assert counts["failures"] == len(failed) + 1  # + the candidate's verdict case
    assert counts["errors"] == 0
    assert int(counts["suites"]["shadow"].get("failures")) == 0
    suite = counts["suites"]["candidate"]
    agreement = suite.find("testcase[@name='agreement_rate']/failure")
    value = direct.check("agreement_rate").value
    assert f"value {value:.4g}, threshold 0.8:" in agreement.get("message")
    verdict = suite.find("testcase[@name='verdict']/failure")
    assert verdict.get("type") == "NO_GO"
    assert verdict.get("message").startswith("NO_GO: decision agreement")

    text = markdown.read_text()
    assert text.startswith("## abtool gate: ❌ NO_GO\n")
    assert "| candidate | shadow | yes | NO_GO | agreement_rate, distribution_shift |" in text
    assert "### candidate (shadow-report): NO_GO" in text
    assert f"| ✗ | agreement_rate | {value:.4g} | 0.8 |" in text


def test_policy_options_reach_the_report(run_cli, logs: Path, tmp_path: Path):
    # Renamed columns, another decision threshold and one segment, all set in the policy.
    table = pq.read_table(logs / "good.parquet").rename_columns(
        {"primary_prediction": "score_v1", "shadow_prediction": "score_v2"}
    )
    pq.write_table(table, tmp_path / "renamed.parquet")
    policy = write_policy(
        tmp_path,
        gate_toml(
            "renamed",
            "renamed.parquet",
            'primary_col = "score_v1"\nshadow_col = "score_v2"\nthreshold = 0.7\n'
            'segment = ["device"]\n[gate.thresholds]\nagreement_rate = 0.5',
        ),
    )
    result = run_cli("gate", policy, "--format", "json")
    assert result.exit_code == 0, result.stderr
    gate = result.json()["gates"][0]
    p = table.column("score_v1").to_numpy(zero_copy_only=False)
    s = table.column("score_v2").to_numpy(zero_copy_only=False)
    valid = np.isfinite(p) & np.isfinite(s)
    expected = np.mean((p[valid] >= 0.7) == (s[valid] >= 0.7))
    assert gate["stats"]["agreement_rate"] == pytest.approx(expected, rel=1e-12)
    assert gate["stats"]["decision_threshold"] == 0.7
    assert list(gate["stats"]["segments"]) == ["device"]
    agreement = next(c for c in gate["checks"] if c["id"] == "agreement_rate")
    assert agreement["threshold"] == 0.5


def test_unusable_log_is_an_error_row_and_exit_2(run_cli, logs: Path, tmp_path: Path):
    policy = write_policy(
        logs,
        gate_toml("shadow", "good.parquet")
        + gate_toml("optional", "missing/shadow.parquet", "required = false"),
    )
    junit = tmp_path / "junit.xml"
    result = run_cli("gate", policy, "--format", "json", "--junit", junit)
    assert result.exit_code == 2
    missing = logs / "missing" / "shadow.parquet"
    assert result.stderr == (
        f"abtool: error: gate 'optional' ({policy}:6): {missing}: no such file or directory\n"
    )
    report = result.json()  # every gate is still reported
    assert report["verdict"] == "ERROR" and report["exit_code"] == 2
    assert [g["verdict"] for g in report["gates"]] == ["GO", "ERROR"]
    assert report["gates"][1]["error"] == f"{missing}: no such file or directory"
    counts = junit_counts(junit)
    assert (counts["errors"], counts["failures"]) == (1, 0)
    error = counts["suites"]["optional"].find("testcase[@name='verdict']/error")
    assert error.get("message") == f"{missing}: no such file or directory"


def test_output_file_and_rich_table(run_cli, logs: Path, tmp_path: Path):
    policy = write_policy(logs, gate_toml("shadow", "good.parquet"))
    out = tmp_path / "gate.txt"
    result = run_cli("gate", policy, "--output", out)
    assert result.exit_code == 0
    text = out.read_text()
    for heading in ("gate", "kind", "required", "verdict", "failed checks", "key figures"):
        assert heading in text
    assert "abtool gate  GO" in text
    assert "agreement 9" in text  # key figures of the shadow kind


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested JSON value as {"a.b.0.c": leaf}, so pytest.approx can compare it."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in items:
        out.update(flat(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


def test_example_policy_passes_on_the_sample_logs(run_cli):
    result = run_cli("gate", REPO / "examples" / "policy.toml", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert (report["verdict"], report["exit_code"]) == ("GO", 0)
    gates = {g["name"]: g for g in report["gates"]}
    assert [(g["name"], g["kind"], g["required"], g["verdict"]) for g in report["gates"]] == [
        ("shadow", "shadow", True, "GO"),
        ("canary-50pct", "canary", True, "PROMOTE"),
        ("ranker-preference", "interleave", True, "GO"),
    ]
    # Each gate gives what its command gives with the same options on the same sample log.
    samples = REPO / "sample_logs"
    commands = {
        "shadow": "shadow-report shadow.parquet --threshold 0.5 --segment country --segment device",
        "canary-50pct": "canary-decide canary.parquet --metric clicked --metric revenue "
        "--stage 50 --salt canary --control v1 --inference fixed",
        "ranker-preference": "interleave-report interleave.parquet --a-name prod-ranker "
        "--b-name candidate --inference fixed",
    }
    for name, line in commands.items():
        command, log, *options = line.split()
        direct = run_cli(command, samples / log, *options, "--format", "json").json()
        gate = gates[name]
        # Polars sums in parallel, so floats may differ in the last bits between two runs.
        ours, theirs = flat(gate["stats"]), flat(direct["stats"])
        assert ours.keys() == theirs.keys(), name
        for key, value in theirs.items():
            if isinstance(value, float):
                assert ours[key] == pytest.approx(value, rel=1e-9, nan_ok=True), (name, key)
            else:
                assert ours[key] == value, (name, key)
        # The policy's thresholds differ from the defaults only for the shadow gate.
        assert [c["id"] for c in gate["checks"]] == [c["id"] for c in direct["checks"]]
        assert gate["inputs"]["rows"] == direct["inputs"]["rows"] > 0
    shadow_limits = {c["id"]: c["threshold"] for c in gates["shadow"]["checks"]}
    assert (shadow_limits["duration"], shadow_limits["agreement_rate"]) == (24, 0.90)
    assert gates["canary-50pct"]["stats"]["next_stage"] == 100


def test_markdown_file_equals_markdown_stdout(run_cli, logs: Path, tmp_path: Path):
    policy = write_policy(logs, gate_toml("shadow", "bad.parquet"))
    summary = tmp_path / "summary.md"
    result = run_cli("gate", policy, "--format", "markdown", "--markdown", summary)
    assert result.exit_code == 1
    assert result.stdout == summary.read_text()


def test_library_run_reports_progress_per_gate(logs: Path):
    from abtool import load_policy, run_policy

    policy = write_policy(
        logs, gate_toml("first", "good.parquet") + gate_toml("second", "bad.parquet")
    )
    messages: list[str] = []
    run = run_policy(load_policy(policy), progress=messages.append)
    assert (run.verdict, run.exit_code) == ("NO_GO", 1)
    assert messages[0] == "gate 'first': reading logs"
    assert any(m.startswith("gate 'second': ") for m in messages[1:])
    assert all(m.startswith(("gate 'first': ", "gate 'second': ")) for m in messages)
