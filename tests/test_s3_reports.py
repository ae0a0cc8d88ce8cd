"""Reports on logs in object storage (Polars engine) against a local S3 server (moto).

`abtool shadow-report s3://...` must give the report of the same log read from local disk:
one object, a hive-partitioned prefix, a glob; and every refusal (no bucket, no key, access
denied, no credentials) is one line naming the URL, exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from abtool.simulate.bandit import BanditSpec, bandit_chunks
from abtool.simulate.canary import CanarySpec, canary_chunks
from abtool.simulate.shadow import ShadowSpec, shadow_chunks
from abtool.simulate.writer import write_chunks
from tests.json_compare import assert_same_json
from tests.s3_server import S3Bucket, point_aws_at, start_server

EXACT = ("ks_statistic", "p5", "p50", "p95", "p50_ms", "p95_ms", "p99_ms")

pytestmark = pytest.mark.s3


def _upload(s3: S3Bucket, folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*.parquet")):
        s3.put(f"{prefix}/{path.relative_to(folder).as_posix()}", path)


def _same_report(remote: dict[str, Any], local: dict[str, Any]) -> None:
    """Everything but the paths given agrees; sums to 1e-9 (files are read in other chunks,
    so Polars adds in another order), order statistics exactly."""
    assert remote["inputs"].pop("paths") != local["inputs"].pop("paths")
    assert_same_json(remote, local, exact=EXACT)


@pytest.fixture(scope="module")
def shadow_hive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("s3-shadow") / "logs"
    spec = ShadowSpec(rows=8_000, hours=72, seed=11, bad_segment="BR")
    write_chunks(shadow_chunks(spec), folder, partition_by_date="ts")
    return folder


def test_shadow_report_of_one_object_equals_the_local_file(run_cli, s3: S3Bucket, tmp_path):
    log = tmp_path / "shadow.parquet"
    write_chunks(shadow_chunks(ShadowSpec(rows=6_000, hours=30, seed=3)), log)
    url = s3.put("logs/shadow.parquet", log)
    remote = run_cli("shadow-report", url, "--format", "json")
    local = run_cli("shadow-report", log, "--format", "json")
    assert remote.exit_code == local.exit_code
    _same_report(remote.json(), local.json())


def test_shadow_report_of_a_hive_prefix_equals_the_local_folder(
    run_cli, s3: S3Bucket, shadow_hive: Path
):
    _upload(s3, shadow_hive, "shadow")
    s3.put("shadow/_SUCCESS", b"")
    args = ("--format", "json", "--segment", "country", "--segment", "date")
    remote = run_cli("shadow-report", s3.url("shadow/"), *args)
    local = run_cli("shadow-report", shadow_hive, *args)
    assert local.exit_code in (0, 1), local.stderr
    report = remote.json()
    assert report["inputs"]["files"] == local.json()["inputs"]["files"] == 3
    assert [s["value"] for s in report["stats"]["segments"]["date"]]  # the hive key, a segment
    _same_report(report, local.json())
    # A glob over the date folders reads the same objects.
    globbed = run_cli("shadow-report", s3.url("shadow/date=*/*.parquet"), *args)
    _same_report(globbed.json(), local.json())


def test_canary_and_bandit_reports_read_s3(run_cli, s3: S3Bucket, tmp_path: Path):
    canary = tmp_path / "canary.parquet"
    write_chunks(canary_chunks(CanarySpec(users=800, hours=48, seed=5)), canary)
    bandit = tmp_path / "bandit.parquet"
    write_chunks(bandit_chunks(BanditSpec(periods=4, units_per_period=500, seed=5)), bandit)
    for command, log in (("canary-decide", canary), ("bandit-report", bandit)):
        url = s3.put(f"{command}/{log.name}", log)
        remote = run_cli(command, url, "--format", "json")
        local = run_cli(command, log, "--format", "json")
        assert remote.exit_code == local.exit_code, remote.stderr
        _same_report(remote.json(), local.json())


def test_a_policy_keeps_urls_as_they_are(run_cli, s3: S3Bucket, tmp_path: Path):
    log = tmp_path / "shadow.parquet"
    write_chunks(shadow_chunks(ShadowSpec(rows=3_000, hours=30, seed=2)), log)
    url = s3.put("gate/shadow.parquet", log)
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[[gate]]\nname = "shadow"\nkind = "shadow"\npaths = ["{url}"]\n')
    result = run_cli("gate", policy, "--format", "json")
    gate = result.json()["gates"][0]
    assert gate["inputs"]["paths"] == [url]
    assert gate["verdict"] in ("GO", "NO_GO"), gate


class TestErrors:
    """Each refusal: exit 2 and one line naming the URL."""

    def _error(self, run_cli, url: str) -> str:
        result = run_cli("shadow-report", url, "--format", "json")
        assert result.exit_code == 2, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert url in lines[0]
        return lines[0]

    def test_no_bucket(self, run_cli, s3: S3Bucket):
        line = self._error(run_cli, "s3://abtool-no-such-bucket/logs/")
        assert "no such bucket 'abtool-no-such-bucket'" in line

    def test_no_key(self, run_cli, s3: S3Bucket):
        assert self._error(run_cli, s3.url("missing.parquet")).endswith("no such key or prefix")

    def test_no_credentials(self, run_cli, s3: S3Bucket, monkeypatch: pytest.MonkeyPatch):
        s3.put("shadow.parquet", b"PAR1")
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        assert "no AWS credentials" in self._error(run_cli, s3.url("shadow.parquet"))

    def test_not_parquet(self, run_cli, s3: S3Bucket):
        url = s3.put("text.parquet", b"not a parquet file")
        assert "not a Parquet file" in self._error(run_cli, url)

    def test_local_paths_and_urls_are_not_mixed(self, run_cli, s3: S3Bucket, tmp_path: Path):
        result = run_cli("shadow-report", tmp_path / "x.parquet", s3.url("x.parquet"))
        assert result.exit_code == 2
        assert "cannot be read as one log" in result.stderr

    def test_access_denied(self, run_cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
        # A server that enforces IAM after the first four (setup) requests.
        server = start_server(INITIAL_NO_AUTH_ACTION_COUNT="4")
        try:
            import boto3

            iam = boto3.client(
                "iam",
                endpoint_url=server.endpoint,
                region_name="us-east-1",
                aws_access_key_id="setup",
                aws_secret_access_key="setup",
            )
            iam.create_user(UserName="reader")  # no policy: may do nothing
            key = iam.create_access_key(UserName="reader")["AccessKey"]
            admin = server.client()
            admin.create_bucket(Bucket="locked")
            admin.put_object(Bucket="locked", Key="shadow.parquet", Body=b"PAR1")
            point_aws_at(monkeypatch, tmp_path, server.endpoint)
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
            assert "access denied" in self._error(run_cli, "s3://locked/shadow.parquet")
        finally:
            server.stop()


def test_json_of_the_error_run_is_not_written(run_cli, s3: S3Bucket):
    result = run_cli("shadow-report", s3.url("nothing/"), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)
