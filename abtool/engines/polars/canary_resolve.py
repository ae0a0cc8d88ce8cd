"""canary-decide: which values of the variant column are control and treatment, and the rows
of other values left out (the Spark engine resolves them with the same functions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from abtool.commands.canary import CanaryColumns
from abtool.errors import InputError


def resolve_variants(
    present: Sequence[str],
    control: str | None,
    treatment: str | None,
    source: str,
    column: str,
    rows: Mapping[str, int] | None = None,
    stage: float | None = None,
) -> tuple[str, str, str | None]:
    """Pick the control and treatment values of the variant column, and say how if guessed.

    One named, the other is the single remaining value. Neither named, of two values the
    treatment is the one the stage says: the smaller by rows at a ``stage`` below 50 (a
    canary), the larger above 50, and without a stage the smaller when it holds under 40% of
    the rows; otherwise (an even split) the names' sort order decides (``v1`` control). A
    guess returns a note for a warning; names are never compared to words like "prod".

    Raises:
        InputError: a named value is absent, or there are not exactly two values to pick from.
    """
    chosen = _named_variants(present, control, treatment, source, column)
    if control is not None or treatment is not None:
        return (*chosen, None)
    return _guess_variants(chosen, rows or {}, stage)


def _guess_variants(
    ordered: tuple[str, str], rows: Mapping[str, int], stage: float | None
) -> tuple[str, str, str]:
    first, second = ordered
    total = rows.get(first, 0) + rows.get(second, 0)
    fewer, more = sorted(ordered, key=lambda v: (rows.get(v, 0), v))
    minority = rows.get(fewer, 0) / total if total else 0.5
    hint = "; name them with --control and --treatment"
    if rows.get(first, 0) != rows.get(second, 0):
        if stage is not None and stage != 50:
            picked = (more, fewer) if stage < 50 else (fewer, more)
            share = rows.get(picked[1], 0) / total
            return (
                *picked,
                f"control '{picked[0]}' and treatment '{picked[1]}' assumed from --stage "
                f"{stage:g}: the treatment is the variant with {share:.1%} of the rows{hint}",
            )
        if stage is None and minority < 0.4:
            return (
                more,
                fewer,
                f"control '{more}' and treatment '{fewer}' assumed: without --stage the "
                f"variant with fewer rows ({minority:.1%}) is taken as the treatment{hint}",
            )
    return (
        first,
        second,
        f"control '{first}' and treatment '{second}' assumed from the sort order of their "
        f"names{hint}",
    )


def _named_variants(
    present: Sequence[str], control: str | None, treatment: str | None, source: str, column: str
) -> tuple[str, str]:
    values = sorted(present)
    shown = ", ".join(values) or "none"
    for option, name in (("--control", control), ("--treatment", treatment)):
        if name is not None and name not in values:
            raise InputError(
                f"{source}: {option} '{name}' not found in column '{column}' (values: {shown})"
            )
    if control is not None and treatment is not None:
        if control == treatment:
            raise InputError(f"{source}: --control and --treatment are both '{control}'")
        return control, treatment
    if len(values) < 2:
        raise InputError(
            f"{source}: column '{column}' holds {len(values)} variant(s) ({shown}); "
            "a canary needs a control and a treatment"
        )
    named = control if control is not None else treatment
    others = [v for v in values if v != named]
    if len(others) != (2 if named is None else 1):
        raise InputError(
            f"{source}: column '{column}' holds {len(values)} variants ({shown}); "
            "name them with --control and --treatment"
        )
    if control is not None:
        return control, others[0]
    if treatment is not None:
        return others[0], treatment
    return others[0], others[1]


def excluded_rows(
    by_variant: pl.DataFrame, chosen: tuple[str, str], columns: CanaryColumns
) -> dict[str, int]:
    excluded: dict[str, int] = {}
    # In the order of the values (nulls first), not the order a group-by returns them.
    for row in by_variant.sort("variant", nulls_last=False).iter_rows(named=True):
        value, count, null_units = row["variant"], int(row["rows"]), int(row["null_units"])
        if value is None:
            excluded[f"null {columns.variant}"] = count
        elif value not in chosen:
            excluded[f"{columns.variant} = {value}"] = count
        elif null_units:
            key = f"null {columns.unit}"
            excluded[key] = excluded.get(key, 0) + null_units
    return excluded
