"""interleave-report's statistics."""

from __future__ import annotations

from dataclasses import dataclass

from abtool.records import Record, flattened
from abtool.stats.interleaving import Preference


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


@dataclass(frozen=True, kw_only=True)
class InterleaveStats(Record):
    """Everything interleave-report measured (the JSON ``stats`` object)."""

    preference: Preference = flattened()
    decisive_sessions: int
    no_click_sessions: int
    unbalanced_sessions: int
    seed: int
    method: str
    log_format: str
    teams: Teams
    ctr_by_position: list[PositionCTR]
    excluded_sessions: int
