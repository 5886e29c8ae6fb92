"""R-peak detection in a single-lead ECG (130 Hz on the H10), batch and online, sub-sample timed.

The detector is Pan & Tompkins' (1985, IEEE TBME 32:230, doi:10.1109/TBME.1985.325532) in its
vectorised form: a 5-20 Hz band-pass, the squared derivative integrated over 150 ms (the
published moving-window width: 30 samples at 200 Hz, about the widest QRS, so a wide ventricular
beat's envelope is not diluted below the threshold), peaks of that envelope as candidates, and
adaptive signal/noise levels with a threshold between them; a search-back for a missed beat when
the interval grows past 1.66 mean RR, and a T-wave test (a
candidate within 360 ms of a beat whose steepest slope is under half the beat's is a T wave).
Each accepted beat is then placed on the *largest deflection* of the 0.5-40 Hz signal within
±75 ms, refined by a parabola through the three samples around it (sub-sample timing).

:class:`OnlineRPeakDetector` runs the same core on a trailing buffer and reports a beat once it
lies ``lookahead_s`` (250 ms; the live stage uses 150 ms) behind the newest sample. Fed sample by
sample, a beat the thresholds accept at once is reported exactly ``lookahead_s`` after its R-peak
sample arrived; one found by the search-back only once the interval since the last beat passes
1.66 mean RR (the search-back is also tried at the buffer's end, so it does not wait for the next
candidate). Before 2 s of signal nothing is detected (warm-up). With the H10's frames add the
wait for the frame that holds the sample ``lookahead_s`` after the peak.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, find_peaks, sosfilt, sosfilt_zi, sosfiltfilt

F64 = NDArray[np.float64]

REFRACTORY_S: Final = 0.25
T_WAVE_WINDOW_S: Final = 0.36
LOCATE_WINDOW_S: Final = 0.075
INTEGRATION_S: Final = 0.15
SEARCHBACK_FACTOR: Final = 1.66
FILTER_STEP: Final = 1 << 18
"""Samples per step of the zero-phase filter on long signals (2 MB of float64)."""


@dataclass(frozen=True, slots=True)
class RPeaks:
    """Detected R-peaks: sample positions (fractional), times in s, amplitudes in µV."""

    position: F64
    """Sub-sample index into the input (parabolic refinement)."""
    t_s: F64
    amplitude_uv: F64
    """Signed value of the located deflection in the 0.5-40 Hz signal (ECG-derived respiration)."""


def _sos(fs_hz: float, low_hz: float, high_hz: float) -> NDArray[np.float64]:
    high = min(high_hz, 0.45 * fs_hz)
    sos: NDArray[np.float64] = butter(2, (low_hz, high), btype="band", fs=fs_hz, output="sos")
    return sos


def _filtfilt(sos: NDArray[np.float64], x: F64) -> F64:
    """``scipy.signal.sosfiltfilt(sos, x)`` (odd extension of the default length), bit for bit.

    A long signal goes through ``sosfilt`` in steps of :data:`FILTER_STEP` samples with the
    filter state carried from step to step (the same recurrence in the same order), forwards
    and then backwards in place in one array: one day-long array per filter instead of the
    library's extension, forward and backward copies, and no fresh 90-MB arrays for the
    steps (a day of ECG is 11.2 M samples).
    """
    if len(x) <= 4 * FILTER_STEP:
        out: F64 = sosfiltfilt(sos, x)
        return out
    sections = sos.shape[0]
    ntaps = 2 * sections + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    edge = 3 * ntaps
    left = 2 * x[0] - x[edge:0:-1]
    right = 2 * x[-1] - x[-2 : -(edge + 2) : -1]
    y = np.empty(len(x) + 2 * edge)
    zi = sosfilt_zi(sos)
    state = zi * left[0]
    y[:edge], state = sosfilt(sos, left, zi=state)
    for start in range(0, len(x), FILTER_STEP):
        stop = min(start + FILTER_STEP, len(x))
        y[edge + start : edge + stop], state = sosfilt(sos, x[start:stop], zi=state)
    y[edge + len(x) :], state = sosfilt(sos, right, zi=state)
    state = zi * y[-1]
    for stop in range(len(y), 0, -FILTER_STEP):
        start = max(0, stop - FILTER_STEP)
        back, state = sosfilt(sos, y[start:stop][::-1], zi=state)
        y[start:stop] = back[::-1]
    out = y[edge:-edge]
    return out


def _parabolic(y: F64, i: NDArray[np.intp]) -> F64:
    """Vertex offsets (in samples, within ±0.5) of parabolas through y[i-1], y[i], y[i+1]."""
    inner = (i > 0) & (i < len(y) - 1)
    j = np.clip(i, 1, max(1, len(y) - 2))
    a, b, c = y[j - 1], y[j], y[j + 1]
    den = a - 2 * b + c
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.where((den < 0) & inner, 0.5 * (a - c) / den, 0.0)
    out: F64 = np.clip(off, -0.5, 0.5)
    return out


def _accept(
    cand: NDArray[np.intp], env: F64, slope: F64, fs_hz: float, end: int | None = None
) -> NDArray[np.intp]:
    """Pan-Tompkins decisions over the envelope's candidate peaks (indices of the accepted ones).

    ``env`` and ``slope`` are the envelope height and the steepest nearby slope *at each
    candidate*. ``end`` (the signal's length) is where the search-back is tried once more after
    the last candidate: online, a beat missed at first is then searched for as soon as the
    interval since the last beat exceeds the search-back limit, not only when the next
    candidate arrives. The adaptive levels make each decision depend on the previous ones, so
    this stays one pass; it runs on plain Python floats (no numpy scalar per candidate), with the
    same arithmetic in the same order as the published rule.
    """
    if len(cand) == 0:
        return np.empty(0, np.intp)
    levels = np.percentile(env, [10, 90])
    npk = float(levels[0]) * 0.5
    spk = float(levels[1]) * 0.5
    position: list[int] = cand.tolist()
    height: list[float] = env.tolist()
    steep: list[float] = slope.tolist()
    beats: list[int] = []
    """Indices into ``cand`` of the accepted beats."""
    recent = _RecentRR()
    last_slope = 0.0
    last = -1
    """Sample position of the last beat (-1: none yet)."""
    t_wave_n = int(T_WAVE_WINDOW_S * fs_hz)
    refractory = REFRACTORY_S * fs_hz
    searchback = SEARCHBACK_FACTOR * fs_hz
    """SEARCHBACK_FACTOR times the mean of the recent RRs (1 s while there is none)."""
    pending: list[int] = []
    """Candidates since the last beat that were below threshold (search-back pool)."""
    for k, c in enumerate(position):
        h = height[k]
        thr = npk + 0.25 * (spk - npk)
        if pending and last >= 0 and c - last > searchback:
            best = max(pending, key=height.__getitem__)
            if height[best] > 0.5 * thr and position[best] - last > refractory:
                searchback = recent.add(position[best] - last)
                beats.append(best)
                last = position[best]
                spk = 0.25 * height[best] + 0.75 * spk
                last_slope = steep[best]
            pending = [p for p in pending if position[p] > last]
        if h > thr:
            if last >= 0 and c - last < t_wave_n and steep[k] < 0.5 * last_slope:
                npk = 0.125 * h + 0.875 * npk
                pending.append(k)
                continue
            if last >= 0:
                searchback = recent.add(c - last)
            beats.append(k)
            last = c
            spk = 0.125 * h + 0.875 * spk
            last_slope = steep[k]
            pending = []
        else:
            npk = 0.125 * h + 0.875 * npk
            pending.append(k)
    if end is not None and pending and last >= 0 and end - last > searchback:
        thr = npk + 0.25 * (spk - npk)
        best = max(pending, key=height.__getitem__)
        if height[best] > 0.5 * thr and position[best] - last > refractory:
            beats.append(best)
    return cand[np.asarray(beats, dtype=np.intp)]


class _RecentRR:
    """The last 8 RR intervals (in samples) and the search-back limit they set."""

    __slots__ = ("intervals", "total")

    def __init__(self) -> None:
        self.intervals: deque[int] = deque()
        self.total = 0

    def add(self, rr: int) -> float:
        """Remember ``rr``; the new search-back limit, SEARCHBACK_FACTOR x their mean."""
        self.intervals.append(rr)
        self.total += rr
        if len(self.intervals) > 8:
            self.total -= self.intervals.popleft()
        return SEARCHBACK_FACTOR * (self.total / len(self.intervals))


def _gradient(y: F64) -> F64:
    """``np.gradient(y)`` (central differences, one-sided at the ends), written over ``y``.

    In steps of :data:`FILTER_STEP`, each step reading its neighbours' original values (the
    one before it saved from the previous step), so no second day-long array is needed; the
    arithmetic is np.gradient's."""
    n = len(y)
    if n < 2:
        y[:] = 0.0
        return y
    first = y[1] - y[0]
    last = y[-1] - y[-2]
    before = y[0]
    """The original value just before the current step (already overwritten in ``y``)."""
    for start in range(1, n - 1, FILTER_STEP):
        stop = min(start + FILTER_STEP, n - 1)
        seg = y[start - 1 : stop + 1].copy()
        seg[0] = before
        before = seg[-2]
        np.subtract(seg[2:], seg[:-2], out=y[start:stop])
        y[start:stop] /= 2.0
    y[0] = first
    y[-1] = last
    return y


