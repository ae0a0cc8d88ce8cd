"""Offline replay and IPS on simulated logs with known arm rates and logging policies."""

from __future__ import annotations

import json

import numpy as np
import pytest

from abtool.stats.bandit_policies import UCB1, EpsilonGreedy, LinUCB, PolicySpec, Thompson
from abtool.stats.replay import evaluate_policies, run_policy

RATES = np.array([0.05, 0.10, 0.15])


def uniform_log(
    rng: np.random.Generator, events: int, rates: np.ndarray = RATES
) -> tuple[np.ndarray, np.ndarray]:
    arms = rng.integers(0, rates.size, events)
    return arms, (rng.random(events) < rates[arms]).astype(float)


def test_replay_of_fixed_arms_covers_true_rates_under_uniform_logging() -> None:
    rng = np.random.default_rng(21)
    runs = 400
    covered = np.zeros((runs, RATES.size), dtype=bool)
    values = np.zeros((runs, RATES.size))
    for s in range(runs):
        arms, rewards = uniform_log(rng, 1500)
        report = evaluate_policies(arms, rewards, ["a", "b", "c"], policies=[], seed=s)
        for k, ev in enumerate(report.policies):
            v = ev.value("replay")
            values[s, k] = v.value
            covered[s, k] = v.ci_low <= RATES[k] <= v.ci_high
    assert covered.mean() == pytest.approx(0.95, abs=0.02)
    assert covered.mean(0) == pytest.approx([0.95] * 3, abs=0.035)
    mc = values.std(0) / np.sqrt(runs)
    assert np.all(np.abs(values.mean(0) - RATES) < 3.5 * mc)


def confounded_log(rng: np.random.Generator, events: int):
    """Context x in {0, 1}; rewards higher when x = 1; the logger shows arm c mostly when x = 1."""
    x = rng.integers(0, 2, events)
    rates = np.array([[0.04, 0.08, 0.05], [0.12, 0.16, 0.20]])  # [x, arm]
    show = np.array([[0.45, 0.45, 0.10], [0.15, 0.15, 0.70]])
    cum = show[x].cumsum(1)
    arms = (rng.random(events)[:, None] < cum).argmax(1)
    rewards = (rng.random(events) < rates[x, arms]).astype(float)
    return arms, rewards, show[x, arms], x, rates.mean(0)


def test_ips_is_unbiased_under_a_non_uniform_logging_policy() -> None:
    rng = np.random.default_rng(22)
    runs = 400
    est = {m: np.zeros((runs, 3)) for m in ("ips", "snips", "replay", "naive")}
    covered = np.zeros((runs, 3), dtype=bool)
    truth = None
    for s in range(runs):
        arms, rewards, pi, _, truth = confounded_log(rng, 3000)
        report = evaluate_policies(
            arms, rewards, ["a", "b", "c"], propensities=pi, policies=[], seed=s
        )
        for k, ev in enumerate(report.policies):
            for m in ("ips", "snips", "replay"):
                est[m][s, k] = ev.value(m).value
            ips = ev.value("ips")
            covered[s, k] = ips.ci_low <= truth[k] <= ips.ci_high
            est["naive"][s, k] = rewards[arms == k].mean()
    for m in ("ips", "snips", "replay"):
        mc = est[m].std(0) / np.sqrt(runs)
        assert np.all(np.abs(est[m].mean(0) - truth) < 3.5 * mc), m
    # The arms' plain means are confounded by the logging policy: far off.
    naive_mc = est["naive"].std(0) / np.sqrt(runs)
    assert np.all(np.abs(est["naive"].mean(0) - truth) > 8 * naive_mc)
    assert covered.mean() == pytest.approx(0.95, abs=0.02)


LEARNABLE = np.array([0.2, 0.35, 0.5])


