"""Numerical floors: below them a variability or a power is rounding noise, not physiology.

A strap measures RR to 1/1024 s (about 1 ms) and no physiological series varies by less than a
millisecond over minutes, yet floating-point arithmetic on a perfectly regular series does not
give exact zeros everywhere: the spline, detrending and Welch steps of a constant 800-ms series
leave band powers of about 1e-18 ms², and ``sqrt(2·SDNN² − SD1²)`` of an alternating series
leaves an SD2 of about 1e-7 ms. A ratio with such a denominator (an LF/HF of 13 825, an SD1/SD2 of
1e8) is noise divided by noise. So:

- a **power** counts as zero when it is below ``max(POWER_FLOOR_MS2, RELATIVE_POWER_FLOOR ×
  total power)``: 1e-6 ms² (an oscillation of about 1.4 µs amplitude, three orders below the
  strap's resolution) or one part in 1e9 of VLF + LF + HF (the dynamic range that the resampling
  and Welch windowing keep; leakage of a strong band reaches about that). LF/HF is undefined when
  HF is at or below it, LF and HF normalised units when LF + HF is, a band's peak frequency when
  the band's power is;
- a **standard deviation** counts as zero when it is below ``max(SD_FLOOR_MS, RELATIVE_SD_FLOOR ×
  scale)`` with ``scale`` the SD it is derived from (SDNN for SD2): 1e-6 ms, or one part in 1e6,
  about the square root of the double-precision epsilon that the difference of squares keeps.
  SD1/SD2 is undefined when SD2 is at or below it, and so are lnRMSSD when RMSSD is 0;
- a series whose values are all **equal** (no beat-to-beat change at all) has SDNN, RMSSD, SD1 and
  SD2 of 0, and no entropy (the tolerance ``r = 0.2·SD`` is 0), no DFA exponent (every ``F(n)`` is
  0) and no spectral ratio: those are ``NaN`` and the reports say why.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike

POWER_FLOOR_MS2: Final = 1e-6
RELATIVE_POWER_FLOOR: Final = 1e-9
SD_FLOOR_MS: Final = 1e-6
RELATIVE_SD_FLOOR: Final = 1e-6

NO_HF_POWER: Final = "HF power at or below the numerical floor (no beat-to-beat variability)"
NO_VARIABILITY: Final = "all intervals are equal (no variability)"


def power_floor_ms2(total_ms2: ArrayLike) -> np.ndarray:
    """The power (ms²) at or below which a band counts as empty, given the total power.

    >>> float(power_floor_ms2(10.0)), float(power_floor_ms2(1e6))
    (1e-06, 0.001)
    """
    total = np.nan_to_num(np.asarray(total_ms2, dtype=np.float64), nan=0.0, posinf=0.0)
    return np.maximum(POWER_FLOOR_MS2, RELATIVE_POWER_FLOOR * np.abs(total))


def sd_floor_ms(scale_ms: ArrayLike) -> np.ndarray:
    """The SD (ms) at or below which a spread counts as zero, given the SD it comes from.

    >>> float(sd_floor_ms(0.5)), float(sd_floor_ms(1e4))
    (1e-06, 0.01)
    """
    scale = np.nan_to_num(np.asarray(scale_ms, dtype=np.float64), nan=0.0, posinf=0.0)
    return np.maximum(SD_FLOOR_MS, RELATIVE_SD_FLOOR * np.abs(scale))


def is_constant(rr_ms: ArrayLike) -> bool:
    """True when every value is the same (exactly), including a single value.

    >>> is_constant([800.1] * 5), is_constant([800.0, 800.0, 801.0])
    (True, False)
    """
    x = np.asarray(rr_ms, dtype=np.float64)
    return bool(x.size == 0 or np.all(x == x.flat[0]))
