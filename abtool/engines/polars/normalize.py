"""Column types the reports would misread, read as the types they mean.

``Decimal`` columns (what SQL engines and Spark write for ``NUMERIC``/``DECIMAL``) are
numbers: with a fractional part (scale > 0) they are read as ``Float64`` (scores, latencies,
revenue), so a decimal prediction is a score and never a class label; with scale 0 they are
integers, read as ``Int64`` where they fit (precision <= 18) and left as they are otherwise
(grouping and labels still work on them).
"""

from __future__ import annotations

import polars as pl

from abtool.engines.polars.source import LogSource

_INT64_DIGITS = 18


def normalized(source: LogSource) -> LogSource:
    """``source`` with every Decimal column read as a float (or an integer, scale 0)."""
    for column, dtype in list(source.schema.items()):
        if not isinstance(dtype, pl.Decimal):
            continue
        scale = dtype.scale or 0
        precision = dtype.precision if dtype.precision is not None else 38
        if scale > 0:
            source = source.derive(column, lambda e: e.cast(pl.Float64), pl.Float64())
        elif precision <= _INT64_DIGITS:
            source = source.derive(column, lambda e: e.cast(pl.Int64), pl.Int64())
    return source
