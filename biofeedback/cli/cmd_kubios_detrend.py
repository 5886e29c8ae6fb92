"""Kubios's detrending before its time-domain, Poincaré and (optionally) nonlinear analysis.

Kubios removes the smoothness-priors trend (Tarvainen et al. 2002, doi:10.1109/10.979357) from
its evenly resampled RR series, at the interpolation rate (4 Hz), with the λ its report
states, and computes the time domain on that detrended series taken back at the beat times.
This program's own ``--detrend`` before the time domain works over beat index, where the same
λ removes far less: measured on two Kubios HRV Standard 3.3 reports (λ 256, mean RR 793 and
374 ms, RR tables of 713 and 1000 beats), this reproduces Kubios's SDNN, RMSSD, SD1 and SD2 to
0.07 % and to the printed digits; λ over beats gave SDNN +5.8 % and +3.2 %.

The steps: a cubic spline through (beat time, RR) sampled from the first beat every
``1 / rate`` s; minus its smoothness-priors trend; a cubic spline through that, at the beat
times; the series' mean added back (mean RR and mean HR stay as read).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from biofeedback.hrv.detrend import smoothness_priors_trend

FloatArray = NDArray[np.float64]


def kubios_detrended(
    rr_ms: FloatArray, t_s: FloatArray | None, lambda_: float, rate_hz: float
) -> FloatArray:
    """``rr_ms`` detrended as Kubios does before its time domain (module notes).

    >>> rr = 800.0 + 2.0 * np.arange(300.0)  # a pure ramp is all trend
    >>> bool(np.allclose(kubios_detrended(rr, None, 500.0, 4.0), rr.mean(), atol=0.5))
    True
    """
    from scipy.interpolate import CubicSpline

    rr = np.asarray(rr_ms, dtype=np.float64)
    t = np.asarray(t_s, dtype=np.float64) if t_s is not None else np.cumsum(rr) / 1000.0
    if t.size != rr.size or not np.all(np.diff(t) > 0):
        t = np.cumsum(rr) / 1000.0
    grid = np.arange(t[0], t[-1] + 1e-9, 1.0 / rate_hz)
    if rr.size < 4 or grid.size < 4:
        return rr.copy()
    even = CubicSpline(t, rr)(grid)
    residual = even - smoothness_priors_trend(even, lambda_)
    back: FloatArray = CubicSpline(grid, residual)(t)
    return back - float(back.mean()) + float(rr.mean())
