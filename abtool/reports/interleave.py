"""`abtool interleave-report`: which ranker do users prefer in an interleaving experiment?"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from abtool.reports.intervals import interval_label
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
from abtool.results.interleave import (
    InterleaveStats,
    PositionCTR,
    PreferenceSeries,
    Teams,
    TeamStats,
)
from abtool.stats.inference import ConfidenceSequence, InferenceMethod, TestResult, method_named
from abtool.stats.inference.preference import preference_estimate, preference_test
from abtool.stats.interleaving import Preference, preference

COMMAND = SPEC.name
METHOD = (
    "team-draft credit per session; two-sided exact binomial sign test on decisive sessions; "
    "percentile bootstrap CI over sessions"
)
SEQUENTIAL_METHOD = (
    "team-draft credit per session; Δ as half the mean session score (+1 B won, -1 A won, "
    "0 tie) with an always-valid confidence sequence (Waudby-Smith et al. 2023)"
)


@dataclass(frozen=True)
class _Outcome:
    """Which ranker is significantly preferred, by the active method."""

    a_preferred: bool
    b_preferred: bool
    pvalue: float
    test: TestResult | None


def _outcome(result: Preference, method: InferenceMethod) -> tuple[Preference, _Outcome, str]:
    """The preference record with the active method's interval and p, and who is preferred.

    Fixed horizon: the exact sign test and the bootstrap CI, as a single planned look.
    Sequential: the confidence sequence of Δ (:mod:`abtool.stats.inference.preference`),
    valid however often the report is re-run. The decision is the sequence at the
    ``preference`` alpha; the interval shown is at ``--confidence``, as the bootstrap CI is.
    """
    if isinstance(method, ConfidenceSequence):
        if result.sessions < 2:
            return result, _Outcome(False, False, 1.0, None), method.label
        tested = preference_test(result.wins_a, result.wins_b, result.ties, method)
        shown_method = method.with_alpha(1.0 - result.confidence)
        shown = preference_test(result.wins_a, result.wins_b, result.ties, shown_method).test
        record = dataclasses.replace(
            result, ci_low=shown.low, ci_high=shown.high, pvalue=tested.test.pvalue, bootstrap=0
        )
        test = tested.test
        outcome = _Outcome(tested.a_preferred, tested.b_preferred, test.pvalue, test)
        return record, outcome, interval_label(shown_method)
    significant = result.pvalue < method.alpha
    outcome = _Outcome(
        significant and result.wins_a > result.wins_b,
        significant and result.wins_b > result.wins_a,
        result.pvalue,
        None,
    )
    level = f"{100 * result.confidence:g}%"
    return result, outcome, f"{level} percentile bootstrap CI; exact sign test (fixed horizon)"


def _timeline(data: InterleaveData, method: InferenceMethod) -> PreferenceSeries | None:
    """Cumulative Δ by session count, each with the active method's two-sided interval."""
    points = [s for s in data.steps if s.sessions >= 2]
    if not points:
        return None
    tests = [
        method.test(preference_estimate(s.wins_a, s.wins_b, s.sessions - s.wins_a - s.wins_b))
        for s in points
    ]
    label = interval_label(method)
    if not isinstance(method, ConfidenceSequence):
        label += " (normal approximation)"
    return PreferenceSeries(
        sessions=[s.sessions for s in points],
        delta_ab=[t.effect for t in tests],
        ci_low=[t.low for t in tests],
        ci_high=[t.high for t in tests],
        interval=label,
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
        A Report with verdict GO (B significantly preferred with enough decisive sessions),
        NO_GO (A significantly preferred, whatever the session count) or HOLD (too few
        decisive sessions, or no significant preference). Significance is by the active
        method: a confidence sequence (default) or the exact sign test (``inference="fixed"``).
    """
    limits: InterleaveThresholds
    columns, options, limits = resolve(
        SPEC, settings, columns=columns, options=options, thresholds=thresholds, config=config
    )
    log = open_log(data, engine, options)
    data = log.interleave(columns, progress)
    method = method_named(options.inference, limits.preference, options.tuning_units)
    sequential = isinstance(method, ConfidenceSequence)
    if progress and not sequential:
        progress("Bootstrapping the preference")
    result = preference(
        data.wins_a,
        data.wins_b,
        data.ties,
        # The bootstrap CI is the fixed-horizon interval; a sequence needs none.
        resamples=1 if sequential else options.bootstrap,
        confidence=options.confidence,
        seed=options.seed,
    )
    result, outcome, interval = _outcome(result, method)
    names = (options.a_name or columns.team_a, options.b_name or columns.team_b)
    stats = dataclasses.replace(
        _statistics(data, result, columns, names, options),
        method=SEQUENTIAL_METHOD if sequential else METHOD,
        inference=method.name,
        interval=interval,
        test=outcome.test,
        timeline=_timeline(data, method),
    )
    checks = _checks(result, outcome, limits, names)
    verdict = decide(checks, PREFERENCE_VERDICTS)
    reasons = _reasons(verdict, result, checks, names, interval)
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
        inference="fixed",
        interval="",
    )


def _checks(
    result: Preference, outcome: _Outcome, limits: InterleaveThresholds, names: tuple[str, str]
) -> list[Check]:
    decisive = result.wins_a + result.wins_b
    alpha = limits.preference
    if outcome.b_preferred:
        finding = f"{names[1]} preferred"
    elif outcome.a_preferred:
        finding = f"{names[0]} preferred (not {names[1]})"
    else:
        finding = "no significant preference"
    enough = decisive >= limits.min_sessions
    test = "sign test" if outcome.test is None else "always-valid"
    # A significantly preferred stops whatever the session count (the sequential test is
    # valid at every count); B not (yet) significantly ahead waits, as does too few sessions.
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
            outcome.b_preferred,
            outcome.pvalue,
            alpha,
            f"{finding}: {names[1]} won {result.wins_b:,} and {names[0]} {result.wins_a:,} "
            f"decisive sessions, {test} p = {outcome.pvalue:.3g} (need < {alpha:g} "
            f"with {names[1]} ahead)",
            consequence=Consequence.NO_GO if outcome.a_preferred else Consequence.HOLD,
        ),
    ]


def _reasons(
    verdict: Verdict,
    result: Preference,
    checks: Sequence[Check],
    names: tuple[str, str],
    interval: str,
) -> list[str]:
    level = f"{100 * result.confidence:g}%"
    kind = "CS" if "sequence" in interval else "CI"
    effect = (
        f"Δ = {result.delta_ab:+.4f} ({level} {kind} {result.ci_low:+.4f} to "
        f"{result.ci_high:+.4f}), p = {result.pvalue:.3g}"
    )
    if verdict is Verdict.NO_GO:
        return [f"{names[0]} is preferred over {names[1]}: {effect}"]
    sessions_check = checks[0]
    if not sessions_check.passed:
        return [f"keep collecting: {sessions_check.message}", effect]
    if verdict is Verdict.GO:
        return [f"{names[1]} is preferred over {names[0]}: {effect}"]
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
