"""abtool: decide from model-rollout logs whether a new ML model may go further.

The library mirrors the command line: each report function reads logs and returns a
:class:`~abtool.reports.result.Report` whose ``to_dict()`` is the JSON contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Heavy modules (polars, scipy) load on first use so that `abtool --help` stays fast.
_LAZY = {
    "shadow_report": "abtool.reports.shadow",
    "sample_size_report": "abtool.reports.sample_size",
    "SampleSizeOptions": "abtool.reports.sample_size",
    "Report": "abtool.reports.result",
    "Check": "abtool.reports.result",
    "Verdict": "abtool.reports.result",
}

if TYPE_CHECKING:
    from abtool.reports.result import Check, Report, Verdict
    from abtool.reports.sample_size import SampleSizeOptions, sample_size_report
    from abtool.reports.shadow import shadow_report

__all__ = [
    "Check",
    "Report",
    "SampleSizeOptions",
    "Verdict",
    "__version__",
    "sample_size_report",
    "shadow_report",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'abtool' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
