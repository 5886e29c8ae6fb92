"""Frequency-domain HRV: Welch on a 4 Hz cubic-spline resampling, or Lomb-Scargle.

Welch (the Kubios-style method; Tarvainen et al. 2014, Kubios HRV, Comput Methods Programs Biomed
113:210-220, doi:10.1016/j.cmpb.2013.07.024), per continuity chain (segment):

1. NN values are placed at their beat times and resampled with a not-a-knot cubic spline
   (identical to ``scipy.interpolate.CubicSpline``) at ``resample_hz`` from the first to the
   last beat;
2. the smooth trend is removed by smoothness priors, λ = ``detrend_lambda``
   (doi:10.1109/10.979357);
3. Welch's method as ``scipy.signal.welch`` defines it, with a ``welch_window`` window,
   ``nperseg = min(welch_segment_s·fs, n)``, ``noverlap = floor(welch_overlap·nperseg)``,
   ``nfft = welch_segment_s·fs``, per-segment mean removal, one-sided density scaling (ms²/Hz);
4. chains as long as the Welch segment (or, if none is, the longest chain) are averaged, weighted
   by their sample count.

Lomb-Scargle (Lomb 1976, doi:10.1007/BF00648343) works on the uneven series: each chain is cut
into blocks of about ``welch_segment_s``; each block's mean-removed NN series (no other detrending:
its settings say ``detrend = "mean"``) goes through
``scipy.signal.lombscargle`` on a grid of spacing ``1/(lomb_oversampling·welch_segment_s)`` up to
``lomb_max_hz``; the periodogram P is scaled to a density ``2·P·T/N`` (T block duration, N beats),
so a sine of amplitude A carries power A²/2; blocks are averaged weighted by N.

Band power is the trapezoid rule on the PSD, integrated exactly from ``low`` to ``high`` (the PSD
linearly interpolated at the band edges, so adjacent bands partition the spectrum's integral). The
rectangle sum ``Σ PSD·Δf`` over the bins in ``[low, high)`` used before gives, on
tests/data/rhenanbartels_hrv/rest_rri.txt (Welch, defaults), VLF −16 %, LF −0.8 %, HF +1.5 %
against it (Lomb: +1.3 %, −1.0 %, +0.4 %), and VLF +41 %, LF +7 %, HF +2 % against a trapezoid over
the in-band bins alone (no edge pieces, so the bands would not partition).

VLF caveat: :func:`vlf_retained_share` is the share of a flat VLF spectrum that survives the
detrending (the smoothness-priors high-pass ``|1 − 1/(1 + λ²·16·sin⁴(πf/fs))|²``, the stationary
response of the interior rows) and the segment (nothing below ``1/segment`` is resolved), averaged
over the VLF band. Below one half (``VLF_CAVEAT_BELOW``), :attr:`FrequencyResult.caveats` says so;
with the defaults (λ = 500 at 4 Hz, 120-s segments) about 17 % survives.

Ratios need real power: LF/HF is ``nan`` when HF is at or below the power floor of
:mod:`biofeedback.hrv.floors` (1e-6 ms², or 1e-9 of the total), LF and HF n.u. when LF + HF is, a
band's peak frequency when its power is. A perfectly regular series leaves band powers of about
1e-18 ms² (rounding), and their ratio means nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from biofeedback.hrv.chains import chain_bounds
from biofeedback.hrv.detrend import smoothness_priors_detrend
from biofeedback.hrv.floors import power_floor_ms2
from biofeedback.hrv.settings import HrvSettings

FloatArray = NDArray[np.float64]

VLF_CAVEAT_BELOW = 0.5
"""A VLF band that keeps less than this share of a flat spectrum gets a caveat."""


@dataclass(frozen=True, slots=True)
class Spectrum:
    """A one-sided power spectral density of the NN series on an even frequency grid."""

    freq_hz: FloatArray
    psd_ms2_hz: FloatArray

    @property
    def df_hz(self) -> float:
        return float(self.freq_hz[1] - self.freq_hz[0])


@dataclass(frozen=True, slots=True)
class FrequencyResult:
    """Band powers (ms²) and derived indices, with the settings that produced them."""

    vlf_ms2: float
    lf_ms2: float
    hf_ms2: float
    lf_hf: float
    lf_nu: float
    hf_nu: float
    hf_peak_hz: float
    lf_peak_hz: float
    duration_s: float
    spectrum: Spectrum
    settings: HrvSettings

    @property
    def total_ms2(self) -> float:
        """VLF + LF + HF power (ms²)."""
        return self.vlf_ms2 + self.lf_ms2 + self.hf_ms2

    @property
    def segment_s(self) -> float:
        """The length of the spectral segments: ``welch_segment_s``, or a shorter record."""
        return min(self.settings.welch_segment_s, self.duration_s)

    @property
    def vlf_retained_share(self) -> float:
        """Share of a flat VLF spectrum kept by this result's detrending and segments."""
        return vlf_retained_share(self.settings, self.segment_s)

    @property
    def caveats(self) -> list[str]:
        """Why ``vlf_ms2`` and ``total_ms2`` understate VLF, if they do (module docstring)."""
        kept = self.vlf_retained_share
        if kept >= VLF_CAVEAT_BELOW:
            return []
        s = self.settings
        how = [f"{self.segment_s:.0f}-s segments (nothing below {1 / self.segment_s:.4f} Hz)"]
        if s.detrend == "smoothness_priors":
            how.insert(0, f"smoothness-priors detrending (λ = {s.detrend_lambda:g})")
        return [
            f"vlf_ms2 and total_ms2 understate VLF: {' and '.join(how)} remove about "
            f"{100 * (1 - kept):.0f} % of a flat VLF spectrum"
        ]


