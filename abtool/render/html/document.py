"""A report as one self-contained HTML page: verdict, checklist, plots, sections, warnings.

The page has no script and loads nothing: its Content-Security-Policy forbids scripts and
every fetch, so even a value that slipped past escaping could neither run nor call out.
Every text from a report goes through :func:`abtool.render.html.text.esc`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from abtool import __version__
from abtool.render.blocks import (
    Block,
    Facts,
    Outcome,
    Preformatted,
    Table,
    checklist_table,
)
from abtool.render.html.pages import plots_for
from abtool.render.html.plots import Plot
from abtool.render.html.style import CSS
from abtool.render.html.svg import prefix_ids
from abtool.render.html.text import esc

if TYPE_CHECKING:
    from abtool.reports.result import Check

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"

_VERDICT_CLASS = {
    "GO": "good",
    "PROMOTE": "good",
    "NO_GO": "bad",
    "ROLLBACK": "bad",
    "ERROR": "bad",
    "HOLD": "hold",
    "WINNER": "good",
    "CONTINUE": "hold",
    "INFO": "info",
}


class Result(Outcome, Protocol):
    """A report or a gate run: what every format reads, plus its JSON dictionary."""

    def to_dict(self) -> dict[str, Any]: ...


def render_html(
    result: Result, blocks: Sequence[Block], *, report: dict[str, Any] | None = None
) -> str:
    """The whole result as an HTML document (``blocks`` from ``sections_for(command)``).

    Text comes from ``result`` and ``blocks`` like every other format; the plots read
    ``report``, the JSON dictionary (``result.to_dict()`` unless given), so a plot appears
    once its documented keys are in the JSON. For ``gate`` the page shows every gate's
    verdict, then each gate's own report; ``blocks`` and ``report`` are not used.
    """
    counter = _Counter()
    title = f"abtool {result.command}: {result.verdict}"
    if result.command == "gate":
        body = _gate_body(result, counter)
    else:
        data = result.to_dict() if report is None else report
        body = _report_body(result, data, blocks, counter, level=1)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="abtool {esc(__version__)}">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n<footer>Made by abtool {esc(__version__)}. Every figure on this page is also "
        "in the report's <code>--format json</code> output.</footer>\n</main>\n</body>\n</html>\n"
    )


class _Counter:
    """Numbers the plots of a page, so each SVG's ids are unique in the document."""

    def __init__(self) -> None:
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"plot{self.n}"


def _report_body(
    result: Outcome,
    report: dict[str, Any],
    blocks: Sequence[Block],
    counter: _Counter,
    *,
    level: int,
    name: str | None = None,
) -> str:
    paths = (report.get("inputs") or {}).get("paths") or []
    parts = [_banner(result, level, name=name, paths=paths)]
    if result.checks:
        parts.append(_section("Checklist", _checklist(result.checks), level))
    plots = plots_for(report)
    if plots:
        figures = "".join(_figure(plot, counter) for plot in plots)
        parts.append(_section("Plots", f'<div class="plot-grid">{figures}</div>', level))
    if blocks:
        parts.append(_section("Details", "".join(_block(b) for b in blocks), level))
    parts.append(_warnings(result.warnings, level))
    return "\n".join(parts)


