"""Sample entropy and approximate entropy with exact, sub-quadratic template matching.

Two templates ``x[i:i+L]`` and ``x[j:j+L]`` match when their Chebyshev distance is at most the
tolerance, ``max_k |x[i+k] - x[j+k]| <= r`` with the difference taken in float64: the ``<=``
of Richman & Moorman (2000) and of NeuroKit2 0.2.13 (scikit-learn's ``query_radius``). Counts
are exactly those of the textbook O(n²) double loop, computed in three steps:

1. every RR value is replaced by its rank among the distinct values; for each distinct value
   the ranks within ``r`` form an interval ``[lo, hi]``, found with the float64 difference
   itself (so no epsilon and no boundary error, and ties in integer RR cost nothing);
2. a template's count is then the number of templates inside a box of rank intervals. When the
   ranks are few beside the templates (RR quantised by a sensor clock: a corrected day at
   128 Hz has about 270 distinct values, so 270³ cells for m + 1 = 3 against 106 000
   templates), a histogram of all templates over the rank grid is turned into cumulative sums
   along every axis (a summed-area table) and each box is read from its 2^L corners
   (:func:`_counts_dense`);
3. otherwise templates sorted by their first rank are swept with a window whose bounds only move
   forward; the window's templates live in a Fenwick (binary indexed) tree over the remaining
   ``L - 1`` ranks, which answers each template's box count in O(log^(L-1) U);
4. should that tree exceed :data:`FENWICK_CELL_BUDGET` cells (more than about 4 000 distinct RR
   values with m = 2, i.e. RR not quantised by a sensor clock), a chunked comparison restricted
   to the first-rank window is used instead: still exact, but quadratic.

All three count integers, so they agree exactly (tests/test_hrv_entropy.py compares them). A
whole day (106 000 beats: two counts of length m = 2, one of m + 1 = 3) takes about 0.15 s.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from biofeedback.hrv.floors import is_constant

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

FENWICK_CELL_BUDGET: Final = 1 << 24
"""Largest Fenwick tree (int32 cells, 64 MiB) before the chunked fallback is used."""

_CHUNK_CELLS: Final = 1 << 22

DENSE_CELL_BUDGET: Final = 1 << 22
"""Cells (int64, 32 MiB) of one block of the dense count's summed-area table."""
DENSE_CELLS_PER_TEMPLATE: Final = 256
"""The dense count is used when its table has at most this many cells per template (beyond, the
table costs more than the Fenwick sweep: a 5-minute record has few templates)."""


