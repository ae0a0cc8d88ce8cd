"""JSON output: the report dictionary, as is."""

from __future__ import annotations

import json
from typing import Any

from abtool.escape import unicode_safe


def render_json(report: dict[str, Any]) -> str:
    """Pretty JSON with stable key order (the contract in the README).

    ASCII with ``\\u`` escapes, so always valid UTF-8; a lone surrogate (an undecodable
    byte of a file name) becomes U+FFFD rather than an escape strict parsers reject.
    """
    return json.dumps(_safe(report), indent=2, allow_nan=False) + "\n"


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        return unicode_safe(value)
    if isinstance(value, dict):
        return {_safe(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value
