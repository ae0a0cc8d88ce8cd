"""Every HTML page in a real headless Chromium: clean console, no network, drawn plots, no
injection; a full-page screenshot of each goes to test-artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.html_reports import CONTROL_SHOWN, IMG, QUOTES, SCRIPT, cached_reports, rendered

PAGES = [
    ("shadow", False),
    ("shadow_no_go", False),
    ("canary", False),
    ("interleave", False),
    ("sample_size", False),
    ("sample_size_interleaving", False),
    ("bandit", False),
    ("gate", False),
    ("shadow", True),
    ("canary", True),
    ("interleave", True),
    ("sample_size", True),
]
HOSTILE = {"shadow": [SCRIPT, QUOTES, CONTROL_SHOWN], "canary": [SCRIPT, QUOTES, CONTROL_SHOWN],
           "gate": [SCRIPT, QUOTES, CONTROL_SHOWN], "interleave": [IMG],
           "bandit": [SCRIPT, QUOTES]}  # fmt: skip

# Per plot: does its SVG have drawn marks (paths with a non-empty box) and text?
DRAWN = """() => Array.from(document.querySelectorAll('figure.plot')).map(figure => {
  const svg = figure.querySelector('svg');
  if (!svg) return {key: figure.dataset.plot, paths: 0, width: 0, texts: 0};
  const paths = Array.from(svg.querySelectorAll('path')).filter(p => {
    if (!p.getAttribute('d')) return false;
    const box = p.getBBox();
    return box.width > 0 || box.height > 0;
  });
  return {key: figure.dataset.plot, paths: paths.length,
          width: svg.getBoundingClientRect().width,
          texts: svg.querySelectorAll('text').length};
})"""

INJECTED = """() => ({
  elements: document.querySelectorAll('script, img, iframe, object, embed, link, b').length,
  handlers: Array.from(document.querySelectorAll('*')).flatMap(
    el => Array.from(el.attributes).map(a => a.name).filter(n => n.startsWith('on'))).length,
  svgText: Array.from(document.querySelectorAll('svg text')).map(t => t.textContent).join('\\n'),
  overflow: document.documentElement.scrollWidth - window.innerWidth,
})"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return cached_reports(lambda: tmp_path_factory.mktemp("html-logs"))[1]


@pytest.mark.parametrize(("name", "full"), PAGES, ids=[f"{n}{'-full' * f}" for n, f in PAGES])
def test_page_in_chromium(
    browser: Any,
    screenshots: Path,
    reports: dict[str, Any],
    tmp_path: Path,
    name: str,
    full: bool,
) -> None:
    label = f"{name}{'-full' if full else ''}"
    path = tmp_path / f"{label}.html"
    text = rendered(name, full)
    path.write_text(text, encoding="utf-8")
    expected_plots = text.count('<figure class="plot"')
    assert expected_plots > 0

    page = browser.new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in (
        "error", "warning") else None)  # fmt: skip
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    page.screenshot(path=str(screenshots / f"{label}.png"), full_page=True)
    drawn = page.evaluate(DRAWN)
    injected = page.evaluate(INJECTED)
    body = page.inner_text("body")
    page.close()

    assert problems == []
    assert requests == [path.as_uri()]
    assert len(drawn) == expected_plots
    for plot in drawn:
        assert plot["paths"] >= 3, plot  # axes, ticks and the data
        assert plot["texts"] >= 2, plot  # tick labels at least
        assert 400 <= plot["width"] <= 760, plot  # readable at 1280 px: two plots a row
    assert injected["elements"] == 0 and injected["handlers"] == 0
    assert injected["overflow"] <= 0  # nothing wider than the 1280 px window
    for value in HOSTILE.get(name, []):
        assert value in body, value
    if name in ("shadow", "canary", "bandit"):
        assert SCRIPT in injected["svgText"]  # as an axis label, not as markup
    assert reports[name]["verdict"] in body
