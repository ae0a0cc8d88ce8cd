"""`abtool interleave-report`: which ranker do users prefer in an interleaving experiment?"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from abtool.aggregates.interleave import InterleaveData
from abtool.commands.interleave import (
    SPEC,
    InterleaveColumns,
    InterleaveOptions,
    InterleaveThresholds,
)
from abtool.engines import Engine, LogInput, open_log
from abtool.reports.hygiene import read_warnings
from abtool.reports.result import (
    PREFERENCE_VERDICTS,
    Check,
    Consequence,
    Inputs,
    Report,
    Verdict,
    decide,
)
from abtool.reports.settings import resolve
from abtool.results.interleave import InterleaveStats, PositionCTR, Teams, TeamStats
from abtool.stats.interleaving import Preference, preference

COMMAND = SPEC.name
METHOD = (
    "team-draft credit per session; two-sided exact binomial sign test on decisive sessions; "
    "percentile bootstrap CI over sessions"
)


def interleave_report(
    data: LogInput,
    *,
    columns: InterleaveColumns | None = None,
    options: InterleaveOptions | None = None,
    thresholds: InterleaveThresholds | dict[str, float] | None = None,
    config: str | Path | None = None,
    engine: str | Engine | None = None,
    progress: Callable[[str], None] | None = None,
    **settings: Any,
) -> Report[InterleaveStats]:
    """Credit clicks to the team that contributed each item and test which ranker wins.

    Args:
        data: Parquet files, globs or (hive-partitioned) directories (a path or a list),
            a Polars or pandas DataFrame, or an opened log; long or nested format.
        columns: column names and team values, defaults to the documented interleaving schema.
        options: team labels for the output, bootstrap resamples, CI level and seed.
        thresholds: minimum decisive sessions and the sign test's alpha, or overrides by
            check id.
        config: a TOML file of thresholds, as ``--config``.
        engine: the engine that reads ``data``: "polars", "spark" or an engine object such
            as ``SparkEngine(session=spark)`` (default: the ``engine`` option, polars; a
            Spark DataFrame is read by Spark).
        progress: called with a short status line before long steps.
        settings: any option named as on the command line, ``_`` for ``-``.

    Returns:
        A Report with verdict GO (B significantly preferred), NO_GO (A significantly
        preferred) or HOLD (too few decisive sessions, or no significant preference).
    """
    limits: InterleaveThresholds
    columns, options, limits = resolve(
        SPEC, settings, columns=columns, options=options, thresholds=thresholds, config=config
    )
    log = open_log(data, engine, options)
    data = log.interleave(columns, progress)
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
    checks = _checks(result, limits, names)
    verdict = decide(checks, PREFERENCE_VERDICTS)
    reasons = _reasons(verdict, result, checks, names)
    return Report(
        command=COMMAND,
        verdict=verdict,
        checks=checks,
        stats=stats,
        warnings=_warnings(data),
        inputs=Inputs(list(log.paths), log.files, data.rows, data.log_format),
        reasons=reasons,
    )


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _statistics(
    data: InterleaveData,
    result: Preference,
    columns: InterleaveColumns,
    names: tuple[str, str],
    options: InterleaveOptions,
) -> InterleaveStats:
    return InterleaveStats(
        preference=result,
        decisive_sessions=result.wins_a + result.wins_b,
        no_click_sessions=data.no_click_sessions,
        unbalanced_sessions=data.unbalanced_sessions,
        seed=options.seed,
        method=METHOD,
        log_format=data.log_format,
        teams=Teams(
            a=TeamStats(
                names[0],
                columns.team_a,
                data.shown_a,
                data.clicks_a,
                _rate(data.clicks_a, data.shown_a),
            ),
            b=TeamStats(
                names[1],
                columns.team_b,
                data.shown_b,
                data.clicks_b,
                _rate(data.clicks_b, data.shown_b),
            ),
        ),
        ctr_by_position=[
            PositionCTR(
                position=row.position,
                shown=row.shown_a + row.shown_b,
                clicks=row.clicks_a + row.clicks_b,
                ctr=_rate(row.clicks_a + row.clicks_b, row.shown_a + row.shown_b),
                ctr_a=_rate(row.clicks_a, row.shown_a),
                ctr_b=_rate(row.clicks_b, row.shown_b),
            )
            for row in data.positions
        ],
        excluded_sessions=sum(data.excluded.values()),
    )


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
    enough = decisive >= limits.min_sessions
    # A preferred is a stop; B not (yet) significantly ahead waits, as does too few sessions.
    a_preferred = enough and significant and result.wins_a > result.wins_b
    return [
        SPEC.make_check(
            "min_sessions",
            enough,
            decisive,
            limits.min_sessions,
            f"{decisive:,} decisive sessions (need >= {limits.min_sessions:,})",
        ),
        SPEC.make_check(
            "preference",
            significant and result.wins_b > result.wins_a,
            result.pvalue,
            alpha,
            f"{outcome}: {names[1]} won {result.wins_b:,} and {names[0]} {result.wins_a:,} "
            f"decisive sessions, sign test p = {result.pvalue:.3g} (need < {alpha:g} "
            f"with {names[1]} ahead)",
            consequence=Consequence.NO_GO if a_preferred else Consequence.HOLD,
        ),
    ]


def _reasons(
    verdict: Verdict, result: Preference, checks: Sequence[Check], names: tuple[str, str]
) -> list[str]:
    level = f"{100 * result.confidence:g}%"
    effect = (
        f"Δ = {result.delta_ab:+.4f} ({level} CI {result.ci_low:+.4f} to {result.ci_high:+.4f}), "
        f"p = {result.pvalue:.3g}"
    )
    sessions_check = checks[0]
    if not sessions_check.passed:
        return [f"keep collecting: {sessions_check.message}", effect]
    if verdict is Verdict.GO:
        return [f"{names[1]} is preferred over {names[0]}: {effect}"]
    if verdict is Verdict.NO_GO:
        return [f"{names[0]} is preferred over {names[1]}: {effect}"]
    return [f"no significant preference between {names[0]} and {names[1]}: {effect}"]


def _warnings(data: InterleaveData) -> list[str]:
    warnings = [f"excluded {n:,} session(s) with {reason}" for reason, n in data.excluded.items()]
    warnings += [f"{n:,} row(s) with {what}" for what, n in data.assumed.items()]
    warnings += read_warnings(data.read_notes)
    if data.unbalanced_sessions:
        # Team-draft never lets the teams differ by more than one item in a list.
        warnings.append(
            f"{data.unbalanced_sessions:,} session(s) show more than one item more of one "
            "team than the other: not team-draft interleavings? Team credit assumes they are"
        )
    return warnings
