"""Plot primitives: plain numbers in, one inline-SVG :class:`Plot` out (or None without data).

The primitives draw what a report computed; they compute no statistics. Every one returns
``None`` when its data is absent (empty, or every value missing), so a page shows no empty
axes. Missing values (``None`` or NaN) inside a series leave a gap. Titles and captions live
in the HTML around the SVG; labels inside it are cut to 40 characters (tables carry the whole
value) and control characters in them are shown as escapes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from abtool.render.html import svg as _svg
from abtool.render.html.text import short

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Number = float | int | None


@dataclass(frozen=True)
class Plot:
    """One drawn plot: ``key`` names it on the page (``data-plot``), ``svg`` is the drawing."""

    key: str
    title: str
    svg: str
    caption: str = ""


@dataclass(frozen=True)
class Reference:
    """A reference line: ``zero`` (grey), ``margin`` (dashed vermilion), ``expected`` (green)."""

    value: float
    label: str
    style: Literal["zero", "margin", "expected"] = "zero"
    axis: Literal["x", "y"] = "y"


@dataclass(frozen=True)
class KsGap:
    """Where the two ECDFs are furthest apart: at ``x`` they are ``cdf_a`` and ``cdf_b``."""

    x: float
    cdf_a: float
    cdf_b: float
    label: str


_REF_STYLE: dict[str, dict[str, Any]] = {
    "zero": {"color": _svg.GREY, "linestyle": "-", "linewidth": 1.0},
    "margin": {"color": _svg.FAIL, "linestyle": "--", "linewidth": 1.4},
    "expected": {"color": _svg.GREEN, "linestyle": ":", "linewidth": 1.6},
}


def _floats(values: Sequence[Number]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def _has_data(*series: Sequence[Number]) -> bool:
    return any(v is not None and math.isfinite(v) for values in series for v in values)


def _tick_label(value: object) -> str:
    """Bucket labels: ISO timestamps as ``Apr 28 03:00``; anything else as visible text."""
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value)
        except ValueError:
            return short(value, 16)
        return f"{stamp:%b %d}\n{stamp:%H:%M}" if (stamp.hour or stamp.minute) else f"{stamp:%b %d}"
    return short(value, 16)


def _axes(
    ax: Axes, xlabel: str, ylabel: str, percent: bool, references: Sequence[Reference]
) -> None:
    from matplotlib.ticker import PercentFormatter

    ax.set_xlabel(short(xlabel, 80))
    ax.set_ylabel(short(ylabel, 60))
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    for ref in references:
        line = ax.axvline if ref.axis == "x" else ax.axhline
        line(ref.value, label=short(ref.label, 60), **_REF_STYLE[ref.style])


def _plot(fig: Figure, key: str, title: str, caption: str) -> Plot:
    return Plot(key=key, title=title, svg=_svg.to_svg(fig), caption=caption)


def histogram_overlay(
    edges: Sequence[float],
    counts: Mapping[str, Sequence[Number]],
    *,
    key: str,
    title: str,
    xlabel: str,
    caption: str = "",
) -> Plot | None:
    """Overlaid histograms sharing ``edges`` (len = bins + 1), one filled outline per series."""
    if len(edges) < 2 or not _has_data(*counts.values()):
        return None
    for name, values in counts.items():
        if len(values) != len(edges) - 1:
            raise ValueError(
                f"histogram series {name!r}: {len(values)} counts for {len(edges)} edges"
            )
    with _svg.figure() as fig:
        ax = fig.subplots()
        for i, colour, name, values in _coloured(counts):
            if i == 0:  # the first filled, the others as outlines: overlap stays readable
                ax.stairs(_floats(values), edges, fill=True, alpha=0.35, color=colour)
            ax.stairs(
                _floats(values), edges, color=colour, linewidth=2.2 if i else 1.4, label=short(name)
            )
        _axes(ax, xlabel, "count", False, ())
        _legend(ax)
        return _plot(fig, key, title, caption)


def ecdf_pair(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    gap: KsGap | None,
    key: str,
    title: str,
    xlabel: str,
    caption: str = "",
) -> Plot | None:
    """ECDFs (name -> (x, F(x)) points) with the KS gap as a vertical bar at ``gap.x``, labelled."""
    if not any(len(x) and _has_data(y) for x, y in curves.values()):
        return None
    with _svg.figure() as fig:
        ax = fig.subplots()
        for colour, (name, (x, y)) in zip(_svg.SERIES, curves.items(), strict=False):
            ax.plot(_floats(x), _floats(y), color=colour, lw=1.8, label=short(name))
        if gap is not None:
            low, high = sorted((gap.cdf_a, gap.cdf_b))
            ax.vlines(gap.x, low, high, color=_svg.FAIL, lw=3)
            ax.plot([gap.x, gap.x], [low, high], "_", color=_svg.FAIL, ms=12, mew=2)
            ax.annotate(  # the note goes bottom right, where rising CDFs leave room
                short(gap.label, 60),
                xy=(gap.x, (low + high) / 2),
                xytext=(0.62, 0.12),
                textcoords="axes fraction",
                color=_svg.FAIL,
                arrowprops={"arrowstyle": "->", "color": _svg.FAIL},
            )
        _axes(ax, xlabel, "cumulative share", False, ())
        ax.set_ylim(0, 1.02)
        _legend(ax)
        return _plot(fig, key, title, caption)


def band_line(
    x: Sequence[object],
    y: Sequence[Number],
    low: Sequence[Number],
    high: Sequence[Number],
    *,
    key: str,
    title: str,
    xlabel: str,
    ylabel: str,
    label: str = "estimate",
    band_label: str = "confidence interval",
    references: Sequence[Reference] = (),
    percent: bool = False,
    caption: str = "",
) -> Plot | None:
    """An estimate over ``x`` (bucket labels or numbers) with its interval as a shaded band."""
    if not len(x) or not _has_data(y):
        return None
    with _svg.figure() as fig:
        ax = fig.subplots()
        positions = _positions(ax, x)
        ax.fill_between(
            positions,
            _floats(low),
            _floats(high),
            color=_svg.BLUE,
            alpha=0.22,
            lw=0,
            label=short(band_label, 60),
        )
        ax.plot(positions, _floats(y), color=_svg.BLUE, lw=2, marker=".", label=short(label, 60))
        _axes(ax, xlabel, ylabel, percent, references)
        _legend(ax)
        return _plot(fig, key, title, caption)


def bucket_series(
    buckets: Sequence[object],
    series: Mapping[str, Sequence[Number]],
    *,
    key: str,
    title: str,
    ylabel: str,
    kind: Literal["bar", "line"] = "line",
    highlight: int | None = None,
    references: Sequence[Reference] = (),
    percent: bool = False,
    xlabel: str = "time bucket",
    caption: str = "",
) -> Plot | None:
    """Values per bucket (bars side by side, or lines), bucket ``highlight`` shaded vermilion."""
    if not len(buckets) or not _has_data(*series.values()):
        return None
    with _svg.figure() as fig:
        ax = fig.subplots()
        positions = _positions(ax, buckets)
        width = 0.8 / max(len(series), 1)
        for i, colour, name, values in _coloured(series):
            if kind == "bar":
                shifted = [p + (i - (len(series) - 1) / 2) * width for p in positions]
                colours = [_svg.FAIL if j == highlight else colour for j in range(len(values))]
                ax.bar(shifted, _floats(values), width=width, color=colours, label=short(name))
            else:
                ax.plot(
                    positions, _floats(values), color=colour, lw=1.8, marker=".", label=short(name)
                )
        if highlight is not None and 0 <= highlight < len(buckets):
            ax.axvspan(
                highlight - 0.5,
                highlight + 0.5,
                color=_svg.FAIL,
                alpha=0.18,
                lw=0,
                label=f"flagged: {_tick_label(buckets[highlight])}".replace("\n", " "),
            )
        _axes(ax, xlabel, ylabel, percent, references)
        _legend(ax)
        return _plot(fig, key, title, caption)


def ranked_bars(
    labels: Sequence[object],
    values: Sequence[Number],
    *,
    key: str,
    title: str,
    xlabel: str,
    failing: Sequence[bool] | None = None,
    references: Sequence[Reference] = (),
    percent: bool = False,
    caption: str = "",
) -> Plot | None:
    """Horizontal bars, first label on top; failing items vermilion, the rest blue."""
    if not len(labels) or not _has_data(values):
        return None
    flags = list(failing) if failing is not None else [False] * len(labels)
    with _svg.figure(height=max(2.2, 0.32 * len(labels) + 1.1)) as fig:
        ax = fig.subplots()
        rows = list(range(len(labels)))
        colours = [_svg.FAIL if flag else _svg.BLUE for flag in flags]
        ax.barh(rows, _floats(values), color=colours, height=0.7)
        ax.set_yticks(rows, [short(label) for label in labels])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        _value_axis(ax, xlabel, percent, references, failing=any(flags))
        return _plot(fig, key, title, caption)


def forest(
    labels: Sequence[object],
    estimates: Sequence[Number],
    lows: Sequence[Number],
    highs: Sequence[Number],
    *,
    key: str,
    title: str,
    xlabel: str,
    failing: Sequence[bool] | None = None,
    references: Sequence[Reference] = (),
    percent: bool = False,
    caption: str = "",
) -> Plot | None:
    """A forest plot: each row's estimate and interval, first label on top; failing in vermilion."""
    if not len(labels) or not _has_data(estimates):
        return None
    flags = list(failing) if failing is not None else [False] * len(labels)
    with _svg.figure(height=max(2.2, 0.36 * len(labels) + 1.1)) as fig:
        ax = fig.subplots()
        for row, (est, lo, hi, flag) in enumerate(
            zip(_floats(estimates), _floats(lows), _floats(highs), flags, strict=True)
        ):
            colour = _svg.FAIL if flag else _svg.BLUE
            ax.hlines(row, lo, hi, color=colour, lw=2.2)
            ax.plot([est], [row], "o" if not flag else "D", color=colour, ms=6)
        ax.set_yticks(range(len(labels)), [short(label) for label in labels])
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        _value_axis(ax, xlabel, percent, references, failing=any(flags))
        return _plot(fig, key, title, caption)


