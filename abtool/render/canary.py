"""Sections of canary-decide: variants, validity, primary metric, secondary metrics, segments."""

from __future__ import annotations

from typing import Any

from abtool.render.blocks import Block, Facts, Table, fmt_number, fmt_pvalue, fmt_rate

ROLES = ("control", "treatment")


def _signed(value: Any) -> str:
    return "n/a" if value is None else f"{value:+.4g}"


def _signed_rate(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:+.2f}%"


def _interval(low: Any, high: Any, rate: bool = False) -> str:
    show = _signed_rate if rate else _signed
    return f"[{show(low)}, {show(high)}]"


def _variants(stats: dict[str, Any]) -> Table:
    keys = ("requests", "units", "error_rate", "latency_p50_ms", "latency_p99_ms")
    rows = []
    for role in ROLES:
        v = stats["variants"][role]
        cells = [role, str(v["name"])]
        cells += [fmt_rate(v[k]) if k == "error_rate" else fmt_number(v[k]) for k in keys]
        cells.append(fmt_number(v["prediction_mean"]))
        rows.append(cells)
    columns = [
        "role",
        "variant",
        "requests",
        "units",
        "error rate",
        "p50 ms",
        "p99 ms",
        "pred mean",
    ]
    return Table("Variants", columns, rows, frozenset(range(2, 8)))


def _validity(stats: dict[str, Any]) -> Facts:
    items = [
        ("rows", f"{stats['rows']:,} ({stats['excluded_rows']:,} excluded)"),
        ("time span", f"{stats['time_start']} → {stats['time_end']}"),
        (
            "treatment share",
            f"{fmt_rate(stats['observed_treatment_share'])} of units "
            f"(expected {fmt_rate(stats['expected_treatment_share'])}), "
            f"SRM p = {fmt_pvalue(stats['srm_pvalue'])}",
        ),
        (
            "inconsistent units",
            f"{stats['inconsistent_units']:,} ({fmt_rate(stats['inconsistent_share'])}), "
            "left out of the unit-level analysis",
        ),
    ]
    if stats["salt_mismatched_units"] is not None:
        items.append(("against salt bucket", f"{stats['salt_mismatched_units']:,} units"))
    if stats["ks_statistic"] is not None:
        items.append(
            (
                "prediction shift",
                f"KS D = {fmt_number(stats['ks_statistic'])} (all rows); "
                f"p = {fmt_pvalue(stats['ks_pvalue'])} on the latest "
                f"{stats['ks_recent_n'][0]:,}/{stats['ks_recent_n'][1]:,}",
            )
        )
    stage, following = stats["stage"], stats["next_stage"]
    items.append(
        ("stage", f"{stage:g}% → next {following:g}%" if stage and following is not None else "n/a")
    )
    return Facts("Experiment", items)


def _metric(metric: dict[str, Any]) -> Facts:
    items = [
        ("metric", f"{metric['name']} ({metric['type']})"),
        ("method", metric["method"]),
        (
            "units",
            f"{metric['units']['control']:,} control / {metric['units']['treatment']:,} treatment",
        ),
        (
            "mean",
            f"{fmt_number(metric['control_mean'])} control → "
            f"{fmt_number(metric['treatment_mean'])} treatment",
        ),
        (
            "lift",
            f"{_signed(metric['lift_abs'])} {_interval(metric['ci_low'], metric['ci_high'])}; "
            f"{_signed_rate(metric['lift_rel'])} "
            f"{_interval(metric['rel_ci_low'], metric['rel_ci_high'], rate=True)}",
        ),
        ("p-value", fmt_pvalue(metric["pvalue"])),
    ]
    unit_test = metric.get("unit_test")
    if unit_test and "chi2" in unit_test:
        items.append(
            (
                unit_test["value"],
                f"{fmt_rate(unit_test['control_rate'])} → {fmt_rate(unit_test['treatment_rate'])}, "
                f"z = {unit_test['z']:.3f}, p = {fmt_pvalue(unit_test['pvalue'])}",
            )
        )
    elif unit_test:
        welch, mwu = unit_test["welch"], unit_test["mann_whitney"]
        items.append(
            (
                unit_test["value"],
                f"Welch diff {_signed(welch['diff'])} "
                f"{_interval(welch['ci_low'], welch['ci_high'])}, p = "
                f"{fmt_pvalue(welch['pvalue'])}; Mann-Whitney p = {fmt_pvalue(mwu['pvalue'])}, "
                f"P(T > C) = {fmt_number(mwu['prob_superiority'])}",
            )
        )
    if "bootstrap" in metric:
        boot = metric["bootstrap"]
        items.append(
            (
                f"bootstrap ({boot['replicates']:,}, seed {boot['seed']})",
                f"{_interval(boot['ci_low'], boot['ci_high'])}; "
                f"{_interval(boot['rel_ci_low'], boot['rel_ci_high'], rate=True)}",
            )
        )
    return Facts("Primary metric", items)


def _lift_row(first: list[str], entry: dict[str, Any]) -> list[str]:
    return [
        *first,
        fmt_number(entry["control_mean"]),
        fmt_number(entry["treatment_mean"]),
        _signed_rate(entry["lift_rel"]),
        _interval(entry["ci_low"], entry["ci_high"]),
        fmt_pvalue(entry["pvalue"]),
        fmt_pvalue(entry["pvalue_holm"]),
    ]


LIFT_COLUMNS = ["control", "treatment", "lift", "CI (abs)", "p", "p Holm"]


def sections(report: dict[str, Any]) -> list[Block]:
    """Blocks of canary-decide, built only from its JSON dictionary."""
    stats = report["stats"]
    blocks: list[Block] = [_variants(stats), _validity(stats)]
    if stats["metric"]:
        blocks.append(_metric(stats["metric"]))
    if stats["secondary_metrics"]:
        rows = [_lift_row([m["name"]], m) for m in stats["secondary_metrics"]]
        blocks.append(
            Table("Secondary metrics", ["metric", *LIFT_COLUMNS], rows, frozenset(range(1, 7)))
        )
    for column, entries in stats["segments"].items():
        flagged = any(e["regression"] for e in entries)
        rows = []
        for e in entries:
            row = _lift_row(
                [str(e["value"]), f"{e['units_control']:,}/{e['units_treatment']:,}"], e
            )
            rows.append([*row, "regression"] if e["regression"] else row + [""] * flagged)
        headers = [column, "units c/t", *LIFT_COLUMNS] + ["flag"] * flagged
        blocks.append(Table(f"Primary metric by {column}", headers, rows, frozenset(range(1, 8))))
    return blocks
