"""JSON output: the report dictionary, as is."""

from __future__ import annotations

import json
from typing import Any


def render_json(report: dict[str, Any]) -> str:
    """Pretty JSON with stable key order (the contract in the README)."""
    return json.dumps(report, indent=2, allow_nan=False) + "\n"
