"""Text that is safe to show: control characters made visible, markup escaped."""

from __future__ import annotations

import html
import re

# C0 and C1 control characters except tab and newline, and DEL: invisible or invalid in
# HTML/SVG text, and a way to hide part of a value from a reader.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(value: object) -> str:
    """``str(value)`` with control characters shown as ``\\xNN`` escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", str(value))


def esc(value: object) -> str:
    """``value`` as HTML text (and attribute) content: visible and escaped, quotes included."""
    return html.escape(visible(value), quote=True)


def short(value: object, limit: int = 40) -> str:
    """A visible label cut to ``limit`` characters for an axis (tables show the whole value)."""
    text = visible(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
