"""bandit-report's statistics: arms, their posteriors and P(best), allocations, replay.

The keys follow the statistics' own ``to_dict()`` (``abtool.stats.bandit``,
``bandit_allocation``, ``replay``) so the library and the command speak the same JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from abtool.records import Record, optional_key
from abtool.stats.bandit_verdict import VerdictRule
from abtool.stats.replay import PolicyValue


@dataclass(frozen=True, kw_only=True)
class PosteriorStats(Record):
    """An arm's posterior of its mean reward, with its credible interval."""

    distribution: str
    alpha: float | None = optional_key()
    beta: float | None = optional_key()
    mean: float
    sd: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True, kw_only=True)
class ArmStats(Record):
    """One arm: its units, mean reward with CI, posterior, P(best), expected loss, health.

    ``status``: ``winner``, ``leader`` (highest P(best), not yet a winner), ``drop``
    (P(best) below the ``drop`` threshold), ``rollback`` (a guardrail fired) or ``active``.
    """

    name: str
    pulls: int
    requests: int
    mean: float
    se: float
    ci_low: float
    ci_high: float
    posterior: PosteriorStats
    p_best: float
    expected_loss: float
    errors: int | None
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    status: str


@dataclass(frozen=True)
class ArmAllocation(Record):
    """One arm's next-period share under each policy, and its UCB1 index."""

    thompson_share: float
    ucb1_index: float
    ucb1_share: float
    egreedy_share: float


@dataclass(frozen=True)
class AllocationStats(Record):
    """Next period's shares; arms not in ``active`` (rolled back or dropped) get none."""

    arms: dict[str, ArmAllocation]
    active: list[str]
    floor: float
    epsilon: float
    reward_scale: float


@dataclass(frozen=True)
class Timeline(Record):
    """Per period: its label, and each arm's pulls, share of the period and mean reward."""

    period: list[str]
    pulls: dict[str, list[int]]
    share: dict[str, list[float]]
    mean: dict[str, list[float | None]]


@dataclass(frozen=True)
class PolicyStats(Record):
    """One policy's replay, IPS and SNIPS values and regrets (``accepted``: replay events)."""

    policy: str
    parameters: dict[str, object]
    accepted: int
    replay: PolicyValue
    ips: PolicyValue
    snips: PolicyValue


@dataclass(frozen=True)
class ReplayStats(Record):
    """What each policy would have earned on this log (fixed arms first)."""

    policies: list[PolicyStats]
    best_fixed_arm: dict[str, str]
    events: int
    logging: str
    min_propensity: float
    confidence: float
    seed: int
    method: str


@dataclass(frozen=True, kw_only=True)
class BanditStats(Record):
    """Everything bandit-report measured (the JSON ``stats`` object)."""

    reward: str
    reward_type: str
    estimator: str
    unit: str | None
    periods: int
    period_source: str
    coverage: float
    rows: int
    excluded_rows: int
    excluded_reasons: dict[str, int]
    time_start: datetime | None
    time_end: datetime | None
    arms: list[ArmStats]
    leader: str
    winner: str | None
    leader_p_best: float
    leader_expected_loss: float
    leader_relative_loss: float
    dropped: list[str]
    rolled_back: list[str]
    rule: VerdictRule
    allocation: AllocationStats
    draws: int
    seed: int
    confidence: float
    mc_se: float
    method: str
    time_varying_allocation: str
    timeline: Timeline
    replay: ReplayStats | None = optional_key()
