"""Team-draft and balanced interleaving: properties, determinism and the batch version."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import abtool
from abtool.interleaving import balanced, team_draft, team_draft_batch

rankings = st.lists(st.integers(0, 30), max_size=25)
sizes = st.integers(0, 30)
seeds = st.integers(0, 2**32 - 1)


def _dedupe(ranking: list[int]) -> list[int]:
    return list(dict.fromkeys(ranking))


@settings(max_examples=300, deadline=None)
@given(rankings, rankings, sizes, seeds)
def test_team_draft_properties(a: list[int], b: list[int], size: int, seed: int) -> None:
    result = team_draft(a, b, size, np.random.default_rng(seed))
    assert len(result.items) == len(result.teams) <= size
    assert len(set(result.items)) == len(result.items)  # no duplicates
    assert set(result.teams) <= {"A", "B"}
    for item, team in zip(result.items, result.teams, strict=True):
        assert item in (a if team == "A" else b)  # each item comes from its team's ranking
    picks_a, picks_b = result.team_items("A"), result.team_items("B")
    assert abs(len(picks_a) - len(picks_b)) <= 1
    for picks, ranking in ((picks_a, _dedupe(a)), (picks_b, _dedupe(b))):
        order = [ranking.index(x) for x in picks]
        assert order == sorted(order)  # a team's picks keep its ranker's order
    # The list stops only at `size` or when a ranking has no unused item left.
    if len(result.items) < size:
        shown = set(result.items)
        assert set(a) <= shown or set(b) <= shown


@settings(max_examples=300, deadline=None)
@given(rankings, rankings, sizes, seeds)
def test_balanced_properties(a: list[int], b: list[int], size: int, seed: int) -> None:
    result = balanced(a, b, size, np.random.default_rng(seed))
    assert len(result.items) <= size
    assert len(set(result.items)) == len(result.items)
    assert set(result.items) <= set(a) | set(b)
    # Defining property: every prefix is the union of top-k_a of A and top-k_b of B,
    # with |k_a - k_b| <= 1.
    for k in range(1, len(result.items) + 1):
        prefix = set(result.items[:k])
        ok = False
        for k_a in range(len(a) + 1):
            for k_b in (k_a - 1, k_a, k_a + 1):
                if 0 <= k_b <= len(b) and set(a[:k_a]) | set(b[:k_b]) == prefix:
                    ok = True
        assert ok, (k, result.items)


def test_team_draft_is_deterministic_given_a_seed() -> None:
    a, b = list("abcdefgh"), list("hgfedcba")
    first = team_draft(a, b, 6, np.random.default_rng(42))
    assert first == team_draft(a, b, 6, np.random.default_rng(42))
    seen = {team_draft(a, b, 6, np.random.default_rng(s)).items for s in range(50)}
    assert len(seen) > 1  # the coin flips matter


def test_team_draft_hand_worked_example() -> None:
    # Coins: A leads when the teams are level and the uniform is < 0.5.
    rng = np.random.default_rng(0)
    coins = np.random.default_rng(0).random(4) < 0.5
    result = team_draft(["a", "b", "c", "d"], ["b", "e", "a", "f"], 4, rng)
    first = "A" if coins[0] else "B"
    assert result.teams[0] == first
    assert sorted(result.teams[:2]) == ["A", "B"] and sorted(result.teams[2:]) == ["A", "B"]
    if first == "A":
        assert result.items[:2] == ("a", "b")
    else:
        assert result.items[:2] == ("b", "a")


def test_identical_rankings_give_each_team_half() -> None:
    ranking = list(range(10))
    counts = np.zeros(10)
    rng = np.random.default_rng(1)
    for _ in range(2000):
        result = team_draft(ranking, ranking, 10, rng)
        assert result.items == tuple(ranking)  # both propose the same next item
        counts += np.array([t == "B" for t in result.teams])
    # Position 1 goes to B on about half the sessions.
    assert abs(counts[0] / 2000 - 0.5) < 0.05


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 30), st.integers(1, 12), st.integers(0, 15), seeds)
def test_batch_equals_successive_calls(n: int, width: int, size: int, seed: int) -> None:
    make = np.random.default_rng(seed + 1)
    a = np.array([make.permutation(width + 3)[:width] for _ in range(n)])
    b = np.array([make.permutation(width + 3)[: max(1, width - 2)] for _ in range(n)])
    batch = team_draft_batch(a, b, size, np.random.default_rng(seed))
    rng = np.random.default_rng(seed)
    for i in range(n):
        one = team_draft(list(a[i]), list(b[i]), size, rng)
        k = len(one.items)
        assert list(batch.items[i, :k]) == list(one.items)
        assert (batch.items[i, k:] == -1).all()
        assert list(batch.is_b[i, :k]) == [t == "B" for t in one.teams]
        assert batch.shown[i].sum() == k


def test_exported_from_package() -> None:
    result = abtool.team_draft([1, 2], [2, 1], 2, np.random.default_rng(3))
    assert isinstance(result, abtool.Interleaving)
    assert abtool.balanced([1, 2], [2, 1], 2, np.random.default_rng(3)).items in {(1, 2), (2, 1)}


def test_negative_size_rejected() -> None:
    with pytest.raises(ValueError, match="size"):
        team_draft([1], [1], -1, np.random.default_rng(0))
