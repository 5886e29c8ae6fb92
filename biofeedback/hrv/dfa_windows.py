"""DFA exponents of many windows of one NN series at once (for sliding-window tables).

A window ``[lo, hi)`` of beats gets exactly :func:`biofeedback.hrv.dfa.dfa_alpha` of
``nn_ms[lo:hi]`` (Peng et al. 1995, doi:10.1063/1.166141), up to rounding. The trick: the
residual of a least-squares line fitted to a block of the profile does not change when a
constant or a linear ramp is added to the block, and the window's own profile differs from the
whole series' profile by exactly that. So the residual sum of squares ``RSS(a, n)`` of the block
of ``n`` beats starting at beat ``a`` is computed once for every ``a`` and scale, and a window's
``F(n)²`` is a strided sum of those, read from cumulative sums taken along the stride.
Cost: O(beats × Σ scales) for any number of windows. Callers pass windows lying inside one
continuity chain (a block must not span a gap).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from biofeedback.hrv.dfa import detrended_rss, scaling_exponent

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _block_rss_ms2(profile: FloatArray, scales: IntArray) -> list[FloatArray]:
    """For each scale ``n``, the residual sum of squares (ms²) of the detrended block of ``n``
    beats starting at every beat ``a <= len - n``.

    Sums over a block are accumulated one offset at a time on contiguous arrays (no
    ``len × n`` temporaries) and shared between scales. Values are taken relative to the
    block's first point, which keeps them to a few hundred ms so ``Σz² − (Σz)²/n`` loses
    only a few digits.
    """
    size = profile.size
    s0, s1, s2 = np.zeros(size), np.zeros(size), np.zeros(size)
    out = []
    for j in range(1, int(scales[-1])):
        z = profile[j:] - profile[: size - j]
        s0[: size - j] += z
        s1[: size - j] += j * z
        s2[: size - j] += z * z
        n = j + 1
        if n >= scales[0]:
            a = size - n + 1
            sum_t2 = n * (n * n - 1) / 12.0
            trend = s1[:a] - 0.5 * (n - 1) * s0[:a]
            rss = detrended_rss(s0[:a], trend, s2[:a], n, sum_t2)
            out.append(np.maximum(rss, 0.0))
    return out


def _strided_cumsum(x: FloatArray, stride: int) -> FloatArray:
    """``out[a] = x[a] + x[a - stride] + x[a - 2·stride] + …``."""
    rows = -(-x.size // stride)
    padded = np.zeros(rows * stride)
    padded[: x.size] = x
    return np.cumsum(padded.reshape(rows, stride), axis=0).ravel()[: x.size]


def dfa_alpha_windows(
    nn_ms: ArrayLike,
    lo: ArrayLike,
    hi: ArrayLike,
    scales_beats: tuple[int, int],
    overlap: bool = False,
) -> FloatArray:
    """DFA exponent of ``nn_ms[lo[k]:hi[k]]`` for every window ``k``.

    NaN where a window has no more beats than the largest scale, or some ``F(n)`` is 0, or all
    its beats are equal (whose ``F(n)`` would otherwise be rounding noise of the prefix sums).

    >>> rng = np.random.default_rng(0)
    >>> rr = 800 + 50 * rng.standard_normal(400)
    >>> from biofeedback.hrv.dfa import dfa_alpha
    >>> fast = dfa_alpha_windows(rr, [0, 100], [300, 400], (4, 16))
    >>> bool(np.allclose(fast, [dfa_alpha(rr[:300], (4, 16)), dfa_alpha(rr[100:], (4, 16))]))
    True
    """
    x = np.asarray(nn_ms, dtype=np.float64)
    start = np.asarray(lo, dtype=np.int64)
    stop = np.asarray(hi, dtype=np.int64)
    low, high = scales_beats
    if not 2 <= low < high:
        raise ValueError(f"scales_beats must satisfy 2 <= min < max, got {scales_beats}")
    if x.ndim != 1 or start.shape != stop.shape:
        raise ValueError("nn_ms must be one-dimensional and lo, hi of equal shape")
    if np.any(start < 0) or np.any(stop > x.size) or np.any(start > stop):
        raise ValueError("windows must satisfy 0 <= lo <= hi <= len(nn_ms)")
    scales = np.arange(low, high + 1)
    length = stop - start
    usable = length > high
    alpha = np.full(start.shape, np.nan)
    if not usable.any():
        return alpha
    a, n_w = start[usable], length[usable]
    # Centring on the series mean keeps the profile small; any offset cancels in each block.
    profile = np.cumsum(x - x.mean())
    log_f = np.empty((a.size, scales.size))
    for j, rss in enumerate(_block_rss_ms2(profile, scales)):
        n = int(scales[j])
        stride = n // 2 if overlap else n
        count = -(-(n_w - n) // stride) if overlap else n_w // n
        prefix = _strided_cumsum(rss, stride)
        last = a + (count - 1) * stride
        before = a - stride
        total = prefix[last] - np.where(before >= 0, prefix[np.maximum(before, 0)], 0.0)
        with np.errstate(divide="ignore"):
            log_f[:, j] = 0.5 * np.log(np.maximum(total, 0.0) / (count * n))
    with np.errstate(invalid="ignore"):
        slope = scaling_exponent(log_f, scales_beats)
    changes = np.concatenate(([0], np.cumsum(np.diff(x) != 0)))
    flat = changes[a + n_w - 1] == changes[a]
    alpha[usable] = np.where(np.isfinite(log_f).all(axis=1) & ~flat, slope, np.nan)
    return alpha
