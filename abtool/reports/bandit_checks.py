"""bandit-report's checklist: guardrails per arm, then the stopping rule of the arms' comparison.

The guardrails compare each arm with a baseline, as canary-decide compares the treatment with
control: the ``--control`` arm, or else all the other arms pooled (so one failing arm stands
out against the rest). The stopping rule is :func:`abtool.stats.bandit_verdict.apply_rule`
split into its three conditions, so WINNER is reached exactly when that rule names a winner and
no guardrail fires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from abtool.aggregates.bandit import ArmHealth
from abtool.commands.bandit import SPEC, BanditColumns, BanditThresholds
from abtool.reports.result import Check
from abtool.stats.bandit import Comparison
from abtool.stats.bandit_verdict import BanditVerdict, VerdictRule, apply_rule


@dataclass(frozen=True)
class Guardrail:
    """One arm against its baseline: error rates, p99 latencies, their ratios, what fired."""

    arm: str
    baseline: str
    error_rate: float | None
    baseline_error_rate: float | None
    error_ratio: float | None
    latency_p99_ms: float | None
    baseline_latency_p99_ms: float | None
    latency_ratio: float | None
    error_fired: bool
    latency_fired: bool

    @property
    def fired(self) -> bool:
        return self.error_fired or self.latency_fired


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None:
        return None
    if base == 0:
        return 1.0 if value == 0 else float("inf")
    return value / base


def guardrails(
    health: Sequence[ArmHealth], limits: BanditThresholds, control: str | None
) -> list[Guardrail]:
    """Each arm (but ``control``) against ``control`` or the other arms pooled."""
    by_name = {h.name: h for h in health}
    requests = sum(h.requests for h in health)
    errors = sum(h.errors or 0 for h in health)
    out = []
    for arm in health:
        if arm.name == control:
            continue
        if control is not None:
            base = by_name[control]
            base_requests, base_errors = base.requests, base.errors
            base_p99, label = base.latency_p99_ms, control
        else:
            base_requests, base_errors = requests - arm.requests, errors - (arm.errors or 0)
            base_p99, label = arm.others_latency_p99_ms, "the other arms"
        rate = arm.errors / arm.requests if arm.errors is not None and arm.requests else None
        base_rate = (
            base_errors / base_requests if base_errors is not None and base_requests else None
        )
        error_ratio = _ratio(rate, base_rate)
        latency_ratio = _ratio(arm.latency_p99_ms, base_p99)
        out.append(
            Guardrail(
                arm=arm.name,
                baseline=label,
                error_rate=rate,
                baseline_error_rate=base_rate,
                error_ratio=error_ratio,
                latency_p99_ms=arm.latency_p99_ms,
                baseline_latency_p99_ms=base_p99,
                latency_ratio=latency_ratio,
                error_fired=error_ratio is not None
                and rate is not None
                and error_ratio > limits.error_rate
                and rate > limits.error_rate_floor,
                latency_fired=latency_ratio is not None and latency_ratio > limits.latency_p99,
            )
        )
    return out


def _times(ratio: float) -> str:
    return f"{ratio:.2f}x" if ratio != float("inf") else "baseline has none"


def _skipped(check_id: str, threshold: float, why: str) -> Check:
    return SPEC.make_check(check_id, None, None, threshold, f"skipped: {why}")


def _worst(guards: list[Guardrail], fired: str, ratio: str) -> Guardrail | None:
    """The arm to report: the highest ratio among those that fired, else overall."""
    rated = [g for g in guards if getattr(g, ratio) is not None]
    pool = [g for g in rated if getattr(g, fired)] or rated
    return max(pool, key=lambda g: getattr(g, ratio), default=None)


def _error_check(guards: list[Guardrail], limits: BanditThresholds, column: str) -> Check:
    worst = _worst(guards, "error_fired", "error_ratio")
    if worst is None or worst.error_ratio is None:
        return _skipped("error_rate", limits.error_rate, f"no '{column}' column")
    fired = [g for g in guards if g.error_fired]
    shown = fired or [worst]
    detail = "; ".join(
        f"{g.arm} error rate {g.error_rate:.2%} vs {g.baseline_error_rate:.2%} of {g.baseline} "
        f"({_times(g.error_ratio or 0.0)})"
        for g in shown
    )
    prefix = "roll back " + ", ".join(g.arm for g in fired) + ": " if fired else "highest: "
    return SPEC.make_check(
        "error_rate",
        not fired,
        worst.error_ratio,
        limits.error_rate,
        f"{prefix}{detail}; rollback when > {limits.error_rate:g}x and "
        f"> {limits.error_rate_floor:.2%}",
    )


def _latency_check(guards: list[Guardrail], limits: BanditThresholds, column: str) -> Check:
    worst = _worst(guards, "latency_fired", "latency_ratio")
    if worst is None or worst.latency_ratio is None:
        return _skipped("latency_p99", limits.latency_p99, f"no '{column}' values")
    fired = [g for g in guards if g.latency_fired]
    shown = fired or [worst]
    detail = "; ".join(
        f"{g.arm} p99 {g.latency_p99_ms:.1f} ms vs {g.baseline_latency_p99_ms:.1f} ms of "
        f"{g.baseline} ({_times(g.latency_ratio or 0.0)})"
        for g in shown
    )
    prefix = "roll back " + ", ".join(g.arm for g in fired) + ": " if fired else "highest: "
    return SPEC.make_check(
        "latency_p99",
        not fired,
        worst.latency_ratio,
        limits.latency_p99,
        f"{prefix}{detail}; rollback when > {limits.latency_p99:g}x",
    )


def bandit_checks(
    comparison: Comparison,
    outcome: BanditVerdict,
    rule: VerdictRule,
    guards: list[Guardrail],
    limits: BanditThresholds,
    columns: BanditColumns,
) -> list[Check]:
    """The checklist, in the order of the command's declared checks.

    Args:
        comparison: the arms' P(best), expected loss, means and pulls.
        outcome: the stopping rule's verdict on ``comparison`` (leader, DROP list).
        rule: the rule's thresholds, ``p_best`` resolved for the number of arms.
        guards: each arm against its baseline.
        limits: thresholds by check id.
        columns: column names, for the messages of skipped checks.
    """
    arms = comparison.arms
    applied = apply_rule(
        [a.p_best for a in arms],
        [a.expected_loss for a in arms],
        [a.mean for a in arms],
        [a.pulls for a in arms],
        rule,
    )
    lead = arms[int(applied.leader)]
    threshold = rule.threshold(len(arms))
    fewest = min(arms, key=lambda a: a.pulls)
    loss_ok = float(applied.loss_ratio) < 1.0
    if rule.relative_loss:
        loss_value = outcome.leader_relative_loss
        loss_text = f"{lead.expected_loss:.4g} = {loss_value:.2%} of its mean {lead.mean:.4g}"
        need = f"< {rule.max_loss:.2%} of its mean"
    else:
        loss_value = lead.expected_loss
        loss_text = f"{lead.expected_loss:.4g}"
        need = f"< {rule.max_loss:g}"
    others = [a for a in arms if a.name != lead.name]
    lowest = min(others, key=lambda a: a.p_best)
    dropped = outcome.dropped
    return [
        _error_check(guards, limits, columns.error),
        _latency_check(guards, limits, columns.latency),
        SPEC.make_check(
            "min_pulls",
            fewest.pulls >= rule.min_pulls,
            fewest.pulls,
            rule.min_pulls,
            f"fewest units: {fewest.name} with {fewest.pulls:,} (need >= {rule.min_pulls:,} "
            "in every arm)",
        ),
        SPEC.make_check(
            "p_best",
            lead.p_best > threshold,
            lead.p_best,
            threshold,
            f"leader {lead.name}: P(best) {lead.p_best:.4f} (WINNER needs > {threshold:g} "
            f"with {len(arms)} arms)",
        ),
        SPEC.make_check(
            "expected_loss",
            loss_ok,
            loss_value,
            rule.max_loss,
            f"leader {lead.name}: expected loss {loss_text} (WINNER needs {need})",
        ),
        SPEC.make_check(
            "drop",
            not dropped,
            lowest.p_best,
            rule.drop_below,
            f"DROP {', '.join(dropped)}: P(best) below {rule.drop_below:g} with >= "
            f"{rule.min_pulls:,} units"
            if dropped
            else f"lowest P(best): {lowest.name} {lowest.p_best:.4f} (DROP below "
            f"{rule.drop_below:g})",
        ),
    ]
