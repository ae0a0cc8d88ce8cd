"""Logs in object storage (``s3://bucket/key``): list and expand them, and give Polars'
reader the same credentials and endpoint.

abtool lists objects with boto3 (``pip install 'abtool[s3]'``), which resolves credentials
the standard AWS way (environment, ``AWS_PROFILE`` and the shared config/credentials files,
SSO, container and instance roles) and honours ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``
for S3-compatible stores (MinIO, Ceph, R2, ...). Polars reads the objects with its own
Rust client; :func:`storage_options` hands it exactly what boto3 resolved, so listing and
reading can never disagree about who is asking, where.

Expansion follows the local reader (``abtool.logs.source``): a key is one file; a prefix
("folder", e.g. hive partitions ``date=2025-04-28/``) is every ``.parquet`` object below it,
skipping names that start with ``_`` or ``.`` (``_SUCCESS``, ``.crc``); a glob (``*``,
``?``, ``[...]``; ``**`` for any depth) matches keys part by part, like ``glob.glob``.
Every failure is an :class:`~abtool.errors.InputError` whose one line names the URL.

boto3 is imported only when a remote path is used.
"""

from __future__ import annotations

import fnmatch
import glob
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from abtool.errors import InputError

SCHEMES = ("s3://", "s3a://")
PARQUET_MAGIC = b"PAR1"
_DEFAULT_REGION = "us-east-1"
_DENIED = {
    "AccessDenied",
    "403",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AllAccessDisabled",
}


def is_remote(path: object) -> bool:
    """Whether ``path`` is a URL (``scheme://...``) rather than a local path."""
    text = str(path)
    return "://" in text and not text.startswith("file://")


def split_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> ``("bucket", "some/key")``."""
    scheme = next((s for s in SCHEMES if url.startswith(s)), None)
    if scheme is None:
        raise InputError(f"{url}: only s3:// URLs can be read (or local paths)")
    bucket, _, key = url[len(scheme) :].partition("/")
    if not bucket:
        raise InputError(f"{url}: the URL names no bucket (s3://bucket/key)")
    return bucket, key


def expand(url: str) -> list[str]:
    """The Parquet object URLs that ``url`` (a key, a prefix or a glob) stands for, sorted.

    Raises:
        InputError: no bucket, nothing matches, access denied, no credentials, or the
            endpoint cannot be reached.
    """
    bucket, key = split_url(url)
    scheme = url[: url.index("://") + 3]
    client = _client(url)
    with mapped_errors(url, client):
        if glob.has_magic(key):
            keys = _glob(client, bucket, key)
            if not keys:
                raise InputError(f"{url}: pattern matches no objects")
        elif key and not key.endswith("/") and _exists(client, bucket, key):
            keys = [key]
        else:
            prefix = key.rstrip("/") + "/" if key else ""
            listed = list(_list(client, bucket, prefix))
            if not listed:
                raise InputError(f"{url}: no such key or prefix")
            keys = [k for k in listed if _visible_parquet(k[len(prefix) :])]
            if not keys:
                raise InputError(f"{url}: prefix holds no .parquet objects")
    return [f"{scheme}{bucket}/{k}" for k in sorted(dict.fromkeys(keys))]


def storage_options(url: str) -> dict[str, str]:
    """Polars ``storage_options`` (object_store keys) with the credentials, region and
    endpoint boto3 resolves for this environment.

    Raises:
        InputError: no credentials are configured (naming ``url``).
    """
    session = _session(url)
    client = _client(url, session)
    with mapped_errors(url, client):
        credentials = session.get_credentials()
        if credentials is None:
            raise InputError(_no_credentials(url))
        frozen = credentials.get_frozen_credentials()
    options = {
        "aws_access_key_id": frozen.access_key,
        "aws_secret_access_key": frozen.secret_key,
        "aws_region": client.meta.region_name or _DEFAULT_REGION,
    }
    if frozen.token:
        options["aws_session_token"] = frozen.token
    endpoint = client.meta.endpoint_url
    if not _is_aws(endpoint):
        # An S3-compatible store: object_store then addresses buckets path-style.
        options["aws_endpoint_url"] = endpoint
        if endpoint.startswith("http://"):
            options["aws_allow_http"] = "true"
    return options


def check_parquet(urls: Sequence[str], threads: int = 8) -> None:
    """Check that every object is non-empty and starts and ends with the Parquet magic.

    Raises:
        InputError: naming the first object that is missing, empty or not Parquet.
    """
    if not urls:
        return
    client = _client(urls[0])
    with ThreadPoolExecutor(max_workers=min(threads, len(urls))) as pool:
        for problem in pool.map(lambda u: _parquet_problem(client, u), urls):
            if problem is not None:
                raise InputError(problem)


def read_error(url: str, exc: BaseException) -> InputError:
    """A one-line :class:`InputError` for a failed remote read by Polars (object_store)."""
    text = str(exc)
    for code, what in (
        ("NoSuchBucket", f"no such bucket '{split_url(url)[0]}'"),
        ("NoSuchKey", "no such key"),
        ("AccessDenied", "access denied (AccessDenied)"),
        ("InvalidAccessKeyId", "access denied (InvalidAccessKeyId)"),
        ("403 Forbidden", "access denied (403)"),
        ("404 Not Found", "no such key"),
    ):
        if code in text:
            return InputError(f"{url}: {what}")
    if "error sending request" in text or "Connection refused" in text:
        return InputError(f"{url}: cannot reach the S3 endpoint")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return InputError(f"{url}: cannot read ({first})")


def _session(url: str) -> Any:
    """A boto3 session: the standard AWS credential and configuration chain."""
    try:
        import boto3
        from botocore.exceptions import BotoCoreError
    except ImportError:
        raise InputError(f"{url}: reading s3:// needs boto3: pip install 'abtool[s3]'") from None
    try:
        return boto3.session.Session()
    except BotoCoreError as exc:  # e.g. an AWS_PROFILE that does not exist
        raise InputError(f"{url}: {exc}") from None


def _client(url: str, session: Any = None) -> Any:
    session = session or _session(url)
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    config = Config(connect_timeout=10, read_timeout=60, retries={"mode": "standard"})
    try:
        return session.client("s3", config=config)
    except BotoCoreError as exc:
        raise InputError(f"{url}: {exc}") from None


@contextmanager
def mapped_errors(url: str, client: Any) -> Iterator[None]:
    """Turn boto3's exceptions inside the block into one-line InputErrors naming ``url``."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:
        described = _describe(url, client, exc)
        if described is None:
            raise
        raise InputError(described) from None


