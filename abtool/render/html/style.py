"""The page's stylesheet, inlined in every report (no external file, no web font)."""

from __future__ import annotations

# Verdict colours are Okabe-Ito (bluish green, vermilion, orange, grey) and every verdict is
# also spelled out, so colour is never the only cue.
CSS = """
:root { --go: #009E73; --stop: #D55E00; --hold: #E69F00; --info: #6E6E6E; --ink: #1d1d1f;
  --muted: #5f6368; --line: #dadce0; --fail-bg: #fbe3d6; --warn-bg: #fdf0d5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
  sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 1.5rem; margin: 0 0 6px; }
h2 { font-size: 1.2rem; margin: 28px 0 10px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; }
h3 { font-size: 1rem; margin: 0 0 6px; }
.verdict { border-left: 8px solid var(--info); background: #f5f5f5; padding: 14px 18px;
  border-radius: 4px; }
.verdict.good { border-color: var(--go); background: #e3f4ee; }
.verdict.bad { border-color: var(--stop); background: var(--fail-bg); }
.verdict.hold { border-color: var(--hold); background: var(--warn-bg); }
.badge { display: inline-block; padding: 1px 10px; border-radius: 12px; color: #fff;
  background: var(--info); font-weight: 700; letter-spacing: .02em; white-space: nowrap; }
.good .badge, .badge.good { background: var(--go); }
.bad .badge, .badge.bad { background: var(--stop); }
.hold .badge, .badge.hold { background: #b07800; }
.reasons { margin: 6px 0 0; padding-left: 20px; }
.meta { color: var(--muted); font-size: .85rem; margin: 6px 0 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; max-width: 100%; font-size: .9rem; margin: 4px 0 16px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; overflow-wrap: break-word; }
th { background: #f5f5f5; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.check-fail td { background: var(--fail-bg); }
tr.check-fail td.mark { color: var(--stop); font-weight: 700; }
tr.check-warn td { background: var(--warn-bg); }
td.mark { width: 1.5em; text-align: center; }
.checklist table, .gates table { width: 100%; }
.checklist td:nth-child(2) { white-space: nowrap; }
.plot-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr));
  gap: 18px; align-items: start; }
figure.plot { margin: 0; padding: 10px; border: 1px solid var(--line); border-radius: 4px;
  min-width: 0; }
figure.plot svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: 4px; }
dl.facts { display: grid; grid-template-columns: minmax(180px, max-content) 1fr;
  gap: 2px 16px; margin: 4px 0 16px; font-size: .9rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.block { margin-bottom: 12px; }
pre { background: #f7f7f7; padding: 10px; overflow-x: auto; font-size: .8rem; }
.warnings li { margin: 2px 0; }
.gate { margin-top: 36px; padding-top: 4px; border-top: 3px solid var(--line); }
footer { margin-top: 36px; color: var(--muted); font-size: .8rem; }
@media (max-width: 640px) { .plot-grid { grid-template-columns: 1fr; }
  dl.facts { grid-template-columns: 1fr; } }
"""
