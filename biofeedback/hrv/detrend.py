"""Smoothness-priors detrending of an evenly sampled series.

Tarvainen, Ranta-aho & Karjalainen (2002), An advanced detrending method with application to HRV
analysis, IEEE Trans Biomed Eng 49(2):172-175, doi:10.1109/10.979357:
``z_stat = z − (I + λ²·D₂ᵀD₂)⁻¹ z``, with D₂ the second-difference matrix. The system matrix is
symmetric positive definite and pentadiagonal: its three upper bands are written in closed form
(assembling ``D₂ᵀD₂`` with ``scipy.sparse`` gives the same bands but cost 60 ms on a 24-h record),
factored once per (length, λ) as a banded Cholesky and solved in O(n); one call detrends many
equal-length columns at once. At 4 Hz, λ = 500 acts as a high-pass with cutoff
≈ 0.189·fs/√λ ≈ 0.034 Hz.

:func:`detrend_at_beats` is the form Kubios applies before its time-domain, Poincaré and
(optionally) nonlinear statistics: the trend of the RR series resampled evenly in time (at the
interpolation rate, 4 Hz), taken off at the beat times, so λ means what it means for the
spectrum. Measured on two Kubios HRV Standard 3.3 reports (λ 256, mean RR 793 and 374 ms, 713
and 1000 beats): SDNN, RMSSD, SD1 and SD2 reproduced to 0.07 %; the same λ over beat index
removed far less (SDNN +5.8 % and +3.2 %).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@lru_cache(maxsize=16)
def _banded_cholesky(n: int, lambda_: float) -> FloatArray:
    # Bands of D₂ᵀD₂: main 1,5,6,...,6,5,1; first off -2,-4,...,-4,-2; second off 1.
    main = np.full(n, 6.0)
    main[[0, -1]] = 1.0
    main[[1, -2]] = 5.0
    first = np.full(n - 1, -4.0)
    first[[0, -1]] = -2.0
    upper = np.zeros((3, n))
    upper[2] = 1.0 + lambda_**2 * main
    upper[1, 1:] = lambda_**2 * first
    upper[0, 2:] = lambda_**2
    from scipy import linalg  # imported here: a command that never detrends starts without it

    factor: FloatArray = linalg.cholesky_banded(upper, lower=False)
    factor.setflags(write=False)
    return factor


def smoothness_priors_trend(z: FloatArray, lambda_: float = 500.0) -> FloatArray:
    """The smooth trend ``(I + λ²·D₂ᵀD₂)⁻¹ z`` along axis 0 (same unit as ``z``).

    >>> t = np.arange(400.0)
    >>> bool(np.allclose(smoothness_priors_trend(2.0 * t + 3.0), 2.0 * t + 3.0))
    True
    """
    n = z.shape[0]
    if n < 4:
        # The closed-form bands assume n >= 4; tiny systems are solved densely.
        d2 = np.diff(np.eye(n), 2, axis=0)
        return np.asarray(np.linalg.solve(np.eye(n) + lambda_**2 * d2.T @ d2, z), np.float64)
    from scipy import linalg

    trend: FloatArray = linalg.cho_solve_banded(
        (_banded_cholesky(n, float(lambda_)), False), z, check_finite=False
    )
    return trend


def smoothness_priors_detrend(z: FloatArray, lambda_: float = 500.0) -> FloatArray:
    """``z`` minus its smoothness-priors trend (Tarvainen et al. 2002, doi:10.1109/10.979357).

    A straight line is entirely trend, so it detrends to zero:

    >>> bool(np.allclose(smoothness_priors_detrend(np.arange(100.0)), 0.0, atol=1e-6))
    True
    """
    return z - smoothness_priors_trend(z, lambda_)


def detrend_at_beats(
    rr_ms: FloatArray, t_s: FloatArray | None, lambda_: float = 500.0, rate_hz: float = 4.0
) -> FloatArray:
    """``rr_ms`` minus its smoothness-priors trend over time, mean kept (ms; module notes).

    A cubic spline through (beat time, RR) sampled from the first beat every ``1 / rate_hz`` s,
    minus its trend (λ on that series), a cubic spline through the rest at the beat times, the
    series' mean added back (mean RR and mean HR unchanged). ``t_s`` (s) of each beat; ``None``
    or not increasing: the cumulative sum of the RR. Fewer than 4 beats or samples: unchanged.

    >>> rr = 800.0 + 2.0 * np.arange(300.0)  # a pure ramp is all trend
    >>> bool(np.allclose(detrend_at_beats(rr, None, 500.0, 4.0), rr.mean(), atol=0.5))
    True
    """
    from scipy.interpolate import CubicSpline

    rr = np.asarray(rr_ms, dtype=np.float64)
    t = np.asarray(t_s, dtype=np.float64) if t_s is not None else np.cumsum(rr) / 1000.0
    if t.size != rr.size or not np.all(np.diff(t) > 0):
        t = np.cumsum(rr) / 1000.0
    if rr.size < 4:
        return rr.copy()
    grid = np.arange(t[0], t[-1] + 1e-9, 1.0 / rate_hz)
    if grid.size < 4:
        return rr.copy()
    even = CubicSpline(t, rr)(grid)
    residual = even - smoothness_priors_trend(even, lambda_)
    back: FloatArray = CubicSpline(grid, residual)(t)
    return back - float(back.mean()) + float(rr.mean())