def _describe(url: str, client: Any, exc: BaseException) -> str | None:
    from botocore import exceptions as boto

    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
        return _no_credentials(url)
    if isinstance(exc, boto.EndpointConnectionError | boto.ConnectTimeoutError):
        return f"{url}: cannot reach the S3 endpoint {client.meta.endpoint_url}"
    if isinstance(exc, boto.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "?"))
        if code == "NoSuchBucket":
            return f"{url}: no such bucket '{split_url(url)[0]}'"
        if code in ("NoSuchKey", "404"):
            return f"{url}: no such key"
        if code in _DENIED:
            return f"{url}: access denied ({code})"
        return f"{url}: S3 error {code} ({error.get('Message', '')})"
    if isinstance(exc, boto.BotoCoreError):
        return f"{url}: {exc}"
    return None


def _no_credentials(url: str) -> str:
    return (
        f"{url}: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
        "or AWS_PROFILE)"
    )


def _is_aws(endpoint: str) -> bool:
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def _exists(client: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey"):
            return False  # perhaps a prefix; listing tells (and names a missing bucket)
        raise
    return True


def _list(client: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield str(item["Key"])


def _visible_parquet(relative: str) -> bool:
    parts = relative.split("/")
    return relative.endswith(".parquet") and not any(p.startswith((".", "_")) for p in parts)


def _glob(client: Any, bucket: str, pattern: str) -> list[str]:
    """Keys matching ``pattern``; a match on a leading part selects the prefix below it."""
    literal = pattern[: min(pattern.find(c) for c in "*?[" if c in pattern)]
    prefix = literal[: literal.rfind("/") + 1]
    wanted = pattern.split("/")
    found = []
    for key in _list(client, bucket, prefix):
        parts = key.split("/")
        for depth in range(1, len(parts) + 1):
            if _match(wanted, parts[:depth]):
                rest = "/".join(parts[depth:])
                if depth == len(parts) or _visible_parquet(rest):
                    found.append(key)
                break
    return found


def _match(pattern: list[str], parts: list[str]) -> bool:
    """``glob`` semantics part by part: ``*`` stays within a part, ``**`` spans any number,
    and a wildcard does not match a leading dot."""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, parts[i:]) for i in range(len(parts) + 1))
    if not parts:
        return False
    name = parts[0]
    if name.startswith(".") and not head.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, head) and _match(rest, parts[1:])


def _parquet_problem(client: Any, url: str) -> str | None:
    bucket, key = split_url(url)
    try:
        size = int(client.head_object(Bucket=bucket, Key=key)["ContentLength"])
        if size == 0:
            return f"{url}: object is empty (0 bytes), not a Parquet file"
        head = client.get_object(Bucket=bucket, Key=key, Range="bytes=0-3")["Body"].read()
        tail = client.get_object(Bucket=bucket, Key=key, Range="bytes=-4")["Body"].read()
    except Exception as exc:
        described = _describe(url, client, exc)
        if described is None:
            raise
        return described
    if head != PARQUET_MAGIC or tail != PARQUET_MAGIC or size < 8:
        return f"{url}: not a Parquet file (no PAR1 magic bytes)"
    return None
