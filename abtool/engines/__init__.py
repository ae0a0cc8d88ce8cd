"""Engines: where a log is read and reduced to the aggregates the reports need.

Reports receive a :class:`~abtool.engines.base.Log` built at the edge (the CLI, a gate, the
Python API) by :func:`open_log`; Polars, on one machine, is the default engine, Spark
(:mod:`abtool.engines.spark`) the engine for logs that outgrow one machine.

The engine of a call is, in order: an engine object or name passed as ``engine=``, else the
command's ``--engine`` and ``--spark-master`` options (:func:`engine_for`).
"""

from __future__ import annotations

import importlib
from typing import Any

from abtool.engines.base import Engine, Log
from abtool.errors import UsageError

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "Engine",
    "Log",
    "LogInput",
    "engine_for",
    "engine_settings",
    "get_engine",
    "open_log",
]

LogInput = Any
"""What a report reads: paths (a string, a path or a list of files, globs and folders), a Polars
or pandas DataFrame or LazyFrame, or a log an engine already opened."""

# engine name -> "module:class" (imported on first use).
ENGINES = {
    "polars": "abtool.engines.polars:PolarsEngine",
    "spark": "abtool.engines.spark:SparkEngine",
}
DEFAULT_ENGINE = "polars"


def get_engine(engine: str | Engine | None = None, **settings: Any) -> Engine:
    """An engine by name (default: polars), or the engine object passed in.

    ``settings`` go to the named engine's constructor (``master=`` for Spark).

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
    built: Engine = getattr(importlib.import_module(module), name)(**settings)
    return built


def engine_for(engine: str | Engine | None, options: Any = None) -> Engine:
    """The engine of a report call: ``engine`` (an object or a name), else the one the
    command's options name (``engine``, ``spark_master``), else polars.

    Raises:
        UsageError: an unknown engine name, or ``--spark-master`` without the Spark engine.
    """
    if engine is not None and not isinstance(engine, str):
        return engine
    name = engine or getattr(options, "engine", None) or DEFAULT_ENGINE
    master = getattr(options, "spark_master", None)
    if name == "spark":
        return get_engine(name, master=master)
    if master is not None:
        raise UsageError(f"--spark-master {master} needs --engine spark")
    return get_engine(name)


def engine_settings(options: Any) -> dict[str, Engine]:
    """``{"engine": ...}`` for a report function whose options declare ``--engine`` (the
    engine built once, at the edge), else nothing (a command without the option)."""
    if not hasattr(options, "engine"):
        return {}
    return {"engine": engine_for(None, options)}


def open_log(data: Any, engine: str | Engine | None = None, options: Any = None) -> Log:
    """The log a report reads: ``data`` itself if it is already an opened log, else opened
    by the engine (see :func:`engine_for`) from paths (a string, a path or a sequence) or a
    DataFrame."""
    if isinstance(data, Log):
        return data
    if engine is None and _is_spark_frame(data):
        engine = "spark"  # a Spark DataFrame is read where it is, on its own session
    return engine_for(engine, options).open(data)


def _is_spark_frame(data: Any) -> bool:
    # Checked by module name: importing pyspark to ask isinstance would cost every caller.
    return type(data).__module__.startswith("pyspark.") and type(data).__name__ == "DataFrame"
