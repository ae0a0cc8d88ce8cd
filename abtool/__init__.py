"""abtool: decide from model-rollout logs whether a new ML model may go further.

The library mirrors the command line: each report function reads a log (a path, a list of
paths, a Polars or pandas DataFrame) with options named as on the command line, and returns a
:class:`~abtool.reports.result.Report` whose ``to_dict()`` is the JSON contract::

    import abtool
    report = abtool.shadow_report("shadow.parquet", threshold=0.6, segment=["country"])
    report.verdict, report.stats.ks_statistic
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Heavy modules (polars, scipy) load on first use so that `abtool --help` stays fast.
_LAZY = {
    "sample_size_report": "abtool.reports.sample_size",
    "SampleSizeOptions": "abtool.commands.sample_size",
    "Check": "abtool.reports.result",
    "Report": "abtool.reports.result",
    "Verdict": "abtool.reports.result",
    "shadow_report": "abtool.reports.shadow",
    "ShadowOptions": "abtool.commands.shadow",
    "ShadowColumns": "abtool.commands.shadow",
    "ShadowThresholds": "abtool.commands.shadow",
    "canary_report": "abtool.reports.canary",
    "CanaryColumns": "abtool.commands.canary",
    "CanaryOptions": "abtool.commands.canary",
    "CanaryThresholds": "abtool.commands.canary",
    "interleave_report": "abtool.reports.interleave",
    "InterleaveColumns": "abtool.commands.interleave",
    "InterleaveOptions": "abtool.commands.interleave",
    "InterleaveThresholds": "abtool.commands.interleave",
    "bandit_report": "abtool.reports.bandit",
    "BanditColumns": "abtool.commands.bandit",
    "BanditOptions": "abtool.commands.bandit",
    "BanditThresholds": "abtool.commands.bandit",
    "open_log": "abtool.engines",
    "team_draft": "abtool.interleaving",
    "balanced": "abtool.interleaving",
    "Interleaving": "abtool.interleaving",
    "load_policy": "abtool.gate.policy",
    "run_policy": "abtool.gate.run",
}

if TYPE_CHECKING:
    from abtool.commands.bandit import BanditColumns, BanditOptions, BanditThresholds
    from abtool.commands.canary import CanaryColumns, CanaryOptions, CanaryThresholds
    from abtool.commands.interleave import (
        InterleaveColumns,
        InterleaveOptions,
        InterleaveThresholds,
    )
    from abtool.commands.sample_size import SampleSizeOptions
    from abtool.commands.shadow import ShadowColumns, ShadowOptions, ShadowThresholds
    from abtool.engines import open_log
    from abtool.gate.policy import load_policy
    from abtool.gate.run import run_policy
    from abtool.interleaving import Interleaving, balanced, team_draft
    from abtool.reports.bandit import bandit_report
    from abtool.reports.canary import canary_report
    from abtool.reports.interleave import interleave_report
    from abtool.reports.result import Check, Report, Verdict
    from abtool.reports.sample_size import sample_size_report
    from abtool.reports.shadow import shadow_report

__all__ = [
    "BanditColumns",
    "BanditOptions",
    "BanditThresholds",
    "CanaryColumns",
    "CanaryOptions",
    "CanaryThresholds",
    "Check",
    "InterleaveColumns",
    "InterleaveOptions",
    "InterleaveThresholds",
    "Interleaving",
    "Report",
    "SampleSizeOptions",
    "ShadowColumns",
    "ShadowOptions",
    "ShadowThresholds",
    "Verdict",
    "__version__",
    "balanced",
    "bandit_report",
    "canary_report",
    "interleave_report",
    "load_policy",
    "open_log",
    "run_policy",
    "sample_size_report",
    "shadow_report",
    "team_draft",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'abtool' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
