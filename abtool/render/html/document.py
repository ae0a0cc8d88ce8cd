"""A report as one self-contained HTML page: verdict, checklist, plots, sections, warnings.

The page has no script and loads nothing: its Content-Security-Policy forbids scripts and
every fetch, so even a value that slipped past escaping could neither run nor call out.
Every text from a report goes through :func:`abtool.render.html.text.esc`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from abtool import __version__
from abtool.render.blocks import Block, Facts, Preformatted, Table, checklist_table
from abtool.render.html.pages import plots_for
from abtool.render.html.plots import Plot
from abtool.render.html.style import CSS
from abtool.render.html.svg import prefix_ids
from abtool.render.html.text import esc

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"

_VERDICT_CLASS = {
    "GO": "good",
    "PROMOTE": "good",
    "NO_GO": "bad",
    "ROLLBACK": "bad",
    "ERROR": "bad",
    "HOLD": "hold",
    "INFO": "info",
}


def render_html(report: dict[str, Any], blocks: Sequence[Block]) -> str:
    """The whole report as an HTML document (``blocks`` from ``sections_for(command)``).

    For ``gate`` the page is built from ``report["gates"]`` (each a full report) and
    ``blocks`` is not used: an overview of every gate's verdict, then each gate's own page.
    """
    counter = _Counter()
    title = f"abtool {report['command']}: {report['verdict']}"
    if report["command"] == "gate":
        body = _gate_body(report, counter)
    else:
        body = _report_body(report, blocks, counter, level=1)
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
    report: dict[str, Any], blocks: Sequence[Block], counter: _Counter, *, level: int
) -> str:
    parts = [_banner(report, level)]
    if report.get("checks"):
        parts.append(_section("Checklist", _checklist(report), level))
    plots = plots_for(report)
    if plots:
        figures = "".join(_figure(plot, counter) for plot in plots)
        parts.append(_section("Plots", f'<div class="plot-grid">{figures}</div>', level))
    if blocks:
        parts.append(_section("Details", "".join(_block(b) for b in blocks), level))
    if report.get("warnings"):
        items = "".join(f"<li>{esc(w)}</li>" for w in report["warnings"])
        parts.append(_section("Warnings", f'<ul class="warnings">{items}</ul>', level))
    return "\n".join(parts)


def _gate_body(report: dict[str, Any], counter: _Counter) -> str:
    from abtool.render import sections_for
    from abtool.render.gate import failed_checks, key_figures

    rows = []
    for i, gate in enumerate(report["gates"], start=1):
        cls = _VERDICT_CLASS.get(gate["verdict"], "info")
        rows.append(
            "<tr>"
            f'<td><a href="#gate-{i}">{esc(gate["name"])}</a></td><td>{esc(gate["kind"])}</td>'
            f"<td>{'yes' if gate['required'] else 'no'}</td>"
            f'<td><span class="badge {cls}">{esc(gate["verdict"])}</span></td>'
            f"<td>{esc(failed_checks(gate))}</td><td>{esc(key_figures(gate))}</td></tr>"
        )
    head = "".join(
        f"<th>{c}</th>"
        for c in ("gate", "kind", "required", "verdict", "failed checks", "key figures")
    )
    parts = [
        _banner(report, 1),
        _section("Gates", f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
                 "</tbody></table>", 1),
    ]  # fmt: skip
    for i, gate in enumerate(report["gates"], start=1):
        if gate["verdict"] == "ERROR":
            facts = Facts(
                "Not evaluated",
                [("error", str(gate.get("error"))), ("defined at", str(gate.get("location")))],
            )
            inner = _banner(gate, 2) + _block(facts)
        else:
            inner = _report_body(gate, sections_for(gate["command"])(gate), counter, level=2)
        parts.append(f'<section class="gate" id="gate-{i}">{inner}</section>')
    if report.get("warnings"):
        items = "".join(f"<li>{esc(w)}</li>" for w in report["warnings"])
        parts.append(_section("Warnings", f'<ul class="warnings">{items}</ul>', 1))
    return "\n".join(parts)


def _banner(report: dict[str, Any], level: int) -> str:
    verdict = report["verdict"]
    cls = _VERDICT_CLASS.get(verdict, "info")
    name = f"{report['name']} ({report['command']})" if "name" in report else report["command"]
    heading = f'<h{level}>abtool {esc(name)} <span class="badge">{esc(verdict)}</span></h{level}>'
    reasons = "".join(f"<li>{esc(r)}</li>" for r in report.get("reasons", []))
    paths = (report.get("inputs") or {}).get("paths") or []
    meta = f'<p class="meta">inputs: {esc(", ".join(map(str, paths)))}</p>' if paths else ""
    return (
        f'<header class="verdict {cls}" data-verdict="{esc(verdict)}">{heading}'
        f'<ul class="reasons">{reasons}</ul>{meta}</header>'
    )


def _section(title: str, content: str, level: int) -> str:
    tag = f"h{level + 1}"
    slug = title.lower().replace(" ", "-")
    return f'<section class="{slug}"><{tag}>{esc(title)}</{tag}>{content}</section>'


def _checklist(report: dict[str, Any]) -> str:
    table = checklist_table(report)
    statuses = [c["status"] for c in report["checks"]]
    return _table(table, [f"check-{s}" for s in statuses], mark_column=0)


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
