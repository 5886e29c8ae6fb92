"""The first-order recursion ``y[n] = b·x[n] + c·y[n-1]`` the simulator's slow processes run on.

What ``scipy.signal.lfilter([b], [1, -c], x, zi=[c·y_prev])`` computes for a one-pole filter
(equal to it within a few units in the last place; the simulated beats, quantised to the strap's
1/1024 s, are identical: a test checks), without importing ``scipy.signal``: that import costs
about 0.8 s of CPU (it pulls in ``scipy.stats``), and every `biofeedback record --simulate`
process would pay it for three one-pole filters.

Computed in blocks of :data:`BLOCK` samples: within a block, the response from a zero start is
one matrix product with the lower-triangular matrix of powers of ``c``; a short loop over the
blocks carries each block's end into the next (``c^k`` times it). Only powers of ``c`` ≤ 1 are
used, so nothing grows. 4 800 samples (a 600-s chunk on the 8-Hz grid) take about 25 µs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

BLOCK: Final = 64


@lru_cache(maxsize=64)
def _powers(c: float) -> tuple[F64, F64, float]:
    """The block's transfer matrix (transposed, for rows of input), ``c^(k+1)`` for the carry
    into sample ``k``, and ``c^BLOCK``."""
    k = np.arange(BLOCK)
    powers = c ** k.astype(np.float64)
    lag = np.subtract.outer(k, k)
    transfer = np.where(lag >= 0, powers[np.clip(lag, 0, None)], 0.0)
    return np.ascontiguousarray(transfer.T), c * powers, float(c**BLOCK)


def one_pole(b: float, c: float, x: F64, y_prev: float) -> F64:
    """``y[n] = b·x[n] + c·y[n-1]`` for ``n = 0, 1, …`` with ``y[-1] = y_prev`` (``0 ≤ c ≤ 1``)."""
    u = b * np.asarray(x, dtype=np.float64)
    n = u.size
    if n == 0:
        return np.empty(0, dtype=np.float64)
    transfer, carry_gain, c_block = _powers(float(c))
    m = -(-n // BLOCK)
    padded = np.zeros(m * BLOCK)
    padded[:n] = u
    local = padded.reshape(m, BLOCK) @ transfer
    starts = np.empty(m)
    prev = float(y_prev)
    for j, end in enumerate(local[:, -1].tolist()):
        starts[j] = prev
        prev = end + c_block * prev
    y: F64 = (local + starts[:, None] * carry_gain[None, :]).ravel()[:n]
    return y
