"""Bootstrap over sessions: resampled means of a sessions × triggers table with gaps.

Sessions are the unit of resampling (blocks within a session share that day's baseline, so
they are not independent). A percentile interval from 3-10 sessions is too narrow (the plug-in
variance is (n-1)/n of the unbiased one and the tails are short), so the interval is Hesterberg's
*expanded percentile* interval: the percentile interval at the tail probability
Φ(-√(n/(n-1))·t_{n-1, 0.975}) instead of 0.025, which matches the coverage of a t interval for
small n while keeping the bootstrap's shape. Hesterberg (2015), What teachers should know about
the bootstrap, Am Stat 69(4):371-386, doi:10.1080/00031305.2015.1089789.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# Two-sided 95 % quantiles of Student's t, t_{df, 0.975}, df = 1..30 (standard tables).
_T975: Final = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z975: Final = 1.959964


def t975(df: int) -> float:
    """Student's t quantile t_{df, 0.975}; beyond 30 degrees of freedom a Cornish-Fisher term.

    >>> t975(4)
    2.776
    >>> round(t975(100), 3)
    1.984
    """
    if df < 1:
        raise ValueError(f"df must be >= 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def expanded_tail(n: int) -> float:
    """Lower tail probability of the expanded 95 % percentile interval for ``n`` sessions.

    >>> round(expanded_tail(5), 4)
    0.001
    >>> round(expanded_tail(1000), 3)
    0.025
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    x = math.sqrt(n / (n - 1)) * t975(n - 1)
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def resample_indices(n_sessions: int, n_boot: int, seed: int) -> NDArray[np.intp]:
    """``(n_boot, n_sessions)`` session indices drawn with replacement from a seeded generator."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_sessions, size=(n_boot, n_sessions))


def boot_means(table: FloatArray, index: NDArray[np.intp]) -> FloatArray:
    """Mean of each column of ``table`` (sessions × triggers, NaN = no block) per resample.

    A resample that draws no session with a value for a column gets NaN there.

    >>> t = np.array([[1.0, np.nan], [3.0, 2.0]])
    >>> boot_means(t, np.array([[0, 1], [0, 0]])).tolist()
    [[2.0, 2.0], [1.0, nan]]
    """
    present = np.isfinite(table)
    values = np.where(present, table, 0.0)[index]
    counts = present[index].sum(axis=1)
    sums = values.sum(axis=1)
    out: FloatArray = np.divide(sums, counts, out=np.full(sums.shape, np.nan), where=counts > 0)
    return out


def interval(boot: FloatArray, n: int) -> tuple[float, float]:
    """Expanded percentile 95 % interval of one column of bootstrap means from ``n`` sessions."""
    finite = boot[np.isfinite(boot)]
    if n < 2 or finite.size == 0:
        return (math.nan, math.nan)
    tail = expanded_tail(n)
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return (float(low), float(high))
