"""Statistics per group of rows, the groups given as small integer codes (one per row).

A report that needs a quantile per time bucket, or a KS statistic per segment value, already
holds the whole column in numpy; these functions split it by a code column without another
pass over the log. The rows of a group are found the cheapest way that fits:

- codes in order (a log written in time order, grouped by time bucket): each group is one
  slice, found by binary search, with no copy of the indices;
- few groups: a boolean mask per group (no index array: one byte a row, one group at a time);
- many groups: one stable sort of the codes, which for integers of up to 16 bits is numpy's
  radix sort (linear in the rows), then a slice of the resulting order per group.

Rows whose code is ``groups`` or more (a row without a group) are never part of one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from abtool.stats.descriptive import quantile_sorted
from abtool.stats.ks import ks_statistic_sorted

MASKS_UP_TO = 16  # groups; above, one radix sort of the codes beats a mask per group


@dataclass(frozen=True)
class Rows:
    """The rows of one group: ``values[::stride][index]`` (a slice, a boolean mask or an
    index array). A copy of the values unless ``index`` is a slice."""

    index: slice | NDArray[Any]
    stride: int = 1

    def take(self, values: NDArray[Any]) -> NDArray[Any]:
        found: NDArray[Any] = (values[:: self.stride] if self.stride > 1 else values)[self.index]
        return found


def _step(size: int, max_rows: int | None) -> int:
    return 1 if max_rows is None or size <= max_rows else -(-size // max_rows)


def group_rows(
    codes: NDArray[Any], groups: int, max_rows: int | None = None
) -> Iterator[tuple[int, Rows]]:
    """(group, its rows) for each group 0..groups-1 that has rows.

    With ``max_rows``, a larger group gives every k-th of its rows, k = ceil(rows / max_rows):
    in array order for a slice or an index array; through a mask, the group's rows at a
    multiple of k in the whole array (about as many), so the mask costs n/k, not n.
    """
    n = len(codes)
    if n == 0 or groups == 0:
        return
    if codes_in_order(codes):
        bounds = _slice_bounds(codes, groups)
        for group in range(groups):
            start, stop = int(bounds[group]), int(bounds[group + 1])
            if stop > start:
                yield group, Rows(slice(start, stop, _step(stop - start, max_rows)))
        return
    sizes = np.bincount(codes, minlength=groups + 1)
    if groups <= MASKS_UP_TO:
        for group in range(groups):
            if sizes[group]:
                step = _step(int(sizes[group]), max_rows)
                mask = (codes[::step] if step > 1 else codes) == group
                if mask.any():
                    yield group, Rows(mask, step)
        return
    order = np.argsort(codes, kind="stable")
    ends = np.cumsum(sizes)
    for group in range(groups):
        start = int(ends[group - 1]) if group else 0
        stop = int(ends[group])
        if stop > start:
            yield group, Rows(order[start : stop : _step(stop - start, max_rows)])


def _slice_bounds(codes: NDArray[Any], groups: int) -> NDArray[np.intp]:
    """Where each group's slice starts (and the last ends) in codes in order."""
    wanted = np.arange(groups + 1)
    if codes.dtype.kind in "ui" and groups <= np.iinfo(codes.dtype).max:
        # In the codes' own type: numpy would otherwise copy them all to int64 to compare.
        wanted = wanted.astype(codes.dtype)
    found: NDArray[np.intp] = np.searchsorted(codes, wanted, side="left")
    return found


def grouped_quantile(
    values: NDArray[np.float64], codes: NDArray[Any], groups: int, q: float
) -> NDArray[np.float64]:
    """The q-quantile (linear interpolation, as ``numpy.quantile``) of each group's non-NaN
    values; NaN for a group without any."""
    found = np.full(groups, np.nan)
    for group, rows in group_rows(codes, groups):
        mine = rows.take(values)
        mine = mine[~np.isnan(mine)]
        if len(mine):
            found[group] = float(np.quantile(mine, q))
    return found


def codes_in_order(codes: NDArray[Any]) -> bool:
    """Whether the codes never decrease (each group's rows are one slice)."""
    return len(codes) < 2 or bool(np.all(codes[1:] >= codes[:-1]))


def grouped_quantile_in_place(
    values: NDArray[np.float64], codes: NDArray[Any], groups: int, q: float
) -> NDArray[np.float64]:
    """The quantiles of :func:`grouped_quantile`, bit for bit; when the codes are in order
    (each group a slice) each group's values are sorted in place instead of copied, so
    ``values`` is left sorted within each group (pass it only when its order is no longer
    needed)."""
    if not codes_in_order(codes):
        return grouped_quantile(values, codes, groups, q)
    found = np.full(groups, np.nan)
    bounds = _slice_bounds(codes, groups)
    for group in range(groups):
        mine = values[int(bounds[group]) : int(bounds[group + 1])]
        if len(mine):
            mine.sort()  # NaN sorts last: the values are the leading ones
            present = mine[: len(mine) - _nans(mine)]
            if len(present):
                found[group] = quantile_sorted(present, q)
    return found


def grouped_ks_statistic(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    codes: NDArray[Any],
    groups: int,
    max_rows: int | None = None,
    workers: int = 1,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The two-sample KS statistic between ``a`` and ``b`` within each group, and the rows
    each was computed on.

    NaN values are left out of each sample (pass paired data with NaN on both sides of a
    row to leave rows out). A group of more than ``max_rows`` rows is thinned as
    :func:`group_rows` says, so time and memory stay bounded: D of an evenly spaced sample of
    m rows differs from the group's by about 1/sqrt(m) (0.001 at m = 1,000,000). Without
    ``max_rows``, or below it, D is exact. NaN for a group without values on both sides.

    ``workers`` threads take one group at a time each (numpy releases the GIL while it
    copies, sorts and searches), so at most ``workers`` groups' rows are held at once.
    """
    found = np.full(groups, np.nan)
    used = np.zeros(groups, dtype=np.int64)
    pending = group_rows(codes, groups, max_rows)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:  # the generator is not thread-safe; it finds one group's rows
                item = next(pending, None)
            if item is None:
                return
            group, rows = item
            first, second = rows.take(a), rows.take(b)
            if isinstance(rows.index, slice):  # views: copy, they are sorted in place
                first, second = first.copy(), second.copy()
            del rows
            first.sort()  # NaN sorts last: the values are the leading ones
            second.sort()
            first = first[: len(first) - _nans(first)]
            second = second[: len(second) - _nans(second)]
            if len(first) and len(second):
                found[group] = ks_statistic_sorted(first, second, workers=1)
                used[group] = min(len(first), len(second))

    if workers <= 1:
        work()
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for done in [pool.submit(work) for _ in range(workers)]:
                done.result()
    return found, used


def _nans(values: NDArray[np.float64]) -> int:
    return int(np.count_nonzero(np.isnan(values)))
