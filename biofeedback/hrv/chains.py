"""Continuity chains: runs of equal segment ids, the unit nothing in HRV may span.

A disconnect, contact loss or stall ends a chain (DESIGN, "the data path"); successive
differences, artifact windows, entropy templates, DFA windows and rhythm segments stay inside one.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def chain_starts(segment: ArrayLike) -> NDArray[np.intp]:
    """Index of the first beat of each chain.

    >>> chain_starts([0, 0, 1, 1, 1, 3]).tolist()
    [0, 2, 5]
    """
    seg = np.asarray(segment)
    if seg.size == 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])


def chain_bounds(segment: ArrayLike) -> list[tuple[int, int]]:
    """``(start, stop)`` slice bounds of each chain, in order.

    >>> chain_bounds([0, 0, 1, 1, 1, 3])
    [(0, 2), (2, 5), (5, 6)]
    """
    seg = np.asarray(segment)
    starts = chain_starts(seg).tolist()
    return list(zip(starts, [*starts[1:], int(seg.size)], strict=True))


def chain_numbers(segment: ArrayLike, *splits: ArrayLike) -> NDArray[np.intp]:
    """1, 2, 3, ...: the running number of each beat's chain; a chain also ends wherever one of
    ``splits`` (arrays as long as ``segment``) changes value.

    >>> chain_numbers([0, 0, 1, 1, 1], [False, True, True, True, False]).tolist()
    [1, 2, 3, 3, 4]
    """
    seg = np.asarray(segment)
    if seg.size == 0:
        return np.zeros(0, dtype=np.intp)
    change = seg[1:] != seg[:-1]
    for split in splits:
        values = np.asarray(split)
        change |= values[1:] != values[:-1]
    return np.cumsum(np.r_[True, change])


def same_chain(segment: ArrayLike) -> NDArray[np.bool_]:
    """For each successive difference ``i`` (beats ``i`` and ``i + 1``): inside one chain.

    >>> same_chain([0, 0, 1, 1]).tolist()
    [True, False, True]
    """
    seg = np.asarray(segment)
    return np.asarray(seg[1:] == seg[:-1], dtype=np.bool_)
