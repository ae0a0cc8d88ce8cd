"""`abtool interleave-report`: which ranker do users prefer in an interleaving experiment?"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abtool.config import InterleaveThresholds
from abtool.errors import ConfigError, UsageError
from abtool.logs.interleave import InterleaveColumns, InterleaveData, aggregate_interleave
from abtool.logs.source import open_log
from abtool.reports.result import Check, Report, Verdict
from abtool.stats.interleaving import Preference, preference

COMMAND = "interleave-report"
METHOD = (
    "team-draft credit per session; two-sided exact binomial sign test on decisive sessions; "
    "percentile bootstrap CI over sessions"
)


@dataclass(frozen=True)
class InterleaveOptions:
    """Analysis options of the interleave report (the CLI's flags)."""

    a_name: str | None = None
    b_name: str | None = None
    bootstrap: int = 10_000
    confidence: float = 0.95
    seed: int = 0


def interleave_report(
    paths: Sequence[str | Path],
    *,
    columns: InterleaveColumns | None = None,
    options: InterleaveOptions | None = None,
    thresholds: InterleaveThresholds | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Credit clicks to the team that contributed each item and test which ranker wins.

    Args:
        paths: Parquet files, globs or (hive-partitioned) directories; long or nested format.
        columns: column names and team values, defaults to the DESIGN.md interleaving schema.
        options: team labels for the output, bootstrap resamples, CI level and seed.
        thresholds: minimum decisive sessions and the sign test's alpha.
        progress: called with a short status line before long steps.

    Returns:
        A Report with verdict GO (B significantly preferred), NO_GO (A significantly
        preferred) or HOLD (too few decisive sessions, or no significant preference).
    """
    columns = columns or InterleaveColumns()
    options = options or InterleaveOptions()
    thresholds = thresholds or InterleaveThresholds()
    _check_options(options, thresholds)
    source = open_log(paths)
    data = aggregate_interleave(source, columns, progress=progress)
    if progress:
        progress("Bootstrapping the preference")
    result = preference(
        data.wins_a,
        data.wins_b,
        data.ties,
        resamples=options.bootstrap,
        confidence=options.confidence,
        seed=options.seed,
    )
    names = (options.a_name or columns.team_a, options.b_name or columns.team_b)
    stats = _statistics(data, result, columns, names, options)
    checks = _checks(result, thresholds, names)
    verdict, reasons = _verdict(result, checks, thresholds, names)
    return Report(
        command=COMMAND,
        verdict=verdict,
        checks=checks,
        stats=stats,
        warnings=_warnings(data),
        inputs={
            "paths": [str(p) for p in paths],
            "files": len(source.files),
            "rows": data.rows,
            "log_format": data.log_format,
        },
        reasons=reasons,
    )


def validate_settings(options: InterleaveOptions, thresholds: InterleaveThresholds) -> None:
    """Check options and thresholds as :func:`interleave_report` does, without reading a log.

    Raises:
        UsageError: ``bootstrap`` or ``confidence`` is out of range.
        ConfigError: a threshold is out of range.
    """
    _check_options(options, thresholds)


def _check_options(options: InterleaveOptions, thresholds: InterleaveThresholds) -> None:
    if options.bootstrap < 1:
        raise UsageError(f"--bootstrap must be >= 1, got {options.bootstrap}")
    if not 0.0 < options.confidence < 1.0:
        raise UsageError(f"--confidence must be in (0, 1), got {options.confidence}")
    if not 0.0 < thresholds.preference < 1.0:
        raise ConfigError(
            f"[interleave] preference (alpha) must be in (0, 1), got {thresholds.preference}"
        )
    if thresholds.min_sessions < 0:
        raise ConfigError(f"[interleave] min_sessions must be >= 0, got {thresholds.min_sessions}")


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _statistics(
    data: InterleaveData,
    result: Preference,
    columns: InterleaveColumns,
    names: tuple[str, str],
    options: InterleaveOptions,
) -> dict[str, Any]:
    return {
        "sessions": result.sessions,
        "wins_a": result.wins_a,
        "wins_b": result.wins_b,
        "ties": result.ties,
        "win_rate_b": result.win_rate_b,
        "delta_ab": result.delta_ab,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "pvalue": result.pvalue,
        "decisive_sessions": result.wins_a + result.wins_b,
        "no_click_sessions": data.no_click_sessions,
        "unbalanced_sessions": data.unbalanced_sessions,
        "confidence": result.confidence,
        "bootstrap": result.bootstrap,
        "seed": options.seed,
        "method": METHOD,
        "log_format": data.log_format,
        "teams": {
            "a": {
                "name": names[0],
                "value": columns.team_a,
                "shown": data.shown_a,
                "clicks": data.clicks_a,
                "ctr": _rate(data.clicks_a, data.shown_a),
            },
            "b": {
                "name": names[1],
                "value": columns.team_b,
                "shown": data.shown_b,
                "clicks": data.clicks_b,
                "ctr": _rate(data.clicks_b, data.shown_b),
            },
        },
        "ctr_by_position": [
            {
                "position": row.position,
                "shown": row.shown_a + row.shown_b,
                "clicks": row.clicks_a + row.clicks_b,
                "ctr": _rate(row.clicks_a + row.clicks_b, row.shown_a + row.shown_b),
                "ctr_a": _rate(row.clicks_a, row.shown_a),
                "ctr_b": _rate(row.clicks_b, row.shown_b),
            }
            for row in data.positions
        ],
        "excluded_sessions": sum(data.excluded.values()),
    }


def _checks(
    result: Preference, limits: InterleaveThresholds, names: tuple[str, str]
) -> list[Check]:
    decisive = result.wins_a + result.wins_b
    alpha = limits.preference
    significant = result.pvalue < alpha
    if significant and result.wins_b > result.wins_a:
        outcome = f"{names[1]} preferred"
    elif significant:
        outcome = f"{names[0]} preferred (not {names[1]})"
    else:
        outcome = "no significant preference"
    return [
        Check(
            "min_sessions",
            decisive >= limits.min_sessions,
            decisive,
            limits.min_sessions,
            f"{decisive:,} decisive sessions (need >= {limits.min_sessions:,})",
        ),
        Check(
            "preference",
            significant and result.wins_b > result.wins_a,
            result.pvalue,
            alpha,
            f"{outcome}: {names[1]} won {result.wins_b:,} and {names[0]} {result.wins_a:,} "
            f"decisive sessions, sign test p = {result.pvalue:.3g} (need < {alpha:g} "
            f"with {names[1]} ahead)",
        ),
    ]


def _verdict(
    result: Preference,
    checks: list[Check],
    limits: InterleaveThresholds,
    names: tuple[str, str],
) -> tuple[Verdict, list[str]]:
    level = f"{100 * result.confidence:g}%"
    effect = (
        f"Δ = {result.delta_ab:+.4f} ({level} CI {result.ci_low:+.4f} to {result.ci_high:+.4f}), "
        f"p = {result.pvalue:.3g}"
    )
    sessions_check, preference_check = checks
    if not sessions_check.passed:
        return Verdict.HOLD, [f"keep collecting: {sessions_check.message}", effect]
    if preference_check.passed:
        return Verdict.GO, [f"{names[1]} is preferred over {names[0]}: {effect}"]
    if result.pvalue < limits.preference:
        return Verdict.NO_GO, [f"{names[0]} is preferred over {names[1]}: {effect}"]
    return Verdict.HOLD, [f"no significant preference between {names[0]} and {names[1]}: {effect}"]


def _warnings(data: InterleaveData) -> list[str]:
    warnings = [f"excluded {n:,} session(s) with {reason}" for reason, n in data.excluded.items()]
    warnings += [f"{n:,} row(s) with {what}" for what, n in data.assumed.items()]
    if data.unbalanced_sessions:
        # Team-draft never lets the teams differ by more than one item in a list.
        warnings.append(
            f"{data.unbalanced_sessions:,} session(s) show more than one item more of one "
            "team than the other: not team-draft interleavings? Team credit assumes they are"
        )
    return warnings