def vlf_retained_share(settings: HrvSettings, segment_s: float) -> float:
    """Share of a flat spectrum over the VLF band that survives detrending and ``segment_s``.

    The smoothness-priors power response ``|1 − 1/(1 + λ²·16·sin⁴(πf/fs))|²`` (none for Lomb's
    mean removal or ``detrend = "none"``), zero below ``1/segment_s``, averaged over the band.

    >>> round(vlf_retained_share(HrvSettings(), 120.0), 2)
    0.17
    >>> round(vlf_retained_share(HrvSettings(detrend="none"), 300.0), 2)
    1.0
    """
    low, high = settings.vlf_band_hz
    f = np.linspace(low, high, 2001)
    kept = (f >= 1.0 / segment_s).astype(np.float64)
    if settings.detrend == "smoothness_priors":
        g = settings.detrend_lambda**2 * 16.0 * np.sin(np.pi * f / settings.resample_hz) ** 4
        kept *= (g / (1.0 + g)) ** 2
    return float(np.mean(kept))


def beat_times_s(rr_ms: ArrayLike) -> FloatArray:
    """Beat times (s) as the cumulative sum of RR, the first beat at ``rr[0]``."""
    return np.cumsum(np.asarray(rr_ms, dtype=np.float64)) / 1000.0


def cubic_spline_at(
    t_s: FloatArray,
    values: FloatArray,
    at_s: FloatArray,
    interval: NDArray[np.intp] | None = None,
) -> FloatArray:
    """Not-a-knot cubic spline through ``(t_s, values)`` evaluated at ``at_s`` (needs 4+ knots).

    The same tridiagonal slope system as ``scipy.interpolate.CubicSpline(bc_type="not-a-knot")``,
    without its input checks, which cost most of the time on the live 120-s window.
    ``interval`` (the knot interval of each point) may be passed when the caller knows it.
    """
    n = t_s.size
    if n < 4:
        raise ValueError(f"a not-a-knot spline needs at least 4 knots, got {n}")
    dx = np.diff(t_s)
    slope = np.diff(values) / dx
    bands = np.zeros((3, n))
    rhs = np.empty(n)
    bands[1, 1:-1] = 2.0 * (dx[:-1] + dx[1:])
    bands[0, 2:] = dx[:-1]
    bands[2, :-2] = dx[1:]
    rhs[1:-1] = 3.0 * (dx[1:] * slope[:-1] + dx[:-1] * slope[1:])
    d0 = t_s[2] - t_s[0]
    bands[1, 0] = dx[1]
    bands[0, 1] = d0
    rhs[0] = ((dx[0] + 2.0 * d0) * dx[1] * slope[0] + dx[0] ** 2 * slope[1]) / d0
    d1 = t_s[-1] - t_s[-3]
    bands[1, -1] = dx[-2]
    bands[2, -2] = d1
    rhs[-1] = (dx[-1] ** 2 * slope[-2] + (2.0 * d1 + dx[-1]) * dx[-2] * slope[-1]) / d1
    from scipy import linalg  # imported here: a command that never resamples starts without it

    s = linalg.solve_banded((1, 1), bands, rhs, overwrite_ab=True, check_finite=False)
    if interval is None:
        interval = np.searchsorted(t_s, at_s, side="right") - 1
    k = np.clip(interval, 0, n - 2)
    h = at_s - t_s[k]
    width = dx[k]
    curve = (s[k] + s[k + 1] - 2.0 * slope[k]) / width
    c3 = curve / width
    c2 = (slope[k] - s[k]) / width - curve
    out: FloatArray = ((c3 * h + c2) * h + s[k]) * h + values[k]
    return out


