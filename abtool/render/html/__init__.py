"""HTML output: one self-contained page per report, with plots as inline SVG.

Import this package only when HTML is asked for: it imports matplotlib.

Why matplotlib drawing static inline SVG, and not a JavaScript plotting library
(measured with ``python -m benchmarks.html_libraries``; eight plots on one page, 2 cores):

=============  ========  =========================  ==========================
library        page      Python: import + 8 plots   Chromium: open to drawn
=============  ========  =========================  ==========================
matplotlib     146 KB    1.9 s                      0.5 s
Bokeh INLINE   1.3 MB    2.2 s                      1.2 s
Plotly         4.8 MB    0.5 s                      2.2 s
Altair         0.9 MB    4.1 s                      0.9 s
=============  ========  =========================  ==========================

- The page runs no script, so it opens the same in any browser, mail client, CI artifact
  viewer or archive, now and in ten years; its Content-Security-Policy can forbid scripts and
  network access outright, which also defeats any script injected through a log value.
- It is the smallest: a gate page holding several reports stays far below 5 MB, where
  Plotly's bundle alone nearly fills it and Altair must also ship vl-convert (a JavaScript
  runtime, tens of MB) just to inline Vega.
- Text in the SVG is real, escaped text: searchable, selectable, checkable by tests.
- matplotlib is the most widely kept plotting library in the scientific Python stack, so the
  dependency is a safe long-term bet; the JavaScript libraries pin a bundle version per page.
- The cost is interactivity (no hover or zoom); the tables under the plots and the JSON carry
  the exact numbers.

Public API: :func:`render_html` (the page), :mod:`abtool.render.html.plots` (primitives),
:mod:`abtool.render.html.pages` (what each command's page draws).
"""

from __future__ import annotations

from abtool.render.html.document import render_html

__all__ = ["render_html"]
