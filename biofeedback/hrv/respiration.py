"""Respiration rate from the respiratory sinus arrhythmia (RSA) peak of the NN spectrum.

The dominant peak of the NN power spectrum inside ``respiration_band_hz`` (0.1-0.5 Hz, 6-30
breaths/min) is refined by parabolic interpolation of its three bins (quadratic fit on the PSD),
and breaths/min = 60 × f_peak (FACTS §2.2; Schäfer & Kratky 2008, Ann Biomed Eng 36:476-485,
doi:10.1007/s10439-007-9428-1). The rate is *valid* when the peak's prominence
(``scipy.signal.peak_prominences``) is at least ``respiration_min_prominence`` of its height, i.e.
the spectrum has one clear breathing line rather than a broad hump.

Breathing slower than 9/min (< 0.15 Hz) moves RSA into the LF band, so HF power then
underestimates vagal activity (Task Force 1996; Hindawi ECAM 2014:819871 table 1). Beside HF this
module reports a *respiration-aware vagal power*: the power within ±``vagal_halfwidth_hz``
(0.03 Hz) of the measured breathing peak, wherever it lies; with regular breathing nearly all RSA
power sits inside that ±0.03 Hz (±1.8 breaths/min) line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from biofeedback.hrv.floors import power_floor_ms2
from biofeedback.hrv.frequency import Spectrum, band_power_ms2
from biofeedback.hrv.settings import HrvSettings

HF_UNDERESTIMATES_VAGAL = "HF underestimates vagal activity (breathing < 9/min)"
NO_CLEAR_PEAK = "no clear respiratory peak"


@dataclass(frozen=True, slots=True)
class Respiration:
    """Breathing estimate from RSA; ``flags`` hold human-readable caveats."""

    rate_per_min: float
    peak_hz: float
    prominence_ratio: float
    valid: bool
    vagal_power_ms2: float
    flags: tuple[str, ...]

    @property
    def slow_breathing(self) -> bool:
        return HF_UNDERESTIMATES_VAGAL in self.flags


def parabolic_peak_hz(freq_hz: np.ndarray, psd: np.ndarray, index: int) -> float:
    """Vertex of the parabola through bins ``index-1..index+1`` (Hz); the bin itself at an edge.

    >>> parabolic_peak_hz(np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0, 1.0]), 1)
    0.2
    """
    if index <= 0 or index >= psd.size - 1:
        return float(freq_hz[index])
    left, mid, right = psd[index - 1], psd[index], psd[index + 1]
    denom = left - 2.0 * mid + right
    offset = 0.0 if denom == 0 else 0.5 * (left - right) / denom
    return float(freq_hz[index] + offset * (freq_hz[1] - freq_hz[0]))


def respiration_from_spectrum(spectrum: Spectrum, settings: HrvSettings) -> Respiration:
    """Respiration rate (breaths/min), validity and respiration-aware vagal power (ms²).

    No peak (``nan``, :data:`NO_CLEAR_PEAK`) when the band holds no power above the floor of
    :mod:`biofeedback.hrv.floors` (a perfectly regular series leaves only rounding noise).
    """
    low, high = settings.respiration_band_hz
    freq, psd = spectrum.freq_hz, spectrum.psd_ms2_hz
    in_band = np.flatnonzero((freq >= low) & (freq <= high))
    df = float(freq[1] - freq[0]) if freq.size > 1 else 0.0
    total = float(np.nansum(psd)) * df
    band = float(np.sum(psd[in_band])) * df if in_band.size else 0.0
    if in_band.size == 0 or not band > float(power_floor_ms2(total)):
        nan = float("nan")
        return Respiration(nan, nan, 0.0, False, nan, (NO_CLEAR_PEAK,))
    index = int(in_band[np.argmax(psd[in_band])])
    height = float(psd[index])
    is_peak = 0 < index < psd.size - 1 and psd[index - 1] < height >= psd[index + 1]
    prominence = float(signal.peak_prominences(psd, [index])[0][0]) if is_peak else 0.0
    ratio = prominence / height if height > 0 else 0.0
    peak_hz = parabolic_peak_hz(freq, psd, index)
    half = settings.vagal_halfwidth_hz
    vagal_ms2 = band_power_ms2(spectrum, (max(peak_hz - half, 0.0), peak_hz + half))
    valid = ratio >= settings.respiration_min_prominence
    flags: list[str] = []
    if not valid:
        flags.append(NO_CLEAR_PEAK)
    elif 60.0 * peak_hz < settings.slow_breathing_per_min:
        flags.append(HF_UNDERESTIMATES_VAGAL)
    return Respiration(60.0 * peak_hz, peak_hz, ratio, valid, vagal_ms2, tuple(flags))
