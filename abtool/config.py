"""Thresholds from TOML: a ``--config`` file holds one table per command, keys are check ids::

    [shadow]
    agreement_rate = 0.90
    duration = 12          # hours

The tables and keys are the commands' declared thresholds (:mod:`abtool.commands`). Unknown
tables or keys are errors, so a typo never silently keeps a default, and every value is checked
against its declared range (a finite number; an agreement rate in [0, 1] ...).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from abtool.errors import AbtoolError, ConfigError
from abtool.outputs import record_input
from abtool.spec import CommandSpec, bound_limits, check_number


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a one-line ConfigError."""
    record_input(path)  # never overwritten by a report of this run
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def thresholds_from_mapping(
    cls: Any, values: Mapping[str, Any], where: str, base: Any = None
) -> Any:
    """A thresholds dataclass from check id -> number, each checked against its declaration.

    Args:
        cls: the thresholds dataclass (e.g. ``ShadowThresholds``).
        values: overrides by check id.
        where: names the source in error messages (file and table).
        base: the thresholds the overrides apply to (default: the defaults).

    Raises:
        ConfigError: an unknown key, a value that is not a number, or one out of range.
    """
    limits = {b.name: b for b in bound_limits(cls)}
    overrides: dict[str, Any] = {}
    for key, value in values.items():
        if key not in limits:
            raise ConfigError(f"{where}: unknown threshold '{key}' (known: {', '.join(limits)})")
        limit = limits[key].limit
        try:
            overrides[key] = check_number(
                f"threshold '{key}'", value, limit.range, integer=limit.integer
            )
        except AbtoolError as exc:
            raise ConfigError(f"{where}: {exc.message}") from None
    return dataclasses.replace(base if base is not None else cls(), **overrides)


def load_thresholds(spec: CommandSpec, path: str | Path | None) -> Any:
    """The command's default thresholds, overridden by its table of a TOML file if given."""
    from abtool.commands import config_sections

    assert spec.thresholds is not None and spec.section is not None
    if path is None:
        return spec.thresholds()
    data = read_toml(path)
    sections = config_sections()
    unknown = sorted(set(data) - set(sections))
    if unknown:
        raise ConfigError(
            f"{path}: unknown table [{unknown[0]}] (known: {', '.join(sorted(sections))})"
        )
    table = data.get(spec.section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{spec.section}] must be a table of thresholds")
    return thresholds_from_mapping(spec.thresholds, table, f"{path} [{spec.section}]")