def _gate_body(run: Any, counter: _Counter) -> str:
    from abtool.render import sections_for
    from abtool.render.gate import failed_checks, key_figures

    rows = []
    for i, outcome in enumerate(run.outcomes, start=1):
        gate = outcome.gate
        cls = _VERDICT_CLASS.get(str(outcome.verdict), "info")
        rows.append(
            "<tr>"
            f'<td><a href="#gate-{i}">{esc(gate.name)}</a></td><td>{esc(gate.kind)}</td>'
            f"<td>{'yes' if gate.required else 'no'}</td>"
            f'<td><span class="badge {cls}">{esc(outcome.verdict)}</span></td>'
            f"<td>{esc(failed_checks(outcome))}</td><td>{esc(key_figures(outcome))}</td></tr>"
        )
    head = "".join(
        f"<th>{c}</th>"
        for c in ("gate", "kind", "required", "verdict", "failed checks", "key figures")
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    parts = [_banner(run, 1), _section("Gates", table, 1)]
    for i, outcome in enumerate(run.outcomes, start=1):
        gate = outcome.gate
        if outcome.report is None:
            facts = Facts(
                "Not evaluated", [("error", str(outcome.error)), ("defined at", gate.location)]
            )
            inner = _banner(outcome, 2, name=gate.name, paths=gate.paths) + _block(facts)
        else:
            inner = _report_body(
                outcome.report,
                outcome.report.to_dict(),
                sections_for(outcome.command)(outcome.report),
                counter,
                level=2,
                name=gate.name,
            )
        parts.append(f'<section class="gate" id="gate-{i}">{inner}</section>')
    parts.append(_warnings(run.warnings, 1))
    return "\n".join(parts)


def _banner(result: Any, level: int, *, name: str | None = None, paths: Sequence[str] = ()) -> str:
    verdict = str(result.verdict)
    cls = _VERDICT_CLASS.get(verdict, "info")
    title = f"{name} ({result.command})" if name else result.command
    heading = f'<h{level}>abtool {esc(title)} <span class="badge">{esc(verdict)}</span></h{level}>'
    reasons = "".join(f"<li>{esc(r)}</li>" for r in getattr(result, "reasons", ()))
    meta = f'<p class="meta">inputs: {esc(", ".join(map(str, paths)))}</p>' if paths else ""
    return (
        f'<header class="verdict {cls}" data-verdict="{esc(verdict)}">{heading}'
        f'<ul class="reasons">{reasons}</ul>{meta}</header>'
    )


def _warnings(warnings: Sequence[str], level: int) -> str:
    if not warnings:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
    return _section("Warnings", f'<ul class="warnings">{items}</ul>', level)


def _section(title: str, content: str, level: int) -> str:
    tag = f"h{level + 1}"
    slug = title.lower().replace(" ", "-")
    return f'<section class="{slug}"><{tag}>{esc(title)}</{tag}>{content}</section>'


def _checklist(checks: Sequence[Check]) -> str:
    table = checklist_table(checks)
    return _table(table, [f"check-{c.status}" for c in checks], mark_column=0)


def _figure(plot: Plot, counter: _Counter) -> str:
    caption = f"<figcaption>{esc(plot.caption)}</figcaption>" if plot.caption else ""
    return (
        f'<figure class="plot" data-plot="{esc(plot.key)}"><h3>{esc(plot.title)}</h3>'
        f'<div class="drawing" role="img" aria-label="{esc(plot.title)}">'
        f"{prefix_ids(plot.svg, counter.next())}</div>{caption}</figure>"
    )


def _block(block: Block) -> str:
    if isinstance(block, Table):
        return f'<div class="block"><h3>{esc(block.title)}</h3>{_table(block)}</div>'
    if isinstance(block, Facts):
        items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in block.items)
        return f'<div class="block"><h3>{esc(block.title)}</h3><dl class="facts">{items}</dl></div>'
    assert isinstance(block, Preformatted)
    # Text charts repeat what the plots draw; kept folded for copy and paste.
    return (
        f'<details class="block"><summary>{esc(block.title)} (as text)</summary>'
        f"<pre>{esc(block.text)}</pre></details>"
    )


def _table(table: Table, row_classes: Sequence[str] = (), mark_column: int | None = None) -> str:
    def cell(tag: str, i: int, text: str) -> str:
        classes = [c for c, on in (("num", i in table.numeric), ("mark", i == mark_column)) if on]
        attr = f' class="{" ".join(classes)}"' if classes else ""
        return f"<{tag}{attr}>{esc(text)}</{tag}>"

    head = "".join(cell("th", i, c) for i, c in enumerate(table.columns))
    rows = []
    for r, row in enumerate(table.rows):
        cls = f' class="{row_classes[r]}"' if r < len(row_classes) else ""
        rows.append(f"<tr{cls}>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
