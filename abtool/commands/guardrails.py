"""canary-decide's ``--guardrail COL[:DIRECTION[:MARGIN]]``: a metric that must not get worse.

One text form serves the command line (``--guardrail latency_ms:decrease:0.05``), a rollout
policy (``guardrail = ["latency_ms:decrease:0.05"]``) and Python (``guardrail=[...]``):

* ``COL``: the column, aggregated per unit like a ``--metric`` (a ratio of per-unit sums);
* ``DIRECTION``: which way is better, ``increase`` (the default) or ``decrease``;
* ``MARGIN``: the largest loss still acceptable, relative to the control mean (``0.05`` or
  ``5%``: the treatment may be up to 5% worse); default 0.

A column name holding ``:`` cannot be a guardrail (the text would be ambiguous).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DIRECTIONS = ("increase", "decrease")
SYNTAX = "COL[:increase|decrease[:MARGIN]]"


@dataclass(frozen=True)
class Guardrail:
    """A guardrail metric: its column, the better direction and the non-inferiority margin."""

    column: str
    direction: str = "increase"
    margin: float = 0.0

    @property
    def text(self) -> str:
        """The normalised ``COL:DIRECTION:MARGIN`` form."""
        return f"{self.column}:{self.direction}:{self.margin:g}"


def _margin(text: str, whole: str) -> float:
    raw = text.strip()
    scale = 1.0
    if raw.endswith("%"):
        raw, scale = raw[:-1], 0.01
    try:
        value = float(raw) * scale
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(
            f"{whole!r}: the margin must be a number >= 0 relative to the control mean, "
            f"e.g. 0.05 or 5% (expected {SYNTAX})"
        )
    return value


def parse_guardrail(text: str) -> Guardrail:
    """The guardrail a text names.

    Raises:
        ValueError: an empty column, an unknown direction or a bad margin (the message shows
            the syntax).
    """
    parts = text.strip().split(":")
    if len(parts) > 3 or not parts[0].strip():
        raise ValueError(f"{text!r}: expected {SYNTAX}")
    column = parts[0].strip()
    direction = parts[1].strip() if len(parts) > 1 else "increase"
    if direction not in DIRECTIONS:
        raise ValueError(
            f"{text!r}: direction {direction!r} must be increase or decrease (expected {SYNTAX})"
        )
    margin = _margin(parts[2], text) if len(parts) > 2 else 0.0
    return Guardrail(column, direction, margin)


def normalise_guardrail(text: str) -> str:
    """``parse`` hook of ``--guardrail``: the checked, normalised text of one guardrail."""
    return parse_guardrail(text).text
