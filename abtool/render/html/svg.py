"""Matplotlib figures as inline SVG fragments that can sit side by side in one HTML page.

Figures are made with ``matplotlib.figure.Figure`` directly (never pyplot), inside an
``rc_context``, so rendering a report changes neither the caller's backend nor its rcParams.
Text stays text (``svg.fonttype = none``): it is searchable, selectable, small, and a hostile
label is escaped by matplotlib's SVG writer like any other character data. Mathtext is off
(``text.parse_math = False``) so a ``$`` in a segment value is shown, not typeset.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import matplotlib

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Series take them in this order; FAIL marks failing items and KS gaps.
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
VERMILION = "#D55E00"
YELLOW = "#F0E442"
GREY = "#6E6E6E"
SERIES = (BLUE, ORANGE, GREEN, PURPLE, SKY, YELLOW)
FAIL = VERMILION

# Width that two plots share a row at 1280 px (see the page CSS) and one fills a phone.
WIDTH_IN = 7.0
HEIGHT_IN = 3.3

_RC: dict[Any, Any] = {  # matplotlib types the keys as a Literal of every rcParam
    "svg.fonttype": "none",
    "svg.hashsalt": "abtool",  # deterministic ids; made unique per page by prefix_ids
    "text.parse_math": False,
    "font.family": "sans-serif",
    # DejaVu Sans is what matplotlib measures with; Verdana has nearly the same metrics, so
    # labels keep their room in browsers without DejaVu.
    "font.sans-serif": ["DejaVu Sans", "Verdana", "Bitstream Vera Sans", "Arial"],
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "figure.dpi": 96,
    # Plain tick numbers (350000, not 3.5 with a 1e5 offset) up to a billion.
    "axes.formatter.limits": (-4, 9),
    "axes.formatter.useoffset": False,
}


@contextmanager
def figure(height: float = HEIGHT_IN) -> Iterator[Figure]:
    """A fresh figure (constrained layout) inside abtool's rc settings."""
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):
        yield Figure(figsize=(WIDTH_IN, height), layout="constrained")


def to_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element: no XML prolog, no metadata, unreferenced ids gone."""
    buffer = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    referenced = set(re.findall(r"#([A-Za-z_][\w.-]*)", text))
    # matplotlib names every group (figure_1, patch_1, ...); duplicates across plots would be
    # invalid HTML, and only ids that something points at are needed.
    return re.sub(
        r' id="([^"]+)"',
        lambda m: m.group(0) if m.group(1) in referenced else "",
        text,
    )


def prefix_ids(svg: str, prefix: str) -> str:
    """Rename every id (and each ``#id`` reference) so several SVGs can share a document."""
    ids = set(re.findall(r' id="([^"]+)"', svg))
    if not ids:
        return svg
    pattern = re.compile(r'( id=")([^"]+)(")|(#)([A-Za-z_][\w.-]*)')

    def rename(match: re.Match[str]) -> str:
        if match.group(1):
            return f"{match.group(1)}{prefix}-{match.group(2)}{match.group(3)}"
        name = match.group(5)
        return f"#{prefix}-{name}" if name in ids else match.group(0)

    return pattern.sub(rename, svg)
