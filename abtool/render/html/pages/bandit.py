"""Plots of the bandit-report page, each read from the report dictionary."""

from __future__ import annotations

from collections.abc import Iterator

from abtool.render.html.pages.common import MAX_BARS, Report, cut
from abtool.render.html.plots import (
    Plot,
    Reference,
    bucket_series,
    forest,
    grouped_bars,
    ranked_bars,
)

_FAILING = ("drop", "rollback")


def bandit_p_best(report: Report) -> Plot | None:
    """Reads ``stats.arms[].p_best`` and ``status``; the WINNER threshold as a line."""
    stats = report["stats"]
    arms = stats.get("arms", [])[:MAX_BARS]
    threshold = stats.get("rule", {}).get("p_best")
    return ranked_bars(
        [a["name"] for a in arms],
        [a["p_best"] for a in arms],
        failing=[a.get("status") in _FAILING for a in arms],
        references=[Reference(threshold, "WINNER threshold", "expected", "x")]
        if threshold is not None
        else [],
        key="p_best",
        title="Probability of being the best arm" + cut(stats.get("arms", [])),
        xlabel="P(best)",
    )


def bandit_means(report: Report) -> Plot | None:
    """Reads ``stats.arms[]``: each arm's mean reward with its CI (DROP/rollback vermilion)."""
    stats = report["stats"]
    arms = stats.get("arms", [])[:MAX_BARS]
    level = f"{100 * stats.get('confidence', 0.95):g}%"
    return forest(
        [a["name"] for a in arms],
        [a["mean"] for a in arms],
        [a["ci_low"] for a in arms],
        [a["ci_high"] for a in arms],
        failing=[a.get("status") in _FAILING for a in arms],
        percent=stats.get("reward_type") == "binary",
        key="arm_means",
        title=f"Mean {stats.get('reward', 'reward')} per arm with {level} CI",
        xlabel=f"mean reward ({stats.get('estimator', 'estimate')})",
    )


def bandit_allocation(report: Report) -> Plot | None:
    """Reads ``stats.allocation.arms``: next period's share per arm under each policy."""
    allocation = report["stats"].get("allocation")
    if not allocation:
        return None
    arms = list(allocation["arms"])[:MAX_BARS]
    shares = allocation["arms"]
    return grouped_bars(
        arms,
        {
            "Thompson": [shares[a]["thompson_share"] for a in arms],
            "UCB1": [shares[a]["ucb1_share"] for a in arms],
            "ε-greedy": [shares[a]["egreedy_share"] for a in arms],
        },
        percent=True,
        key="allocation",
        title="Next period's allocation per policy",
        ylabel="share of traffic",
    )


def bandit_shares(report: Report) -> Iterator[Plot | None]:
    """Reads ``stats.timeline``: each arm's share of every period, and its mean reward."""
    stats = report["stats"]
    timeline = stats.get("timeline")
    if not timeline:
        return
    yield bucket_series(
        timeline["period"],
        timeline["share"],
        percent=True,
        key="share_over_time",
        title="Share of each period's units per arm (the bandit's allocation)",
        ylabel="share",
        xlabel="period",
    )
    yield bucket_series(
        timeline["period"],
        timeline["mean"],
        percent=stats.get("reward_type") == "binary",
        key="mean_over_time",
        title=f"Mean {stats.get('reward', 'reward')} per arm and period",
        ylabel="mean reward",
        xlabel="period",
    )


def bandit_replay(report: Report) -> Plot | None:
    """Reads ``stats.replay.policies[].replay``: each policy's replay value with its CI."""
    replay = report["stats"].get("replay")
    if not replay:
        return None
    policies = replay["policies"][:MAX_BARS]
    best = replay["best_fixed_arm"].get("replay")
    best_value = next(
        (p["replay"]["value"] for p in policies if p["policy"] == f"arm:{best}"), None
    )
    return forest(
        [p["policy"] for p in policies],
        [p["replay"]["value"] for p in policies],
        [p["replay"]["ci_low"] for p in policies],
        [p["replay"]["ci_high"] for p in policies],
        references=[Reference(best_value, f"best fixed arm ({best})", "expected", "x")]
        if best_value is not None
        else [],
        percent=report["stats"].get("reward_type") == "binary",
        key="replay_values",
        title=f"Replay value per policy with {100 * replay['confidence']:g}% CI",
        xlabel="reward per event",
    )
