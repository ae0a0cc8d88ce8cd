"""An interleaving log: two rankers of different quality, team-draft, position-biased clicks.

The catalogue holds items with a latent relevance ``r ~ N(0, 1)``; a user clicks an item
they examine with probability ``sigmoid(r - 1.5 + u)`` (its attractiveness), where
``u ~ N(0, session_spread)`` is drawn once per session: users and queries differ in how
much they click, which is what makes click-through noisy between sessions. Each session
retrieves ``candidates`` consecutive catalogue items (a random window, so candidates are
distinct), and each ranker orders them by ``r`` plus its own Gaussian noise: the ranker
with less noise is the better one. The two top lists are interleaved with
:func:`abtool.interleaving.team_draft_batch` (row by row identical to the library's
:func:`~abtool.interleaving.team_draft`), and clicks follow the position-based model: the
item at position ``k`` is examined with probability ``k ** -position_bias`` and clicked
with probability examination x attractiveness (Craswell et al. 2008, "An experimental
comparison of click position-bias models", WSDM).

The same sessions also give the clicks each ranker's own list would have drawn, which the
power study (:mod:`abtool.simulate.interleave_power`) uses as the A/B test on click-through.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from abtool.interleaving import team_draft_batch

CHUNK_SESSIONS = 100_000
LOG_FORMATS = ("long", "nested")


@dataclass(frozen=True)
class InterleaveSpec:
    """Parameters of a generated interleaving experiment."""

    sessions: int = 5_000
    seed: int = 0
    catalogue: int = 5_000
    candidates: int = 20
    size: int = 10
    noise_a: float = 1.0
    noise_b: float = 0.8
    position_bias: float = 1.0
    session_spread: float = 1.0
    log_format: str = "long"


@dataclass(frozen=True)
class SessionBatch:
    """Simulated sessions as arrays (one row per session, one column per position).

    Attributes:
        items: catalogue ids shown in the interleaved list.
        is_b: True where team B owns the shown item.
        clicked: clicks on the interleaved list.
        clicks_list_a: clicks per session had the session seen ranker A's own list.
        clicks_list_b: the same for ranker B's own list.
    """

    items: NDArray[np.int64]
    is_b: NDArray[np.bool_]
    clicked: NDArray[np.bool_]
    clicks_list_a: NDArray[np.int64]
    clicks_list_b: NDArray[np.int64]

    @property
    def credit(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Clicks on team A's and on team B's items, per session."""
        on_b = (self.clicked & self.is_b).sum(axis=1)
        return self.clicked.sum(axis=1) - on_b, on_b


def catalogue_relevance(spec: InterleaveSpec) -> NDArray[np.float64]:
    """The latent relevance of every catalogue item (fixed by the seed)."""
    return np.random.default_rng([spec.seed, 0]).standard_normal(spec.catalogue)


def check_spec(spec: InterleaveSpec) -> None:
    """Reject parameters the model cannot use."""
    if spec.candidates < spec.size:
        raise ValueError("candidates must be >= size (each ranker fills the whole list)")
    if spec.catalogue < spec.candidates:
        raise ValueError("catalogue must hold at least `candidates` items")
    if spec.log_format not in LOG_FORMATS:
        raise ValueError(f"log_format must be one of {LOG_FORMATS}")


def simulate_sessions(
    spec: InterleaveSpec, n: int, rng: np.random.Generator, relevance: NDArray[np.float64]
) -> SessionBatch:
    """Draw ``n`` independent sessions (vectorised)."""
    k = spec.candidates
    start = rng.integers(0, spec.catalogue, n)
    candidates = (start[:, None] + np.arange(k)) % spec.catalogue
    r = relevance[candidates]
    # Users and queries differ in how much they click: one logit shift per session.
    shift = spec.session_spread * rng.standard_normal((n, 1))
    attractiveness = 1.0 / (1.0 + np.exp(-(r - 1.5 + shift)))
    rank_a = np.argsort(-(r + spec.noise_a * rng.standard_normal((n, k))), axis=1)
    rank_b = np.argsort(-(r + spec.noise_b * rng.standard_normal((n, k))), axis=1)
    batch = team_draft_batch(rank_a, rank_b, spec.size, rng)
    examine = np.arange(1, spec.size + 1, dtype=np.float64) ** -spec.position_bias
    rows = np.arange(n)[:, None]

    def clicks(local: NDArray[np.int64]) -> NDArray[np.bool_]:
        drawn: NDArray[np.bool_] = rng.random(local.shape) < examine * attractiveness[rows, local]
        return drawn

    return SessionBatch(
        items=candidates[rows, batch.items],
        is_b=batch.is_b,
        clicked=clicks(batch.items),
        clicks_list_a=clicks(rank_a[:, : spec.size]).sum(axis=1),
        clicks_list_b=clicks(rank_b[:, : spec.size]).sum(axis=1),
    )


def interleave_chunks(
    spec: InterleaveSpec, chunk_sessions: int = CHUNK_SESSIONS
) -> Iterator[pa.Table]:
    """Yield the log in chunks of ``chunk_sessions`` sessions (constant memory)."""
    check_spec(spec)
    relevance = catalogue_relevance(spec)
    rng = np.random.default_rng([spec.seed, 1])
    for offset in range(0, spec.sessions, chunk_sessions):
        n = min(chunk_sessions, spec.sessions - offset)
        batch = simulate_sessions(spec, n, rng, relevance)
        session_ids = np.arange(offset, offset + n, dtype=np.int64)
        if spec.log_format == "long":
            yield _long_table(batch, session_ids, spec.size)
        else:
            yield _nested_table(batch, session_ids, spec.size)


def _long_table(batch: SessionBatch, session_ids: NDArray[np.int64], size: int) -> pa.Table:
    n = len(session_ids)
    return pa.table(
        {
            "session_id": pa.array(np.repeat(session_ids, size), pa.int64()),
            "position": pa.array(np.tile(np.arange(1, size + 1), n), pa.int32()),
            "item_id": pa.array(batch.items.ravel(), pa.int64()),
            "team": pa.array(np.where(batch.is_b.ravel(), "B", "A"), pa.string()),
            "clicked": pa.array(batch.clicked.ravel(), pa.bool_()),
        }
    )


def _nested_table(batch: SessionBatch, session_ids: NDArray[np.int64], size: int) -> pa.Table:
    n = len(session_ids)
    offsets = pa.array(np.arange(0, n * size + 1, size), pa.int32())
    entries = pa.StructArray.from_arrays(
        [
            pa.array(batch.items.ravel(), pa.int64()),
            pa.array(np.where(batch.is_b.ravel(), "B", "A"), pa.string()),
        ],
        names=["item", "team"],
    )
    clicked_flat = batch.items[batch.clicked]
    click_offsets = np.concatenate([[0], np.cumsum(batch.clicked.sum(axis=1))])
    return pa.table(
        {
            "session_id": pa.array(session_ids, pa.int64()),
            "attribution": pa.ListArray.from_arrays(offsets, entries),
            "clicked_items": pa.ListArray.from_arrays(
                pa.array(click_offsets, pa.int32()), pa.array(clicked_flat, pa.int64())
            ),
        }
    )
