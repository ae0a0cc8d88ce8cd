"""Sections of the bandit report: summary, arms, allocation, time-varying allocation, replay."""

from __future__ import annotations

from abtool.render.blocks import Block, Facts, Table, fmt_number, fmt_rate
from abtool.reports.result import Report
from abtool.results.bandit import BanditStats, ReplayStats
from abtool.stats.replay import PolicyValue


def _value(value: float, binary: bool) -> str:
    return fmt_rate(value) if binary else fmt_number(value)


def _interval(low: float, high: float, binary: bool) -> str:
    return f"[{_value(low, binary)}, {_value(high, binary)}]"


def sections(report: Report[BanditStats]) -> list[Block]:
    """Blocks of the bandit report, built from its statistics."""
    stats = report.stats
    binary = stats.reward_type == "binary"
    level = f"{100 * stats.confidence:g}%"
    rule = stats.rule
    loss_limit = f"{rule.max_loss:.2%} of its mean" if rule.relative_loss else f"{rule.max_loss:g}"
    summary = Facts(
        "Bandit",
        [
            ("reward", f"{stats.reward} ({stats.reward_type})"),
            ("arms", f"{len(stats.arms)}: {', '.join(a.name for a in stats.arms)}"),
            ("units", f"{stats.unit or 'rows'}; {stats.rows:,} rows read"),
            ("periods", f"{stats.periods} ({stats.period_source})"),
            ("estimator", stats.method),
            (
                "leader",
                f"{stats.leader}: P(best) {stats.leader_p_best:.4f}, expected loss "
                f"{fmt_number(stats.leader_expected_loss)}",
            ),
            ("winner", stats.winner or "none yet"),
            ("DROP", ", ".join(stats.dropped) or "none"),
            ("rolled back", ", ".join(stats.rolled_back) or "none"),
            (
                "rule",
                f"P(best) > {rule.p_best:g}, expected loss < {loss_limit}, "
                f">= {rule.min_pulls:,} units an arm; DROP below P(best) {rule.drop_below:g}",
            ),
            (
                "Monte Carlo",
                f"{stats.draws:,} draws, seed {stats.seed}, SE of P(best) <= {stats.mc_se:.4f}",
            ),
        ],
    )
    arms = Table(
        f"Arms (mean reward with {level} CI)",
        [
            "arm",
            "units",
            "mean",
            f"{level} CI",
            "P(best)",
            "expected loss",
            "error rate",
            "p99 ms",
            "status",
        ],
        [
            [
                a.name,
                f"{a.pulls:,}",
                _value(a.mean, binary),
                _interval(a.ci_low, a.ci_high, binary),
                f"{a.p_best:.4f}",
                fmt_number(a.expected_loss),
                fmt_rate(a.error_rate),
                fmt_number(a.latency_p99_ms),
                a.status.upper() if a.status in ("winner", "drop", "rollback") else a.status,
            ]
            for a in stats.arms
        ],
        frozenset({1, 2, 4, 5, 6, 7}),
    )
    alloc = stats.allocation
    allocation = Table(
        f"Next period's allocation (floor {alloc.floor:g}, epsilon {alloc.epsilon:g})",
        ["arm", "Thompson", "UCB1", "UCB1 index", "epsilon-greedy"],
        [
            [
                name,
                fmt_rate(a.thompson_share),
                fmt_rate(a.ucb1_share),
                fmt_number(a.ucb1_index),
                fmt_rate(a.egreedy_share),
            ]
            for name, a in alloc.arms.items()
        ],
        frozenset({1, 2, 3, 4}),
    )
    blocks: list[Block] = [
        summary,
        arms,
        allocation,
        Facts(
            "Time-varying allocation",
            [("estimator", stats.estimator), ("why unbiased", stats.time_varying_allocation)],
        ),
    ]
    if stats.replay is not None:
        blocks.append(replay_table(stats.replay, binary))
    return blocks


def _with_ci(value: PolicyValue, binary: bool) -> str:
    return f"{_value(value.value, binary)} {_interval(value.ci_low, value.ci_high, binary)}"


def replay_table(replay: ReplayStats, binary: bool) -> Table:
    """Each policy's replay, IPS and SNIPS value with its CI, and its replay regret."""
    level = f"{100 * replay.confidence:g}%"
    return Table(
        f"Offline replay ({replay.events:,} events, {replay.logging} logging; {level} CIs)",
        ["policy", "accepted", "replay", "IPS", "SNIPS", "regret (replay)"],
        [
            [
                p.policy,
                f"{p.accepted:,}",
                _with_ci(p.replay, binary),
                _with_ci(p.ips, binary),
                _with_ci(p.snips, binary),
                f"{fmt_number(p.replay.regret)} [{fmt_number(p.replay.regret_ci_low)}, "
                f"{fmt_number(p.replay.regret_ci_high)}]",
            ]
            for p in replay.policies
        ],
        frozenset({1}),
    )


def key_figures(report: Report[BanditStats]) -> str:
    """The headline numbers of a bandit report, for the gate table."""
    stats = report.stats
    parts = [
        f"leader {stats.leader} P(best) {stats.leader_p_best:.3f}",
        f"expected loss {fmt_number(stats.leader_expected_loss)}",
        f"{len(stats.arms)} arms, {sum(a.pulls for a in stats.arms):,} units",
    ]
    if stats.dropped:
        parts.append(f"DROP {', '.join(stats.dropped)}")
    if stats.rolled_back:
        parts.append(f"rollback {', '.join(stats.rolled_back)}")
    return ", ".join(parts)
