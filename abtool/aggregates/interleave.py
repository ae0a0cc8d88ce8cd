"""The aggregates of an interleaving log that interleave-report needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from abtool.aggregates.hygiene import ReadNotes

STEPS = 20


@dataclass(frozen=True)
class PositionRow:
    """Impressions and clicks at one position, split by team."""

    position: int
    shown_a: int
    shown_b: int
    clicks_a: int
    clicks_b: int


@dataclass(frozen=True)
class PreferenceStep:
    """Wins after the first ``sessions`` sessions (in session-id order); the rest are ties."""

    sessions: int
    wins_a: int
    wins_b: int


@dataclass(frozen=True)
class InterleaveData:
    """Per-session credit outcomes and click counts, reduced from the log."""

    log_format: str
    rows: int
    sessions: int
    wins_a: int
    wins_b: int
    ties: int
    no_click_sessions: int
    unbalanced_sessions: int
    shown_a: int
    shown_b: int
    clicks_a: int
    clicks_b: int
    positions: list[PositionRow] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    assumed: dict[str, int] = field(default_factory=dict)
    steps: list[PreferenceStep] = field(default_factory=list)
    """Cumulative wins at about ``STEPS`` evenly spaced session counts, the last at all."""
    read_notes: ReadNotes = field(default_factory=ReadNotes)