def _peaks(x: F64, fs_hz: float) -> tuple[NDArray[np.intp], F64]:
    """Integer R-peak samples and the 0.5-40 Hz signal they were located on."""
    n = len(x)
    band = _filtfilt(_sos(fs_hz, 5.0, 20.0), x)
    wide = _filtfilt(_sos(fs_hz, 0.5, 40.0), x)
    # The derivative and its square go into band's memory: a day of ECG is 90 MB per array,
    # and fresh arrays cost page faults.
    square = np.square(_gradient(band), out=band)
    width = max(1, round(INTEGRATION_S * fs_hz))
    # The moving mean of np.convolve(..., mode="same") with a window of ``width`` ones, O(n).
    env: F64 = uniform_filter1d(square, width, mode="constant", cval=0.0)
    cand, _ = find_peaks(env, distance=max(1, round(0.2 * fs_hz)))
    # The steepest slope within ±40 ms of each candidate, for the T-wave test (sqrt(d * d) is
    # |d| exactly in binary floating point).
    slope_w = max(1, round(0.04 * fs_hz))
    near = np.clip(cand[:, None] + np.arange(-slope_w, slope_w + 1), 0, n - 1)
    slope = np.sqrt(square[near]).max(axis=1, initial=0.0)
    beats = _accept(cand, env[cand], slope, fs_hz, n)
    if len(beats) == 0:
        return beats, wide
    half = max(1, round(LOCATE_WINDOW_S * fs_hz))
    offsets = np.arange(-half, half + 1)
    idx = np.clip(beats[:, None] + offsets, 0, n - 1)
    mag = np.abs(wide[idx])
    peak = idx[np.arange(len(beats)), np.argmax(mag, axis=1)]
    peak = np.unique(peak)
    peak = peak[np.concatenate([[True], np.diff(peak) > REFRACTORY_S * fs_hz * 0.8])]
    return peak, wide


