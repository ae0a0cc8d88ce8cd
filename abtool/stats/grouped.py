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

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from abtool.stats.ks import ks_statistic_sorted

MASKS_UP_TO = 16  # groups; above, one radix sort of the codes beats a mask per group

Selection = slice | NDArray[Any]


def group_rows(codes: NDArray[Any], groups: int) -> Iterator[tuple[int, Selection]]:
    """(group, rows of the group) for each group 0..groups-1 that has rows.

    The rows are a slice, a boolean mask or an index array: anything numpy can index with.
    """
    n = len(codes)
    if n == 0 or groups == 0:
        return
    if n < 2 or bool(np.all(codes[1:] >= codes[:-1])):
        bounds = np.searchsorted(codes, np.arange(groups + 1), side="left")
        for group in range(groups):
            if bounds[group + 1] > bounds[group]:
                yield group, slice(int(bounds[group]), int(bounds[group + 1]))
        return
    if groups <= MASKS_UP_TO:
        for group in range(groups):
            mask = codes == group
            if mask.any():
                yield group, mask
        return
    order = np.argsort(codes, kind="stable")
    ends = np.cumsum(np.bincount(codes, minlength=groups + 1))
    for group in range(groups):
        start = int(ends[group - 1]) if group else 0
        if ends[group] > start:
            yield group, order[start : int(ends[group])]


def grouped_quantile(
    values: NDArray[np.float64], codes: NDArray[Any], groups: int, q: float
) -> NDArray[np.float64]:
    """The q-quantile (linear interpolation, as ``numpy.quantile``) of each group's non-NaN
    values; NaN for a group without any."""
    found = np.full(groups, np.nan)
    for group, rows in group_rows(codes, groups):
        mine = values[rows]
        mine = mine[~np.isnan(mine)]
        if len(mine):
            found[group] = float(np.quantile(mine, q))
    return found


def grouped_ks_statistic(
    a: NDArray[np.float64], b: NDArray[np.float64], codes: NDArray[Any], groups: int
) -> NDArray[np.float64]:
    """The exact two-sample KS statistic between ``a`` and ``b`` within each group.

    ``a`` and ``b`` are paired by row (two models' scores of the same requests); rows where
    either is NaN are left out of the group. NaN for a group without a complete pair.
    """
    found = np.full(groups, np.nan)
    for group, rows in group_rows(codes, groups):
        first, second = a[rows], b[rows]
        keep = ~(np.isnan(first) | np.isnan(second))
        first, second = first[keep], second[keep]
        if len(first):
            first.sort()
            second.sort()
            found[group] = ks_statistic_sorted(first, second, workers=1)
    return found