def line_series(
    x: Sequence[object],
    series: Mapping[str, Sequence[Number]],
    *,
    key: str,
    title: str,
    xlabel: str,
    ylabel: str,
    references: Sequence[Reference] = (),
    percent: bool = False,
    caption: str = "",
) -> Plot | None:
    """Several lines over shared ``x`` (numbers, or labels placed in order)."""
    if not len(x) or not _has_data(*series.values()):
        return None
    with _svg.figure() as fig:
        ax = fig.subplots()
        positions = _positions(ax, x)
        markers = "osD^v"
        for i, colour, name, values in _coloured(series):
            ax.plot(
                positions,
                _floats(values),
                color=colour,
                lw=1.8,
                marker=markers[i % 5],
                ms=4,
                label=short(name),
            )
        _axes(ax, xlabel, ylabel, percent, references)
        _legend(ax)
        return _plot(fig, key, title, caption)


def grouped_bars(
    categories: Sequence[object],
    series: Mapping[str, Sequence[Number]],
    *,
    key: str,
    title: str,
    ylabel: str,
    xlabel: str = "",
    percent: bool = False,
    caption: str = "",
) -> Plot | None:
    """Vertical bars per category, one bar per series side by side, values written on top."""
    if not len(categories) or not _has_data(*series.values()):
        return None
    with _svg.figure() as fig:
        ax = fig.subplots()
        width = 0.8 / max(len(series), 1)
        for i, colour, name, values in _coloured(series):
            shifted = [c + (i - (len(series) - 1) / 2) * width for c in range(len(categories))]
            bars = ax.bar(shifted, _floats(values), width=width, color=colour, label=short(name))
            ax.bar_label(bars, fmt="{:.2%}" if percent else "{:.4g}", fontsize=8, padding=2)
        ax.set_xticks(range(len(categories)), [short(c, 20) for c in categories])
        ax.grid(axis="x", visible=False)
        ax.margins(y=0.15)
        _axes(ax, xlabel, ylabel, percent, ())
        _legend(ax)
        return _plot(fig, key, title, caption)


