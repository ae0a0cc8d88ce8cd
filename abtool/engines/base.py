"""The engine interface: what a report asks of an opened log.

A :class:`Log` answers each report's aggregation request with the engine-neutral records of
:mod:`abtool.aggregates`; the reports compute every statistic from those records alone. An
:class:`Engine` opens a log from what the user gave (paths, a folder, a DataFrame). A new
engine implements both, fills the same records, and is registered in
:data:`abtool.engines.ENGINES` (see docs/design.md, "Adding an engine").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from abtool.aggregates.bandit import BanditData, BanditRequest
from abtool.aggregates.canary import CanaryData, CanaryRequest
from abtool.aggregates.interleave import InterleaveData
from abtool.aggregates.shadow import ShadowData, ShadowRequest
from abtool.commands.bandit import BanditColumns
from abtool.commands.canary import CanaryColumns
from abtool.commands.interleave import InterleaveColumns
from abtool.commands.shadow import ShadowColumns

Progress = Callable[[str], None] | None


@runtime_checkable
class Log(Protocol):
    """A log opened by an engine.

    Attributes:
        name: how error messages name the log (a file, or the paths given).
        paths: the paths as the user gave them.
        files: how many files the log spans (0 for data held in memory).
    """

    @property
    def name(self) -> str: ...

    @property
    def paths(self) -> Sequence[str]: ...

    @property
    def files(self) -> int: ...

    def shadow(
        self, columns: ShadowColumns, request: ShadowRequest, progress: Progress = None
    ) -> ShadowData:
        """shadow-report's aggregates (validates the columns it needs)."""
        ...

    def canary(
        self, columns: CanaryColumns, request: CanaryRequest, progress: Progress = None
    ) -> CanaryData:
        """canary-decide's aggregates (validates the columns it needs)."""
        ...

    def interleave(self, columns: InterleaveColumns, progress: Progress = None) -> InterleaveData:
        """interleave-report's aggregates (validates the columns it needs)."""
        ...

    def bandit(
        self, columns: BanditColumns, request: BanditRequest, progress: Progress = None
    ) -> BanditData:
        """bandit-report's aggregates (validates the columns it needs)."""
        ...


class Engine(Protocol):
    """Opens logs for the reports."""

    name: str

    def open(self, data: Any) -> Log:
        """A log from paths (a string, a path or a sequence of them) or, where the engine
        supports it, a DataFrame.

        Raises:
            UsageError: nothing to read.
            InputError: the data cannot be used (one line naming the file).
        """
        ...
