"""`abtool canary-decide`: promote a canary to the next stage, hold it, or roll it back?

Order of the decision:

1. ROLLBACK when an auto-rollback trigger fires (error rate, p99 latency, prediction mean) or
   a metric is significantly worse than control (``harm``: the primary metric or a
   guardrail), whatever the sample size.
2. HOLD when the experiment is not valid (sample-ratio mismatch, inconsistent assignment),
   has too few units, the primary metric is not significantly better (with ``allow_neutral``:
   not shown non-inferior within ``nim``), or a guardrail is not shown non-inferior.
3. PROMOTE otherwise, to the next stage of the ladder 1 -> 5 -> 20 -> 50 -> 100.

Every interval and test uses the active inference method (``--inference``): a confidence
sequence by default, valid however often the gate re-runs, or the fixed-horizon z-test for
one planned look. A prediction distribution shift, a novelty effect and a segment regression
are advisory: they are reported and change nothing by themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from abtool.aggregates.canary import CanaryData, CanaryRequest
from abtool.commands.canary import SPEC, CanaryColumns, CanaryOptions, CanaryThresholds
from abtool.commands.guardrails import Guardrail, parse_guardrail
from abtool.engines import Engine, LogInput, open_log
from abtool.reports.canary_checks import canary_checks, novelty_check, segment_check
from abtool.reports.canary_cuped import analysed_metric
from abtool.reports.canary_decision import (
    Tested,
    gap,
    gap_reason,
    guardrails_check,
    harm_check,
    harm_metrics,
    primary_check,
    tested_guardrail,
    with_tests,
)
from abtool.reports.canary_health import (
    STAGES,
    health,
    prediction_shift,
    stage_hint,
    timeline_of,
    treatment_share,
    validity_of,
)
from abtool.reports.canary_metrics import metric_kind, segment_stats, with_holm
from abtool.reports.canary_timeline import metric_series
from abtool.reports.canary_warnings import canary_warnings
from abtool.reports.result import (
    CANARY_VERDICTS,
    Check,
    Inputs,
    Report,
    Verdict,
    decide,
)
from abtool.reports.settings import resolve
from abtool.results.canary import (
    CanaryStats,
    Health,
    Inference,
    MetricStats,
)
from abtool.stats.inference import InferenceMethod, method_named
from abtool.stats.inference.margins import harm_alpha
from abtool.times import parse_time

COMMAND = SPEC.name


def next_stage(stage: float) -> float:
    """The next stage of the ladder 1 -> 5 -> 20 -> 50 -> 100 after ``stage`` percent."""
    return next((s for s in STAGES if s > stage), STAGES[-1])


def canary_report(
    data: LogInput,
    *,
    columns: CanaryColumns | None = None,
    options: CanaryOptions | None = None,
    thresholds: CanaryThresholds | dict[str, float] | None = None,
    config: str | Path | None = None,
    engine: str | Engine | None = None,
    progress: Callable[[str], None] | None = None,
    **settings: Any,
) -> Report[CanaryStats]:
    """Run the canary stage gate on a canary / A/B log.

    Args:
        data: Parquet files, globs or (hive-partitioned) directories (a path or a list),
            a Polars or pandas DataFrame, or a log an engine opened.
        columns: column names, defaults to the documented canary schema.
        options: metrics, guardrails, variants, stage, inference, CUPED, segments, window.
        thresholds: rollback triggers, levels and validity limits (defaults: rollout
            checklist), or overrides by check id.
        config: a TOML file of thresholds, as ``--config``.
        engine: the engine that reads ``data``: "polars", "spark" or an engine object such
            as ``SparkEngine(session=spark)`` (default: the ``engine`` option, polars; a
            Spark DataFrame is read by Spark).
        progress: called with a short status line before long steps.
        settings: any option named as on the command line, ``_`` for ``-`` (e.g.
            ``metric=["clicked"], stage=5, guardrail=["latency_ms:decrease:0.05"]``).

    Returns:
        A Report with verdict PROMOTE, HOLD or ROLLBACK.
    """
    limits: CanaryThresholds
    columns, options, limits = resolve(
        SPEC, settings, columns=columns, options=options, thresholds=thresholds, config=config
    )
    guardrails = [parse_guardrail(g) for g in options.guardrails]
    method = method_named(options.inference, limits.primary_metric, options.tuning_units)
    request = _request(options, limits, guardrails, engine)
    log = open_log(data, engine, options)
    data = log.canary(columns, request, progress)
    if progress:
        progress("Computing statistics")
    warnings: list[str] = []
    by_name = {m.name: m for m in data.metrics}
    kind = {m.name: metric_kind(m, options.metric_type, log.name) for m in data.metrics}
    analysed = [
        analysed_metric(
            by_name[m],
            kind[m],
            method,
            warnings,
            data.pre_period,
            bootstrap=options.bootstrap,
            seed=options.seed,
        )
        for m in options.metrics
    ]
    guard_method = method.with_alpha(limits.guardrails)
    guarded = [
        tested_guardrail(
            g,
            *analysed_metric(
                by_name[g.column], kind[g.column], guard_method, warnings, data.pre_period
            ),
        )
        for g in guardrails
    ]
    primary = Tested(*analysed[0], margin=options.nim) if analysed else None
    k = harm_metrics(primary, guarded)
    harm_method = method.with_alpha(harm_alpha(limits.harm, max(k, 1)))
    metric = with_tests(primary, method, harm_method) if primary is not None else None
    guard_stats = [with_tests(g, guard_method, harm_method) for g in guarded]
    figures = health(data)
    validity = validity_of(data, options)
    if metric is not None and data.timeline is not None:
        cumulative, daily, novelty = metric_series(data.timeline, method, limits.novelty)
        metric = dataclasses.replace(metric, timeline=cumulative, daily=daily, novelty=novelty)
    segments = segment_stats(data, method)
    primary_metric = primary_check(metric, limits, options.allow_neutral)
    if metric is not None and primary is not None and primary_metric.failing:
        found = gap(
            metric,
            primary.estimate,
            method,
            allow_neutral=options.allow_neutral,
            mde_rel=options.mde_rel,
            units_per_day=_units_per_day(data, figures),
        )
        metric = dataclasses.replace(metric, gap=found)
    decision = [
        harm_check([m for m in [metric, *guard_stats] if m is not None], limits, k),
        primary_metric,
        guardrails_check(guard_stats, limits),
        novelty_check(metric.novelty if metric else None, limits, _width(data)),
        segment_check(segments, options.metrics[0] if options.metrics else None),
    ]
    hint = stage_hint(validity, options, limits)
    shift = prediction_shift(data)
    checks = canary_checks(figures.variants, validity, shift, limits, columns, decision, hint)
    verdict = decide(checks, CANARY_VERDICTS)
    reasons = _reasons(verdict, checks, metric, options)
    following = _whole(_next_stage(verdict, options.stage))
    if verdict is Verdict.PROMOTE and following is not None:
        reasons.append(f"promote from {options.stage:g}% to {following:g}%")
    stats = CanaryStats(
        health=figures,
        validity=validity,
        shift=shift,
        metric=metric,
        secondary_metrics=with_holm([m for m, _ in analysed[1:]], limits.primary_metric),
        segments=segments,
        stage=_whole(options.stage),
        next_stage=following,
        guardrails=guard_stats,
        inference=_inference(method, options, limits, k),
        timeline=timeline_of(data, checks),
    )
    warnings = canary_warnings(data, stats, checks, options, hint) + warnings
    return Report(
        command=COMMAND,
        verdict=verdict,
        checks=checks,
        stats=stats,
        warnings=warnings,
        inputs=Inputs(list(log.paths), log.files, data.rows),
        reasons=reasons,
    )


def _request(
    options: CanaryOptions,
    limits: CanaryThresholds,
    guardrails: Sequence[Guardrail],
    engine: str | Engine | None,
) -> CanaryRequest:
    """What the engine aggregates: every metric and guardrail column, once."""
    metrics = tuple(dict.fromkeys([*options.metrics, *(g.column for g in guardrails)]))
    return CanaryRequest(
        metrics=metrics,
        segments=tuple(options.segments),
        control=options.control,
        treatment=options.treatment,
        recent_window=int(limits.distribution_shift_window),
        top_segment_values=options.top,
        since=parse_time(options.since, "--since"),
        until=parse_time(options.until, "--until"),
        salt=options.salt,
        treatment_share=treatment_share(options),
        stage=options.stage,
        pre_log=open_log(options.covariate_log, engine, options) if options.covariate_log else None,
        pre_until=parse_time(options.pre_until, "--pre-until"),
        covariate=options.covariate,
        bucket="auto" if options.bucket == "none" else options.bucket,
        timeline=options.bucket != "none",
        time_unit=options.time_unit,
        ks=options.ks,
    )


def _inference(
    method: InferenceMethod, options: CanaryOptions, limits: CanaryThresholds, k: int
) -> Inference:
    return Inference(
        method=method.name,
        label=method.label,
        tuning_units=getattr(method, "tuning_units", None),
        primary_alpha=limits.primary_metric,
        guardrail_alpha=limits.guardrails,
        harm_alpha=limits.harm,
        harm_metrics=k,
        harm_alpha_each=harm_alpha(limits.harm, max(k, 1)),
    )


def _width(data: CanaryData) -> str | None:
    return data.timeline.width if data.timeline is not None else None


def _units_per_day(data: CanaryData, health: Health) -> float | None:
    """Units analysed per day so far (None on a log shorter than an hour)."""
    hours = health.duration_hours
    if hours is None or hours < 1:
        return None
    return data.analysed_units / (hours / 24.0)


def _reasons(
    verdict: Verdict, checks: Sequence[Check], metric: MetricStats | None, options: CanaryOptions
) -> list[str]:
    """Why: the failing checks that decided (and what a HOLD waits for), or what the promotion
    rests on; then any failing advisory (novelty, segment regression)."""
    by_id = {c.id: c for c in checks}
    failing = [c for c in checks if c.failing]
    if verdict is not Verdict.PROMOTE:
        stopping = verdict is Verdict.ROLLBACK
        reasons = [_reason(c) for c in failing if c.consequence.stops == stopping]
        if not stopping and by_id["primary_metric"].failing and metric is not None:
            waiting = gap_reason(metric, options.allow_neutral, options.mde_rel)
            if waiting:
                reasons.append(waiting)
    else:
        reasons = ["no rollback trigger fired"]
        for check_id in ("primary_metric", "guardrails"):
            if by_id[check_id].passed:
                reasons.append(by_id[check_id].message)
    reasons += [
        c.message
        for c in checks
        if c.advisory and c.passed is False and c.id != "distribution_shift"
    ]
    return reasons


def _reason(check: Check) -> str:
    if check.passed is None:  # a required check that could not be evaluated
        return (
            f"primary metric {check.message}; give --metric, or --allow-neutral to promote "
            "on guardrails alone"
        )
    return check.message


def _whole(value: float | None) -> float | int | None:
    """Stages as integers in JSON when they are whole percentages (5, not 5.0)."""
    return int(value) if value is not None and value == int(value) else value


def _next_stage(verdict: Verdict, stage: float | None) -> float | None:
    if verdict is Verdict.ROLLBACK:
        return 0.0
    if stage is None:
        return None
    return next_stage(stage) if verdict is Verdict.PROMOTE else stage
