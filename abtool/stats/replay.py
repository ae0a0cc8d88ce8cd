"""Offline evaluation of bandit policies on a logged bandit: replay, IPS and SNIPS.

The log is a time-ordered sequence of events ``(x_i, A_i, r_i, pi_i)``: context, arm shown,
reward and the logged probability that the logging policy showed ``A_i``. Each policy is run
through the log once:

* **Replay** (Li, Chu, Langford & Wang 2011). The policy chooses an arm for each event; when
  it matches the logged arm, the event is *accepted*: the policy sees its reward and learns
  from it; otherwise the event is skipped. Under uniform logging the accepted events are
  distributed exactly as an online run of the policy (their Theorem 1), so the mean reward of
  the accepted events estimates the policy's per-step reward over a run of that many steps.
  With non-uniform propensities a matching event is accepted with probability
  ``pi_min / pi_i`` (rejection sampling, Dudik et al. 2012), which makes every arm equally
  likely to be accepted and restores the theorem. Estimate: a ratio of sums over all events,
  so its delta-method variance ``sum m_i (r_i - V)**2 / (sum m_i)**2`` holds for adaptive
  policies as a martingale CLT (the CI covers the realised run's value).
* **IPS** (Horvitz & Thompson 1952; Dudik, Langford & Li 2011). Every event contributes
  ``q_i r_i / pi_i`` with ``q_i`` the policy's probability of the logged arm in its state at
  that event (the policy learns from the replay-accepted events); unbiased for the value of
  a fixed policy whatever the logging policy, as long as ``pi_i > 0`` is logged correctly.
  ``SNIPS`` divides by ``sum q_i / pi_i`` instead of ``N`` (Swaminathan & Joachims 2015):
  slightly biased, lower variance, invariant to a shift of the rewards.

Regret is the best fixed arm's value minus the policy's (per event, by the same estimator;
negative when a contextual policy beats every fixed arm), with a paired CI from the
difference of the two estimates' influence terms on the same events. The best fixed arm is
chosen on the same log, which makes its value (and the regret) slightly optimistic.

References:
    Li, L., Chu, W., Langford, J., Wang, X. (2011). Unbiased offline evaluation of
    contextual-bandit-based news article recommendation algorithms. WSDM 2011, 297-306.
    Li, L., Chu, W., Langford, J., Schapire, R. E. (2010). WWW 2010 (LinUCB).
    Dudik, M., Erhan, D., Langford, J., Li, L. (2012). Sample-efficient nonstationary policy
    evaluation for contextual bandits. UAI 2012 (replay with rejection sampling).
    Dudik, M., Langford, J., Li, L. (2011). Doubly robust policy evaluation and learning.
    ICML 2011.
    Swaminathan, A., Joachims, T. (2015). The self-normalized estimator for counterfactual
    learning. NeurIPS 28.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abtool.stats.bandit_policies import (
    UCB1,
    EpsilonGreedy,
    FixedArm,
    LinUCB,
    PolicySpec,
    Thompson,
)

Floats = NDArray[np.float64]
METHODS = ("replay", "ips", "snips")


@dataclass(frozen=True)
class PolicyTrace:
    """One pass of a policy through the log.

    ``accepted[i]``: the replay accepted event ``i`` (the policy learned from it);
    ``prob_logged[i]``: the policy's probability of the logged arm at event ``i``;
    ``events``: events processed (all, unless stopped after ``max_accepted``).
    """

    accepted: NDArray[np.bool_]
    prob_logged: Floats
    events: int


@dataclass(frozen=True)
class PolicyValue:
    """A policy's estimated reward per event and its regret against the best fixed arm."""

    method: str
    value: float
    se: float
    ci_low: float
    ci_high: float
    regret: float
    regret_se: float
    regret_ci_low: float
    regret_ci_high: float

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self)


@dataclass(frozen=True)
class PolicyEvaluation:
    """Replay, IPS and SNIPS values of one policy; ``accepted``: events replay accepted."""

    policy: str
    parameters: dict[str, object]
    accepted: int
    values: tuple[PolicyValue, ...]

    def value(self, method: str) -> PolicyValue:
        return next(v for v in self.values if v.method == method)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "parameters": self.parameters,
            "accepted": self.accepted,
            **{v.method: v.to_dict() for v in self.values},
        }


