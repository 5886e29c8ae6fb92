"""The first-order recursion ``y[n] = u[n] + c·y[n-1]`` the simulator's slow processes run on.

What ``scipy.signal.lfilter([b], [1, -c], x, zi=[c·y_prev])`` computes for a one-pole filter,
step for step in the same floating-point order (so the beats are bit-identical to it; a test
checks), without importing ``scipy.signal``: that import costs about 0.8 s of CPU (it pulls in
``scipy.stats``) and every `biofeedback record --simulate` process would pay it for three
one-pole filters. The series here are short (an 8-Hz grid, 600-s chunks: 4 800 samples), so a
Python-level accumulation costs about 0.3 ms per call.
"""

from __future__ import annotations

from itertools import accumulate

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


def one_pole(b: float, c: float, x: F64, y_prev: float) -> F64:
    """``y[n] = b·x[n] + c·y[n-1]`` for ``n = 0, 1, …`` with ``y[-1] = y_prev``."""
    u: list[float] = (b * np.asarray(x, dtype=np.float64)).tolist()
    if not u:
        return np.empty(0, dtype=np.float64)
    u[0] += c * y_prev
    return np.fromiter(accumulate(u, lambda y, v: v + c * y), dtype=np.float64, count=len(u))
