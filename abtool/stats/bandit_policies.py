"""Online bandit policies for offline evaluation: fixed arm, epsilon-greedy, UCB1, Thompson, LinUCB.

A policy is a frozen *spec* (its parameters, ``name`` and ``to_dict``) whose ``start`` returns a
fresh mutable *state* with two methods:

* ``probabilities(contexts, size, rng)``: the policy's probability of choosing each arm for
  each of the next ``size`` events, assuming it learns nothing in between (``(size, arms)``).
  Deterministic policies (UCB1, LinUCB) return one-hot rows; Thompson sampling returns the
  one-hot row of its posterior draw, an unbiased stand-in for its choice probabilities.
* ``update(arm, reward, context)``: learn from one observed reward.

Every policy first plays the arms it has not yet seen (uniformly among them), as UCB1 and
epsilon-greedy prescribe (Auer et al. 2002).

References:
    Auer, P., Cesa-Bianchi, N., Fischer, P. (2002). Finite-time analysis of the multiarmed
    bandit problem. Machine Learning 47, 235-256 (UCB1; epsilon-greedy).
    Thompson, W. R. (1933). Biometrika 25, 285-294; Chapelle, O., Li, L. (2011). An empirical
    evaluation of Thompson sampling. NeurIPS 24.
    Li, L., Chu, W., Langford, J., Schapire, R. E. (2010). A contextual-bandit approach to
    personalized news article recommendation. WWW 2010, 661-670 (LinUCB, disjoint model,
    Algorithm 1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]


class PolicyState(Protocol):
    """A running policy (see the module docstring)."""

    def probabilities(
        self, contexts: Floats | None, size: int, rng: np.random.Generator
    ) -> Floats: ...

    def update(self, arm: int, reward: float, context: Floats | None) -> None: ...


class PolicySpec(Protocol):
    """A policy's parameters; ``start`` gives a fresh state."""

    @property
    def name(self) -> str: ...

    def start(self, arms: int, dims: int, binary: bool) -> PolicyState: ...

    def to_dict(self) -> dict[str, object]: ...


def _one_hot(index: NDArray[np.intp], arms: int) -> Floats:
    return np.asarray(index[:, None] == np.arange(arms), dtype=np.float64)


class _Counts:
    """Pulls, reward sums and sums of squares per arm."""

    def __init__(self, arms: int) -> None:
        self.n = np.zeros(arms)
        self.total = np.zeros(arms)
        self.squares = np.zeros(arms)

    def update(self, arm: int, reward: float, context: Floats | None) -> None:
        self.n[arm] += 1
        self.total[arm] += reward
        self.squares[arm] += reward * reward

    def means(self) -> Floats:
        return self.total / np.maximum(self.n, 1.0)

    def unseen(self, below: int, size: int) -> Floats | None:
        """Uniform rows over the arms with fewer than ``below`` pulls, if there are any."""
        missing = self.n < below
        if not missing.any():
            return None
        return np.tile(missing / missing.sum(), (size, 1))


@dataclass(frozen=True)
class FixedArm:
    """Always the same arm (the comparator of regret)."""

    arm: int
    label: str = ""

    @property
    def name(self) -> str:
        return f"arm:{self.label or self.arm}"

    def start(self, arms: int, dims: int, binary: bool) -> PolicyState:
        return _FixedState(self.arm, arms)

    def to_dict(self) -> dict[str, object]:
        return {"policy": "fixed_arm", **asdict(self)}


class _FixedState:
    def __init__(self, arm: int, arms: int) -> None:
        self.row = np.zeros(arms)
        self.row[arm] = 1.0

    def probabilities(self, contexts: Floats | None, size: int, rng: np.random.Generator) -> Floats:
        return np.tile(self.row, (size, 1))

    def update(self, arm: int, reward: float, context: Floats | None) -> None:
        pass


@dataclass(frozen=True)
class EpsilonGreedy:
    """Best mean so far with probability ``1 - epsilon``, a uniform arm otherwise."""

    epsilon: float = 0.1

    @property
    def name(self) -> str:
        return f"egreedy({self.epsilon:g})"

    def start(self, arms: int, dims: int, binary: bool) -> PolicyState:
        return _EpsilonGreedyState(arms, self.epsilon)

    def to_dict(self) -> dict[str, object]:
        return {"policy": "egreedy", **asdict(self)}


class _EpsilonGreedyState(_Counts):
    def __init__(self, arms: int, epsilon: float) -> None:
        super().__init__(arms)
        self.epsilon = epsilon

    def probabilities(self, contexts: Floats | None, size: int, rng: np.random.Generator) -> Floats:
        first = self.unseen(1, size)
        if first is not None:
            return first
        k = self.n.size
        row = np.full(k, self.epsilon / k)
        row[int(np.argmax(self.means()))] += 1.0 - self.epsilon
        return np.tile(row, (size, 1))


