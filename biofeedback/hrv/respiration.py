"""Respiration rate from the respiratory sinus arrhythmia (RSA) peak of the NN spectrum.

The dominant peak of the NN power spectrum inside ``respiration_band_hz`` (0.1-0.5 Hz, 6-30
breaths/min) is refined by parabolic interpolation of its three bins (quadratic fit on the PSD),
and breaths/min = 60 × f_peak (FACTS §2.2; Schäfer & Kratky 2008, Ann Biomed Eng 36:476-485,
doi:10.1007/s10439-007-9428-1). The rate is *valid* when the peak's prominence
(:func:`peak_prominence`, as ``scipy.signal.peak_prominences``) is at least
``respiration_min_prominence`` of its height, i.e. the spectrum has one clear breathing line
rather than a broad hump.

Breathing slower than 9/min (< 0.15 Hz) moves RSA into the LF band, so HF power then
underestimates vagal activity (Task Force 1996; Hindawi ECAM 2014:819871 table 1). Beside HF this
module reports a *respiration-aware vagal power*: the power within ±``vagal_halfwidth_hz``
(0.03 Hz) of the measured breathing peak, wherever it lies; with regular breathing nearly all RSA
power sits inside that ±0.03 Hz (±1.8 breaths/min) line.

The 0.1-Hz baroreflex (Mayer) wave is not breathing: blood-pressure oscillations near 0.1 Hz
modulate RR through the baroreflex at any breathing rate (Julien 2006, Cardiovasc Res
70:12-21, doi:10.1016/j.cardiores.2005.11.008). So a dominant peak below the HF band (slower
than 9/min) while a second, non-harmonic peak stands in the HF band (at least
``MAYER_RIVAL_SHARE`` of its height, itself prominent) is **ambiguous**: the rate is not valid,
the flag names both candidates, and no vagal power is attributed to the slow peak. Without an
HF rival (resonance breathing at 6/min puts RSA itself at 0.1 Hz; its harmonics at 0.2 and
0.3 Hz are not rivals) the slow peak is taken as breathing. Breathing whose rate wanders
spreads its RSA over a broad HF hump without one prominent line, while the Mayer wave stays a
narrow line that wins the maximum: so an HF band holding, away from the slow peak's harmonics,
at least ``MAYER_RIVAL_POWER_SHARE`` of the power within ±``vagal_halfwidth_hz`` of the slow
peak is a rival too (its highest bin names it). Resonance breathing leaves only beat noise
there (under 1 % of the line).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biofeedback.hrv.floors import power_floor_ms2
from biofeedback.hrv.frequency import Spectrum, band_power_ms2
from biofeedback.hrv.settings import HrvSettings

HF_UNDERESTIMATES_VAGAL = "HF underestimates vagal activity (breathing < 9/min)"
NO_CLEAR_PEAK = "no clear respiratory peak"
AMBIGUOUS_PREFIX = "ambiguous"
MAYER_RIVAL_SHARE = 0.05
"""An HF peak at least this share of the slow peak's height makes a slow peak ambiguous."""
MAYER_RIVAL_POWER_SHARE = 0.25
"""HF power (harmonics of the slow peak left out) at least this share of the slow peak's line
power makes a slow peak ambiguous (breathing spread over a broad hump)."""
_HARMONIC_TOLERANCE_HZ = 0.02
HARMONIC_MAX_SHARE = 0.1
"""A peak at a harmonic of the slow peak is taken for that harmonic only below this share of the
slow peak's height: the harmonics of a breathing modulation of RR by a few per cent carry well
under 1 % of its power, and breathing at 17-18/min sits on the third harmonic of 0.1 Hz."""


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


