"""Interleave two rankings into one result list and record which ranker owns each item.

Serving code calls :func:`team_draft` (or :func:`balanced`) per request and logs the
returned ``items`` with their ``teams``; ``abtool interleave-report`` then credits each
click to the team that contributed the clicked item.

Randomness comes from a ``numpy.random.Generator`` (abtool's simulators use the same), so a
seeded generator gives the same interleaving every run. :func:`team_draft` consumes exactly
``size`` uniform draws per call, whatever the rankings, so :func:`team_draft_batch` over
``n`` sessions reproduces ``n`` successive :func:`team_draft` calls on the same generator.

References:
    Radlinski, F., Kurup, M., Joachims, T. (2008). How does clickthrough data reflect
    retrieval quality? CIKM '08, 43-52 (team-draft interleaving, Algorithm 2; balanced
    interleaving, Algorithm 1).
    Chapelle, O., Joachims, T., Radlinski, F., Yue, Y. (2012). Large-scale validation and
    analysis of interleaved search evaluation. ACM TOIS 30(1), 6.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

TEAM_A = "A"
TEAM_B = "B"

ItemT = TypeVar("ItemT", bound=Hashable)


@dataclass(frozen=True)
class Interleaving(Generic[ItemT]):
    """An interleaved list: ``items[k]`` is shown at position ``k + 1``, owned by ``teams[k]``.

    Attributes:
        items: the interleaved list, no duplicates.
        teams: ``"A"`` or ``"B"`` for each item: the ranker credited with it.
    """

    items: tuple[ItemT, ...]
    teams: tuple[str, ...]

    def team_items(self, team: str) -> tuple[ItemT, ...]:
        """The items owned by ``team``, in shown order."""
        return tuple(i for i, t in zip(self.items, self.teams, strict=True) if t == team)


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")


def team_draft(
    ranking_a: Sequence[ItemT],
    ranking_b: Sequence[ItemT],
    size: int,
    rng: np.random.Generator,
) -> Interleaving[ItemT]:
    """Team-draft interleaving (Radlinski, Kurup and Joachims 2008, Algorithm 2).

    Like picking sides for a game: the team with fewer picks so far picks next (a coin flip
    when both have the same number), and it picks its ranker's highest item not yet in the
    list. The list stops at ``size`` items or when either ranking has no unused item left,
    so the two teams' sizes never differ by more than one.

    Args:
        ranking_a: ranker A's items, best first (duplicates within a ranking are ignored).
        ranking_b: ranker B's items, best first.
        size: maximum length of the interleaved list.
        rng: the generator; exactly ``size`` uniforms are drawn per call.

    Returns:
        The interleaved items and the team of each.
    """
    _check_size(size)
    coins = rng.random(size) < 0.5  # True: A picks first when the teams are level
    items: list[ItemT] = []
    teams: list[str] = []
    shown: set[ItemT] = set()
    next_a = next_b = 0
    picks_a = picks_b = 0
    while len(items) < size:
        while next_a < len(ranking_a) and ranking_a[next_a] in shown:
            next_a += 1
        while next_b < len(ranking_b) and ranking_b[next_b] in shown:
            next_b += 1
        if next_a >= len(ranking_a) or next_b >= len(ranking_b):
            break
        a_picks = picks_a < picks_b or (picks_a == picks_b and bool(coins[len(items)]))
        if a_picks:
            item, team = ranking_a[next_a], TEAM_A
            picks_a += 1
        else:
            item, team = ranking_b[next_b], TEAM_B
            picks_b += 1
        items.append(item)
        teams.append(team)
        shown.add(item)
    return Interleaving(tuple(items), tuple(teams))


def balanced(
    ranking_a: Sequence[ItemT],
    ranking_b: Sequence[ItemT],
    size: int,
    rng: np.random.Generator,
) -> Interleaving[ItemT]:
    """Balanced interleaving (Radlinski, Kurup and Joachims 2008, Algorithm 1).

    A coin decides which ranker leads; then the list alternates between the rankers'
    pointers so that every prefix of the list holds the top ``k_a`` of A and the top ``k_b``
    of B with ``|k_a - k_b| <= 1``. An item both rankers hold is shown once.

    ``teams`` names the ranker whose turn placed each item. Balanced interleaving's own
    credit rule compares clicks within the top ``k`` of each ranking rather than by team,
    and its team sizes may differ by more than one; :func:`team_draft` is the method
    ``abtool interleave-report`` analyses.

    Args:
        ranking_a: ranker A's items, best first.
        ranking_b: ranker B's items, best first.
        size: maximum length of the interleaved list.
        rng: the generator; exactly one uniform is drawn per call.

    Returns:
        The interleaved items and the ranker that placed each.
    """
    _check_size(size)
    a_first = bool(rng.random() < 0.5)
    items: list[ItemT] = []
    teams: list[str] = []
    shown: set[ItemT] = set()
    k_a = k_b = 0
    while len(items) < size and k_a < len(ranking_a) and k_b < len(ranking_b):
        if k_a < k_b or (k_a == k_b and a_first):
            item, team = ranking_a[k_a], TEAM_A
            k_a += 1
        else:
            item, team = ranking_b[k_b], TEAM_B
            k_b += 1
        if item not in shown:
            items.append(item)
            teams.append(team)
            shown.add(item)
    return Interleaving(tuple(items), tuple(teams))


@dataclass(frozen=True)
class InterleavingBatch:
    """Team-draft interleavings of many sessions as arrays.

    Attributes:
        items: ``(sessions, size)`` item ids; ``-1`` pads a list that stopped early.
        is_b: ``(sessions, size)`` True where team B owns the item (False for padding).
        shown: ``(sessions, size)`` True where a position holds an item.
    """

    items: NDArray[np.int64]
    is_b: NDArray[np.bool_]
    shown: NDArray[np.bool_]


def team_draft_batch(
    rankings_a: NDArray[np.integer],
    rankings_b: NDArray[np.integer],
    size: int,
    rng: np.random.Generator,
) -> InterleavingBatch:
    """:func:`team_draft` for many sessions at once, vectorised over sessions.

    Row ``i`` equals ``team_draft(rankings_a[i], rankings_b[i], size, rng)`` of the ``i``-th
    of successive calls on an identically seeded generator (the same uniforms decide the
    same ties). Used by ``abtool simulate interleave`` and the simulation studies.

    Args:
        rankings_a: ``(sessions, la)`` ranker A's item ids, best first; ids are small
            non-negative integers (e.g. candidate indices), each at most once per row.
        rankings_b: ``(sessions, lb)`` ranker B's item ids, best first.
        size: maximum length of each interleaved list.
        rng: the generator; ``sessions * size`` uniforms are drawn.
    """
    _check_size(size)
    a = np.asarray(rankings_a, dtype=np.int64)
    b = np.asarray(rankings_b, dtype=np.int64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError("rankings must be 2-D arrays with one row per session")
    n = a.shape[0]
    coins = rng.random((n, size)) < 0.5
    width = int(max(a.max(initial=-1), b.max(initial=-1))) + 1
    if min(a.min(initial=0), b.min(initial=0)) < 0:
        raise ValueError("item ids must be non-negative")
    used = np.zeros((n, width), dtype=bool)
    rows = np.arange(n)
    items = np.full((n, size), -1, dtype=np.int64)
    is_b = np.zeros((n, size), dtype=bool)
    picks_a = np.zeros(n, dtype=np.int64)
    picks_b = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    for step in range(size):
        free_a = ~used[rows[:, None], a]
        free_b = ~used[rows[:, None], b]
        has_a, has_b = free_a.any(axis=1), free_b.any(axis=1)
        active &= has_a & has_b
        if not active.any():
            break
        top_a = a[rows, free_a.argmax(axis=1)]
        top_b = b[rows, free_b.argmax(axis=1)]
        a_picks = (picks_a < picks_b) | ((picks_a == picks_b) & coins[:, step])
        chosen = np.where(a_picks, top_a, top_b)
        items[active, step] = chosen[active]
        is_b[active, step] = ~a_picks[active]
        used[rows[active], chosen[active]] = True
        picks_a += active & a_picks
        picks_b += active & ~a_picks
    return InterleavingBatch(items=items, is_b=is_b, shown=items >= 0)