@dataclass(frozen=True)
class ReplayReport:
    """Every policy's evaluation on one log.

    Attributes:
        policies: evaluations, fixed arms first.
        best_fixed_arm: per method, the fixed arm with the highest value.
        events: events in the log.
        logging: ``uniform`` (no propensities given) or ``propensity``.
        min_propensity: the smallest logged propensity (rejection-sampling rate).
        confidence: the CIs' level.
        seed: the seed of the policies' and acceptance randomness.
    """

    policies: tuple[PolicyEvaluation, ...]
    best_fixed_arm: dict[str, str]
    events: int
    logging: str
    min_propensity: float
    confidence: float
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "policies": [p.to_dict() for p in self.policies],
            "best_fixed_arm": self.best_fixed_arm,
            "events": self.events,
            "logging": self.logging,
            "min_propensity": self.min_propensity,
            "confidence": self.confidence,
            "seed": self.seed,
        }


def run_policy(
    spec: PolicySpec,
    arms: NDArray[np.intp],
    rewards: Floats,
    *,
    n_arms: int,
    contexts: Floats | None,
    accept: NDArray[np.bool_],
    binary: bool,
    rng: np.random.Generator,
    max_accepted: int | None = None,
) -> PolicyTrace:
    """Pass ``spec`` through the log (replay's learning rule, IPS's action probabilities).

    The policy's state only changes at accepted events, so its choices for the events up to
    the next acceptance are computed in one block (vectorised); the block grows with the
    gaps between acceptances.

    Args:
        spec: the policy.
        arms: logged arm index of each event.
        rewards: reward of each event.
        n_arms: number of arms.
        contexts: ``(events, dims)`` standardised contexts, or None.
        accept: the rejection-sampling coin of each event (all True under uniform logging).
        binary: rewards are 0/1 (Thompson's model).
        rng: the policy's randomness.
        max_accepted: stop after this many accepted events (Li et al.'s evaluator of T steps).
    """
    n = arms.size
    dims = 0 if contexts is None else contexts.shape[1]
    state = spec.start(n_arms, dims, binary)
    accepted = np.zeros(n, dtype=bool)
    prob_logged = np.zeros(n)
    i, block, taken = 0, 4 * n_arms, 0
    while i < n and (max_accepted is None or taken < max_accepted):
        size = min(block, n - i)
        ctx = None if contexts is None else contexts[i : i + size]
        probs = state.probabilities(ctx, size, rng)
        u = rng.random(size)[:, None]
        choice = (np.cumsum(probs, axis=1) > u * probs.sum(axis=1, keepdims=True)).argmax(1)
        logged = arms[i : i + size]
        hits = np.flatnonzero((choice == logged) & accept[i : i + size])
        stop = int(hits[0]) if hits.size else size - 1
        prob_logged[i : i + stop + 1] = probs[np.arange(stop + 1), logged[: stop + 1]]
        if hits.size:
            j = i + stop
            accepted[j] = True
            taken += 1
            state.update(int(arms[j]), float(rewards[j]), None if contexts is None else contexts[j])
        i += stop + 1
        block = int(min(max(2 * (stop + 1), 8), 4096))
    return PolicyTrace(accepted, prob_logged, i)


def _ratio(numerator: Floats, weights: Floats, rewards: Floats) -> tuple[float, Floats]:
    """``sum w r / sum w`` and its influence terms ``w (r - V) / mean(w)``."""
    total = weights.sum()
    if total <= 0:
        return float("nan"), np.full(weights.size, np.nan)
    value = float(numerator.sum() / total)
    return value, weights * (rewards - value) / weights.mean()


def _estimates(trace: PolicyTrace, rewards: Floats, propensities: Floats) -> dict[str, Any]:
    n = trace.events
    r, pi, q = rewards[:n], propensities[:n], trace.prob_logged[:n]
    m = trace.accepted[:n].astype(np.float64)
    ips_terms = q * r / pi
    ips = float(ips_terms.mean())
    w = q / pi
    return {
        "replay": _ratio(m * r, m, r),
        "ips": (ips, ips_terms - ips),
        "snips": _ratio(w * r, w, r),
    }


