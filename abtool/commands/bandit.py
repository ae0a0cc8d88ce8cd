"""`abtool bandit-report`: columns, options, thresholds and checks, declared once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from abtool.commands.common import (
    engine_option,
    since_option,
    spark_master_option,
    time_unit_option,
    until_option,
)
from abtool.errors import UsageError
from abtool.reports.result import BANDIT_VERDICTS, Consequence
from abtool.spec import (
    AT_LEAST_ONE,
    FRACTION,
    NON_NEGATIVE,
    OPEN_FRACTION,
    POSITIVE,
    CheckSpec,
    CommandSpec,
    column,
    column_list,
    option,
    threshold,
)

REWARD_TYPES = ("auto", "binary", "continuous")
ESTIMATORS = ("period_weighted", "ipw", "pooled")


@dataclass(frozen=True)
class BanditColumns:
    """Column names of a bandit log (defaults: the log `abtool simulate bandit` writes)."""

    arm: str = column("model_variant", "--arm-col", "Arm (model variant) column.")
    reward: str = column(
        "clicked", "--reward", "Reward column: binary (0/1 or boolean) or continuous."
    )
    unit: str = column(
        "user_id",
        "--unit",
        "Randomization unit: standard errors are clustered by unit (absent: each row is a unit).",
    )
    time: str = column("ts", "--time-col", "Timestamp column.")
    period: str = column(
        "period",
        "--period-col",
        "Allocation period (used when present; else --period-hours buckets of the time column).",
    )
    propensity: str = column(
        "propensity",
        "--propensity-col",
        "Logged probability of the row's arm (for --estimator ipw and --replay).",
    )
    latency: str = column("latency_ms", "--latency-col", "Latency (ms).")
    error: str = column("error", "--error-col", "Error flag (bool, code or message).")
    contexts: tuple[str, ...] = column_list(
        (), "--context", "Context column (repeatable): the LinUCB policy of --replay."
    )


@dataclass(frozen=True)
class BanditOptions:
    """Analysis options of bandit-report."""

    arms: tuple[str, ...] = option(
        (), "--arm", "Arm to analyse (repeatable; default: every value of the arm column)."
    )
    reward_type: str = option(
        "auto",
        "--reward-type",
        "auto (0/1 or boolean = binary), binary (Beta posterior) or continuous (normal).",
        choices=REWARD_TYPES,
    )
    estimator: str = option(
        "period_weighted",
        "--estimator",
        "Arm means: period_weighted (periods weighted by their traffic), ipw (logged "
        "propensities) or pooled (only for a split that never changed).",
        choices=ESTIMATORS,
    )
    period_hours: float = option(
        24.0,
        "--period-hours",
        "Period length in hours when the log has no period column (buckets aligned to UTC "
        "midnight; no longer than the allocation's update interval).",
        range=POSITIVE,
    )
    control: str | None = option(
        None,
        "--control",
        "Baseline arm of the guardrails (default: each arm against the other arms pooled).",
    )
    absolute_loss: bool = option(
        False,
        "--absolute-loss",
        "The expected_loss threshold is in reward units, not a fraction of the leader's mean.",
    )
    draws: int = option(
        100_000, "--draws", "Posterior draws for P(best) and expected loss.", range=AT_LEAST_ONE
    )
    seed: int = option(
        0, "--seed", "Seed of the posterior draws and of --replay.", range=NON_NEGATIVE
    )
    confidence: float = option(
        0.95, "--confidence", "Level of the CIs and credible intervals.", range=OPEN_FRACTION
    )
    floor: float | None = option(
        None,
        "--floor",
        "Minimum next-period share of each arm under Thompson and UCB1 (default "
        "min(0.05, 0.5 / arms)).",
        range=FRACTION,
    )
    epsilon: float = option(
        0.1, "--epsilon", "Exploration share of the epsilon-greedy allocation.", range=FRACTION
    )
    replay: bool = option(
        False,
        "--replay",
        "Estimate what epsilon-greedy, UCB1, Thompson (and LinUCB with --context) would have "
        "earned on this log: replay, IPS and SNIPS with regret.",
    )
    replay_max_events: int = option(
        1_000_000,
        "--replay-max-events",
        "Most rows --replay reads (about 0.1 ms a row for the four policies).",
        range=AT_LEAST_ONE,
    )
    since: str | None = since_option()
    until: str | None = until_option()
    time_unit: str = time_unit_option()
    engine: str = engine_option()
    spark_master: str | None = spark_master_option()


@dataclass(frozen=True)
class BanditThresholds:
    """The bandit's stopping rule and guardrails; each field is named after its check id
    (``_floor`` and ``_two_arms`` qualify the check they start with)."""

    error_rate: float = threshold(
        2.0,
        "Rollback an arm whose error rate exceeds this multiple of the baseline's "
        "(--control, or the other arms pooled) ...",
        POSITIVE,
    )
    error_rate_floor: float = threshold(
        0.01, "... and also exceeds this absolute rate (fraction of requests).", FRACTION
    )
    latency_p99: float = threshold(
        1.5, "Rollback an arm whose p99 latency exceeds this multiple of the baseline's.", POSITIVE
    )
    min_pulls: int = threshold(
        100, "Continue until every arm has at least this many units.", NON_NEGATIVE, integer=True
    )
    p_best: float = threshold(
        0.95,
        "WINNER needs the leader's probability of being best above this (three or more arms).",
        OPEN_FRACTION,
    )
    p_best_two_arms: float = threshold(
        0.995, "The same with two arms (one comparison: see docs/bandit-report.md).", OPEN_FRACTION
    )
    expected_loss: float = threshold(
        0.01,
        "WINNER needs the leader's expected loss below this fraction of its mean reward "
        "(reward units with --absolute-loss).",
        POSITIVE,
    )
    drop: float = threshold(
        0.01,
        "List arms with P(best) below this (and at least min_pulls units) as DROP.",
        FRACTION,
    )


def check_settings(columns: BanditColumns, options: BanditOptions, thresholds: Any) -> None:
    """What no single setting can check: combinations.

    Raises:
        UsageError: ``--context`` without ``--replay``, or an arm listed twice.
    """
    if columns.contexts and not options.replay:
        raise UsageError("--context needs --replay (contexts only feed the LinUCB replay)")
    if len(set(options.arms)) != len(options.arms):
        raise UsageError("--arm lists an arm twice")
    if options.arms and len(options.arms) < 2:
        raise UsageError("--arm needs at least two arms")
    if options.control is not None and options.arms and options.control not in options.arms:
        raise UsageError(f"--control '{options.control}' is not one of the --arm values")


SPEC = CommandSpec(
    name="bandit-report",
    summary="Which of k arms is best: P(best), expected loss, next allocation, WINNER or "
    "CONTINUE, offline replay.",
    options=BanditOptions,
    columns=BanditColumns,
    thresholds=BanditThresholds,
    checks=(
        CheckSpec(
            "error_rate",
            Consequence.ROLLBACK,
            "no arm's error rate is above this multiple of its baseline's and above "
            "`error_rate_floor`",
        ),
        CheckSpec(
            "latency_p99", Consequence.ROLLBACK, "no arm's p99 / its baseline's p99 is above"
        ),
        CheckSpec("min_pulls", Consequence.HOLD, "every arm has at least this many units"),
        CheckSpec(
            "p_best",
            Consequence.HOLD,
            "the leader's P(best) is above this (`p_best_two_arms` with two arms)",
        ),
        CheckSpec(
            "expected_loss",
            Consequence.HOLD,
            "the leader's expected loss is below this fraction of its mean reward",
        ),
        CheckSpec(
            "drop",
            Consequence.ADVISORY,
            "no arm other than the leader has P(best) below this (else they are listed as DROP)",
        ),
    ),
    verdicts=BANDIT_VERDICTS,
    kind="bandit",
    section="bandit",
    run="abtool.reports.bandit:bandit_report",
    render="abtool.render.bandit",
    check=check_settings,
)
