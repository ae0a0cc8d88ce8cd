"""interleave-report's statistics."""

from __future__ import annotations

from dataclasses import dataclass

from abtool.records import Record, flattened, optional_key
from abtool.stats.inference import TestResult
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


@dataclass(frozen=True)
class PreferenceSeries(Record):
    """Cumulative Δ preference with the active method's interval, by session count.

    Sessions are taken in session-id order (interleaving logs have no time column); with a
    confidence sequence every point's interval is valid at once.
    """

    sessions: list[int]
    delta_ab: list[float]
    ci_low: list[float | None]
    ci_high: list[float | None]
    interval: str


@dataclass(frozen=True, kw_only=True)
class InterleaveStats(Record):
    """Everything interleave-report measured (the JSON ``stats`` object).

    ``ci_low``, ``ci_high`` and ``pvalue`` (in ``preference``) are the active method's: the
    percentile bootstrap CI and the exact sign test with ``--inference fixed``, the confidence
    sequence and its always-valid p-value otherwise (``test`` holds that test in full).
    """

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
    inference: str
    interval: str
    test: TestResult | None = optional_key()
    timeline: PreferenceSeries | None = optional_key()
