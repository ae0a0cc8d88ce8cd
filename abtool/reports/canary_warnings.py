"""canary-decide's warnings: what was left out, assumed or could not be evaluated."""

from __future__ import annotations

from collections.abc import Sequence

from abtool.aggregates.canary import CanaryData
from abtool.commands.canary import CanaryOptions
from abtool.commands.guardrails import parse_guardrail
from abtool.reports.canary_checks import signed_percent
from abtool.reports.hygiene import read_warnings
from abtool.reports.result import Check, Consequence
from abtool.results.canary import CanaryStats


def canary_warnings(
    data: CanaryData,
    stats: CanaryStats,
    checks: Sequence[Check],
    options: CanaryOptions,
    hint: str | None,
) -> list[str]:
    warnings = [data.variant_note] if data.variant_note else []
    if data.excluded:
        reasons = ", ".join(f"{n:,} with {reason}" for reason, n in data.excluded.items())
        warnings.append(
            f"excluded {sum(data.excluded.values()):,} of {data.rows:,} rows: {reasons}"
        )
    for variant in (data.control, data.treatment):
        for column, n in variant.missing.items():
            warnings.append(
                f"{n:,} {variant.name} rows with a null or unusable {column} left out of the "
                f"figures that use '{column}'"
            )
    warnings += read_warnings(data.read_notes)
    if data.inconsistent_units:
        warnings.append(
            f"{data.inconsistent_units:,} unit(s) with {data.inconsistent_rows:,} rows were logged "
            "under both variants: they count in the per-variant health figures but are left "
            "out of SRM, metrics and segments"
        )
    for check in checks:
        # harm without a tested metric has nothing to test; the metric's warning says why.
        if (
            check.consequence is Consequence.ROLLBACK
            and check.passed is None
            and check.id != "harm"
        ):
            warnings.append(f"rollback trigger '{check.id}' not evaluated: {check.message}")
    if options.stage is None:
        warnings.append(
            "no --stage given: SRM assumes an equal split and no next stage is proposed"
        )
    if hint:
        warnings.append(hint)
    warnings += _cuped_warnings(data, options)
    metric = stats.metric
    for entry in [metric, *stats.secondary_metrics] if metric else []:
        if entry.missing_rows:
            warnings.append(
                f"metric '{entry.name}': {entry.missing_rows:,} rows with a null, NaN or "
                "infinite value left out of it"
            )
    for column, entries in stats.segments.items():
        for segment in entries:
            if segment.regression:
                warnings.append(
                    f"segment {column} = {segment.value}: {metric.name if metric else ''} "
                    f"significantly worse ({signed_percent(segment.lift.lift_rel)}, Holm p = "
                    f"{segment.holm.pvalue_holm:.3g})"
                )
    neutral = metric is not None and (metric.lift.pvalue or 0.0) >= metric.alpha
    if options.allow_neutral and neutral:
        warnings.append("--allow-neutral: the primary metric is not significant either way")
    if metric is not None and metric.novelty is not None and metric.novelty.differs:
        novelty = metric.novelty
        warnings.append(
            f"metric '{metric.name}': the first {novelty.early_days} days' lift "
            f"({novelty.early_lift:+.4g}) differs from the later days' ({novelty.late_lift:+.4g}), "
            f"p = {novelty.pvalue:.3g}: a novelty or primacy effect? Decide on the later days "
            "and run 1-2 full weeks"
        )
    return warnings


def _cuped_warnings(data: CanaryData, options: CanaryOptions) -> list[str]:
    pre = data.pre_period
    if pre is None:
        return []
    wanted = dict.fromkeys(
        [*options.metrics, *(parse_guardrail(g).column for g in options.guardrails)]
    )
    missing = [m for m in wanted if m not in pre.metrics]
    warnings = []
    if missing:
        warnings.append(
            f"CUPED: no covariate for {', '.join(missing)} in the {pre.source} (column "
            f"'{pre.covariate or missing[0]}' absent): not adjusted"
        )
    if pre.rows == 0:
        warnings.append(f"CUPED: the {pre.source} has no rows: nothing adjusted")
    return warnings