def _as_series(rr_ms: ArrayLike, name: str = "rr_ms") -> FloatArray:
    x = np.asarray(rr_ms, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return x


def tolerance_ms(rr_ms: ArrayLike, r_factor: float = 0.2, ddof: int = 1) -> float:
    """Tolerance ``r = r_factor × SD(rr_ms)`` in ms, SD with ``ddof`` (1: sample SD).

    ``r_factor=0.2, ddof=1`` is NeuroKit2's ``tolerance="sd"`` bit for bit.

    >>> tolerance_ms([800, 1000])
    28.284271247461902
    """
    x = _as_series(rr_ms)
    if x.size <= ddof:
        raise ValueError(f"rr_ms needs more than ddof={ddof} values")
    if not (math.isfinite(r_factor) and r_factor >= 0):
        raise ValueError(f"r_factor must be finite and >= 0, got {r_factor}")
    if is_constant(x):
        return 0.0  # exactly: the SD of equal values may come out as an ulp of noise
    return r_factor * float(np.std(x, ddof=ddof))


def _rank_intervals(x: FloatArray, r: float) -> tuple[IntArray, IntArray, IntArray]:
    """Ranks of ``x`` among its distinct values ``u``, and for each rank ``k`` the bounds
    ``lo[k] <= l <= hi[k]`` of exactly the ranks with ``|u[l] - u[k]| <= r`` in float64."""
    uniq, ranks = np.unique(x, return_inverse=True)
    size = uniq.size
    # fl(u + r) may round across the true boundary; the float64 difference decides, as in the
    # reference definition, so step the guess until it agrees.
    hi = np.searchsorted(uniq, uniq + r, side="right").astype(np.int64) - 1
    while True:
        nxt = np.minimum(hi + 1, size - 1)
        grow = (hi + 1 < size) & (uniq[nxt] - uniq <= r)
        if not grow.any():
            break
        hi[grow] += 1
    while True:
        shrink = uniq[hi] - uniq > r
        if not shrink.any():
            break
        hi[shrink] -= 1
    # fl(a - b) == -fl(b - a), so the relation is symmetric and hi is non-decreasing.
    lo = np.searchsorted(hi, np.arange(size), side="left").astype(np.int64)
    return ranks.astype(np.int64), lo, hi


def _fenwick_paths(size: int) -> tuple[IntArray, IntArray]:
    """Update and prefix-query paths of a 1-based Fenwick tree over positions ``1..size``.

    Row ``p`` (0 <= p <= size) lists the cells touched for position ``p``; update paths are
    padded with the never-read cell ``size + 1``, query paths with the never-written cell 0.
    """
    depth = size.bit_length() + 1
    update = np.full((size + 1, depth), size + 1, dtype=np.int64)
    query = np.zeros((size + 1, depth), dtype=np.int64)
    up = np.arange(size + 1, dtype=np.int64)
    down = up.copy()
    for level in range(depth):
        live = (up >= 1) & (up <= size)
        update[live, level] = up[live]
        up = up + (up & -up)
        query[:, level] = down
        down = down - (down & -down)
    return update, query


def _cells(paths: list[IntArray], side: int) -> IntArray:
    """Flat cell indices of the Cartesian product of per-dimension paths, one row per point."""
    flat = paths[0]
    for path in paths[1:]:
        flat = (flat[:, :, None] * side + path[:, None, :]).reshape(flat.shape[0], -1)
    return flat


def _counts_fenwick(templates: IntArray, lo: IntArray, hi: IntArray, size: int) -> IntArray:
    n_templates, length = templates.shape
    order = np.argsort(templates[:, 0], kind="stable")
    first = templates[order, 0]
    rest = templates[order, 1:]
    start = np.searchsorted(first, np.arange(size + 1))
    update_path, query_path = _fenwick_paths(size)
    side = size + 2
    tree = np.zeros(side ** (length - 1), dtype=np.int32)
    batch = max(1, _CHUNK_CELLS // update_path.shape[1] ** (length - 1))
    corners = [
        (
            [
                hi[rest[:, k]] + 1 if (mask >> k) & 1 == 0 else lo[rest[:, k]]
                for k in range(length - 1)
            ],
            -1 if bin(mask).count("1") % 2 else 1,
        )
        for mask in range(1 << (length - 1))
    ]
    counts = np.empty(n_templates, dtype=np.int64)
    in_lo = in_hi = 0
    for value in np.unique(first):
        new_lo, new_hi = int(start[lo[value]]), int(start[hi[value] + 1])
        # Both window bounds only move forward; a row entering and leaving in the same step
        # gets +1 and -1 in the same add and never counts.
        moved = np.concatenate([rest[in_hi:new_hi], rest[in_lo:new_lo]])
        delta = np.repeat(np.array([1, -1], dtype=np.int32), [new_hi - in_hi, new_lo - in_lo])
        # sub-batches keep the (rows × depth^(L-1)) index arrays to a few tens of MB
        for b0 in range(0, moved.shape[0], batch):
            rows = moved[b0 : b0 + batch]
            flat = _cells([update_path[rows[:, k] + 1] for k in range(length - 1)], side)
            np.add.at(tree, flat, delta[b0 : b0 + batch, None])
        in_lo, in_hi = new_lo, new_hi
        q0, q1 = int(start[value]), int(start[value + 1])
        total = np.zeros(q1 - q0, dtype=np.int64)
        for b0 in range(q0, q1, batch):
            b1 = min(b0 + batch, q1)
            for bounds, sign in corners:
                flat = _cells([query_path[b[b0:b1]] for b in bounds], side)
                total[b0 - q0 : b1 - q0] += sign * tree[flat].sum(axis=1, dtype=np.int64)
        counts[order[q0:q1]] = total
    return counts


def _flat_index(coords: list[IntArray], side: int) -> IntArray:
    """Row-major flat index of points on a grid with ``side`` cells along each axis."""
    out = coords[0].astype(np.int64)
    for column in coords[1:]:
        out = out * side + column
    return out


def _counts_dense(templates: IntArray, lo: IntArray, hi: IntArray, size: int) -> IntArray:
    """Box counts from a summed-area table over the rank grid (module notes, step 2).

    Coordinates are padded by one (rank ``k`` at ``k + 1``, index 0 the empty prefix), so the
    table at ``(r, c_1, ..., c_L-1)`` counts the templates with first rank ``<= r`` and every
    other rank ``k < c_k``; a box is the inclusion-exclusion of its corners (``hi + 1`` or
    ``lo`` on the other axes; rank ``hi`` minus rank ``lo - 1`` on the first). The table is
    built in blocks of first ranks of at most :data:`DENSE_CELL_BUDGET` cells, each carrying
    the last row of the one before; templates sorted by first rank have non-decreasing ``lo``
    and ``hi`` there, so each block's corners are one contiguous run of them.
    """
    n_templates, length = templates.shape
    side = size + 1
    slab = side ** (length - 1)
    order = np.argsort(templates[:, 0], kind="stable")
    ranked = templates[order]
    first = ranked[:, 0]
    rest = [ranked[:, k] for k in range(1, length)]
    cell = _flat_index([c + 1 for c in rest], side)
    corners = [
        (
            _flat_index(
                [lo[c] if (mask >> k) & 1 else hi[c] + 1 for k, c in enumerate(rest)], side
            ),
            -1 if bin(mask).count("1") % 2 else 1,
        )
        for mask in range(1 << (length - 1))
    ]
    along_first = [(hi[first], 1), (lo[first] - 1, -1)]
    counts = np.zeros(n_templates, dtype=np.int64)
    carry = np.zeros(slab, dtype=np.int64)
    step = max(1, DENSE_CELL_BUDGET // slab)
    for r0 in range(0, size, step):
        r1 = min(r0 + step, size)
        a, b = np.searchsorted(first, [r0, r1])
        table = np.bincount((first[a:b] - r0) * slab + cell[a:b], minlength=(r1 - r0) * slab)
        cube = table.reshape((r1 - r0,) + (side,) * (length - 1))
        for axis in range(1, length):
            np.cumsum(cube, axis=axis, out=cube)
        rows = table.reshape(r1 - r0, slab)
        rows[0] += carry
        np.cumsum(rows, axis=0, out=rows)
        carry = rows[-1].copy()
        for key, sign in along_first:
            q0, q1 = np.searchsorted(key, [r0, r1])
            base = (key[q0:q1] - r0) * slab
            for flat, rest_sign in corners:
                counts[q0:q1] += (sign * rest_sign) * table[base + flat[q0:q1]]
    out = np.empty(n_templates, dtype=np.int64)
    out[order] = counts
    return out


def _counts_chunked(templates: IntArray, lo: IntArray, hi: IntArray) -> IntArray:
    n_templates, length = templates.shape
    order = np.argsort(templates[:, 0], kind="stable")
    ranked = templates[order]
    first = ranked[:, 0]
    counts = np.empty(n_templates, dtype=np.int64)
    chunk = max(1, _CHUNK_CELLS // n_templates)
    for q0 in range(0, n_templates, chunk):
        query = ranked[q0 : q0 + chunk]
        c0 = int(np.searchsorted(first, lo[query[0, 0]], side="left"))
        c1 = int(np.searchsorted(first, hi[query[-1, 0]], side="right"))
        cand = ranked[c0:c1]
        match = np.ones((query.shape[0], cand.shape[0]), dtype=bool)
        for k in range(length):
            match &= cand[None, :, k] >= lo[query[:, k]][:, None]
            match &= cand[None, :, k] <= hi[query[:, k]][:, None]
        counts[order[q0 : q0 + chunk]] = match.sum(axis=1)
    return counts


def template_match_counts(x: ArrayLike, length: int, r: float) -> IntArray:
    """For each template ``x[i:i+length]``, the number of templates within Chebyshev distance
    ``r`` (``<=``, float64 differences), itself included.

    >>> template_match_counts([1.0, 2.0, 1.0, 5.0], 2, 1.0).tolist()
    [2, 2, 1]
    """
    series = _as_series(x, "x")
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if series.size < length:
        raise ValueError(f"x needs at least length={length} values, got {series.size}")
    if not (math.isfinite(r) and r >= 0):
        raise ValueError(f"r must be finite and >= 0, got {r}")
    ranks, lo, hi = _rank_intervals(series, r)
    size = lo.size
    templates = sliding_window_view(ranks, length)
    if length == 1:
        cumulative: IntArray = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(np.bincount(ranks, minlength=size), out=cumulative[1:])
        return cumulative[hi[ranks] + 1] - cumulative[lo[ranks]]
    cells = (size + 1) ** length
    if (size + 1) ** (length - 1) <= DENSE_CELL_BUDGET and (
        cells <= DENSE_CELLS_PER_TEMPLATE * templates.shape[0]
    ):
        return _counts_dense(templates, lo, hi, size)
    if (size + 2) ** (length - 1) <= FENWICK_CELL_BUDGET:
        return _counts_fenwick(templates, lo, hi, size)
    return _counts_chunked(templates, lo, hi)


def _checked(rr_ms: ArrayLike, m: int, r_ms: float | None) -> tuple[FloatArray, float]:
    x = _as_series(rr_ms)
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    if x.size < m + 2:
        raise ValueError(f"rr_ms needs at least m + 2 = {m + 2} values, got {x.size}")
    return x, tolerance_ms(x) if r_ms is None else float(r_ms)


def sample_and_approximate_entropy(
    rr_ms: ArrayLike, m: int = 2, r_ms: float | None = None
) -> tuple[float, float]:
    """``(SampEn, ApEn)`` from one pass of template matching; see the two functions below."""
    x, r = _checked(rr_ms, m, r_ms)
    n = x.size
    counts_m = template_match_counts(x, m, r)
    counts_m1 = template_match_counts(x, m + 1, r)
    # SampEn uses the first n - m templates of both lengths; drop the last m-template's row
    # and column (its self-match counted once in both).
    pairs_m = int(counts_m.sum()) - 2 * int(counts_m[-1]) + 1 - (n - m)
    pairs_m1 = int(counts_m1.sum()) - (n - m)
    if pairs_m == 0:
        sampen = math.nan
    elif pairs_m1 == 0:
        sampen = math.inf
    else:
        sampen = math.log(pairs_m) - math.log(pairs_m1)
    phi_m = float(np.mean(np.log(counts_m / (n - m + 1))))
    phi_m1 = float(np.mean(np.log(counts_m1 / (n - m))))
    return sampen, phi_m - phi_m1


def sample_entropy(rr_ms: ArrayLike, m: int = 2, r_ms: float | None = None) -> float:
    """Sample entropy ``-ln(A / B)`` (dimensionless), Richman & Moorman 2000,
    doi:10.1152/ajpheart.2000.278.6.H2039.

    ``B`` and ``A`` count ordered pairs ``i != j`` among the first ``n - m`` templates of
    length ``m`` and ``m + 1`` that match within ``r_ms`` (default ``0.2 × SD``, ``ddof=1``).
    Returns ``inf`` when no ``m + 1`` pair matches and ``nan`` when no ``m`` pair does.

    >>> round(sample_entropy([800, 810, 800, 810, 800, 850, 800, 810], r_ms=5.0), 6)
    0.693147
    """
    return sample_and_approximate_entropy(rr_ms, m, r_ms)[0]


def approximate_entropy(rr_ms: ArrayLike, m: int = 2, r_ms: float | None = None) -> float:
    """Approximate entropy ``Φm - Φm+1`` (dimensionless), Pincus 1991,
    doi:10.1073/pnas.88.6.2297.

    ``Φm`` is the mean over all ``n - m + 1`` templates of ``ln(C_i / (n - m + 1))``, where
    ``C_i`` counts matches within ``r_ms`` (default ``0.2 × SD``, ``ddof=1``), self included.
    NeuroKit2 reports ``|Φm - Φm+1|``; the two differ only when the difference is negative.

    >>> round(approximate_entropy([800, 810, 800, 810, 800, 850, 800, 810], r_ms=5.0), 6)
    0.283676
    """
    return sample_and_approximate_entropy(rr_ms, m, r_ms)[1]
