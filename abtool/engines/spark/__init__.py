"""The Spark engine: logs reduced where they live, on a Spark session.

``--engine spark`` (or ``engine = "spark"`` in a gate, or ``engine="spark"`` in Python) reads
the log on a Spark session: ``--spark-master`` (default ``local[*]``), Spark Connect at
``SPARK_REMOTE``, or, from Python, a session of your own::

    from abtool.engines.spark import SparkEngine
    report = abtool.shadow_report("s3://logs/shadow/", engine=SparkEngine(session=spark))
    report = abtool.shadow_report(spark.table("ml.shadow_log"))  # a Spark DataFrame

The engine fills the same records of :mod:`abtool.aggregates` as the Polars engine, under the
same rules (docs/logs.md): every figure is an aggregate computed in Spark; per-unit arrays and
sorted predictions come back through Arrow only up to :data:`ARRAY_CAP` values, and above it
the engine hands the figures computed in Spark instead (sufficient statistics per variant,
KS D and quantiles from bucket counts, :mod:`abtool.stats.bucketed`). See docs/engines.md.

pyspark is imported only when this engine is chosen (``pip install 'abtool[spark]'``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from abtool.aggregates.bandit import BanditData, BanditRequest
from abtool.aggregates.canary import CanaryData, CanaryRequest
from abtool.aggregates.interleave import InterleaveData
from abtool.aggregates.shadow import ShadowData, ShadowRequest
from abtool.commands.bandit import BanditColumns
from abtool.commands.canary import CanaryColumns
from abtool.commands.interleave import InterleaveColumns
from abtool.commands.shadow import ShadowColumns
from abtool.engines.base import Progress
from abtool.errors import InputError

T = TypeVar("T")

ARRAY_CAP = 5_000_000
"""Most values an array of an aggregate record may bring back to the driver (per array)."""


@dataclass(frozen=True)
class SparkLog:
    """A log on the Spark engine (see :class:`abtool.engines.base.Log`)."""

    source: Any  # abtool.engines.spark.source.SparkSource
    array_cap: int = ARRAY_CAP

    @property
    def name(self) -> str:
        return str(self.source.name)

    @property
    def paths(self) -> Sequence[str]:
        return tuple(self.source.paths)

    @property
    def files(self) -> int:
        return len(self.source.files)

    def shadow(
        self, columns: ShadowColumns, request: ShadowRequest, progress: Progress = None
    ) -> ShadowData:
        from abtool.engines.spark.shadow import aggregate_shadow

        return self._naming_culprit(
            lambda: aggregate_shadow(self.source, columns, request, progress, self.array_cap)
        )

    def canary(
        self, columns: CanaryColumns, request: CanaryRequest, progress: Progress = None
    ) -> CanaryData:
        from abtool.engines.spark.canary import aggregate_canary

        return self._naming_culprit(
            lambda: aggregate_canary(self.source, columns, request, progress, self.array_cap)
        )

    def interleave(self, columns: InterleaveColumns, progress: Progress = None) -> InterleaveData:
        from abtool.engines.spark.interleave import aggregate_interleave

        return self._naming_culprit(
            lambda: aggregate_interleave(self.source, columns, progress=progress)
        )

    def bandit(
        self, columns: BanditColumns, request: BanditRequest, progress: Progress = None
    ) -> BanditData:
        from abtool.engines.spark.bandit import aggregate_bandit

        return self._naming_culprit(
            lambda: aggregate_bandit(self.source, columns, request, progress, self.array_cap)
        )

    def _naming_culprit(self, aggregate: Callable[[], T]) -> T:
        """Run ``aggregate``; when Spark cannot read a log of several files, name the file
        that fails to decode (each is read on its own, only on this failure path)."""
        from abtool.engines.spark.source import UnreadableLog

        try:
            return aggregate()
        except UnreadableLog as exc:
            found = self.source.culprit(list(self.source.schema))
            if found is None:
                raise
            path, reason = found
            raise InputError(f"{path}: cannot read ({reason})") from exc


class SparkEngine:
    """Opens logs on a Spark session: Parquet paths (local, ``s3://``), a Spark DataFrame, or
    a Polars or pandas DataFrame (sent to Spark through Arrow).

    Args:
        session: an existing session (classic or Connect), used as it is (abtool sets its
            time zone to UTC: buckets and naive times are UTC).
        master: a master URL for a session abtool starts (``--spark-master``).
        config: further Spark settings for a session abtool starts.
        array_cap: most values an array may bring back to the driver; above it the engine
            computes the figures in Spark (tests set it low to exercise both paths).
    """

    name = "spark"

    def __init__(
        self,
        session: Any = None,
        *,
        master: str | None = None,
        config: Mapping[str, str] | None = None,
        array_cap: int = ARRAY_CAP,
    ) -> None:
        self._session = session
        self.master = master
        self.config = dict(config or {})
        self.array_cap = array_cap

    @property
    def session(self) -> Any:
        """The session, started on first use."""
        from abtool.engines.spark_session import SESSION_SETTINGS, spark_session

        if self._session is None:
            self._session = spark_session(master=self.master, config=self.config)
        for key, value in SESSION_SETTINGS.items():
            if self._session.conf.get(key) != value:
                self._session.conf.set(key, value)
        return self._session

    def open(self, data: Any) -> SparkLog:
        from abtool.engines.spark import source

        if _is_spark_frame(data):
            if self._session is None:
                self._session = data.sparkSession
            self.session  # noqa: B018 - the session's settings (UTC) apply to the frame
            return SparkLog(source.open_frame(data), self.array_cap)
        if _is_local_frame(data):
            return SparkLog(source.open_frame(_to_spark(self.session, data)), self.array_cap)
        paths = [os.fspath(data)] if isinstance(data, str | os.PathLike) else list(data)
        return SparkLog(source.open_files(self.session, paths), self.array_cap)


def _is_spark_frame(data: Any) -> bool:
    return type(data).__module__.startswith("pyspark.") and type(data).__name__ == "DataFrame"


def _is_local_frame(data: Any) -> bool:
    module = type(data).__module__.split(".")[0]
    return module in ("polars", "pandas") and type(data).__name__ in ("DataFrame", "LazyFrame")


def _to_spark(spark: Any, data: Any) -> Any:
    """A Polars or pandas frame as a Spark DataFrame (categoricals as text, through Arrow)."""
    import polars as pl

    frame = data if type(data).__module__.startswith("polars") else pl.from_pandas(data)
    frame = frame.lazy().collect() if isinstance(frame, pl.LazyFrame) else frame
    frame = frame.with_columns(
        pl.col(c).cast(pl.String)
        for c, dtype in frame.schema.items()
        if isinstance(dtype, pl.Categorical | pl.Enum)
    )
    return spark.createDataFrame(frame.to_arrow())
