"""The next period's traffic shares under Thompson sampling, UCB1 and epsilon-greedy.

* **Thompson sampling** (Thompson 1933) sends a unit to the arm whose posterior draw is
  highest, i.e. to arm ``k`` with probability ``P(best)_k``; batched over a period, that is
  the share ``P(best)_k`` (Scott 2010). A floor ``f`` per arm,
  ``share_k = f + (1 - k f) P(best)_k``, keeps every arm in every period, so the per-period
  estimates stay defined, and guards against an early lock-in on a lucky arm. Default
  ``f = min(0.05, 0.5 / k)``: 5% an arm (at most half the traffic on floors).
* **UCB1** (Auer, Cesa-Bianchi & Fischer 2002): index ``mean_k + c sqrt(2 ln N / n_k)`` with
  ``N`` all pulls and ``c`` the reward range (1 for binary rewards; UCB1's guarantee assumes
  rewards in an interval of that width). The next pull goes to the largest index; batched,
  the arm with the largest index gets everything above the floors.
* **epsilon-greedy** (Sutton & Barto 2018, 2.2): ``1 - eps`` to the arm with the best mean,
  ``eps`` spread evenly; default ``eps = 0.1``.

References:
    Thompson, W. R. (1933). Biometrika 25, 285-294.
    Scott, S. L. (2010). A modern Bayesian look at the multi-armed bandit. Applied Stochastic
    Models in Business and Industry 26, 639-658.
    Auer, P., Cesa-Bianchi, N., Fischer, P. (2002). Finite-time analysis of the multiarmed
    bandit problem. Machine Learning 47, 235-256.
    Sutton, R. S., Barto, A. G. (2018). Reinforcement Learning: An Introduction, 2nd ed. MIT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from abtool.stats.bandit import Comparison

Floats = NDArray[np.float64]

DEFAULT_EPSILON = 0.1


def default_floor(arms: int) -> float:
    """5% an arm, at most half of the traffic in floors: ``min(0.05, 0.5 / arms)``."""
    return min(0.05, 0.5 / arms)


def _check_floor(floor: float, arms: int) -> None:
    if not 0.0 <= floor * arms <= 1.0:
        raise ValueError(f"floor {floor:g} times {arms} arms must lie in [0, 1]")


def thompson_shares(p_best: ArrayLike, floor: float) -> Floats:
    """``floor + (1 - k floor) P(best)`` over the last axis (arms)."""
    p = np.asarray(p_best, dtype=np.float64)
    _check_floor(floor, p.shape[-1])
    return np.asarray(floor + (1.0 - p.shape[-1] * floor) * p, dtype=np.float64)


def ucb1_indices(means: ArrayLike, pulls: ArrayLike, scale: float = 1.0) -> Floats:
    """``mean + scale sqrt(2 ln N / n)`` over the last axis; ``inf`` for an arm never pulled."""
    m = np.asarray(means, dtype=np.float64)
    n = np.asarray(pulls, dtype=np.float64)
    total = n.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        bonus = scale * np.sqrt(2.0 * np.log(np.maximum(total, 1.0)) / n)
    return np.asarray(np.where(n > 0, m + bonus, np.inf), dtype=np.float64)


def _one_hot(index: NDArray[np.intp], arms: int) -> Floats:
    return np.asarray(index[..., None] == np.arange(arms), dtype=np.float64)


def ucb1_shares(indices: ArrayLike, floor: float) -> Floats:
    """The largest index gets ``1 - (k - 1) floor``, every other arm ``floor``."""
    u = np.asarray(indices, dtype=np.float64)
    _check_floor(floor, u.shape[-1])
    k = u.shape[-1]
    return np.asarray(floor + (1.0 - k * floor) * _one_hot(u.argmax(axis=-1), k), np.float64)


def egreedy_shares(means: ArrayLike, epsilon: float = DEFAULT_EPSILON) -> Floats:
    """``1 - eps`` to the best mean (first on ties), ``eps / k`` to every arm."""
    m = np.asarray(means, dtype=np.float64)
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError("epsilon must lie in [0, 1]")
    k = m.shape[-1]
    return np.asarray(epsilon / k + (1.0 - epsilon) * _one_hot(m.argmax(axis=-1), k), np.float64)


@dataclass(frozen=True)
class Allocation:
    """Next period's shares under each policy, in the arms' order.

    Attributes:
        arms: arm names.
        thompson: Thompson-sampling shares with the floor.
        ucb1_index: UCB1 index of each arm.
        ucb1: batched UCB1 shares with the floor.
        egreedy: epsilon-greedy shares.
        floor: the floor per arm.
        epsilon: the epsilon of epsilon-greedy.
        reward_scale: UCB1's ``c`` (reward range).
    """

    arms: tuple[str, ...]
    thompson: tuple[float, ...]
    ucb1_index: tuple[float, ...]
    ucb1: tuple[float, ...]
    egreedy: tuple[float, ...]
    floor: float
    epsilon: float
    reward_scale: float

    def to_dict(self) -> dict[str, Any]:
        per_arm = {
            name: {
                "thompson_share": self.thompson[k],
                "ucb1_index": self.ucb1_index[k],
                "ucb1_share": self.ucb1[k],
                "egreedy_share": self.egreedy[k],
            }
            for k, name in enumerate(self.arms)
        }
        return {
            "arms": per_arm,
            "floor": self.floor,
            "epsilon": self.epsilon,
            "reward_scale": self.reward_scale,
        }


def next_allocation(
    comparison: Comparison,
    *,
    floor: float | None = None,
    epsilon: float = DEFAULT_EPSILON,
    reward_scale: float = 1.0,
    active: Sequence[str] | None = None,
) -> Allocation:
    """Shares for the next period from a comparison's P(best), means and pulls.

    Args:
        comparison: the arms' P(best), means and pulls.
        floor: minimum share of every active arm (default :func:`default_floor`).
        epsilon: exploration share of epsilon-greedy.
        reward_scale: UCB1's exploration scale, the width of the reward range.
        active: arms that still get traffic (default all); the others get 0 and the
            active arms' P(best) is renormalised.

    Raises:
        ValueError: for an unknown active arm or a floor that does not fit.
    """
    names = tuple(a.name for a in comparison.arms)
    keep = names if active is None else tuple(active)
    unknown = sorted(set(keep) - set(names))
    if unknown or not keep:
        raise ValueError(f"unknown or no active arms: {unknown}")
    idx = np.array([names.index(n) for n in keep])
    k = len(keep)
    fl = default_floor(k) if floor is None else floor
    p_best = np.array([a.p_best for a in comparison.arms])[idx]
    p_best = p_best / p_best.sum() if p_best.sum() > 0 else np.full(k, 1.0 / k)
    means = np.array([a.mean for a in comparison.arms])[idx]
    pulls = np.array([a.pulls for a in comparison.arms])[idx]
    index_all = ucb1_indices(
        [a.mean for a in comparison.arms], [a.pulls for a in comparison.arms], reward_scale
    )

    def spread(values: Floats) -> tuple[float, ...]:
        out = np.zeros(len(names))
        out[idx] = values
        return tuple(float(v) for v in out)

    return Allocation(
        arms=names,
        thompson=spread(thompson_shares(p_best, fl)),
        ucb1_index=tuple(float(v) for v in index_all),
        ucb1=spread(ucb1_shares(ucb1_indices(means, pulls, reward_scale), fl)),
        egreedy=spread(egreedy_shares(means, epsilon)),
        floor=fl,
        epsilon=epsilon,
        reward_scale=reward_scale,
    )
