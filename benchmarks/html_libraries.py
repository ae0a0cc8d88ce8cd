# ruff: noqa: E501  (each library snippet is a child script, one line per plot for comparison)
"""Compare plotting libraries for abtool's offline HTML report: page size and render time.

Each library draws the same eight plots a report page needs (overlaid histograms, two ECDFs
with the KS gap, a lift line with its band and reference lines, per-bucket bars with one
bucket highlighted, two per-bucket lines, horizontal bars with failing items highlighted, a
forest plot, CTR by position) into one self-contained HTML page with every script inlined.
Each library runs in a fresh child process so its import time is counted; the page is then
opened in headless Chromium and timed until all eight plots are drawn.

    pip install matplotlib bokeh plotly altair vl-convert-python playwright
    python -m benchmarks.html_libraries [--repeat 3] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIBRARIES = ["matplotlib", "bokeh", "plotly", "altair"]

# Shared data, built with the standard library only so each child builds the same thing.
DATA_CODE = r"""
import math, random
rng = random.Random(7)
edges = [i / 40 for i in range(41)]
mids = [(edges[i] + edges[i + 1]) / 2 for i in range(40)]
prim = [int(1000 * math.exp(-((m - 0.4) ** 2) / 0.02)) for m in mids]
shad = [int(1000 * math.exp(-((m - 0.45) ** 2) / 0.02)) for m in mids]
ex = [i / 199 for i in range(200)]
ea = [0.5 * (1 + math.erf((x - 0.4) / 0.14)) for x in ex]
eb = [0.5 * (1 + math.erf((x - 0.45) / 0.14)) for x in ex]
d_at = max(range(200), key=lambda i: abs(ea[i] - eb[i]))
days = list(range(48))
lift = [0.02 + 0.01 * math.sin(d / 5) for d in days]
half = [0.2 / math.sqrt(d + 1) for d in days]
lo = [v - h for v, h in zip(lift, half)]
hi = [v + h for v, h in zip(lift, half)]
buckets = list(range(36))
err = [0.01 + 0.002 * rng.random() + (0.05 if b == 27 else 0) for b in buckets]
p99a = [120 + 10 * rng.random() for b in buckets]
p99b = [125 + 10 * rng.random() for b in buckets]
segs = [f"segment {i}" for i in range(12)]
dis = [0.02 + 0.01 * rng.random() + (0.08 if i == 3 else 0) for i in range(12)]
fail = [v > 0.05 for v in dis]
est = [0.02 + 0.03 * (rng.random() - 0.5) for _ in segs]
elo = [e - 0.02 for e in est]
ehi = [e + 0.02 for e in est]
pos = list(range(1, 11))
ctra = [0.3 / p for p in pos]
ctrb = [0.32 / p for p in pos]
BLUE, ORANGE, RED, GREY = "#0072B2", "#E69F00", "#D55E00", "#999999"
"""

MATPLOTLIB = r"""
import io
import matplotlib
matplotlib.use("svg")
import matplotlib.pyplot as plt
def svg(fig):
    buf = io.StringIO(); fig.savefig(buf, format="svg"); plt.close(fig)
    t = buf.getvalue(); return t[t.index("<svg"):]
