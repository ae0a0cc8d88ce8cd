"""interleave-report's statistics."""

from __future__ import annotations

from dataclasses import dataclass

from abtool.records import Record


@dataclass(frozen=True)
class TeamStats(Record):
    """Impressions and clicks of one ranker's items."""

    name: str
    value: str
    shown: int
    clicks: int
    ctr: float | None


@dataclass(frozen=True)
class Teams(Record):
    """Ranker A (production) and ranker B (the candidate)."""

    a: TeamStats
    b: TeamStats


@dataclass(frozen=True)
class PositionCTR(Record):
    """Click-through at one shown position, overall and per team."""

    position: int
    shown: int
    clicks: int
    ctr: float | None
    ctr_a: float | None
    ctr_b: float | None


@dataclass(frozen=True)
class InterleaveStats(Record):
    """Everything interleave-report measured (the JSON ``stats`` object)."""

    sessions: int
    wins_a: int
    wins_b: int
    ties: int
    win_rate_b: float
    delta_ab: float
    ci_low: float
    ci_high: float
    pvalue: float
    decisive_sessions: int
    no_click_sessions: int
    unbalanced_sessions: int
    confidence: float
    bootstrap: int
    seed: int
    method: str
    log_format: str
    teams: Teams
    ctr_by_position: list[PositionCTR]
    excluded_sessions: int