def evaluate_policies(
    arms: ArrayLike,
    rewards: ArrayLike,
    arm_names: Sequence[str],
    *,
    propensities: ArrayLike | None = None,
    contexts: ArrayLike | None = None,
    policies: Sequence[PolicySpec] | None = None,
    binary: bool | None = None,
    confidence: float = 0.95,
    seed: int = 0,
) -> ReplayReport:
    """Replay, IPS and SNIPS values and regrets of fixed arms and learning policies.

    Args:
        arms: logged arm index (0..k-1) of each event, in time order.
        rewards: each event's reward.
        arm_names: the arms' names.
        propensities: logged probability of the logged arm (default uniform, ``1 / k``).
        contexts: ``(events, dims)`` context features (standardised here), or None.
        policies: learning policies (default epsilon-greedy 0.1, UCB1 scaled to the reward
            range, Thompson, and LinUCB when contexts are given); every fixed arm is added.
        binary: rewards are 0/1 (default: detected).
        confidence: CI level.
        seed: seed of the policies' and the acceptance randomness.

    Raises:
        ValueError: on mismatched lengths, unknown arms, propensities outside (0, 1] or
            fewer than two arms.
    """
    from scipy import special

    a = np.asarray(arms).astype(np.intp)
    r = np.asarray(rewards, dtype=np.float64)
    k = len(arm_names)
    if k < 2 or a.shape != r.shape or a.ndim != 1 or a.size == 0:
        raise ValueError("one arm and one reward an event, two arms or more")
    if a.min() < 0 or a.max() >= k or not np.all(np.isfinite(r)):
        raise ValueError("arms must index arm_names and rewards be finite")
    pi = np.full(a.size, 1.0 / k) if propensities is None else np.asarray(propensities, float)
    if pi.shape != a.shape or np.any(~(pi > 0)) or np.any(pi > 1):
        raise ValueError("propensities must lie in (0, 1], one an event")
    ctx = None if contexts is None else _standardise(np.asarray(contexts, dtype=np.float64))
    is_binary = bool(np.all((r == 0) | (r == 1))) if binary is None else binary
    if policies is None:
        spread = float(r.max() - r.min()) or 1.0
        policies = [EpsilonGreedy(), UCB1(1.0 if is_binary else spread), Thompson()]
        policies += [LinUCB()] if ctx is not None else []
    specs: list[PolicySpec] = [FixedArm(j, name) for j, name in enumerate(arm_names)]
    specs += list(policies)
    p_min = float(pi.min())
    accept = np.random.default_rng([seed, 0]).random(a.size) < p_min / pi
    estimates, accepted = [], []
    for index, spec in enumerate(specs):
        if isinstance(spec, FixedArm):  # vectorised: no learning
            hit = a == spec.arm
            trace = PolicyTrace(hit & accept, hit.astype(np.float64), a.size)
        else:
            trace = run_policy(
                spec,
                a,
                r,
                n_arms=k,
                contexts=ctx,
                accept=accept,
                binary=is_binary,
                rng=np.random.default_rng([seed, 1, index]),
            )
        estimates.append(_estimates(trace, r, pi))
        accepted.append(int(trace.accepted.sum()))
    z = float(special.ndtri(0.5 + confidence / 2.0))
    best = {m: int(np.nanargmax([e[m][0] for e in estimates[:k]])) for m in METHODS}
    evaluations = []
    for spec, est, acc in zip(specs, estimates, accepted, strict=True):
        values = []
        for m in METHODS:
            value, infl = est[m]
            best_value, best_infl = estimates[best[m]][m]
            se = float(np.sqrt(np.sum(infl**2)) / infl.size)
            diff = best_infl - infl
            r_se = float(np.sqrt(np.sum(diff**2)) / diff.size)
            regret = best_value - value
            values.append(
                PolicyValue(
                    m,
                    value,
                    se,
                    value - z * se,
                    value + z * se,
                    regret,
                    r_se,
                    regret - z * r_se,
                    regret + z * r_se,
                )
            )
        evaluations.append(PolicyEvaluation(spec.name, spec.to_dict(), acc, tuple(values)))
    return ReplayReport(
        policies=tuple(evaluations),
        best_fixed_arm={m: arm_names[best[m]] for m in METHODS},
        events=int(a.size),
        logging="uniform" if propensities is None else "propensity",
        min_propensity=p_min,
        confidence=confidence,
        seed=seed,
    )


def _standardise(x: Floats) -> Floats:
    x = x.reshape(x.shape[0], -1)
    if not np.all(np.isfinite(x)):
        raise ValueError("contexts must be finite")
    sd = x.std(axis=0)
    return np.asarray((x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0), dtype=np.float64)
