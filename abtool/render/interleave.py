"""Sections of the interleave report: preference summary, teams, click-through by position."""

from __future__ import annotations

from typing import Any

from abtool.render.blocks import Block, Facts, Table, fmt_number, fmt_pvalue, fmt_rate
from abtool.reports.result import Report
from abtool.results.interleave import InterleaveStats

MAX_POSITIONS = 20


def sections(report: Report[InterleaveStats]) -> list[Block]:
    """Blocks of the interleave report, built from its statistics."""
    stats = report.stats
    pref = stats.preference
    a, b = stats.teams.a, stats.teams.b
    summary = Facts(
        "Preference",
        [
            ("sessions", f"{pref.sessions:,} ({stats.log_format} log)"),
            (f"{b.name} wins", f"{pref.wins_b:,}"),
            (f"{a.name} wins", f"{pref.wins_a:,}"),
            ("ties", f"{pref.ties:,} ({stats.no_click_sessions:,} without clicks)"),
            (f"win rate of {b.name}", f"{fmt_rate(pref.win_rate_b)} of decisive sessions"),
            (
                f"Δ preference for {b.name}",
                f"{_signed(pref.delta_ab)} ({_signed(pref.ci_low)} to {_signed(pref.ci_high)})",
            ),
            ("interval", _interval(stats)),
            (
                "sign test" if stats.test is None else "always-valid test",
                f"p = {fmt_pvalue(pref.pvalue)}",
            ),
        ],
    )
    teams = Table(
        "Click-through by team",
        ["team", "shown", "clicks", "CTR"],
        [[t.name, f"{t.shown:,}", f"{t.clicks:,}", fmt_rate(t.ctr)] for t in (a, b)],
        frozenset({1, 2, 3}),
    )
    positions = stats.ctr_by_position
    rows = [
        [str(p.position), f"{p.shown:,}", fmt_rate(p.ctr), fmt_rate(p.ctr_a), fmt_rate(p.ctr_b)]
        for p in positions[:MAX_POSITIONS]
    ]
    title = "Click-through by position"
    if len(positions) > MAX_POSITIONS:
        title += f" (first {MAX_POSITIONS} of {len(positions)}; all in --format json)"
    by_position = Table(
        title,
        ["position", "shown", "CTR", f"CTR {a.name}", f"CTR {b.name}"],
        rows,
        frozenset({0, 1, 2, 3, 4}),
    )
    return [summary, teams, by_position]


def _interval(stats: InterleaveStats) -> str:
    pref = stats.preference
    if stats.test is None:  # fixed horizon: the bootstrap CI
        return f"{100 * pref.confidence:g}% CI, {pref.bootstrap:,} bootstrap resamples"
    return stats.interval


def _signed(value: Any) -> str:
    return "n/a" if value is None else f"{value:+.4f}"


def key_figures(report: Report[InterleaveStats]) -> str:
    """The headline numbers of an interleave report, for the gate table."""
    stats = report.stats
    pref = stats.preference
    level = f"{100 * pref.confidence:g}% {'CI' if stats.test is None else 'CS'}"
    return ", ".join(
        [
            f"{stats.teams.b.name} win rate {fmt_rate(pref.win_rate_b)}",
            f"delta {pref.delta_ab:+.4g} {level} [{pref.ci_low:+.4g}, {pref.ci_high:+.4g}]",
            f"p {fmt_pvalue(pref.pvalue)}",
            f"{fmt_number(stats.decisive_sessions)} decisive of "
            f"{fmt_number(pref.sessions)} sessions",
        ]
    )