def _coloured(
    series: Mapping[str, Sequence[Number]],
) -> list[tuple[int, str, str, Sequence[Number]]]:
    """(index, colour, name, values) of each series, colours in palette order."""
    return [
        (i, _svg.SERIES[i % len(_svg.SERIES)], name, v)
        for i, (name, v) in enumerate(series.items())
    ]


def _positions(ax: Axes, x: Sequence[object]) -> list[float]:
    """Numbers stay numbers; anything else (timestamps, names) goes in order with its label."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in x):
        if all(isinstance(v, int) for v in x):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        return [float(v) for v in x]  # type: ignore[arg-type]
    labels = [_tick_label(v) for v in x]
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda pos, _i: labels[int(pos)] if 0 <= int(pos) < len(labels) else "")
    )
    return [float(i) for i in range(len(x))]


def _value_axis(
    ax: Axes, xlabel: str, percent: bool, references: Sequence[Reference], *, failing: bool
) -> None:
    """The x axis of a horizontal chart: its reference lines, and a legend when needed."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    ax.set_xlabel(short(xlabel, 80))
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    for ref in references:
        ax.axvline(ref.value, label=short(ref.label, 60), **_REF_STYLE[ref.style])
    _legend(ax, [Patch(color=_svg.FAIL, label="failing")] if failing else [])


def _legend(ax: Axes, extra: Sequence[Artist] = ()) -> None:
    """One legend row above the axes (never over the data), when anything is labelled."""
    handles, labels = ax.get_legend_handles_labels()
    handles += list(extra)
    labels += [str(h.get_label()) for h in extra]
    if handles:
        ax.figure.legend(handles, labels, loc="outside upper left", ncols=min(len(handles), 4))
