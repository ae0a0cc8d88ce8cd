"""`abtool bandit-report`: which of k arms is best, and should the bandit stop?

Order of the decision:

1. ROLLBACK when a guardrail fires for an arm (error rate, p99 latency against the other arms
   or ``--control``): take that arm out of traffic.
2. CONTINUE when an arm has too few units, or the leader (highest P(best)) is not yet likely
   enough to be best, or choosing it could still lose too much (expected loss).
3. WINNER otherwise: the leader is the arm to roll out.

Arms with a negligible P(best) are listed as DROP (an advisory check). The arms' means are
per-period weighted by default, so that the bandit's changing allocation biases none of them
(see :mod:`abtool.stats.bandit_estimates`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from abtool.aggregates.bandit import BanditData, BanditRequest
from abtool.commands.bandit import SPEC, BanditColumns, BanditOptions, BanditThresholds
from abtool.engines import Engine, LogInput, open_log
from abtool.errors import InputError, UsageError
from abtool.reports.bandit_arms import (
    allocation_stats,
    arm_estimates,
    arm_stats,
    replay_stats,
    timeline,
    weighting_text,
)
from abtool.reports.bandit_checks import Guardrail, bandit_checks, guardrails
from abtool.reports.hygiene import read_warnings
from abtool.reports.result import (
    BANDIT_VERDICTS,
    Check,
    Consequence,
    Inputs,
    Report,
    Verdict,
    decide,
    failing_messages,
)
from abtool.reports.settings import resolve
from abtool.results.bandit import BanditStats
from abtool.stats.bandit import BetaBernoulli, NormalMean, compare_arms
from abtool.stats.bandit_verdict import BanditVerdict, VerdictRule
from abtool.stats.bandit_verdict import decide as stopping_rule
from abtool.times import parse_time

COMMAND = SPEC.name


def bandit_report(
    data: LogInput,
    *,
    columns: BanditColumns | None = None,
    options: BanditOptions | None = None,
    thresholds: BanditThresholds | dict[str, float] | None = None,
    config: str | Path | None = None,
    engine: str | Engine | None = None,
    progress: Callable[[str], None] | None = None,
    **settings: Any,
) -> Report[BanditStats]:
    """Compare the arms of a bandit log and decide whether one has won.

    Args:
        data: Parquet files, globs or (hive-partitioned) directories (a path or a list),
            a Polars or pandas DataFrame, or a log an engine opened.
        columns: column names, defaults to the log ``abtool simulate bandit`` writes.
        options: arms, reward type, estimator, periods, Monte Carlo draws, allocation floor,
            replay, time window.
        thresholds: the stopping rule and guardrails, or overrides by check id.
        config: a TOML file of thresholds, as ``--config``.
        engine: the engine that reads ``data``: "polars", "spark" or an engine object such
            as ``SparkEngine(session=spark)`` (default: the ``engine`` option, polars; a
            Spark DataFrame is read by Spark).
        progress: called with a short status line before long steps.
        settings: any option named as on the command line, ``_`` for ``-`` (e.g.
            ``reward="revenue", replay=True``).

    Returns:
        A Report with verdict WINNER, CONTINUE or ROLLBACK.
    """
    limits: BanditThresholds
    columns, options, limits = resolve(
        SPEC, settings, columns=columns, options=options, thresholds=thresholds, config=config
    )
    request = BanditRequest(
        arms=tuple(options.arms),
        period_hours=options.period_hours,
        propensity_sums=options.estimator == "ipw",
        replay=options.replay,
        replay_max_events=options.replay_max_events,
        since=parse_time(options.since, "--since"),
        until=parse_time(options.until, "--until"),
        time_unit=options.time_unit,
    )
    log = open_log(data, engine, options)
    data = log.bandit(columns, request, progress)
    if options.control is not None and options.control not in data.arms:
        raise InputError(
            f"{log.name}: --control '{options.control}' not found in column '{columns.arm}' "
            f"({', '.join(data.arms)})"
        )
    if progress:
        progress("Computing posteriors")
    binary = _binary(data, options.reward_type, log.name, columns.reward)
    estimates = arm_estimates(data, options.estimator, log.name)
    comparison = compare_arms(
        estimates,
        BetaBernoulli() if binary else NormalMean(),
        draws=options.draws,
        seed=options.seed,
        confidence=options.confidence,
    )
    k = len(data.arms)
    rule = VerdictRule(
        p_best=limits.p_best_two_arms if k == 2 else limits.p_best,
        max_loss=limits.expected_loss,
        relative_loss=not options.absolute_loss,
        drop_below=limits.drop,
        min_pulls=int(limits.min_pulls),
    )
    outcome = stopping_rule(comparison, rule)
    guards = guardrails(data.health, limits, options.control)
    checks = bandit_checks(comparison, outcome, rule, guards, limits, columns)
    verdict = decide(checks, BANDIT_VERDICTS)
    rolled_back = [g.arm for g in guards if g.fired]
    active = _active(data.arms, rolled_back, outcome.dropped)
    if options.floor is not None and options.floor * len(active) > 1:
        raise UsageError(f"--floor {options.floor:g} times {len(active)} active arms is above 1")
    replay = None
    if options.replay and data.events is not None:
        if progress:
            progress("Replaying policies")
        replay = replay_stats(data, binary, options, log.name)
    winner = outcome.winner if verdict is Verdict.WINNER else None
    stats = BanditStats(
        reward=columns.reward,
        reward_type="binary" if binary else "continuous",
        estimator=options.estimator,
        unit=data.unit,
        periods=len(data.cells.periods),
        period_source=data.period_source,
        coverage=estimates[0].coverage,
        rows=data.rows,
        excluded_rows=sum(data.excluded.values()),
        excluded_reasons=dict(data.excluded),
        time_start=data.time_min,
        time_end=data.time_max,
        arms=arm_stats(comparison, data, winner, outcome.leader, outcome.dropped, rolled_back),
        leader=outcome.leader,
        winner=winner,
        leader_p_best=outcome.leader_p_best,
        leader_expected_loss=outcome.leader_expected_loss,
        leader_relative_loss=outcome.leader_relative_loss,
        dropped=list(outcome.dropped),
        rolled_back=rolled_back,
        rule=outcome.rule,
        allocation=allocation_stats(comparison, data, binary, options, active),
        draws=comparison.draws,
        seed=comparison.seed,
        confidence=comparison.confidence,
        mc_se=comparison.mc_se,
        method=_method(options.estimator, binary, comparison.draws),
        time_varying_allocation=weighting_text(data, options.estimator, estimates[0].coverage),
        timeline=timeline(data),
        replay=replay,
    )
    return Report(
        command=COMMAND,
        verdict=verdict,
        checks=checks,
        stats=stats,
        warnings=_warnings(data, options, columns, stats),
        inputs=Inputs(list(log.paths), log.files, data.rows),
        reasons=_reasons(verdict, checks, outcome, guards),
    )


def _binary(data: BanditData, reward_type: str, name: str, column: str) -> bool:
    """Whether the rewards get the Beta-Bernoulli model.

    Raises:
        InputError: ``binary`` asked for a reward that holds other values than 0 and 1.
    """
    if reward_type == "binary" and not data.binary:
        raise InputError(
            f"{name}: --reward-type binary, but column '{column}' holds values other than 0 "
            f"and 1 (from {data.reward_min:g} to {data.reward_max:g})"
        )
    return data.binary if reward_type == "auto" else reward_type == "binary"


def _active(arms: Sequence[str], rolled_back: list[str], dropped: Sequence[str]) -> list[str]:
    """Arms that still get traffic: not rolled back, not dropped (never none)."""
    healthy = [a for a in arms if a not in rolled_back]
    return [a for a in healthy if a not in dropped] or healthy or list(arms)


def _method(estimator: str, binary: bool, draws: int) -> str:
    means = {
        "period_weighted": "per-period means weighted by each period's share of all traffic",
        "ipw": "inverse-propensity (Hajek) weighted means",
        "pooled": "pooled means",
    }[estimator]
    model = "Beta-Bernoulli posteriors on effective counts" if binary else "normal posteriors"
    return (
        f"{means}, standard errors clustered by unit; {model}; P(best) and expected loss by "
        f"{draws:,} seeded joint posterior draws"
    )


def _reasons(
    verdict: Verdict, checks: Sequence[Check], outcome: BanditVerdict, guards: list[Guardrail]
) -> list[str]:
    if verdict is Verdict.ROLLBACK:
        return failing_messages(checks, Consequence.ROLLBACK, Consequence.NO_GO)
    drop = [f"drop {', '.join(outcome.dropped)}: clearly worse"] if outcome.dropped else []
    if verdict is Verdict.WINNER:
        return [
            f"{outcome.winner} is the best arm: P(best) {outcome.leader_p_best:.4f}, expected "
            f"loss {outcome.leader_expected_loss:.4g}",
            *drop,
        ]
    return [
        f"keep the bandit running: {m}" for m in failing_messages(checks, Consequence.HOLD)
    ] + drop


def _warnings(
    data: BanditData, options: BanditOptions, columns: BanditColumns, stats: BanditStats
) -> list[str]:
    warnings = [f"excluded {n:,} row(s) with {reason}" for reason, n in data.excluded.items()]
    warnings += read_warnings(data.read_notes)
    if data.unit is None:
        warnings.append(f"no '{columns.unit}' column: each row is taken as a unit")
    if options.estimator == "ipw" and data.multi_row_units:
        warnings.append(
            f"{data.multi_row_units:,} unit(s) have several rows in a period: the IPW standard "
            "errors treat rows as independent (period_weighted clusters them by unit)"
        )
    if stats.coverage < 1.0:
        warnings.append(
            f"{1 - stats.coverage:.1%} of the traffic is in periods where an arm had fewer than "
            "two units: those periods are left out for every arm"
        )
    if options.estimator == "pooled":
        spread = max(max(s) - min(s) for s in stats.timeline.share.values())
        if spread > 0.05:
            warnings.append(
                f"the arms' shares changed by up to {spread:.0%} between periods: pooled means "
                "are biased by time trends and adaptive allocation (use period_weighted)"
            )
    if options.replay and data.events is not None and data.events.propensities is None:
        warnings.append(
            f"no '{columns.propensity}' column: --replay takes the log as uniform random "
            "traffic (1/k an arm); on adaptively allocated traffic its values are biased"
        )
    return warnings
