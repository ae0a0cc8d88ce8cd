"""s3:// logs: expansion, credentials for Polars, and one-line errors, against a real
S3-compatible server on 127.0.0.1 (tests/s3_server.py)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from abtool import storage
from abtool.errors import InputError
from abtool.simulate.shadow import ShadowSpec, shadow_chunks
from abtool.simulate.writer import write_chunks
from tests.s3_server import S3Bucket, point_aws_at, start_server

pytestmark = pytest.mark.s3


@pytest.fixture
def shadow_log(tmp_path: Path) -> Path:
    path = tmp_path / "shadow.parquet"
    write_chunks(shadow_chunks(ShadowSpec(rows=5_000, hours=30, seed=3)), path)
    return path


def _parquet_bytes(n: int = 3) -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame({"x": list(range(n))}).write_parquet(buffer)
    return buffer.getvalue()


class TestRecognise:
    def test_urls_are_remote_and_paths_are_not(self):
        assert storage.is_remote("s3://bucket/key.parquet")
        assert not storage.is_remote("logs/shadow.parquet")
        assert not storage.is_remote(Path("/tmp/x.parquet"))
        assert storage.split_url("s3://bucket/a/b.parquet") == ("bucket", "a/b.parquet")

    def test_other_schemes_and_missing_bucket_are_refused(self):
        with pytest.raises(InputError, match="only s3://"):
            storage.split_url("gs://bucket/x.parquet")
        with pytest.raises(InputError, match="names no bucket"):
            storage.split_url("s3:///x.parquet")

    def test_importing_storage_loads_neither_polars_nor_boto3(self):
        code = "import sys, abtool.storage; print('polars' in sys.modules, 'boto3' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.split() == ["False", "False"], out.stderr


class TestExpand:
    def test_a_key_is_one_file(self, s3: S3Bucket):
        url = s3.put("logs/shadow.parquet", _parquet_bytes())
        assert storage.expand(url) == [url]

    def test_a_prefix_is_its_parquet_objects_without_hidden_ones(self, s3: S3Bucket):
        wanted = [
            s3.put("logs/date=2025-04-28/part-0.parquet", _parquet_bytes()),
            s3.put("logs/date=2025-04-29/part-0.parquet", _parquet_bytes()),
        ]
        s3.put("logs/_SUCCESS", b"")
        s3.put("logs/date=2025-04-29/.part-0.parquet.crc", b"crc")
        s3.put("logs/_temporary/part-9.parquet", _parquet_bytes())
        s3.put("logs/readme.txt", b"hello")
        s3.put("logsother/x.parquet", _parquet_bytes())  # shares the prefix, not the folder
        assert storage.expand(s3.url("logs/")) == wanted
        assert storage.expand(s3.url("logs")) == wanted

    def test_globs_match_part_by_part(self, s3: S3Bucket):
        day1 = s3.put("logs/date=2025-04-28/part-0.parquet", _parquet_bytes())
        day2 = s3.put("logs/date=2025-04-29/part-0.parquet", _parquet_bytes())
        deep = s3.put("logs/date=2025-04-29/hour=01/part-1.parquet", _parquet_bytes())
        s3.put("logs/date=2025-04-29/_SUCCESS", b"")
        assert storage.expand(s3.url("logs/date=2025-04-2[8]/*.parquet")) == [day1]
        assert storage.expand(s3.url("logs/*/part-0.parquet")) == [day1, day2]
        # Sorted by key, as the local reader sorts paths.
        assert storage.expand(s3.url("logs/**/*.parquet")) == [day1, deep, day2]
        # A glob matching a "folder" takes the Parquet objects below it, like a local one.
        assert storage.expand(s3.url("logs/date=2025-04-29*")) == [deep, day2]

    def test_empty_prefix_and_unmatched_glob(self, s3: S3Bucket):
        s3.put("notes/readme.txt", b"hello")
        with pytest.raises(InputError, match=r"^s3://.*/notes/: prefix holds no .parquet"):
            storage.expand(s3.url("notes/"))
        with pytest.raises(InputError, match="pattern matches no objects"):
            storage.expand(s3.url("notes/*.parquet"))


class TestErrors:
    def test_no_such_key(self, s3: S3Bucket):
        url = s3.url("missing/shadow.parquet")
        with pytest.raises(InputError, match=f"^{url}: no such key or prefix$"):
            storage.expand(url)

    def test_no_such_bucket(self, s3: S3Bucket):
        url = "s3://abtool-no-such-bucket/shadow.parquet"
        with pytest.raises(InputError, match="no such bucket 'abtool-no-such-bucket'"):
            storage.expand(url)

    def test_no_credentials(self, s3: S3Bucket, monkeypatch: pytest.MonkeyPatch):
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        url = s3.url("shadow.parquet")
        for call in (storage.expand, storage.storage_options):
            with pytest.raises(InputError, match=f"^{url}: no AWS credentials"):
                call(url)

    def test_endpoint_unreachable(self, s3: S3Bucket, monkeypatch: pytest.MonkeyPatch):
        import socket

        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        with pytest.raises(
            InputError, match=f"cannot reach the S3 endpoint http://127.0.0.1:{port}"
        ):
            storage.expand(s3.url("shadow.parquet"))

    def test_access_denied(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
        # A second server that enforces IAM after the first four (setup) requests.
        server = start_server(INITIAL_NO_AUTH_ACTION_COUNT="4")
        try:
            admin = server.client()
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
            admin.create_bucket(Bucket="locked")
            admin.put_object(Bucket="locked", Key="shadow.parquet", Body=_parquet_bytes())
            point_aws_at(monkeypatch, tmp_path, server.endpoint)
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
            for url in ("s3://locked/shadow.parquet", "s3://locked/"):
                # A HEAD answer has no body: its code is the bare status 403.
                with pytest.raises(
                    InputError, match=rf"^{url}: access denied \((AccessDenied|403)\)$"
                ):
                    storage.expand(url)
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")
            with pytest.raises(InputError, match=r"access denied \(InvalidAccessKeyId\)"):
                storage.expand("s3://locked/")
        finally:
            server.stop()

    def test_parquet_check_names_the_object(self, s3: S3Bucket):
        good = s3.put("a/good.parquet", _parquet_bytes())
        empty = s3.put("a/empty.parquet", b"")
        text = s3.put("a/text.parquet", b"this is not parquet at all")
        storage.check_parquet([good])
        with pytest.raises(InputError, match=f"^{empty}: object is empty"):
            storage.check_parquet([good, empty])
        with pytest.raises(InputError, match=f"^{text}: not a Parquet file"):
            storage.check_parquet([text])
        with pytest.raises(InputError, match="no such key"):
            storage.check_parquet([s3.url("a/gone.parquet")])


class TestPolarsRead:
    def test_options_carry_credentials_region_and_endpoint(self, s3: S3Bucket):
        options = storage.storage_options(s3.url())
        assert options["aws_access_key_id"] == "abtool-test-key"
        assert options["aws_region"] == "us-east-1"
        assert options["aws_endpoint_url"] == s3.server.endpoint
        assert options["aws_allow_http"] == "true"

    def test_scan_of_an_uploaded_log_equals_the_local_read(self, s3: S3Bucket, shadow_log: Path):
        url = s3.put("logs/shadow.parquet", shadow_log)
        (found,) = storage.expand(s3.url("logs/"))
        remote = pl.scan_parquet(found, storage_options=storage.storage_options(url)).collect()
        assert_frame_equal(remote, pl.read_parquet(shadow_log))

    def test_hive_folders_read_as_one_log(self, s3: S3Bucket, tmp_path: Path):
        local = tmp_path / "parts"
        write_chunks(
            shadow_chunks(ShadowSpec(rows=6_000, hours=72, seed=4)), local, partition_by_date="ts"
        )
        for path in sorted(local.rglob("*.parquet")):
            s3.put(f"logs/{path.relative_to(local).as_posix()}", path)
        urls = storage.expand(s3.url("logs/"))
        assert len(urls) == len(list(local.rglob("*.parquet"))) == 3  # three dates
        options = storage.storage_options(urls[0])
        remote = pl.scan_parquet(urls, storage_options=options, hive_partitioning=False)
        files = sorted(str(p) for p in local.rglob("*.parquet"))
        expected = pl.scan_parquet(files, hive_partitioning=False)
        assert_frame_equal(remote.collect(), expected.collect())

    def test_failed_read_maps_to_one_line(self, s3: S3Bucket):
        url = s3.url("gone.parquet")
        with pytest.raises(Exception) as caught:
            pl.scan_parquet(url, storage_options=storage.storage_options(url)).collect()
        error = storage.read_error(url, caught.value)
        assert error.message == f"{url}: no such key"