def online_run(spec: PolicySpec, steps: int, rng: np.random.Generator) -> float:
    """The policy played live against the true arms for ``steps`` steps: mean reward."""
    rates = LEARNABLE
    state = spec.start(rates.size, 0, True)
    total = 0.0
    for _ in range(steps):
        probs = state.probabilities(None, 1, rng)[0]
        arm = int((probs.cumsum() > rng.random()).argmax())
        reward = float(rng.random() < rates[arm])
        state.update(arm, reward, None)
        total += reward
    return total / steps


@pytest.mark.parametrize("spec", [UCB1(), Thompson(), EpsilonGreedy(0.2)], ids=str)
def test_replay_is_distributed_as_an_online_run(spec: PolicySpec) -> None:
    # Li et al. (2011), Theorem 1: under uniform logging, replay stopped after T accepted
    # events is distributed as T steps of the policy run online.
    rng = np.random.default_rng(23)
    runs, steps = 160, 120
    replayed, live = np.zeros(runs), np.zeros(runs)
    for s in range(runs):
        arms, rewards = uniform_log(rng, 1000, LEARNABLE)
        trace = run_policy(
            spec,
            arms,
            rewards,
            n_arms=3,
            contexts=None,
            accept=np.ones(arms.size, bool),
            binary=True,
            rng=rng,
            max_accepted=steps,
        )
        assert trace.accepted.sum() == steps
        replayed[s] = rewards[trace.accepted].mean()
        live[s] = online_run(spec, steps, rng)
    se = np.sqrt(replayed.var() / runs + live.var() / runs)
    assert abs(replayed.mean() - live.mean()) < 4 * se
    # Both learn: well above the uniform policy's 0.35.
    assert replayed.mean() > 0.38


def test_linucb_beats_the_best_fixed_arm_on_contextual_rewards() -> None:
    rng = np.random.default_rng(24)
    n = 20_000
    x = rng.standard_normal((n, 2))
    arms = rng.integers(0, 3, n)
    # Arm 0 is best when x0 > 0, arm 1 when x1 > 0, arm 2 in between.
    logits = np.column_stack([-2 + 1.5 * x[:, 0], -2 + 1.5 * x[:, 1], np.full(n, -1.6)])
    rewards = (rng.random(n) < 1 / (1 + np.exp(-logits[np.arange(n), arms]))).astype(float)
    report = evaluate_policies(arms, rewards, ["a", "b", "c"], contexts=x, seed=1)
    lin = next(p for p in report.policies if p.policy.startswith("linucb"))
    for method in ("replay", "ips"):
        assert lin.value(method).regret_ci_high < 0, method
    fixed = [p for p in report.policies if p.policy.startswith("arm:")]
    best = report.best_fixed_arm["replay"]
    assert next(p for p in fixed if p.policy == f"arm:{best}").value("replay").regret == 0.0
    data = json.loads(json.dumps(report.to_dict()))
    assert data["policies"][0]["replay"]["method"] == "replay"
    assert {p["policy"] for p in data["policies"]} >= {"ucb1", "thompson", "egreedy(0.1)"}


def test_linucb_state_is_ridge_regression() -> None:
    rng = np.random.default_rng(25)
    state = LinUCB().start(2, 3, False)
    x = rng.standard_normal((50, 3))
    y = x @ [0.5, -1.0, 2.0] + rng.standard_normal(50)
    for xi, yi in zip(x, y, strict=True):
        state.update(1, float(yi), xi)
    design = np.hstack([np.ones((50, 1)), x])
    ridge = np.linalg.solve(np.eye(4) + design.T @ design, design.T @ y)
    assert state.coefficients()[1] == pytest.approx(ridge, rel=1e-9)  # type: ignore[attr-defined]
    assert state.coefficients()[0] == pytest.approx(np.zeros(4))  # type: ignore[attr-defined]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="propensities"):
        evaluate_policies([0, 1], [1.0, 0.0], ["a", "b"], propensities=[0.5, 0.0])
    with pytest.raises(ValueError, match="arms must index"):
        evaluate_policies([0, 2], [1.0, 0.0], ["a", "b"])
