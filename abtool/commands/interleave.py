"""`abtool interleave-report`: columns, options, thresholds and checks, declared once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from abtool.commands.common import (
    engine_option,
    inference_option,
    spark_master_option,
    tuning_units_option,
)
from abtool.errors import UsageError
from abtool.reports.result import PREFERENCE_VERDICTS, Consequence
from abtool.spec import (
    AT_LEAST_ONE,
    NON_NEGATIVE,
    OPEN_FRACTION,
    CheckSpec,
    CommandSpec,
    column,
    option,
    threshold,
)


@dataclass(frozen=True)
class InterleaveColumns:
    """Column names of an interleaving log and the two team values it uses."""

    team_a: str = column("A", "--team-a", "Value of the team column for ranker A.")
    team_b: str = column("B", "--team-b", "Value of the team column for ranker B.")
    session: str = column("session_id", "--session-col", "Session id (the unit).")
    position: str = column("position", "--position-col", "Long format: shown position.")
    item: str = column("item_id", "--item-col", "Long format: item id.")
    team: str = column("team", "--team-col", "Long format: team of the item.")
    clicked: str = column("clicked", "--clicked-col", "Long format: click flag.")
    attribution: str = column(
        "attribution",
        "--attribution-col",
        "Nested format: list of struct{item, team} in shown order.",
    )
    clicked_items: str = column(
        "clicked_items", "--clicked-items-col", "Nested format: list of clicked item ids."
    )
    item_field: str = "item"
    team_field: str = "team"


@dataclass(frozen=True)
class InterleaveOptions:
    """Analysis options of the interleave report."""

    a_name: str | None = option(None, "--a-name", "Label of team A in the output (e.g. prod).")
    b_name: str | None = option(None, "--b-name", "Label of team B, the candidate, in the output.")
    inference: str = inference_option()
    tuning_units: int = tuning_units_option()
    bootstrap: int = option(
        10_000,
        "--bootstrap",
        "Bootstrap resamples for the CI of Δ (with --inference fixed).",
        range=AT_LEAST_ONE,
    )
    confidence: float = option(0.95, "--confidence", "Level of the CI of Δ.", range=OPEN_FRACTION)
    seed: int = option(0, "--seed", "Bootstrap seed: same seed, same CI.", range=NON_NEGATIVE)
    engine: str = engine_option()
    spark_master: str | None = spark_master_option()


@dataclass(frozen=True)
class InterleaveThresholds:
    """Interleaving checklist; each field is named after its check id."""

    min_sessions: int = threshold(
        1000,
        "Minimum decisive sessions (one team got more clicks) before deciding.",
        NON_NEGATIVE,
        integer=True,
    )
    preference: float = threshold(
        0.05,
        "Significance level alpha of the two-sided preference test (sequential: confidence "
        "sequence; fixed: exact sign test).",
        OPEN_FRACTION,
    )


def check_settings(columns: InterleaveColumns, options: Any, thresholds: Any) -> None:
    """The two team values must differ.

    Raises:
        UsageError: ``--team-a`` equals ``--team-b``.
    """
    if columns.team_a == columns.team_b:
        raise UsageError(f"--team-a and --team-b are both '{columns.team_a}'; they must differ")


SPEC = CommandSpec(
    name="interleave-report",
    summary="Which ranker do users prefer? Team-draft credit, win rates, Δ with an always-valid "
    "(or fixed-horizon) interval.",
    options=InterleaveOptions,
    columns=InterleaveColumns,
    thresholds=InterleaveThresholds,
    checks=(
        CheckSpec(
            "min_sessions",
            Consequence.HOLD,
            "at least this many sessions were decisive (GO waits for them; NO_GO does not)",
        ),
        CheckSpec(
            "preference",
            Consequence.NO_GO,
            "B is significantly preferred at this alpha (A significantly preferred: NO_GO "
            "whatever the session count; neither: HOLD)",
        ),
    ),
    verdicts=PREFERENCE_VERDICTS,
    kind="interleave",
    section="interleave",
    run="abtool.reports.interleave:interleave_report",
    render="abtool.render.interleave",
    check=check_settings,
)
