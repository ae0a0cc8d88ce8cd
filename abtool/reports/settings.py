"""How a report function's keyword arguments become the command's validated settings.

The library functions accept settings named as on the command line (``threshold=0.6``,
``segment=["country"]``, ``time_col="ts"``), or the command's dataclasses themselves
(``options=ShadowOptions(...)``), or both (keywords override the dataclasses). Thresholds come
as the dataclass, a mapping of check id -> number, and/or a ``config`` TOML file. Everything
goes through the rules of :mod:`abtool.spec`, as on the command line and in a policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from abtool.spec import CommandSpec, check_all, check_thresholds


def resolve(
    spec: CommandSpec,
    settings: Mapping[str, Any],
    *,
    columns: Any = None,
    options: Any = None,
    thresholds: Any = None,
    config: str | Path | None = None,
) -> tuple[Any, Any, Any]:
    """(columns, options, thresholds) of a call, validated.

    Raises:
        TypeError: a keyword that is not a setting of the command.
        UsageError: a value out of range or a contradiction between settings.
        ConfigError: a threshold out of range, or a bad ``config`` file.
    """
    known = {b.key for b in spec.settings()}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise TypeError(
            f"{spec.name}: unexpected keyword argument {unknown[0]!r} "
            f"(settings: {', '.join(sorted(known))})"
        )
    columns, options = spec.build(settings, columns=columns, options=options)
    check_all(spec, columns, options)
    if spec.thresholds is not None:
        from abtool.config import load_thresholds, thresholds_from_mapping

        if thresholds is None or isinstance(thresholds, Mapping):
            base = load_thresholds(spec, config)
            thresholds = thresholds_from_mapping(
                spec.thresholds, thresholds or {}, "thresholds", base
            )
        check_thresholds(spec.thresholds, thresholds, "")
    if spec.check is not None:
        spec.check(columns, options, thresholds)
    return columns, options, thresholds
