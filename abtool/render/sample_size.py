"""Sections of the sample-size plan: the design, the answer, and n against nearby MDEs."""

from __future__ import annotations

from typing import Any

from abtool.render.blocks import Block, Facts, Table, fmt_number
from abtool.reports.result import Report
from abtool.results.sample_size import SampleSizeStats


def _int(value: Any) -> str:
    return "n/a" if value is None else f"{value:,}"


def _signed(value: Any) -> str:
    return "n/a" if value is None else f"{value:+.4g}"


def _percent(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:+.2f}%"


def _companions(stats: SampleSizeStats, unit: str) -> list[tuple[str, str]]:
    """The CUPED plan and the always-valid (sequential) plan, with the N* that fits."""
    lines: list[tuple[str, str]] = []
    cuped = stats.cuped
    if cuped is not None:
        label = f"with CUPED (-{cuped.variance_reduction_pct:.3g}% variance)"
        if cuped.n_total is not None:
            text = f"{_int(cuped.n_control)} control, {_int(cuped.n_treatment)} per treatment, "
            text += f"{_int(cuped.n_total)} in total"
        elif cuped.mde_abs is not None:
            text = f"MDE {_signed(cuped.mde_abs)} at the same {unit}"
        else:
            text = f"power {fmt_number(cuped.power)} at the same {unit}"
        if cuped.days is not None:
            text += f"; {cuped.days} days"
        lines.append((label, text))
    seq = stats.sequential
    if seq is not None:
        if seq.n_total is not None:
            text = f"{_int(seq.n_total)} {unit} in total ({seq.factor:.2f}x)"
        elif seq.mde_abs is not None:
            text = f"MDE {_signed(seq.mde_abs)} at the same {unit}"
        else:
            text = "the planned units"
        if seq.days is not None:
            text += f"; {seq.days} days"
        both = cuped is not None and cuped.n_total is not None and seq.n_total is not None
        lines.append(("always-valid test" + (" with CUPED" if both else " (default)"), text))
        lines.append(("--tuning-units (N*)", f"{seq.tuning_units:,}"))
    return lines


def sections(report: Report[SampleSizeStats]) -> list[Block]:
    """Blocks of the sample-size report, built from its statistics."""
    stats = report.stats
    interleaving = stats.kind == "interleaving"
    design: list[tuple[str, str]] = [
        ("metric", stats.kind),
        ("method", f"{stats.method}: {stats.method_description}"),
    ]
    if interleaving:
        design += [
            ("win rate of the new ranker", fmt_number(stats.win_rate)),
            ("tie rate (no preference)", fmt_number(stats.tie_rate)),
        ]
    else:
        design.append(("baseline", fmt_number(stats.baseline)))
        if stats.sd is not None:
            design.append(("standard deviation", fmt_number(stats.sd)))
        design += [
            ("MDE (absolute)", _signed(stats.mde_abs)),
            ("MDE (relative)", _percent(stats.mde_rel)),
            ("allocation treatment:control", f"{stats.ratio:.4g}"),
            ("treatments", str(stats.variants)),
        ]
    design += [
        (f"effect size ({stats.effect_size_name})", f"{stats.effect_size:.5g}"),
        (
            "alpha",
            f"{stats.alpha:g}"
            + (
                f" (Bonferroni: {stats.alpha_adjusted:.4g} per treatment)"
                if stats.variants > 1
                else ""
            )
            + f", {stats.sided}-sided",
        ),
        ("power", f"{stats.power:.4g}" + (" (solved)" if stats.solve_for == "power" else "")),
    ]
    answer: list[tuple[str, str]] = []
    if interleaving:
        answer += [
            ("decisive sessions", _int(stats.n_per_group)),
            ("sessions in all", _int(stats.n_total)),
        ]
        if stats.first_sessions is not None:
            answer.append(("first n reaching the power", _int(stats.first_sessions)))
            answer.append(("normal approximation", f"{stats.normal_sessions:,.1f}"))
    else:
        answer += [
            ("control units", _int(stats.n_control)),
            ("units per treatment", _int(stats.n_treatment)),
            ("units in total", _int(stats.n_total)),
            ("exact solution (control)", f"{stats.n_per_group_exact:,.2f}"),
        ]
    unit = "sessions" if interleaving else "units"
    answer.append((f"power at these {unit}", f"{stats.power_at_n:.4f}"))
    if stats.days is not None:
        answer.append(("days", f"{stats.days} at {stats.daily_units:,g} {unit} a day"))
        if stats.days_note:
            answer.append(("duration note", stats.days_note))
    answer += _companions(stats, unit)
    blocks: list[Block] = [
        Facts("Design", design),
        Facts(f"Answer (solved for {stats.solve_for})", answer),
    ]
    rows = stats.sensitivity
    if rows:
        with_days = rows[0].days is not None
        columns = ["win rate" if interleaving else "MDE (abs)"]
        if not interleaving:
            columns.append("MDE (rel)")
        columns += [
            "effect size",
            "decisive sessions" if interleaving else "n per group",
            "n total",
        ]
        if with_days:
            columns.append("days")
        table_rows = []
        for row in rows:
            cells = [fmt_number(row.win_rate) if interleaving else _signed(row.mde_abs)]
            if not interleaving:
                cells.append(_percent(row.mde_rel))
            cells += [f"{row.effect_size:.4g}", _int(row.n_per_group), _int(row.n_total)]
            if with_days:
                cells.append(_int(row.days))
            table_rows.append(cells)
        blocks.append(
            Table(
                "Sample size against the MDE",
                columns,
                table_rows,
                frozenset(range(len(columns))),
            )
        )
    return blocks
