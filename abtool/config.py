"""Thresholds of every check, with defaults from the rollout checklists, read from TOML.

A ``--config`` file holds one table per command; keys are check ids::

    [shadow]
    agreement_rate = 0.90
    duration = 12          # hours

Unknown tables or keys are errors, so a typo never silently keeps a default.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from abtool.errors import ConfigError


@dataclass(frozen=True)
class ShadowThresholds:
    """Shadow -> 1% canary checklist; each field is named after its check id."""

    duration: float = 24.0
    """Minimum hours the shadow must have run."""
    agreement_rate: float = 0.85
    """Decision agreement must exceed this fraction."""
    distribution_shift: float = 0.10
    """Maximum KS statistic D between primary and shadow predictions."""
    shadow_error_rate: float = 0.01
    """Maximum fraction of shadow requests that errored."""
    latency_p99: float = 1.5
    """Maximum ratio of shadow p99 latency to primary p99 latency."""


@dataclass(frozen=True)
class InterleaveThresholds:
    """Interleaving checklist; each field is named after its check id."""

    min_sessions: int = 1000
    """Minimum decisive sessions (one team got more clicks) before deciding."""
    preference: float = 0.05
    """Significance level alpha of the two-sided sign test."""


@dataclass(frozen=True)
class CanaryThresholds:
    """Canary / A/B stage gate; each field is named after its check id (``_floor`` and
    ``_window`` fields qualify the check they start with)."""

    error_rate: float = 2.0
    """Rollback when the treatment error rate exceeds this multiple of control's ..."""
    error_rate_floor: float = 0.01
    """... and also exceeds this absolute rate (fraction of requests)."""
    latency_p99: float = 1.5
    """Rollback when treatment p99 latency exceeds this multiple of control's."""
    prediction_mean: float = 0.20
    """Rollback when the treatment prediction mean deviates from control's by more than this
    fraction of control's."""
    distribution_shift: float = 0.001
    """Alert (advisory) when the KS p-value on the latest predictions is below this."""
    distribution_shift_window: int = 1000
    """Number of latest predictions per variant (by timestamp) the KS p-value uses."""
    srm: float = 0.001
    """Hold when the sample-ratio-mismatch chi-square p-value is below this."""
    assignment_consistency: float = 0.01
    """Hold when more than this fraction of units has an inconsistent assignment."""
    min_samples: int = 1000
    """Hold until each variant has at least this many units."""
    primary_metric: float = 0.05
    """Significance level alpha of the primary metric (two-sided; CIs are 1 - alpha)."""


ThresholdsT = TypeVar("ThresholdsT")

SECTIONS: dict[str, type[Any]] = {
    "shadow": ShadowThresholds,
    "canary": CanaryThresholds,
    "interleave": InterleaveThresholds,
}


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a one-line ConfigError."""
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
    cls: type[ThresholdsT], values: Mapping[str, Any], where: str
) -> ThresholdsT:
    """Build a thresholds dataclass from a mapping of check id -> number.

    Args:
        cls: the thresholds dataclass (e.g. :class:`ShadowThresholds`).
        values: overrides by check id.
        where: names the source in error messages (file and table).

    Raises:
        ConfigError: on an unknown key or a value that is not a number.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    overrides: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            known = ", ".join(fields)
            raise ConfigError(f"{where}: unknown threshold '{key}' (known: {known})")
        default = getattr(cls(), key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                f"{where}: threshold '{key}' must be a number, got {type(value).__name__}"
            )
        overrides[key] = type(default)(value) if isinstance(default, float) else value
    return cls(**overrides)


def load_thresholds(cls: type[ThresholdsT], section: str, path: str | Path | None) -> ThresholdsT:
    """Defaults for ``section``, overridden by the ``[section]`` table of a TOML file if given."""
    if path is None:
        return cls()
    data = read_toml(path)
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown table [{unknown[0]}] (known: {', '.join(sorted(SECTIONS))})"
        )
    table = data.get(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{section}] must be a table of thresholds")
    return thresholds_from_mapping(cls, table, f"{path} [{section}]")