def peak_prominence(x: np.ndarray, peak: int) -> float:
    """``scipy.signal.peak_prominences(x, [peak])[0][0]`` (no ``wlen``), without scipy.signal.

    Each base is the lowest point between the peak and the nearest point that is not at or
    below it (or the end); the prominence is the height above the higher base. The same
    comparisons as scipy's loop, so the same float (importing scipy.signal costs ~0.5 s).

    >>> peak_prominence(np.array([0.0, 2.0, 1.0, 3.0, 0.5]), 1)
    1.0
    """
    height = x[peak]
    stops_left = np.flatnonzero(~(x[:peak] <= height))
    left = int(stops_left[-1]) + 1 if stops_left.size else 0
    stops_right = np.flatnonzero(~(x[peak + 1 :] <= height))
    right = peak + 1 + int(stops_right[0]) if stops_right.size else x.size
    return float(height - max(x[left : peak + 1].min(), x[peak:right].min()))


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
    prominence = peak_prominence(psd, index) if is_peak else 0.0
    ratio = prominence / height if height > 0 else 0.0
    peak_hz = parabolic_peak_hz(freq, psd, index)
    half = settings.vagal_halfwidth_hz
    vagal_ms2 = band_power_ms2(spectrum, (max(peak_hz - half, 0.0), peak_hz + half))
    valid = ratio >= settings.respiration_min_prominence
    flags: list[str] = []
    rival = _hf_rival_hz(freq, psd, peak_hz, height, settings) if valid else None
    if rival is not None:
        flags.append(
            f"{AMBIGUOUS_PREFIX}: the {60 * peak_hz:.1f}/min peak may be the 0.1-Hz Mayer wave, "
            f"not breathing; HF peak at {60 * rival:.1f}/min"
        )
        return Respiration(60.0 * peak_hz, peak_hz, ratio, False, float("nan"), tuple(flags))
    if not valid:
        flags.append(NO_CLEAR_PEAK)
    elif 60.0 * peak_hz < settings.slow_breathing_per_min:
        flags.append(HF_UNDERESTIMATES_VAGAL)
    return Respiration(60.0 * peak_hz, peak_hz, ratio, valid, vagal_ms2, tuple(flags))


def _hf_rival_hz(
    freq: np.ndarray, psd: np.ndarray, peak_hz: float, height: float, settings: HrvSettings
) -> float | None:
    """A prominent, non-harmonic HF-band peak rivalling a slow (< HF band) dominant peak."""
    hf_low, hf_high = settings.hf_band_hz
    if peak_hz >= hf_low:
        return None
    inside = np.flatnonzero((freq >= hf_low) & (freq < hf_high))
    inside = inside[(inside > 0) & (inside < psd.size - 1)]
    if inside.size == 0:
        return None
    is_max = (psd[inside] > psd[inside - 1]) & (psd[inside] >= psd[inside + 1])
    candidates = inside[is_max & (psd[inside] >= MAYER_RIVAL_SHARE * height)]
    if candidates.size == 0:
        return None
    prominence = [peak_prominence(psd, i) / psd[i] for i in candidates.tolist()]
    best: float | None = None
    best_height = 0.0
    for index, ratio in zip(candidates.tolist(), prominence, strict=True):
        hz = parabolic_peak_hz(freq, psd, index)
        harmonic = psd[index] < HARMONIC_MAX_SHARE * height and any(
            abs(hz - k * peak_hz) <= _HARMONIC_TOLERANCE_HZ for k in (2, 3, 4)
        )
        if (
            ratio >= settings.respiration_min_prominence
            and not harmonic
            and psd[index] > best_height
        ):
            best, best_height = hz, float(psd[index])
    if best is None:
        best = _hf_power_rival_hz(freq, psd, peak_hz, height, inside, settings)
    return best


def _hf_power_rival_hz(
    freq: np.ndarray,
    psd: np.ndarray,
    peak_hz: float,
    height: float,
    inside: np.ndarray,
    settings: HrvSettings,
) -> float | None:
    """The highest HF bin when the HF band, away from the slow peak's harmonics, holds at least
    ``MAYER_RIVAL_POWER_SHARE`` of the slow peak's line power; else ``None``."""
    harmonic = np.zeros(inside.size, dtype=bool)
    for k in (2, 3, 4):
        harmonic |= np.abs(freq[inside] - k * peak_hz) <= _HARMONIC_TOLERANCE_HZ
    harmonic &= psd[inside] < HARMONIC_MAX_SHARE * height
    rest = inside[~harmonic]
    half = settings.vagal_halfwidth_hz
    line = np.flatnonzero(np.abs(freq - peak_hz) <= half)
    if rest.size == 0 or line.size == 0:
        return None
    if float(np.sum(psd[rest])) < MAYER_RIVAL_POWER_SHARE * float(np.sum(psd[line])):
        return None
    return parabolic_peak_hz(freq, psd, int(rest[np.argmax(psd[rest])]))
