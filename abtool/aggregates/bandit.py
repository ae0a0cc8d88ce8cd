"""The aggregates of a bandit log that bandit-report needs.

Rewards arrive as per period x arm sums (a table of ``periods x arms`` numbers), never as rows,
except for ``--replay``, whose policies must walk through the log event by event: then the
time-ordered arm, reward, propensity and context columns arrive as numpy arrays, up to a cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from abtool.aggregates.hygiene import ReadNotes
from abtool.stats.bandit_estimates import PropensitySums

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class BanditRequest:
    """What to aggregate.

    Attributes:
        arms: the arms to analyse (empty: every value of the arm column, sorted).
        period_hours: bucket length of the time column when the log has no period column.
        propensity_sums: fill :attr:`BanditData.propensity_sums` (needs the propensity column).
        replay: fill :attr:`BanditData.events` (needs the time column).
        replay_max_events: most rows the events may hold (more: InputError).
        since: keep rows at or after this time.
        until: keep rows before this time.
        time_unit: how an epoch-number time column is read (``auto``: by magnitude).
    """

    arms: tuple[str, ...] = ()
    period_hours: float = 24.0
    propensity_sums: bool = False
    replay: bool = False
    replay_max_events: int = 1_000_000
    since: datetime | None = None
    until: datetime | None = None
    time_unit: str = "auto"


@dataclass(frozen=True)
class PeriodCells:
    """Reward sums per period (rows) and arm (columns), each array ``(periods, arms)``.

    With a unit column the sums run over units: ``x`` a unit's reward summed over its rows of
    the cell, ``y`` its rows, so the cell's mean reward per row is ``sum_x / sum_y`` with a
    variance clustered by unit; without one every row is a unit (``y = 1``).

    Attributes:
        periods: each period's label (the period value, or the ISO start of its bucket).
        pulls: units of each cell (rows without a unit column).
        sum_x: sum of the units' reward sums.
        sum_x2: sum of their squares.
        sum_y: rows of the cell.
        sum_y2: sum of the units' squared row counts.
        sum_xy: sum of reward sum times row count.
    """

    periods: tuple[str, ...]
    pulls: NDArray[np.int64] = field(repr=False)
    sum_x: Floats = field(repr=False)
    sum_x2: Floats = field(repr=False)
    sum_y: Floats = field(repr=False)
    sum_y2: Floats = field(repr=False)
    sum_xy: Floats = field(repr=False)


@dataclass(frozen=True)
class ArmHealth:
    """Guardrail figures of one arm, over all its rows (with or without a reward).

    ``others_latency_p99_ms`` is the p99 of every other analysed arm's rows pooled.
    """

    name: str
    requests: int
    errors: int | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    others_latency_p99_ms: float | None


@dataclass(frozen=True)
class ReplayEvents:
    """The log's rows in time order, for the replay of policies.

    Attributes:
        arms: index of each row's arm in :attr:`BanditData.arms`.
        rewards: each row's reward.
        propensities: the logged probability of the row's arm (None: no propensity column).
        contexts: ``(rows, columns)`` context values (None without ``--context``).
    """

    arms: NDArray[np.intp] = field(repr=False)
    rewards: Floats = field(repr=False)
    propensities: Floats | None = field(repr=False)
    contexts: Floats | None = field(repr=False)


@dataclass(frozen=True)
class BanditData:
    """Everything bandit-report needs, reduced from the log.

    Attributes:
        rows: rows read (inside the time window).
        excluded: rows left out of the reward sums, by reason.
        time_min: earliest timestamp (None without a time column).
        time_max: latest timestamp.
        arms: the analysed arms, in output order.
        binary: every reward is 0 or 1.
        reward_min: smallest reward.
        reward_max: largest reward.
        unit: the unit column, or None when rows are the units.
        period_source: where periods come from (``column 'period'`` or ``24h buckets of 'ts'``).
        cells: reward sums per period and arm.
        health: guardrail figures per arm, in ``arms`` order.
        propensity_sums: per arm, when the request asked for them.
        events: the rows in time order, when the request asked for replay.
        multi_row_units: unit-cells with more than one row (0 without a unit column).
    """

    rows: int
    excluded: dict[str, int]
    time_min: datetime | None
    time_max: datetime | None
    arms: tuple[str, ...]
    binary: bool
    reward_min: float
    reward_max: float
    unit: str | None
    period_source: str
    cells: PeriodCells
    health: tuple[ArmHealth, ...]
    propensity_sums: tuple[PropensitySums, ...] | None = None
    events: ReplayEvents | None = None
    multi_row_units: int = 0
    read_notes: ReadNotes = field(default_factory=ReadNotes)
