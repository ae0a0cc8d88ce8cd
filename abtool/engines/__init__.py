"""Engines: where a log is read and reduced to the aggregates the reports need.

Reports receive a :class:`~abtool.engines.base.Log` built at the edge (the CLI, a gate, the
Python API) by :func:`open_log`; Polars, on one machine, is the default engine.
"""

from __future__ import annotations

import importlib
from typing import Any

from abtool.engines.base import Engine, Log
from abtool.errors import UsageError

__all__ = ["DEFAULT_ENGINE", "ENGINES", "Engine", "Log", "LogInput", "get_engine", "open_log"]

LogInput = Any
"""What a report reads: paths (a string, a path or a list of files, globs and folders), a Polars
or pandas DataFrame or LazyFrame, or a log an engine already opened."""

# engine name -> "module:class" (imported on first use).
ENGINES = {"polars": "abtool.engines.polars:PolarsEngine"}
DEFAULT_ENGINE = "polars"


def get_engine(engine: str | Engine | None = None) -> Engine:
    """An engine by name (default: polars), or the engine object passed in.

    Raises:
        UsageError: an unknown engine name.
    """
    if engine is None:
        engine = DEFAULT_ENGINE
    if not isinstance(engine, str):
        return engine
    if engine not in ENGINES:
        raise UsageError(f"--engine '{engine}' is not one of {', '.join(ENGINES)}")
    module, _, name = ENGINES[engine].partition(":")
    built: Engine = getattr(importlib.import_module(module), name)()
    return built


def open_log(data: Any, engine: str | Engine | None = None) -> Log:
    """The log a report reads: ``data`` itself if it is already an opened log, else opened
    by the engine from paths (a string, a path or a sequence) or a DataFrame."""
    if isinstance(data, Log):
        return data
    return get_engine(engine).open(data)