figs = []
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.stairs(prim, edges, fill=True, alpha=.45, color=BLUE); ax.stairs(shad, edges, color=ORANGE, lw=2)
figs.append(svg(fig))
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.step(ex, ea, color=BLUE); ax.step(ex, eb, color=ORANGE); ax.vlines(ex[d_at], ea[d_at], eb[d_at], color=RED, lw=2)
figs.append(svg(fig))
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.fill_between(days, lo, hi, alpha=.3, color=BLUE); ax.plot(days, lift, color=BLUE); ax.axhline(0, color=GREY); ax.axhline(-0.05, color=RED, ls="--")
figs.append(svg(fig))
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.bar(buckets, err, color=[RED if b == 27 else BLUE for b in buckets])
figs.append(svg(fig))
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.plot(buckets, p99a, color=BLUE); ax.plot(buckets, p99b, color=ORANGE)
figs.append(svg(fig))
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.barh(segs, dis, color=[RED if f else BLUE for f in fail])
figs.append(svg(fig))
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.errorbar(est, range(12), xerr=[[e - l for e, l in zip(est, elo)], [h - e for e, h in zip(est, ehi)]], fmt="o", color=BLUE); ax.axvline(0, color=GREY)
figs.append(svg(fig))
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.plot(pos, ctra, marker="o", color=BLUE); ax.plot(pos, ctrb, marker="s", color=ORANGE)
figs.append(svg(fig))
html = "<!doctype html><html><body>" + "".join(f'<div class="plot">{f}</div>' for f in figs) + "</body></html>"
"""

BOKEH = r"""
from bokeh.plotting import figure
from bokeh.layouts import column
from bokeh.embed import file_html
from bokeh.resources import INLINE
from bokeh.models import Span, Band, ColumnDataSource, Whisker
kw = dict(width=800, height=320)
ps = []
p = figure(**kw); p.quad(left=edges[:-1], right=edges[1:], top=prim, bottom=0, alpha=.45, color=BLUE); p.step(mids, shad, color=ORANGE, mode="center", line_width=2); ps.append(p)
p = figure(**kw); p.step(ex, ea, color=BLUE); p.step(ex, eb, color=ORANGE); p.segment(ex[d_at], ea[d_at], ex[d_at], eb[d_at], color=RED, line_width=2); ps.append(p)
p = figure(**kw); p.varea(x=days, y1=lo, y2=hi, alpha=.3, color=BLUE); p.line(days, lift, color=BLUE); p.add_layout(Span(location=0, dimension="width", line_color=GREY)); p.add_layout(Span(location=-0.05, dimension="width", line_color=RED, line_dash="dashed")); ps.append(p)
p = figure(**kw); p.vbar(x=buckets, top=err, width=.8, color=[RED if b == 27 else BLUE for b in buckets]); ps.append(p)
p = figure(**kw); p.line(buckets, p99a, color=BLUE); p.line(buckets, p99b, color=ORANGE); ps.append(p)
p = figure(y_range=segs, **kw); p.hbar(y=segs, right=dis, height=.8, color=[RED if f else BLUE for f in fail]); ps.append(p)
p = figure(y_range=segs, **kw); p.segment(elo, segs, ehi, segs, color=BLUE); p.scatter(est, segs, color=BLUE, size=7); ps.append(p)
p = figure(**kw); p.line(pos, ctra, color=BLUE); p.line(pos, ctrb, color=ORANGE); ps.append(p)
html = file_html(column(*ps), INLINE, "bench")
"""

PLOTLY = r"""
import plotly.graph_objects as go
import plotly.io as pio
fs = []
lay = dict(width=800, height=320)
f = go.Figure([go.Bar(x=mids, y=prim, marker_color=BLUE, opacity=.45), go.Bar(x=mids, y=shad, marker_color=ORANGE, opacity=.45)], layout=dict(barmode="overlay", **lay)); fs.append(f)
f = go.Figure([go.Scatter(x=ex, y=ea, line_shape="hv", line_color=BLUE), go.Scatter(x=ex, y=eb, line_shape="hv", line_color=ORANGE), go.Scatter(x=[ex[d_at]] * 2, y=[ea[d_at], eb[d_at]], line_color=RED)], layout=lay); fs.append(f)
f = go.Figure([go.Scatter(x=days + days[::-1], y=hi + lo[::-1], fill="toself", line_width=0, fillcolor="rgba(0,114,178,.3)"), go.Scatter(x=days, y=lift, line_color=BLUE)], layout=lay); f.add_hline(0, line_color=GREY); f.add_hline(-0.05, line_color=RED, line_dash="dash"); fs.append(f)
f = go.Figure([go.Bar(x=buckets, y=err, marker_color=[RED if b == 27 else BLUE for b in buckets])], layout=lay); fs.append(f)
f = go.Figure([go.Scatter(x=buckets, y=p99a, line_color=BLUE), go.Scatter(x=buckets, y=p99b, line_color=ORANGE)], layout=lay); fs.append(f)
f = go.Figure([go.Bar(y=segs, x=dis, orientation="h", marker_color=[RED if v else BLUE for v in fail])], layout=lay); fs.append(f)
f = go.Figure([go.Scatter(x=est, y=segs, mode="markers", error_x=dict(type="data", symmetric=False, array=[h - e for e, h in zip(est, ehi)], arrayminus=[e - l for e, l in zip(est, elo)]))], layout=lay); fs.append(f)
f = go.Figure([go.Scatter(x=pos, y=ctra, line_color=BLUE), go.Scatter(x=pos, y=ctrb, line_color=ORANGE)], layout=lay); fs.append(f)
parts = [pio.to_html(f, full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(fs)]
html = "<!doctype html><html><body>" + "".join(parts) + "</body></html>"
"""

ALTAIR = r"""
import altair as alt
import pandas as pd
W, H = 760, 280
cs = []
h = pd.DataFrame({"lo": edges[:-1] * 2, "hi": edges[1:] * 2, "n": prim + shad, "m": ["p"] * 40 + ["s"] * 40})
cs.append(alt.Chart(h).mark_bar(opacity=.45).encode(x="lo", x2="hi", y=alt.Y("n", stack=None), color="m").properties(width=W, height=H))
e = pd.DataFrame({"x": ex * 2, "y": ea + eb, "m": ["p"] * 200 + ["s"] * 200})
dd = pd.DataFrame({"x": [ex[d_at]], "y": [ea[d_at]], "y2": [eb[d_at]]})
cs.append((alt.Chart(e).mark_line(interpolate="step-after").encode(x="x", y="y", color="m") + alt.Chart(dd).mark_rule(color=RED, size=2).encode(x="x", y="y", y2="y2")).properties(width=W, height=H))
l = pd.DataFrame({"d": days, "v": lift, "lo": lo, "hi": hi})
cs.append((alt.Chart(l).mark_area(opacity=.3).encode(x="d", y="lo", y2="hi") + alt.Chart(l).mark_line().encode(x="d", y="v") + alt.Chart(pd.DataFrame({"y": [0, -0.05]})).mark_rule().encode(y="y")).properties(width=W, height=H))
b = pd.DataFrame({"b": buckets, "e": err, "hl": [x == 27 for x in buckets]})
cs.append(alt.Chart(b).mark_bar().encode(x="b:O", y="e", color="hl").properties(width=W, height=H))
q = pd.DataFrame({"b": buckets * 2, "p": p99a + p99b, "m": ["a"] * 36 + ["b"] * 36})
cs.append(alt.Chart(q).mark_line().encode(x="b", y="p", color="m").properties(width=W, height=H))
s = pd.DataFrame({"s": segs, "d": dis, "f": fail})
cs.append(alt.Chart(s).mark_bar().encode(y="s", x="d", color="f").properties(width=W, height=H))
fo = pd.DataFrame({"s": segs, "e": est, "lo": elo, "hi": ehi})
cs.append((alt.Chart(fo).mark_rule().encode(y="s", x="lo", x2="hi") + alt.Chart(fo).mark_point(filled=True).encode(y="s", x="e")).properties(width=W, height=H))
c = pd.DataFrame({"p": pos * 2, "c": ctra + ctrb, "m": ["a"] * 10 + ["b"] * 10})
cs.append(alt.Chart(c).mark_line(point=True).encode(x="p", y="c", color="m").properties(width=W, height=H))
import io
buf = io.StringIO()
alt.vconcat(*cs).save(buf, format="html", inline=True)
html = buf.getvalue()
"""

CODE = {"matplotlib": MATPLOTLIB, "bokeh": BOKEH, "plotly": PLOTLY, "altair": ALTAIR}

CHILD = r"""
import sys, time, json
t0 = time.perf_counter()
exec(compile({data!r}, "data", "exec"))
exec(compile({code!r}, "lib", "exec"))
t1 = time.perf_counter()
open({out!r}, "w").write(html)
print(json.dumps({{"render_s": t1 - t0}}))
"""

# A JavaScript test that every plot is drawn, per library (what its DOM looks like once drawn).
DRAWN = {
    "matplotlib": "document.querySelectorAll('svg path').length > 100",
    "bokeh": "typeof Bokeh !== 'undefined' && Bokeh.index && Object.keys(Bokeh.index).length > 0",
    "plotly": "document.querySelectorAll('.plotly-graph-div .main-svg').length >= 8",
    "altair": "document.querySelectorAll('canvas, svg.marks').length >= 1",
}


def _child(lib: str, out: Path) -> float:
    script = CHILD.format(data=DATA_CODE, code=CODE[lib], out=str(out))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{lib} failed:\n{proc.stderr}")
    json.loads(proc.stdout.strip().splitlines()[-1])
    return wall


def _browser_times(pages: dict[str, Path], repeat: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {lib: [] for lib in pages}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for _ in range(repeat):
            for lib, path in pages.items():
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                start = time.perf_counter()
                page.goto(path.as_uri())
                page.wait_for_function(DRAWN[lib], timeout=30_000)
                times[lib].append(time.perf_counter() - start)
                page.close()
        browser.close()
    return {lib: statistics.median(v) for lib, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="keep the pages in this folder")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="abtool-html-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    pages = {lib: folder / f"{lib}.html" for lib in LIBRARIES}
    walls: dict[str, list[float]] = {lib: [] for lib in LIBRARIES}
    for _ in range(args.repeat):
        for lib in LIBRARIES:
            walls[lib].append(_child(lib, pages[lib]))
    browser = _browser_times(pages, args.repeat)
    print("| library | page KB | python wall s (import + 8 plots) | Chromium load-to-drawn s |")
    print("|---|---:|---:|---:|")
    for lib in LIBRARIES:
        size = pages[lib].stat().st_size / 1024
        print(f"| {lib} | {size:,.0f} | {statistics.median(walls[lib]):.2f} | {browser[lib]:.2f} |")


if __name__ == "__main__":
    main()