def detect_r_peaks(ecg_uv: NDArray[np.floating] | NDArray[np.integer], fs_hz: float) -> RPeaks:
    """R-peaks of a single-lead ECG sampled at ``fs_hz`` (any polarity).

    >>> t = np.arange(0, 10, 1 / 130)
    >>> ecg = 1000 * np.exp(-0.5 * ((t % 1.0 - 0.5) / 0.012) ** 2)
    >>> np.round(detect_r_peaks(ecg, 130).t_s[:3], 3).tolist()
    [0.5, 1.5, 2.5]
    """
    return _detect(np.asarray(ecg_uv, dtype=np.float64), fs_hz)[0]


def _detect(x: F64, fs_hz: float) -> tuple[RPeaks, F64]:
    """:func:`detect_r_peaks` and the 0.5-40 Hz signal the peaks were located on."""
    if fs_hz <= 0:
        raise ValueError(f"fs_hz must be positive, got {fs_hz}")
    empty = np.empty(0)
    if len(x) < int(2 * fs_hz):
        return RPeaks(empty, empty, empty), x
    peak, wide = _peaks(x, fs_hz)
    if len(peak) == 0:
        return RPeaks(empty, empty, empty), wide
    amplitude = wide[peak]
    frac = _parabolic(np.abs(wide), peak)
    position = peak + frac
    return RPeaks(position, position / fs_hz, amplitude), wide


class OnlineRPeakDetector:
    """Feed samples as they arrive; each R-peak is reported once, ``lookahead_s`` behind."""

    def __init__(self, fs_hz: float, *, buffer_s: float = 8.0, lookahead_s: float = 0.25) -> None:
        if not 0.15 <= lookahead_s <= 1.0:
            raise ValueError("lookahead_s must be in [0.15, 1]")
        self.fs_hz = fs_hz
        self._lookahead = round(lookahead_s * fs_hz)
        self._size = round(buffer_s * fs_hz)
        self._buffer = np.empty(0)
        self._start = 0
        """Absolute index of the buffer's first sample."""
        self._last = -math.inf
        self.wide: F64 = np.empty(0)
        """The 0.5-40 Hz signal of the buffer at the last :meth:`feed` (for beat labelling)."""

    @property
    def start(self) -> int:
        """Absolute sample index of :attr:`wide`'s first value."""
        return self._start

    def feed(self, samples_uv: NDArray[np.floating] | NDArray[np.integer]) -> RPeaks:
        """New samples in; the R-peaks that became final (positions are absolute indices)."""
        self._buffer = np.concatenate([self._buffer, np.asarray(samples_uv, np.float64)])
        if len(self._buffer) > self._size:
            drop = len(self._buffer) - self._size
            self._buffer = self._buffer[drop:]
            self._start += drop
        found, self.wide = _detect(self._buffer, self.fs_hz)
        final = len(self._buffer) - self._lookahead
        # Near the buffer's start the filters and thresholds have not settled: trust only the
        # part after the first second once the buffer is full.
        settled = self.fs_hz if self._start > 0 else 0.0
        pos = found.position
        keep = (
            (pos < final)
            & (pos >= settled)
            & (pos + self._start > self._last + REFRACTORY_S * self.fs_hz)
        )
        absolute = pos[keep] + self._start
        if len(absolute):
            self._last = float(absolute[-1])
        return RPeaks(absolute, absolute / self.fs_hz, found.amplitude_uv[keep])