def resample_cubic(
    t_s: FloatArray, rr_ms: FloatArray, fs_hz: float
) -> tuple[FloatArray, FloatArray]:
    """Evenly resample NN values at ``fs_hz`` with a not-a-knot cubic spline over beat times."""
    n_grid = int(np.floor((t_s[-1] - t_s[0]) * fs_hz)) + 1
    grid_s = t_s[0] + np.arange(n_grid) / fs_hz
    # On an even grid each knot's first grid index is arithmetic: no binary search needed
    # (a tie at a knot may land in either neighbouring interval; the spline is continuous).
    first = np.minimum(np.ceil((t_s - t_s[0]) * fs_hz).astype(np.intp), n_grid)
    interval = np.repeat(np.arange(t_s.size, dtype=np.intp), np.diff(first, append=n_grid))
    return grid_s, cubic_spline_at(t_s, rr_ms, grid_s, interval)


def hann_periodic(n: int) -> FloatArray:
    """``scipy.signal.get_window("hann", n)`` (periodic, for spectral analysis), bit for bit.

    scipy builds it as a general cosine window of ``n + 1`` points on ``linspace(-π, π)``,
    truncated; the same operations in the same order give the same floats.

    >>> hann_periodic(4).tolist()
    [0.0, 0.5, 1.0, 0.5]
    """
    if n <= 1:
        return np.ones(n)  # scipy's length guard
    fac = np.linspace(-np.pi, np.pi, n + 1)
    window = np.zeros(n + 1)
    for k, a in enumerate((0.5, 0.5)):
        window += a * np.cos(k * fac)
    out: FloatArray = window[:-1]
    return out


@lru_cache(maxsize=8)
def _window(name: str, n: int) -> FloatArray:
    if name == "hann":
        window = hann_periodic(n)
    else:
        from scipy import signal  # other windows: scipy.signal (and scipy.stats) only then

        window = signal.get_window(name, n)
    window.setflags(write=False)
    return window


def welch_psd_columns(x_ms: FloatArray, settings: HrvSettings) -> tuple[FloatArray, FloatArray]:
    """Detrend and Welch each column of an even ``(n, k)`` series: ``(freq_hz, psd (k, nfreq))``.

    Equivalent to ``scipy.signal.welch(..., detrend="constant", scaling="density")`` with the
    settings' window, segment, overlap and nfft, but with every segment of every column framed
    and transformed in one vectorised FFT (scipy detrends segment by segment in Python).
    """
    fs = settings.resample_hz
    nfft = round(settings.welch_segment_s * fs)
    x = x_ms.reshape(x_ms.shape[0], -1)
    if settings.detrend == "smoothness_priors":
        x = smoothness_priors_detrend(x, settings.detrend_lambda)
    nperseg = min(nfft, x.shape[0])
    step = nperseg - int(settings.welch_overlap * nperseg)
    # One frame (the live 120-s window) skips the framing machinery.
    frames = x.T[None] if nperseg == x.shape[0] else sliding_window_view(x, nperseg, axis=0)[::step]
    frames = frames - frames.mean(axis=-1, keepdims=True)
    window = _window(settings.welch_window, nperseg)
    power = np.abs(np.fft.rfft(frames * window, n=nfft, axis=-1)) ** 2
    psd = power.mean(axis=0) / (fs * float(np.sum(window * window)))
    psd[:, 1 : None if nfft % 2 else -1] *= 2.0
    return np.fft.rfftfreq(nfft, 1.0 / fs).astype(np.float64), psd


