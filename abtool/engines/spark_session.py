"""The Spark session abtool's Spark engine runs on: given, Spark Connect, or a master URL.

Precedence: a session passed in from Python; else ``--spark-master``; else Spark Connect at
``SPARK_REMOTE`` (``sc://host:15002``); else ``local[*]``. pyspark is imported only here and
only when the Spark engine is chosen (``pip install 'abtool[spark]'``; Java 17 or later).

A local session is set up for a laptop-sized machine: no web UI or progress bar, driver bound
to 127.0.0.1, a heap of half the machine's memory (at most 16 GiB), two shuffle partitions
per core (Spark's default of 200 makes every small aggregate pay for 200 tasks), errors-only
logging, UTC session time zone (time buckets must not depend on the machine's zone) and Arrow
transfers. A remote or cluster session keeps its own resources; abtool sets only the time
zone, for every session it creates.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING

from abtool.errors import UsageError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
APP_NAME = "abtool"
SESSION_SETTINGS = {"spark.sql.session.timeZone": "UTC"}


def local_settings(master: str) -> dict[str, str]:
    """Settings of a ``local[N]`` session (``N`` cores; ``*`` = all of this machine's)."""
    cores = local_cores(master)
    log_config = resources.files("abtool.engines").joinpath("log4j2.properties")
    partitions = str(max(2, 2 * cores))
    return {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.sql.shuffle.partitions": partitions,
        "spark.default.parallelism": partitions,
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.driver.memory": local_memory(),
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{log_config}",
        **SESSION_SETTINGS,
    }


def local_memory() -> str:
    """The heap of a local session: half this machine's memory, between 1 and 16 GiB.

    In local mode the driver is the executor: Spark's default 1 GiB heap runs out caching a
    10M-row log's needed columns (the JVM takes memory only as it needs it).
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "1g"
    return f"{min(16, max(1, total // 2**31))}g"


def local_cores(master: str) -> int:
    """Cores of a local master URL: ``local`` = 1, ``local[4]`` = 4, ``local[*]`` = all."""
    found = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\s*\d+)?\])?", master.strip())
    if found is None:
        return 0
    if found.group(1) in (None, ""):
        return 1
    if found.group(1) == "*":
        return os.cpu_count() or 1
    return int(found.group(1))


def spark_session(
    session: SparkSession | None = None,
    *,
    master: str | None = None,
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """The session to run on (see the module docstring for the precedence).

    Args:
        session: an existing session (classic or Connect), used as it is.
        master: a master URL (``local[2]``, ``spark://host:7077``, ``yarn``, ...).
        config: further Spark settings; they override abtool's.

    Raises:
        UsageError: pyspark is not installed, both a master and ``SPARK_REMOTE`` are given,
            or Spark cannot start (e.g. no Java).
    """
    if session is not None:
        return session
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("the Spark engine needs pyspark: pip install 'abtool[spark]'") from None
    remote = os.environ.get("SPARK_REMOTE")
    if master is not None and remote:
        raise UsageError(
            f"--spark-master {master} and SPARK_REMOTE={remote} both choose a Spark; unset one"
        )
    builder = SparkSession.builder.appName(APP_NAME)
    if remote:
        builder = builder.remote(remote)
        where, settings = f"Spark Connect at {remote}", dict(SESSION_SETTINGS)
    else:
        master = master or DEFAULT_MASTER
        builder = builder.master(master)
        where = f"Spark master {master}"
        settings = local_settings(master) if local_cores(master) else dict(SESSION_SETTINGS)
        # Python workers (UDFs, if any) must run this interpreter, with abtool installed.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in {**settings, **(config or {})}.items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():
            # pyspark warns about untested pandas versions; abtool moves data with Arrow.
            warnings.filterwarnings("ignore", "PySpark does not yet", FutureWarning)
            spark = builder.getOrCreate()
    except Exception as exc:  # pyspark raises several types; Java missing is the usual one
        reason = _first_line(exc)
        if "JAVA_GATEWAY_EXITED" in reason:
            reason += " (Spark needs Java 17 or later: JAVA_HOME or java on PATH)"
        raise UsageError(f"cannot start {where}: {reason}") from None
    if not remote:
        spark.sparkContext.setLogLevel("ERROR")
    return spark


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
