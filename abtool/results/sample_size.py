"""sample-size's answer: the plan, the solved quantity, and n against nearby effects."""

from __future__ import annotations

from dataclasses import dataclass

from abtool.records import Record, optional_key


@dataclass(frozen=True)
class SensitivityRow(Record):
    """Units needed for one effect near the planned one (``win_rate`` for interleaving)."""

    mde_abs: float
    effect_size: float
    n_per_group: int
    n_total: int
    mde_rel: float | None = None
    win_rate: float | None = None
    days: int | None = None


@dataclass(frozen=True)
class SequentialPlan(Record):
    """The plan under canary-decide's and interleave-report's default always-valid test.

    ``tuning_units`` is the ``--tuning-units`` (N*) that fits: the total units the experiment
    is planned to reach with the sequential test. ``n_total`` (solving for n) is that total;
    ``mde_abs`` (solving for the MDE) is the effect the sequence detects at the plan's units.
    """

    tuning_units: int
    factor: float
    n_total: int | None = None
    mde_abs: float | None = None
    days: int | None = None


@dataclass(frozen=True)
class CupedPlan(Record):
    """The plan with CUPED: the variance factor ``1 - rho^2`` (or ``1 - reduction``) applied."""

    variance_factor: float
    variance_reduction_pct: float
    n_per_group: int | None = None
    n_control: int | None = None
    n_treatment: int | None = None
    n_total: int | None = None
    mde_abs: float | None = None
    power: float | None = None
    days: int | None = None


@dataclass(frozen=True)
class SampleSizeStats(Record):
    """The plan (the JSON ``stats`` object). Two-sample plans fill the control/treatment
    fields, interleaving plans the session fields; the others are None."""

    kind: str
    solve_for: str
    method: str
    method_description: str
    effect_size: float
    effect_size_name: str
    mde_abs: float
    mde_rel: float | None
    alpha: float
    alpha_adjusted: float
    variants: int
    sided: str
    power: float
    power_at_n: float
    n_per_group: int
    n_total: int
    sensitivity: list[SensitivityRow]
    baseline: float | None = None
    sd: float | None = None
    treatment_value: float | None = None
    ratio: float | None = None
    n_control: int | None = None
    n_treatment: int | None = None
    n_per_group_exact: float | None = None
    win_rate: float | None = None
    tie_rate: float | None = None
    decisive_sessions: int | None = None
    first_sessions: int | None = None
    normal_sessions: float | None = None
    daily_units: float | None = None
    days: int | None = None
    days_raw: int | None = None
    days_note: str | None = None
    tuning_units: int | None = None
    sequential: SequentialPlan | None = optional_key()
    cuped: CupedPlan | None = optional_key()