def welch_columns(x_ms: FloatArray, settings: HrvSettings) -> Spectrum:
    """Welch spectrum of an even ``(n,)`` series, or the mean over the columns of ``(n, k)``."""
    freq, psd = welch_psd_columns(x_ms, settings)
    return Spectrum(freq, psd.mean(axis=0))


def _chains(segment: NDArray[np.int64]) -> list[slice]:
    return [slice(a, b) for a, b in chain_bounds(segment)]


def _usable(t_s: FloatArray, chains: list[slice], min_s: float) -> list[slice]:
    spans = [float(t_s[c][-1] - t_s[c][0]) if c.stop - c.start >= 4 else -1.0 for c in chains]
    longest = max(spans, default=0.0)
    if longest <= 0.0:
        raise ValueError("need a continuity chain of at least 4 beats")
    need = min(min_s, longest)
    return [c for c, span in zip(chains, spans, strict=True) if span >= need]


def welch_spectrum(
    t_s: FloatArray, rr_ms: FloatArray, segment: NDArray[np.int64], settings: HrvSettings
) -> Spectrum:
    """Welch PSD (ms²/Hz) over all usable chains (module docstring, steps 1-4)."""
    spectra: list[FloatArray] = []
    weights: list[int] = []
    freq: FloatArray | None = None
    for chain in _usable(t_s, _chains(segment), settings.welch_segment_s):
        _, x_ms = resample_cubic(t_s[chain], rr_ms[chain], settings.resample_hz)
        spectrum = welch_columns(x_ms, settings)
        freq = spectrum.freq_hz
        spectra.append(spectrum.psd_ms2_hz)
        weights.append(x_ms.size)
    assert freq is not None
    return Spectrum(freq, np.average(np.vstack(spectra), axis=0, weights=weights))


def lomb_psd_ms2_hz(t_s: FloatArray, rr_ms: FloatArray, freq_hz: FloatArray) -> FloatArray:
    """Lomb-Scargle density (ms²/Hz) of one block: ``2·P·T/N`` with P from scipy."""
    from scipy import signal  # here: scipy.signal pulls scipy.stats (~0.5 s) at import

    power = signal.lombscargle(t_s, rr_ms - rr_ms.mean(), 2.0 * np.pi * freq_hz)
    duration_s = float(t_s[-1] - t_s[0])
    return np.asarray(2.0 * power * duration_s / t_s.size, dtype=np.float64)


def lomb_spectrum(
    t_s: FloatArray, rr_ms: FloatArray, segment: NDArray[np.int64], settings: HrvSettings
) -> Spectrum:
    """Block-averaged Lomb-Scargle PSD (ms²/Hz) over all usable chains (module docstring)."""
    df = 1.0 / (settings.lomb_oversampling * settings.welch_segment_s)
    freq = np.arange(1, int(settings.lomb_max_hz / df) + 1, dtype=np.float64) * df
    spectra: list[FloatArray] = []
    weights: list[int] = []
    for chain in _usable(t_s, _chains(segment), settings.welch_segment_s):
        t, rr = t_s[chain], rr_ms[chain]
        n_blocks = max(1, round((t[-1] - t[0]) / settings.welch_segment_s))
        for block in np.array_split(np.arange(t.size), n_blocks):
            if block.size >= 4:
                spectra.append(lomb_psd_ms2_hz(t[block], rr[block], freq))
                weights.append(block.size)
    return Spectrum(freq, np.average(np.vstack(spectra), axis=0, weights=weights))


def _band_slice(freq_hz: FloatArray, band_hz: tuple[float, float]) -> slice:
    lo, hi = np.searchsorted(freq_hz, band_hz, side="left")
    return slice(int(lo), int(hi))