@dataclass(frozen=True)
class UCB1:
    """Largest ``mean + scale sqrt(2 ln t / n)``; ``scale`` is the reward range (1 if binary)."""

    scale: float = 1.0

    @property
    def name(self) -> str:
        return "ucb1"

    def start(self, arms: int, dims: int, binary: bool) -> PolicyState:
        return _UCB1State(arms, self.scale)

    def to_dict(self) -> dict[str, object]:
        return {"policy": "ucb1", **asdict(self)}


class _UCB1State(_Counts):
    def __init__(self, arms: int, scale: float) -> None:
        super().__init__(arms)
        self.scale = scale

    def probabilities(self, contexts: Floats | None, size: int, rng: np.random.Generator) -> Floats:
        first = self.unseen(1, size)
        if first is not None:
            return first
        index = self.means() + self.scale * np.sqrt(2.0 * np.log(self.n.sum()) / self.n)
        return _one_hot(np.full(size, int(np.argmax(index))), self.n.size)


@dataclass(frozen=True)
class Thompson:
    """Thompson sampling: Beta(1, 1) prior for binary rewards, a normal mean otherwise."""

    @property
    def name(self) -> str:
        return "thompson"

    def start(self, arms: int, dims: int, binary: bool) -> PolicyState:
        return _ThompsonState(arms, binary)

    def to_dict(self) -> dict[str, object]:
        return {"policy": "thompson"}


class _ThompsonState(_Counts):
    def __init__(self, arms: int, binary: bool) -> None:
        super().__init__(arms)
        self.binary = binary

    def probabilities(self, contexts: Floats | None, size: int, rng: np.random.Generator) -> Floats:
        k = self.n.size
        if self.binary:
            draws = rng.beta(1.0 + self.total, 1.0 + self.n - self.total, size=(size, k))
        else:
            # Flat-prior normal posterior of each mean; needs two rewards an arm first.
            first = self.unseen(2, size)
            if first is not None:
                return first
            mean = self.means()
            var = np.maximum(self.squares - self.n * mean * mean, 0.0) / (self.n - 1.0)
            draws = mean + np.sqrt(var / self.n) * rng.standard_normal((size, k))
        return _one_hot(draws.argmax(axis=1), k)


@dataclass(frozen=True)
class LinUCB:
    """Disjoint LinUCB: per arm a ridge regression of reward on ``[1, context]`` and the
    optimistic score ``x'theta_a + alpha sqrt(x' A_a^-1 x)``.

    ``alpha = 1`` by default; Li et al.'s bound ``1 + sqrt(ln(2 / delta) / 2)`` gives 2.36 for
    ``delta = 0.05`` and explores more. Contexts should be standardised (the replay does it).
    """

    alpha: float = 1.0

    @property
    def name(self) -> str:
        return f"linucb({self.alpha:g})"

    def start(self, arms: int, dims: int, binary: bool) -> PolicyState:
        return _LinUCBState(arms, dims + 1, self.alpha)

    def to_dict(self) -> dict[str, object]:
        return {"policy": "linucb", **asdict(self)}


class _LinUCBState:
    def __init__(self, arms: int, dims: int, alpha: float) -> None:
        self.a_inv = np.tile(np.eye(dims), (arms, 1, 1))
        self.b = np.zeros((arms, dims))
        self.alpha = alpha

    @staticmethod
    def _design(contexts: Floats | None, size: int) -> Floats:
        ones = np.ones((size, 1))
        return ones if contexts is None else np.hstack([ones, contexts.reshape(size, -1)])

    def probabilities(self, contexts: Floats | None, size: int, rng: np.random.Generator) -> Floats:
        x = self._design(contexts, size)
        theta = np.einsum("kij,kj->ki", self.a_inv, self.b)
        width = np.sqrt(np.einsum("bi,kij,bj->bk", x, self.a_inv, x))
        score = x @ theta.T + self.alpha * width
        return _one_hot(score.argmax(axis=1), self.b.shape[0])

    def update(self, arm: int, reward: float, context: Floats | None) -> None:
        x = self._design(context, 1)[0]
        a_inv = self.a_inv[arm]
        ax = a_inv @ x
        # Sherman-Morrison: (A + x x')^-1 = A^-1 - A^-1 x x' A^-1 / (1 + x' A^-1 x).
        self.a_inv[arm] = a_inv - np.outer(ax, ax) / (1.0 + x @ ax)
        self.b[arm] += reward * x

    def coefficients(self) -> Floats:
        """Each arm's ridge coefficients ``A_a^-1 b_a`` (intercept first)."""
        return np.asarray(np.einsum("kij,kj->ki", self.a_inv, self.b), dtype=np.float64)
