"""`abtool interleave-report`."""

from __future__ import annotations

from typing import Annotated

import typer

from abtool.cli.options import ConfigOption, FormatOption, OutputOption, Paths, run_report
from abtool.render import OutputFormat


def interleave_report_command(
    paths: Paths,
    a_name: Annotated[
        str | None, typer.Option("--a-name", help="Label of team A in the output (e.g. prod).")
    ] = None,
    b_name: Annotated[
        str | None,
        typer.Option("--b-name", help="Label of team B, the candidate, in the output."),
    ] = None,
    bootstrap: Annotated[
        int, typer.Option(min=1, help="Bootstrap resamples for the CI of Δ.")
    ] = 10_000,
    confidence: Annotated[float, typer.Option(help="Level of the CI of Δ.")] = 0.95,
    seed: Annotated[int, typer.Option(min=0, help="Bootstrap seed: same seed, same CI.")] = 0,
    team_a: Annotated[str, typer.Option(help="Value of the team column for ranker A.")] = "A",
    team_b: Annotated[str, typer.Option(help="Value of the team column for ranker B.")] = "B",
    session_col: Annotated[str, typer.Option(help="Session id (the unit).")] = "session_id",
    position_col: Annotated[str, typer.Option(help="Long format: shown position.")] = "position",
    item_col: Annotated[str, typer.Option(help="Long format: item id.")] = "item_id",
    team_col: Annotated[str, typer.Option(help="Long format: team of the item.")] = "team",
    clicked_col: Annotated[str, typer.Option(help="Long format: click flag.")] = "clicked",
    attribution_col: Annotated[
        str, typer.Option(help="Nested format: list of struct{item, team} in shown order.")
    ] = "attribution",
    clicked_items_col: Annotated[
        str, typer.Option(help="Nested format: list of clicked item ids.")
    ] = "clicked_items",
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.rich,
    output: OutputOption = None,
) -> None:
    """Which ranker do users prefer? Team-draft credit, win rates, sign test, Δ with CI."""
    from abtool.config import InterleaveThresholds, load_thresholds
    from abtool.logs.interleave import InterleaveColumns
    from abtool.reports.interleave import InterleaveOptions, interleave_report

    thresholds = load_thresholds(InterleaveThresholds, "interleave", config)
    columns = InterleaveColumns(
        session=session_col,
        position=position_col,
        item=item_col,
        team=team_col,
        clicked=clicked_col,
        attribution=attribution_col,
        clicked_items=clicked_items_col,
        team_a=team_a,
        team_b=team_b,
    )
    options = InterleaveOptions(
        a_name=a_name, b_name=b_name, bootstrap=bootstrap, confidence=confidence, seed=seed
    )
    run_report(
        interleave_report,
        paths,
        columns=columns,
        options=options,
        thresholds=thresholds,
        fmt=fmt,
        output=output,
    )
