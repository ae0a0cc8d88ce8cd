"""The Polars engine (default): lazy, streaming Polars scans of local Parquet files or frames."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl

from abtool.aggregates.bandit import BanditData, BanditRequest
from abtool.aggregates.canary import CanaryData, CanaryRequest
from abtool.aggregates.interleave import InterleaveData
from abtool.aggregates.shadow import ShadowData, ShadowRequest
from abtool.commands.bandit import BanditColumns
from abtool.commands.canary import CanaryColumns
from abtool.commands.interleave import InterleaveColumns
from abtool.commands.shadow import ShadowColumns
from abtool.engines.base import Progress
from abtool.engines.polars.source import LogSource, UnreadableLog, open_files, open_frame
from abtool.errors import InputError

T = TypeVar("T")


@dataclass(frozen=True)
class PolarsLog:
    """A log on the Polars engine (see :class:`abtool.engines.base.Log`)."""

    source: LogSource

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def paths(self) -> Sequence[str]:
        return self.source.paths

    @property
    def files(self) -> int:
        return len(self.source.files)

    def shadow(
        self, columns: ShadowColumns, request: ShadowRequest, progress: Progress = None
    ) -> ShadowData:
        from abtool.engines.polars.shadow import aggregate_shadow

        return self._naming_culprit(
            lambda: aggregate_shadow(self.source, columns, request, progress)
        )

    def canary(
        self, columns: CanaryColumns, request: CanaryRequest, progress: Progress = None
    ) -> CanaryData:
        from abtool.engines.polars.canary import aggregate_canary

        return self._naming_culprit(
            lambda: aggregate_canary(self.source, columns, request, progress)
        )

    def interleave(self, columns: InterleaveColumns, progress: Progress = None) -> InterleaveData:
        from abtool.engines.polars.interleave import aggregate_interleave

        return self._naming_culprit(
            lambda: aggregate_interleave(self.source, columns, progress=progress)
        )

    def _naming_culprit(self, aggregate: Callable[[], T]) -> T:
        """Run ``aggregate``; when Polars cannot read a log of several files, name the file
        that fails to decode (each is read on its own, only on this failure path)."""
        try:
            return aggregate()
        except UnreadableLog as exc:
            found = self.source.culprit(list(self.source.read_types))
            if found is None:
                raise
            path, reason = found
            raise InputError(f"{path}: cannot read ({reason})") from exc

    def bandit(
        self, columns: BanditColumns, request: BanditRequest, progress: Progress = None
    ) -> BanditData:
        from abtool.engines.polars.bandit import aggregate_bandit

        return self._naming_culprit(
            lambda: aggregate_bandit(self.source, columns, request, progress)
        )


class PolarsEngine:
    """Opens local Parquet files, globs, hive folders, or in-memory frames."""

    name = "polars"

    def open(self, data: Any) -> PolarsLog:
        if isinstance(data, pl.DataFrame | pl.LazyFrame):
            return PolarsLog(open_frame(data))
        if _is_pandas(data):
            return PolarsLog(open_frame(pl.from_pandas(data)))
        if isinstance(data, str | os.PathLike):
            return PolarsLog(open_files([os.fspath(data)]))
        return PolarsLog(open_files([os.fspath(p) for p in data]))


def _is_pandas(data: Any) -> bool:
    # Checked by name: importing pandas to ask isinstance would cost every other caller.
    module = type(data).__module__
    return module.split(".")[0] == "pandas" and type(data).__name__ == "DataFrame"