def trapezoid_weights(freq_hz: FloatArray, band_hz: tuple[float, float]) -> FloatArray:
    """Weights ``w`` with ``psd @ w`` = the integral from ``low`` to ``high`` of the PSD linearly
    interpolated between bins (the trapezoid rule with the band edges as its end points).

    The band is clipped to the grid; weights of adjacent bands add up to the trapezoid rule over
    their union.

    >>> f = np.arange(5.0)
    >>> trapezoid_weights(f, (0.5, 2.0)).tolist()
    [0.125, 0.875, 0.5, 0.0, 0.0]
    """
    lo = max(band_hz[0], float(freq_hz[0]))
    hi = min(band_hz[1], float(freq_hz[-1]))
    w = np.zeros(freq_hz.size)
    if hi <= lo:
        return w
    left, right = freq_hz[:-1], freq_hz[1:]
    a = np.clip(left, lo, hi)
    b = np.clip(right, lo, hi)
    h = right - left
    w[:-1] += ((right - a) ** 2 - (right - b) ** 2) / (2.0 * h)
    w[1:] += ((b - left) ** 2 - (a - left) ** 2) / (2.0 * h)
    return w


def band_power_ms2(spectrum: Spectrum, band_hz: tuple[float, float]) -> float:
    """Power (ms²) from ``low`` to ``high`` by the trapezoid rule (:func:`trapezoid_weights`)."""
    return float(spectrum.psd_ms2_hz @ trapezoid_weights(spectrum.freq_hz, band_hz))


def peak_frequency_hz(spectrum: Spectrum, band_hz: tuple[float, float]) -> float:
    """Frequency (Hz) of the largest PSD bin in ``[low, high)``; NaN if the band is empty."""
    band = _band_slice(spectrum.freq_hz, band_hz)
    if band.stop <= band.start:
        return float("nan")
    return float(spectrum.freq_hz[band][np.argmax(spectrum.psd_ms2_hz[band])])


def result_from_spectrum(
    spectrum: Spectrum, duration_s: float, settings: HrvSettings
) -> FrequencyResult:
    """Band powers, LF/HF and normalised units (over LF + HF, Task Force 1996) of a spectrum.

    Ratios and peaks of bands at or below the power floor are ``nan`` (module docstring).
    """
    vlf = band_power_ms2(spectrum, settings.vlf_band_hz)
    lf = band_power_ms2(spectrum, settings.lf_band_hz)
    hf = band_power_ms2(spectrum, settings.hf_band_hz)
    total = lf + hf
    floor = float(power_floor_ms2(vlf + lf + hf))
    nan = float("nan")
    return FrequencyResult(
        vlf_ms2=vlf,
        lf_ms2=lf,
        hf_ms2=hf,
        lf_hf=lf / hf if hf > floor else nan,
        lf_nu=100.0 * lf / total if total > floor else nan,
        hf_nu=100.0 * hf / total if total > floor else nan,
        hf_peak_hz=peak_frequency_hz(spectrum, settings.hf_band_hz) if hf > floor else nan,
        lf_peak_hz=peak_frequency_hz(spectrum, settings.lf_band_hz) if lf > floor else nan,
        duration_s=duration_s,
        spectrum=spectrum,
        settings=settings,
    )


def frequency_domain(
    rr_ms: ArrayLike,
    *,
    t_s: ArrayLike | None = None,
    segment: ArrayLike | None = None,
    settings: HrvSettings | None = None,
) -> FrequencyResult:
    """VLF/LF/HF power (ms²), LF/HF, LFnu/HFnu and peaks of an NN series by ``settings.method``.

    ``t_s`` are beat times (default: cumulative sum of ``rr_ms``); ``segment`` ids mark
    continuity chains (default: one chain).
    """
    settings = settings or HrvSettings()
    rr = np.asarray(rr_ms, dtype=np.float64)
    t = beat_times_s(rr) if t_s is None else np.asarray(t_s, dtype=np.float64)
    seg = np.zeros(rr.size, np.int64) if segment is None else np.asarray(segment, np.int64)
    if not rr.shape == t.shape == seg.shape or rr.ndim != 1:
        raise ValueError("rr_ms, t_s and segment must be one-dimensional and of equal length")
    build = welch_spectrum if settings.method == "welch" else lomb_spectrum
    spectrum = build(t, rr, seg, settings)
    duration_s = float(sum(t[c][-1] - t[c][0] for c in _chains(seg)))
    return result_from_spectrum(spectrum, duration_s, settings)
